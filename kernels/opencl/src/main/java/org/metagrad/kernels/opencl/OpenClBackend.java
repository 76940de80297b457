package org.metagrad.kernels.opencl;

import static org.jocl.CL.CL_DEVICE_EXTENSIONS;
import static org.jocl.CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_MEM_OBJECT_ALLOCATION_FAILURE;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_OUT_OF_HOST_MEMORY;
import static org.jocl.CL.CL_OUT_OF_RESOURCES;
import static org.jocl.CL.CL_SUCCESS;
import static org.jocl.CL.CL_TRUE;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.logging.Logger;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.kernels.common.DeviceBackend;
import org.metagrad.spi.BackendException;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.View;

/**
 * The OpenCL backend: every SPI kernel as an OpenCL kernel on one device, with one context and one
 * in-order command queue. Kernels come from the shared sources in {@code org/metagrad/kernels/common}
 * (see {@link ProgramCache}); FLOAT32 always runs, FLOAT64 when the device reports {@code cl_khr_fp64}.
 *
 * <p>Calls return as soon as the work is enqueued; the in-order queue orders kernels, and downloads
 * block until their data is ready. {@link #finish()} waits for everything (benchmarks). The object is
 * thread-safe: kernel arguments are per-kernel-object state, so setting them and enqueueing happen
 * under one lock; allocation and transfers need no lock (OpenCL makes them thread-safe).
 *
 * <p>The device-independent half (checks, the strided map, copy, reductions, pad, concat, windows) is
 * {@link DeviceBackend}'s; this class supplies the context, queue, programs, transfers, GEMM and launches.
 *
 * <pre>{@code
 * Backend cl = new OpenClBackendFactory().open(Device.openCl(0));
 * Buffer a = cl.upload(new float[] {1, 2, 3});
 * Buffer b = cl.unary(UnaryOp.EXP, 0, View.contiguous(a, 3));
 * float[] e = cl.downloadFloat(View.contiguous(b, 3));
 * }</pre>
 */
public final class OpenClBackend extends DeviceBackend<OpenClBuffer, cl_kernel> {
  /**
   * The GEMM kernel a backend runs ({@code gemm.c}), chosen by device type when the backend opens: {@link #TILED}
   * on GPUs and other non-CPU devices, {@link #CPU} on CPU devices such as PoCL. The system property
   * {@value #GEMM_PROPERTY} ({@code auto}, {@code tiled} or {@code cpu}) forces one, so that both kernels can be
   * tested and measured on any device.
   */
  public enum GemmKernel {
    /** {@code mg_gemm_tiled}: tiles of A and B in local memory, a 4x4 block of C per work-item (GPUs). */
    TILED,
    /** {@code mg_gemm_cpu}: a 6x32 (float) or 6x16 (double) block of C per work-group of one item, no local memory. */
    CPU
  }

  /** System property that forces the GEMM kernel: {@code auto} (the default, by device type) or a {@link GemmKernel}. */
  public static final String GEMM_PROPERTY = "metagrad.opencl.gemm";

  private static final Logger LOG = Logger.getLogger("org.metagrad.kernels.opencl");
  private final cl_device_id deviceId;
  private final cl_context context;
  private final cl_command_queue queue;
  private final boolean fp64;
  private final long maxAlloc;
  private final GemmKernel gemm;
  private final ProgramCache programs;
  private final Object launchLock = new Object();

  OpenClBackend(Device device, cl_platform_id platform, cl_device_id deviceId, String name) {
    this(device, platform, deviceId, name, null);
  }

