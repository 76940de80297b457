package org.metagrad.kernels.opencl;

import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;
import static org.jocl.CL.CL_SUCCESS;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_program;
import org.metagrad.DType;
import org.metagrad.spi.BackendException;

/**
 * Builds and caches the OpenCL programs of one context. A program is the OpenCL prelude, the shared
 * strided-index helper and one kernel family source from {@code org/metagrad/kernels/common/}
 * (the same C bodies a CUDA prelude can compile), built once per element type by defining
 * {@code REAL} (and {@code SRC} for the casting copy). PoCL compiles with LLVM on first use, which
 * takes a noticeable fraction of a second per program, hence the cache and the lazy building.
 *
 * <p>Thread-safe; kernel objects returned by {@link #kernel} carry argument state, so callers set
 * arguments and enqueue under the owning backend's launch lock.
 */
public final class ProgramCache {
  /** Resource folder of the device-independent kernel sources. */
  public static final String COMMON = "/org/metagrad/kernels/common/";
  private static final String PRELUDE = "/org/metagrad/kernels/opencl/prelude.cl";

  private final cl_context context;
  private final cl_device_id device;
  private final String deviceLabel;
  private final boolean fp64;
  private final Map<String, cl_program> programs = new ConcurrentHashMap<>();
  private final Map<String, cl_kernel> kernels = new ConcurrentHashMap<>();

  ProgramCache(cl_context context, cl_device_id device, String deviceLabel, boolean fp64) {
    this.context = context;
    this.device = device;
    this.deviceLabel = deviceLabel;
    this.fp64 = fp64;
  }

  /** Releases every kernel and program (the owning backend is closing). */
  void close() {
    for (cl_kernel k : kernels.values()) {
      CL.clReleaseKernel(k);
    }
    kernels.clear();
    for (cl_program p : programs.values()) {
      CL.clReleaseProgram(p);
    }
    programs.clear();
  }

  /** Reads a kernel resource as text; a missing resource is a packaging bug, reported as such. */
  static String resource(String path) {
    try (InputStream in = ProgramCache.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new BackendException("opencl: kernel source " + path + " is missing from the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new BackendException("opencl: cannot read kernel source " + path + ": " + e.getMessage(), e);
    }
  }

  /** The compiler options for element type {@code real} read from {@code src}. */
  String options(DType real, DType src) {
    StringBuilder sb = new StringBuilder();
    sb.append("-DREAL=").append(cType(real)).append(" -DSRC=").append(cType(src));
    // Accumulate reductions in double where the device can, as the reference does.
    sb.append(" -DACC=").append(fp64 ? "double" : "float");
    if (fp64) {
      sb.append(" -DMG_FP64");
    }
    return sb.toString();
  }

  private static String cType(DType t) {
    return t == DType.FLOAT64 ? "double" : "float";
  }

  /**
   * The program of a kernel family ({@code gemm}, {@code elementwise}, ...) for element type
   * {@code real} converting from {@code src}, built on first use.
   */
  cl_program family(String family, DType real, DType src, String extraOptions) {
    String options = options(real, src) + (extraOptions.isEmpty() ? "" : " " + extraOptions);
    return programs.computeIfAbsent(family + "|" + options, key -> {
      String source = resource(PRELUDE) + "\n" + resource(COMMON + "strided.h") + "\n"
          + resource(COMMON + family + ".c");
      return compile(family, source, options);
    });
  }

  /**
   * Builds (and caches under {@code name}) an arbitrary source for element type {@code dtype},
   * prefixed with the OpenCL prelude so it can use {@code KERNEL}, {@code GLOBAL}, {@code REAL}...
   * Meant for tests and experiments with new kernels.
   *
   * @throws BackendException with the compiler's build log when the source does not compile
   */
  public cl_program build(String name, String source, DType dtype) {
    String options = options(dtype, dtype);
    return programs.computeIfAbsent("custom:" + name + "|" + options,
        key -> compile(name, resource(PRELUDE) + "\n" + source, options));
  }

  /** A kernel of a built program, created once and cached by program and name. */
  cl_kernel kernel(cl_program program, String programKey, String name) {
    return kernels.computeIfAbsent(programKey + "#" + name, key -> {
      int[] err = new int[1];
      cl_kernel k;
      try {
        k = CL.clCreateKernel(program, name, err);
      } catch (CLException e) {
        throw new BackendException("opencl: kernel " + name + " not found in program " + programKey + " on "
            + deviceLabel + ": " + e.getMessage(), e);
      }
      if (err[0] != CL_SUCCESS) {
        throw new BackendException("opencl: kernel " + name + " not found in program " + programKey + " on "
            + deviceLabel + ": " + CL.stringFor_errorCode(err[0]));
      }
      return k;
    });
  }

  /** A kernel of a family, building the family for {@code real}/{@code src} if needed. */
  cl_kernel kernel(String family, String name, DType real, DType src, String extraOptions) {
    cl_program p = family(family, real, src, extraOptions);
    return kernel(p, family + "|" + options(real, src) + "|" + extraOptions, name);
  }

  /** Number of programs built so far (each family and dtype counts once). */
  public int size() {
    return programs.size();
  }

  private cl_program compile(String name, String source, String options) {
    int[] err = new int[1];
    cl_program program;
    try {
      program = CL.clCreateProgramWithSource(context, 1, new String[] {source}, null, err);
    } catch (CLException e) {
      throw new BackendException("opencl: cannot create program " + name + " on " + deviceLabel + ": "
          + e.getMessage(), e);
    }
    if (err[0] != CL_SUCCESS) {
      throw new BackendException("opencl: cannot create program " + name + " on " + deviceLabel + ": "
          + CL.stringFor_errorCode(err[0]));
    }
    int status;
    try {
      status = CL.clBuildProgram(program, 1, new cl_device_id[] {device}, options, null, null);
    } catch (CLException e) {
      status = e.getStatus();
    }
    if (status != CL_SUCCESS) {
      String log = buildLog(program);
      CL.clReleaseProgram(program);
      throw new BackendException("opencl: kernel program " + name + " failed to build on " + deviceLabel
          + " with options [" + options + "]: " + CL.stringFor_errorCode(status) + "\nbuild log:\n" + log);
    }
    return program;
  }

  private String buildLog(cl_program program) {
    try {
      long[] size = new long[1];
      CL.clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, null, size);
      byte[] bytes = new byte[(int) size[0]];
      CL.clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, bytes.length, Pointer.to(bytes), null);
      int len = bytes.length;
      while (len > 0 && bytes[len - 1] == 0) {
        len--;
      }
      return new String(bytes, 0, len, StandardCharsets.UTF_8).strip();
    } catch (CLException e) {
      return "(build log unavailable: " + e.getMessage() + ")";
    }
  }
}