  /** Opens with GEMM kernel {@code forced}, or by {@value #GEMM_PROPERTY} and the device type when null. */
  OpenClBackend(Device device, cl_platform_id platform, cl_device_id deviceId, String name, GemmKernel forced) {
    // The 1-d kernels run in work-groups of WG items (fixed, because PoCL compiles one variant per local size).
    super(device, device + " (" + name + ")", "OpenCL");
    this.deviceId = deviceId;
    String extensions = OpenClPlatforms.deviceString(deviceId, CL_DEVICE_EXTENSIONS);
    this.fp64 = Arrays.asList(extensions.split("\\s+")).contains("cl_khr_fp64");
    this.maxAlloc = OpenClPlatforms.deviceLong(deviceId, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
    long maxWg = OpenClPlatforms.deviceLong(deviceId, CL_DEVICE_MAX_WORK_GROUP_SIZE);
    if (maxWg < WG) {
      throw new BackendException("opencl: " + label + " allows work-groups of only " + maxWg + " items; the kernels"
          + " need " + WG);
    }
    boolean cpuDevice = (OpenClPlatforms.deviceLong(deviceId, CL_DEVICE_TYPE) & CL_DEVICE_TYPE_CPU) != 0;
    String asked = System.getProperty(GEMM_PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
    if (forced != null) {
      this.gemm = forced;
    } else if (asked.equals("auto")) {
      this.gemm = cpuDevice ? GemmKernel.CPU : GemmKernel.TILED;
    } else {
      this.gemm = parseGemm(asked);
    }
    LOG.info(() -> "opencl: " + label + " runs GEMM with the " + gemm.name().toLowerCase(Locale.ROOT) + " kernel ("
        + (forced != null ? "forced by the caller" : asked.equals("auto")
            ? (cpuDevice ? "a CPU device" : "not a CPU device") + ", by device type"
            : "forced by -D" + GEMM_PROPERTY + "=" + asked) + ")");
    int[] err = new int[1];
    cl_context_properties props = new cl_context_properties();
    props.addProperty(CL.CL_CONTEXT_PLATFORM, platform);
    try {
      this.context = CL.clCreateContext(props, 1, new cl_device_id[] {deviceId}, null, null, err);
      check(err[0], "create context");
      @SuppressWarnings("deprecation")
      cl_command_queue q = CL.clCreateCommandQueue(context, deviceId, 0, err);
      this.queue = q;
      check(err[0], "create command queue");
    } catch (CLException e) {
      throw new BackendException("opencl: cannot open " + label + ": " + e.getMessage(), e);
    }
    this.programs = new ProgramCache(context, deviceId, label, fp64);
  }

  // ---------------------------------------------------------------------------------------------
  // Introspection

  @Override
  public String name() {
    return "opencl";
  }

  /** FLOAT32 always; FLOAT64 only when the device reports {@code cl_khr_fp64}. */
  @Override
  public boolean supports(DType dtype) {
    return dtype == DType.FLOAT32 || (dtype == DType.FLOAT64 && fp64);
  }

  /** The GEMM kernel this backend runs (chosen when it opened). */
  public GemmKernel gemmKernel() {
    return gemm;
  }

  private static GemmKernel parseGemm(String v) {
    for (GemmKernel g : GemmKernel.values()) {
      if (g.name().toLowerCase(Locale.ROOT).equals(v)) {
        return g;
      }
    }
    throw new IllegalArgumentException("opencl: -D" + GEMM_PROPERTY + "=" + v + " is not one of auto, tiled, cpu");
  }

  /** The largest single allocation the device accepts, in bytes. */
  public long maxAllocationBytes() {
    return maxAlloc;
  }

  /** The program cache of this backend's context (for building experimental kernels in tests). */
  public ProgramCache programs() {
    return programs;
  }

  /** Number of live (allocated, not yet released) OpenCL buffers over all devices. */
  public static long liveBuffers() {
    return OpenClBuffer.LIVE.buffers();
  }

  /** Bytes held by live OpenCL buffers over all devices. */
  public static long liveBytes() {
    return OpenClBuffer.LIVE.bytes();
  }

  /** Blocks until every command enqueued so far has finished (for timing and tests). */
  public void finish() {
    ensureOpen("finish");
    check(CL.clFinish(queue), "finish");
  }

  /**
   * Waits for the queue, then releases the compiled programs, the queue and the context, and forgets this device
   * in the factory (opening it again makes a new context). Buffers still referenced stay valid to release; every
   * other call on this backend afterwards throws a {@link BackendException}. Closing twice does nothing.
   */
  @Override
  public void close() {
    synchronized (launchLock) {
      if (!markClosed()) {
        return;
      }
      try {
        CL.clFinish(queue);
        programs.close();
        CL.clReleaseCommandQueue(queue);
        CL.clReleaseContext(context);
      } catch (CLException e) {
        throw new BackendException("opencl: closing " + label + ": " + e.getMessage(), e);
      } finally {
        OpenClBackendFactory.forget(device.index(), this);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Memory and transfers

  @Override
  protected OpenClBuffer emptyBuffer(DType dtype) {
    return new OpenClBuffer(this, dtype, 0, null);
  }

  @Override
  protected OpenClBuffer allocateDevice(String op, DType dtype, int n, long bytes) {
    if (bytes > maxAlloc) {
      throw new BackendException(op + ": cannot allocate " + bytes + " bytes (" + n + " x " + dtype + ") on "
          + label + ": the device's largest allocation is " + maxAlloc + " bytes");
    }
    int[] err = new int[1];
    cl_mem mem;
    try {
      mem = CL.clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, null, err);
    } catch (CLException e) {
      err[0] = e.getStatus();
      mem = null;
    }
    if (err[0] != CL_SUCCESS) {
      boolean oom = err[0] == CL_MEM_OBJECT_ALLOCATION_FAILURE || err[0] == CL_OUT_OF_RESOURCES
          || err[0] == CL_OUT_OF_HOST_MEMORY;
      throw new BackendException(op + ": " + (oom ? "out of device memory" : "allocation failed")
          + " allocating " + bytes + " bytes (" + n + " x " + dtype + ") on " + label + ": "
          + CL.stringFor_errorCode(err[0]) + " (live OpenCL buffers: " + liveBuffers() + ", " + liveBytes()
          + " bytes)");
    }
    return new OpenClBuffer(this, dtype, n, mem);
  }

  @Override
  public Buffer upload(double[] data, DType dtype) {
    requireSupported("upload", dtype);
    if (dtype == DType.FLOAT64) {
      OpenClBuffer out = alloc("upload", dtype, data.length);
      write(out, Pointer.to(data), (long) data.length * Sizeof.cl_double);
      return out;
    }
    float[] f = new float[data.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) data[i];
    }
    return upload(f);
  }

  @Override
  public Buffer upload(float[] data) {
    OpenClBuffer out = alloc("upload", DType.FLOAT32, data.length);
    write(out, Pointer.to(data), (long) data.length * Sizeof.cl_float);
    return out;
  }

  private void write(OpenClBuffer out, Pointer src, long bytes) {
    if (bytes == 0) {
      return;
    }
    try {
      check(CL.clEnqueueWriteBuffer(queue, out.mem("upload"), CL_TRUE, 0, bytes, src, 0, null, null),
          "upload of " + bytes + " bytes");
    } catch (CLException e) {
      throw new BackendException("upload: " + e.getMessage() + " on " + label, e);
    }
  }

  @Override
  public double[] downloadDouble(View v) {
    int n = v.numel();
    Object raw = download("downloadDouble", v);
    if (raw instanceof double[] d) {
      return d;
    }
    float[] f = (float[]) raw;
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = f[i];
    }
    return out;
  }

  @Override
  public float[] downloadFloat(View v) {
    int n = v.numel();
    Object raw = download("downloadFloat", v);
    if (raw instanceof float[] f) {
      return f;
    }
    double[] d = (double[]) raw;
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) d[i];
    }
    return out;
  }

  /** The view's elements in row-major order as a float[] or double[] matching its dtype. */
  private Object download(String op, View v) {
    OpenClBuffer b = buffer(op, v);
    int n = v.numel();
    DType dt = v.dtype();
    if (n == 0) {
      return dt == DType.FLOAT64 ? new double[0] : new float[0];
    }
    if (v.isContiguous()) {
      return read(op, b, v.offset(), n);
    }
    // Gather on the device first: one transfer of exactly the elements, instead of the whole buffer.
    OpenClBuffer tmp = (OpenClBuffer) copy(v, dt);
    try {
      return read(op, tmp, 0, n);
    } finally {
      tmp.release();
    }
  }

  private Object read(String op, OpenClBuffer b, int offset, int n) {
    DType dt = b.dtype();
    long es = dt.byteSize();
    Object out = dt == DType.FLOAT64 ? new double[n] : new float[n];
    Pointer p = dt == DType.FLOAT64 ? Pointer.to((double[]) out) : Pointer.to((float[]) out);
    try {
      check(CL.clEnqueueReadBuffer(queue, b.mem(op), CL_TRUE, offset * es, n * es, p, 0, null, null),
          op + " of " + n + " x " + dt);
    } catch (CLException e) {
      throw new BackendException(op + ": " + e.getMessage() + " on " + label, e);
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // GEMM

  @Override
  public Buffer matmul(View a, View b) {
    checkMatmul(a, b);
    DType dt = a.dtype();
    int bs = a.shape()[0];
    int m = a.shape()[1];
    int k = a.shape()[2];
    int n = b.shape()[2];
    if (k == 0) {
      // An empty contraction is all zeros (and empty inputs have no device memory to bind).
      return full(dt, checkedSize("matmul", (long) bs * m * n, new int[] {bs, m, n}), 0);
    }
    OpenClBuffer out = alloc("matmul", dt, checkedSize("matmul", (long) bs * m * n, new int[] {bs, m, n}));
    if (out.size() == 0) {
      return out;
    }
    OpenClBuffer tmpA = null;
    OpenClBuffer tmpB = null;
    try {
      View va = a;
      View vb = b;
      if (gemm == GemmKernel.CPU) {
        // The CPU kernel reads B's rows as contiguous vectors, so B must be row-major; A's elements are read one by
        // one, but a column-major A (a transpose) walks memory in steps of a whole column, so it is made row-major
        // too. Each copy is O(size) against the product's O(m n k).
        if (b.strides()[2] != 1 && n > 1) {
          tmpB = (OpenClBuffer) copy(b, dt);
          vb = View.contiguous(tmpB, bs, k, n);
        }
        if (a.strides()[2] != 1 && m > 1 && k > 1) {
          tmpA = (OpenClBuffer) copy(a, dt);
          va = View.contiguous(tmpA, bs, m, k);
        }
      }
      int[] as = va.strides();
      int[] bst = vb.strides();
      int[] args = {m, n, k, va.offset(), as[0], as[1], as[2], vb.offset(), bst[0], bst[1], bst[2]};
      cl_mem ma = buffer("matmul", va).mem("matmul");
      cl_mem mb = buffer("matmul", vb).mem("matmul");
      switch (gemm) {
        case CPU -> {
          int cm = 6;
          int cn = dt == DType.FLOAT64 ? 16 : 32;
          cl_kernel kern = programs.kernel("gemm", "mg_gemm_cpu", dt, dt, "-DMG_CM=" + cm + " -DMG_CN=" + cn);
          launch("matmul", kern, new long[] {(m + cm - 1) / cm, (n + cn - 1) / cn, bs}, new long[] {1, 1, 1},
              out.mem("matmul"), ma, mb, args);
        }
        case TILED -> {
          // 64 x 64 tiles of C, 16 x 16 items with a 4 x 4 block each (256 = WG items, checked at open).
          int t = 64;
          int items = t / 4;
          cl_kernel kern = programs.kernel("gemm", "mg_gemm_tiled", dt, dt,
              "-DMG_TM=" + t + " -DMG_TN=" + t + " -DMG_TK=16 -DMG_WM=4 -DMG_WN=4");
          launch("matmul", kern,
              new long[] {(long) ((n + t - 1) / t) * items, (long) ((m + t - 1) / t) * items, bs},
              new long[] {items, items, 1}, out.mem("matmul"), ma, mb, args);
        }
      }
    } catch (RuntimeException e) {
      out.release();
      throw e;
    } finally {
      // Safe while the kernel may still run: OpenCL defers the free until queued commands finish.
      if (tmpA != null) {
        tmpA.release();
      }
      if (tmpB != null) {
        tmpB.release();
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Plumbing

  /** Runs {@code body} directly: OpenCL calls need no lock or current context (launches lock themselves). */
  @Override
  protected <T> T run(String op, Supplier<T> body) {
    return body.get();
  }

  @Override
  protected cl_kernel kernel(String family, String name, DType real, DType src) {
    return programs.kernel(family, name, real, src, "");
  }

  /** Enqueues {@code groups * groupSize} work-items in work-groups of {@code groupSize}. */
  @Override
  protected void launch(String op, cl_kernel kernel, long groups, int groupSize, Object... args) {
    launch(op, kernel, new long[] {groups * groupSize}, new long[] {groupSize}, args);
  }

  @Override
  protected void copyDevice(String op, OpenClBuffer out, Object src, long srcByteOffset, int n) {
    DType to = out.dtype();
    try {
      check(CL.clEnqueueCopyBuffer(queue, (cl_mem) src, out.mem(op), srcByteOffset, 0, n * (long) to.byteSize(), 0,
          null, null), op + " of " + n + " x " + to);
    } catch (CLException e) {
      throw new BackendException(op + ": " + e.getMessage() + " on " + label, e);
    }
  }

  /**
   * Sets the arguments and enqueues: {@code cl_mem}, {@code Integer}, {@code Float}, {@code Double},
   * and {@code int[]} (a struct of ints passed by value).
   */
  private void launch(String op, cl_kernel k, long[] global, long[] local, Object... args) {
    synchronized (launchLock) {
      try {
        for (int i = 0; i < args.length; i++) {
          Object a = args[i];
          int st;
          if (a instanceof cl_mem m) {
            st = CL.clSetKernelArg(k, i, Sizeof.cl_mem, Pointer.to(m));
          } else if (a instanceof Integer v) {
            st = CL.clSetKernelArg(k, i, Sizeof.cl_int, Pointer.to(new int[] {v}));
          } else if (a instanceof Float v) {
            st = CL.clSetKernelArg(k, i, Sizeof.cl_float, Pointer.to(new float[] {v}));
          } else if (a instanceof Double v) {
            st = CL.clSetKernelArg(k, i, Sizeof.cl_double, Pointer.to(new double[] {v}));
          } else if (a instanceof int[] v) {
            st = CL.clSetKernelArg(k, i, (long) v.length * Sizeof.cl_int, Pointer.to(v));
          } else {
            throw new IllegalStateException(op + ": unsupported kernel argument " + a);
          }
          check(st, op + ": set kernel argument " + i);
        }
        check(CL.clEnqueueNDRangeKernel(queue, k, global.length, null, global, local, 0, null, null),
            op + ": enqueue kernel over " + Arrays.toString(global) + " in groups of " + Arrays.toString(local));
      } catch (CLException e) {
        throw new BackendException(op + ": " + e.getMessage() + " on " + label, e);
      }
    }
  }

  private void check(int status, String what) {
    if (status != CL_SUCCESS) {
      throw new BackendException("opencl: " + what + " failed on " + label + ": " + CL.stringFor_errorCode(status));
    }
  }

  @Override
  protected String unsupportedDetail() {
    return " (the device does not report cl_khr_fp64)";
  }

  @Override
  public String toString() {
    return "OpenClBackend[" + label + ", fp64=" + fp64 + "]";
  }
}
