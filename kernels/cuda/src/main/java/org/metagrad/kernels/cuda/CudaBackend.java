package org.metagrad.kernels.cuda;

import static jcuda.driver.CUresult.CUDA_ERROR_OUT_OF_MEMORY;
import static jcuda.driver.CUresult.CUDA_SUCCESS;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.logging.Logger;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.kernels.common.DeviceBackend;
import org.metagrad.spi.BackendException;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ReduceOp;
import org.metagrad.spi.UnaryOp;
import org.metagrad.spi.View;

/**
 * The CUDA backend: every SPI kernel on one NVIDIA GPU through the driver API (JCuda). The kernels are the shared
 * sources of {@code org/metagrad/kernels/common} (the OpenCL backend's, with the same kernel families, names and
 * argument order), compiled ahead of time to PTX ({@link PtxVariants}) and JIT-compiled by the driver when the
 * backend opens. GEMM runs on cuBLAS through JCublas when it loads, else on the shared tiled kernel
 * ({@code gemm.c}); {@code -Dmetagrad.cuda.gemm=cublas|own} forces one (the choice is logged once at open).
 * FLOAT32 and FLOAT64 both run. The fused SPI methods use the core defaults ({@code FusedDefaults}).
 *
 * <p>One primary context and one stream per backend: kernels and copies are queued on the stream and calls return
 * once queued; the host waits ({@code cuStreamSynchronize}) only where it reads (downloads), and before reusing a
 * pinned staging buffer. Device memory comes from a {@link CachingAllocator}; out of memory is a
 * {@link BackendException} naming the bytes asked for and in use. Calls are serialized by one lock (the context
 * is made current on the calling thread inside it), so the object is thread-safe.
 *
 * <p>The device-independent half (checks, the strided map, copy, reductions, pad, concat, windows) is
 * {@link DeviceBackend}'s, shared with the OpenCL backend; this class supplies the context and stream, the PTX
 * modules, transfers, GEMM and launches, and {@code run} (the lock and the current context) around every public
 * operation.
 *
 * <pre>{@code
 * Backend cu = new CudaBackendFactory().open(Device.cuda(0));
 * Buffer a = cu.upload(new float[] {1, 2, 3});
 * Buffer b = cu.unary(UnaryOp.EXP, 0, View.contiguous(a, 3));
 * float[] e = cu.downloadFloat(View.contiguous(b, 3));
 * }</pre>
 */
public final class CudaBackend extends DeviceBackend<CudaBuffer, CUfunction> {
  private static final Logger LOG = Logger.getLogger("org.metagrad");
  /** Bytes of each pinned staging buffer; larger transfers go in chunks. */
  private static final int STAGING_BYTES = 8 << 20;

  private final CUdevice dev;
  private final CUcontext context;
  private final CUstream stream;
  private final CachingAllocator<CUdeviceptr> allocator;
  private final Map<PtxVariants.Variant, CUmodule> modules = new HashMap<>();
  private final Map<String, CUfunction> functions = new HashMap<>();
  /** Per function, the parameter sizes its PTX declares (checked at every launch). */
  private final Map<CUfunction, List<Integer>> signatures = new java.util.IdentityHashMap<>();
  private final Map<PtxVariants.Variant, Map<String, List<Integer>>> moduleSignatures = new HashMap<>();
  private final Pointer staging;
  private final ByteBuffer stagingBytes;
  private final CUevent stagingFree;
  private final int maxGridY;
  private final int maxGridZ;
  private final long totalMemory;
  private final Cublas cublas;
  private final String gemmChoice;
  private final Object lock = new Object();

  /** Opens device {@code ordinal}; the driver has been initialised ({@code cuInit}) by the factory. */
  CudaBackend(Device device, int ordinal, String name) {
    super(device, device + " (" + name + ")", "CUDA");
    this.dev = new CUdevice();
    check(JCudaDriver.cuDeviceGet(dev, ordinal), "cuDeviceGet");
    this.context = new CUcontext();
    check(JCudaDriver.cuDevicePrimaryCtxRetain(context, dev), "cuDevicePrimaryCtxRetain");
    CUstream s = null;
    Pointer pinned = null;
    CUevent ev = null;
    boolean ok = false;
    try {
      check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
      this.maxGridY = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y);
      this.maxGridZ = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z);
      long[] total = new long[1];
      check(JCudaDriver.cuDeviceTotalMem(total, dev), "cuDeviceTotalMem");
      this.totalMemory = total[0];
      s = new CUstream();
      check(JCudaDriver.cuStreamCreate(s, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
      this.stream = s;
      pinned = new Pointer();
      check(JCudaDriver.cuMemAllocHost(pinned, STAGING_BYTES), "cuMemAllocHost of " + STAGING_BYTES + " bytes");
      this.staging = pinned;
      this.stagingBytes = pinned.getByteBuffer(0, STAGING_BYTES).order(ByteOrder.nativeOrder());
      ev = new CUevent();
      check(JCudaDriver.cuEventCreate(ev, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
      check(JCudaDriver.cuEventRecord(ev, s), "cuEventRecord");
      this.stagingFree = ev;
      this.allocator = new CachingAllocator<>(new DeviceMemory(), label);
      // Every PTX module now, so that a driver too old for the PTX (or a broken resource) makes the device
      // unavailable at open rather than failing in the middle of a computation.
      for (PtxVariants.Variant v : PtxVariants.all()) {
        modules.put(v, load(v));
        for (String kernel : kernelNames(v.family())) {
          function(v.family(), kernel, v.real(), v.src());
        }
      }
      String forced = System.getProperty("metagrad.cuda.gemm", "auto").trim().toLowerCase(Locale.ROOT);
      Cublas cb = null;
      String choice;
      switch (forced) {
        case "own" -> choice = "own tiled kernel (gemm.c), as -Dmetagrad.cuda.gemm=own asks";
        case "cublas", "auto" -> {
          String why;
          try {
            cb = Cublas.open(s);
            why = null;
          } catch (LinkageError | RuntimeException e) {
            why = CudaBackendFactory.firstLine(e);
          }
          if (cb == null && forced.equals("cublas")) {
            throw new BackendException("cuda: -Dmetagrad.cuda.gemm=cublas but cuBLAS is not usable on " + label + ": "
                + why);
          }
          choice = cb != null ? "cuBLAS " + cb.version() + " through JCublas (row-major via C^T = B^T A^T)"
              : "own tiled kernel (gemm.c): cuBLAS not loadable (JCublas links libcublas.so.12): " + why;
        }
        default -> throw new BackendException("cuda: -Dmetagrad.cuda.gemm=" + forced
            + " is not one of auto, cublas, own");
      }
      this.cublas = cb;
      this.gemmChoice = choice;
      LOG.info("metagrad: " + label + " GEMM: " + choice);
      ok = true;
    } finally {
      if (!ok) {
        for (CUmodule m : modules.values()) {
          JCudaDriver.cuModuleUnload(m);
        }
        if (ev != null) {
          JCudaDriver.cuEventDestroy(ev);
        }
        if (pinned != null) {
          JCudaDriver.cuMemFreeHost(pinned);
        }
        if (s != null) {
          JCudaDriver.cuStreamDestroy(s);
        }
        JCudaDriver.cuDevicePrimaryCtxRelease(dev);
      }
    }
  }

  private int attribute(int attr) {
    int[] v = new int[1];
    check(JCudaDriver.cuDeviceGetAttribute(v, attr, dev), "cuDeviceGetAttribute " + attr);
    return v[0];
  }

  private CUmodule load(PtxVariants.Variant v) {
    byte[] ptx;
    try (InputStream in = CudaBackend.class.getResourceAsStream(v.resource())) {
      if (in == null) {
        throw new BackendException("cuda: PTX resource " + v.resource() + " is missing from the class path"
            + " (run kernels/cuda/gen/build-ptx.sh)");
      }
      byte[] text = in.readAllBytes();
      moduleSignatures.put(v, PtxSignatures.parse(new String(text, java.nio.charset.StandardCharsets.UTF_8)));
      ptx = Arrays.copyOf(text, text.length + 1); // cuModuleLoadData reads a NUL-terminated image
    } catch (IOException e) {
      throw new BackendException("cuda: cannot read " + v.resource() + ": " + e.getMessage(), e);
    }
    CUmodule m = new CUmodule();
    int r = JCudaDriver.cuModuleLoadData(m, ptx);
    if (r != CUDA_SUCCESS) {
      String hint = r == CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION
          ? " (the PTX declares ISA 8.0: the driver must support CUDA 12.0, R525 or newer)" : "";
      throw new BackendException("cuda: PTX " + v.fileName() + " failed to load on " + label + ": "
          + CUresult.stringFor(r) + hint);
    }
    return m;
  }

  /** The device memory the allocator manages: cuMemAlloc/cuMemFree in this backend's context. */
  private final class DeviceMemory implements CachingAllocator.Memory<CUdeviceptr> {
    @Override
    public CUdeviceptr allocate(long bytes) {
      CUdeviceptr p = new CUdeviceptr();
      int r = JCudaDriver.cuMemAlloc(p, bytes);
      if (r == CUDA_ERROR_OUT_OF_MEMORY) {
        return null;
      }
      check(r, "cuMemAlloc of " + bytes + " bytes");
      return p;
    }

    @Override
    public void free(CUdeviceptr handle) {
      check(JCudaDriver.cuMemFree(handle), "cuMemFree");
    }

    @Override
    public void synchronize() {
      check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Introspection and lifecycle

  @Override
  public String name() {
    return "cuda";
  }

  /** Which GEMM runs and why (the line logged at open). */
  public String gemmChoice() {
    return gemmChoice;
  }

  /** Whether GEMM runs on cuBLAS. */
  public boolean usesCublas() {
    return cublas != null;
  }

  /** FLOAT32 and FLOAT64 (every GPU the PTX targets, compute capability 7.5 and up, has double precision). */
  @Override
  public boolean supports(DType dtype) {
    return dtype == DType.FLOAT32 || dtype == DType.FLOAT64;
  }

  /** The allocator's bookkeeping (bytes in use and cached, reuses), for tests and monitoring. */
  public CachingAllocator<CUdeviceptr> allocator() {
    return allocator;
  }

  /**
   * Waits for the stream and frees every cached (released, unused) block on the device, so that other libraries in
   * the process (or cuBLAS's workspace) can have the memory; live buffers are untouched.
   */
  public void emptyCache() {
    run("emptyCache", () -> {
      check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
      allocator.trim();
      return null;
    });
  }

  /** Number of live (not yet released) CUDA buffers over all devices. */
  public static long liveBuffers() {
    return CudaBuffer.LIVE.buffers();
  }

  /** Bytes of live CUDA buffers over all devices. */
  public static long liveBytes() {
    return CudaBuffer.LIVE.bytes();
  }

  /** Blocks until everything queued so far has finished (for timing and tests). */
  public void finish() {
    run("finish", () -> {
      check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
      return null;
    });
  }

  /**
   * Waits for the stream, then frees all device memory of this backend (live buffers included: they can no longer
   * be used), the modules, the cuBLAS handle, the staging buffer and the stream, releases the primary context, and
   * forgets this device in the factory. Later calls throw a {@link BackendException}; closing twice does nothing.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (!markClosed()) {
        return;
      }
      try {
        check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
        check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
        if (cublas != null) {
          cublas.close();
        }
        allocator.close();
        for (CUmodule m : modules.values()) {
          JCudaDriver.cuModuleUnload(m);
        }
        modules.clear();
        functions.clear();
        JCudaDriver.cuEventDestroy(stagingFree);
        JCudaDriver.cuMemFreeHost(staging);
        JCudaDriver.cuStreamDestroy(stream);
      } finally {
        JCudaDriver.cuDevicePrimaryCtxRelease(dev);
        CudaBackendFactory.forget(device.index(), this);
      }
    }
  }

  /** Runs {@code body} under the lock with this backend's context current on the calling thread. */
  @Override
  protected <T> T run(String op, Supplier<T> body) {
    synchronized (lock) {
      ensureOpen(op);
      check(JCudaDriver.cuCtxSetCurrent(context), op + ": cuCtxSetCurrent");
      return body.get();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Memory and transfers

  @Override
  protected CudaBuffer emptyBuffer(DType dtype) {
    return new CudaBuffer(this, dtype, 0, allocator, null);
  }

  @Override
  protected CudaBuffer allocateDevice(String op, DType dtype, int n, long bytes) {
    if (bytes > totalMemory) {
      throw new BackendException(op + ": cannot allocate " + bytes + " bytes (" + n + " x " + dtype + ") on " + label
          + ": the device has " + totalMemory + " bytes in all (" + allocator.inUseBytes() + " in use)");
    }
    CachingAllocator.Block<CUdeviceptr> block;
    try {
      block = allocator.acquire(bytes);
    } catch (BackendException e) {
      throw new BackendException(op + ": " + e.getMessage() + " (" + n + " x " + dtype + ")", e);
    }
    return new CudaBuffer(this, dtype, n, allocator, block);
  }

  @Override
  public Buffer upload(double[] data, DType dtype) {
    return run("upload", () -> {
      requireSupported("upload", dtype);
      CudaBuffer out = alloc("upload", dtype, data.length);
      if (dtype == DType.FLOAT64) {
        write(out, data.length, 8, (bb, from, len) -> bb.asDoubleBuffer().put(data, from, len));
      } else {
        write(out, data.length, 4, (bb, from, len) -> {
          java.nio.FloatBuffer fb = bb.asFloatBuffer();
          for (int i = 0; i < len; i++) {
            fb.put(i, (float) data[from + i]);
          }
        });
      }
      return out;
    });
  }

  @Override
  public Buffer upload(float[] data) {
    return run("upload", () -> {
      CudaBuffer out = alloc("upload", DType.FLOAT32, data.length);
      write(out, data.length, 4, (bb, from, len) -> bb.asFloatBuffer().put(data, from, len));
      return out;
    });
  }

  /** Fills the staging buffer with {@code len} elements from index {@code from}. */
  private interface Stage {
    void fill(ByteBuffer staging, int from, int len);
  }

  /**
   * Host to device through the pinned staging buffer, chunk by chunk: wait until the previous copy out of it
   * has finished (an event, not a stream synchronize), fill it, queue the copy, record the event.
   */
  private void write(CudaBuffer out, int n, int es, Stage stage) {
    int per = STAGING_BYTES / es;
    CUdeviceptr dst = out.ptr("upload");
    for (int from = 0; from < n; from += per) {
      int len = Math.min(per, n - from);
      check(JCudaDriver.cuEventSynchronize(stagingFree), "upload: cuEventSynchronize");
      stagingBytes.clear();
      stage.fill(stagingBytes, from, len);
      check(JCudaDriver.cuMemcpyHtoDAsync(dst.withByteOffset((long) from * es), staging, (long) len * es, stream),
          "upload of " + len + " elements");
      check(JCudaDriver.cuEventRecord(stagingFree, stream), "upload: cuEventRecord");
    }
  }

  @Override
  public double[] downloadDouble(View v) {
    return run("downloadDouble", () -> {
      int n = v.numel();
      double[] out = new double[n];
      read("downloadDouble", v, (bb, from, len) -> {
        if (v.dtype() == DType.FLOAT64) {
          bb.asDoubleBuffer().get(out, from, len);
        } else {
          java.nio.FloatBuffer fb = bb.asFloatBuffer();
          for (int i = 0; i < len; i++) {
            out[from + i] = fb.get(i);
          }
        }
      });
      return out;
    });
  }

  @Override
  public float[] downloadFloat(View v) {
    return run("downloadFloat", () -> {
      int n = v.numel();
      float[] out = new float[n];
      read("downloadFloat", v, (bb, from, len) -> {
        if (v.dtype() == DType.FLOAT32) {
          bb.asFloatBuffer().get(out, from, len);
        } else {
          java.nio.DoubleBuffer db = bb.asDoubleBuffer();
          for (int i = 0; i < len; i++) {
            out[from + i] = (float) db.get(i);
          }
        }
      });
      return out;
    });
  }

  /** The view's elements in row-major order, chunk by chunk through the staging buffer into {@code sink}. */
  private void read(String op, View v, Stage sink) {
    CudaBuffer b = buffer(op, v);
    int n = v.numel();
    if (n == 0) {
      return;
    }
    DType dt = v.dtype();
    CudaBuffer src = b;
    int offset = v.offset();
    CudaBuffer tmp = null;
    if (!v.isContiguous()) {
      // Gather on the device first: one transfer of exactly the elements.
      tmp = (CudaBuffer) copy(v, dt);
      src = tmp;
      offset = 0;
    }
    try {
      int es = dt.byteSize();
      int per = STAGING_BYTES / es;
      CUdeviceptr p = src.ptr(op);
      for (int from = 0; from < n; from += per) {
        int len = Math.min(per, n - from);
        check(JCudaDriver.cuMemcpyDtoHAsync(staging, p.withByteOffset((long) (offset + from) * es), (long) len * es,
            stream), op + " of " + len + " x " + dt);
        // The host reads: the one place the host waits for the stream.
        check(JCudaDriver.cuStreamSynchronize(stream), op + ": cuStreamSynchronize");
        stagingBytes.clear();
        sink.fill(stagingBytes, from, len);
      }
    } finally {
      if (tmp != null) {
        tmp.release();
      }
    }
  }

  /**
   * Every kernel name the backend looks up in a family's module (the test that checks the PTX reads it).
   *
   * @param family a family of {@link PtxVariants#FAMILIES}
   * @return the kernel names
   */
  static List<String> kernelNames(String family) {
    List<String> out = new java.util.ArrayList<>();
    switch (family) {
      case "elementwise" -> {
        for (UnaryOp op : UnaryOp.values()) {
          out.add(unaryKernel(op));
          out.add(unaryKernel(op) + "_c");
        }
        for (BinaryOp op : BinaryOp.values()) {
          out.add(binaryKernel(op));
          out.add(binaryKernel(op) + "_c");
        }
        out.add("mg_where");
      }
      case "reduce" -> {
        for (ReduceOp op : ReduceOp.values()) {
          out.add(reduceKernel(op, true));
          out.add(reduceKernel(op, false));
        }
      }
      case "copy" -> out.addAll(List.of("mg_copy", "mg_fill"));
      case "window" -> out.addAll(List.of("mg_unfold", "mg_fold"));
      case "gemm" -> out.add("mg_gemm_tiled");
      default -> throw new IllegalArgumentException("cuda: unknown kernel family " + family);
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // GEMM and windows

  @Override
  public Buffer matmul(View a, View b) {
    return run("matmul", () -> matmulLocked(a, b));
  }

  private Buffer matmulLocked(View a, View b) {
    checkMatmul(a, b);
    DType dt = a.dtype();
    int bs = a.shape()[0];
    int m = a.shape()[1];
    int k = a.shape()[2];
    int n = b.shape()[2];
    int total = checkedSize("matmul", (long) bs * m * n, new int[] {bs, m, n});
    CudaBuffer out = alloc("matmul", dt, total);
    if (total == 0) {
      return out;
    }
    if (k == 0) {
      fill(out, 0); // an empty contraction is all zeros
      return out;
    }
    try {
      if (cublas != null) {
        cublasGemm(out, a, b);
      } else {
        ownGemm(out, a, b);
      }
    } catch (RuntimeException e) {
      out.release();
      throw e;
    }
    return out;
  }

  private static int[] layout(View v) {
    int[] s = v.strides();
    return new int[] {v.offset(), s[0], s[1], s[2]};
  }

  private void cublasGemm(CudaBuffer out, View a, View b) {
    int bs = a.shape()[0];
    int m = a.shape()[1];
    int k = a.shape()[2];
    int n = b.shape()[2];
    CudaBuffer ta = null;
    CudaBuffer tb = null;
    try {
      View va = a;
      View vb = b;
      // A layout cuBLAS cannot describe (stepped, broadcast rows) is made contiguous first.
      if (GemmPlan.needsCopy(m, k, a.strides()[1], a.strides()[2])) {
        ta = (CudaBuffer) copy(a, a.dtype());
        va = View.contiguous(ta, bs, m, k);
      }
      if (GemmPlan.needsCopy(k, n, b.strides()[1], b.strides()[2])) {
        tb = (CudaBuffer) copy(b, b.dtype());
        vb = View.contiguous(tb, bs, k, n);
      }
      GemmPlan plan = GemmPlan.of(bs, m, n, k, layout(va), layout(vb));
      if (plan == null) {
        throw new IllegalStateException("matmul: no cuBLAS layout for contiguous operands " + va + ", " + vb);
      }
      cublas.gemm(a.dtype(), plan, ((CudaBuffer) va.buffer()).ptr("matmul"), ((CudaBuffer) vb.buffer()).ptr("matmul"),
          out.ptr("matmul"));
    } finally {
      if (ta != null) {
        ta.release();
      }
      if (tb != null) {
        tb.release();
      }
    }
  }

  private void ownGemm(CudaBuffer out, View a, View b) {
    int bs = a.shape()[0];
    int m = a.shape()[1];
    int k = a.shape()[2];
    int n = b.shape()[2];
    int tile = PtxVariants.GEMM_TILE;
    int threads = PtxVariants.GEMM_THREADS;
    int gridY = (m + tile - 1) / tile;
    if (gridY > maxGridY) {
      throw new BackendException("matmul: " + m + " rows need " + gridY + " blocks along y; " + label + " allows "
          + maxGridY);
    }
    CUfunction f = function("gemm", "mg_gemm_tiled", a.dtype(), a.dtype());
    int[] as = a.strides();
    int[] bst = b.strides();
    long es = a.dtype().byteSize();
    // The batch runs along the grid's z dimension, in slices the device's grid allows.
    for (int p0 = 0; p0 < bs; p0 += maxGridZ) {
      int pn = Math.min(maxGridZ, bs - p0);
      int[] args = {m, n, k, a.offset() + p0 * as[0], as[0], as[1], as[2], b.offset() + p0 * bst[0], bst[0], bst[1],
          bst[2]};
      CUdeviceptr c = out.ptr("matmul").withByteOffset((long) p0 * m * n * es);
      launchGrid("matmul", f, (n + tile - 1) / tile, gridY, pn, threads, threads, 1, c,
          buffer("matmul", a).ptr("matmul"), buffer("matmul", b).ptr("matmul"), args);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Plumbing

  /** A kernel of the module of {@link PtxVariants#of}(family, real, src), looked up once. */
  private CUfunction function(String family, String name, DType real, DType src) {
    PtxVariants.Variant v = PtxVariants.of(family, real, src);
    return functions.computeIfAbsent(v.fileName() + "#" + name, key -> {
      CUfunction f = new CUfunction();
      check(JCudaDriver.cuModuleGetFunction(f, modules.get(v), name), "kernel " + name + " in " + v.fileName());
      List<Integer> sig = moduleSignatures.get(v).get(name);
      if (sig == null) {
        throw new BackendException("cuda: kernel " + name + " has no .entry declaration in " + v.fileName());
      }
      signatures.put(f, sig);
      return f;
    });
  }

  @Override
  protected CUfunction kernel(String family, String name, DType real, DType src) {
    return function(family, name, real, src);
  }

  /** Queues a grid of {@code groups} blocks of {@code groupSize} threads (both along x). */
  @Override
  protected void launch(String op, CUfunction kernel, long groups, int groupSize, Object... args) {
    launchGrid(op, kernel, (int) groups, 1, 1, groupSize, 1, 1, args);
  }

  @Override
  protected void copyDevice(String op, CudaBuffer out, Object src, long srcByteOffset, int n) {
    DType to = out.dtype();
    check(JCudaDriver.cuMemcpyDtoDAsync(out.ptr(op), ((CUdeviceptr) src).withByteOffset(srcByteOffset),
        n * (long) to.byteSize(), stream), op + " of " + n + " x " + to);
  }

  /**
   * Queues a kernel on the stream. Arguments: {@code CUdeviceptr}, {@code Integer}, {@code Float}, {@code Double}
   * and {@code int[]} (a struct of ints passed by value), in the kernel's parameter order.
   */
  private void launchGrid(String op, CUfunction f, int gx, int gy, int gz, int bx, int by, int bz, Object... args) {
    List<Integer> sig = signatures.get(f);
    List<Integer> sizes = argumentBytes(args);
    if (!sizes.equals(sig)) {
      throw new IllegalStateException(op + ": kernel arguments of " + sizes + " bytes do not match the PTX signature "
          + sig + " (host code and kernels/common out of step)");
    }
    Pointer[] params = new Pointer[args.length];
    for (int i = 0; i < args.length; i++) {
      Object a = args[i];
      if (a instanceof CUdeviceptr p) {
        params[i] = Pointer.to(p);
      } else if (a instanceof Integer v) {
        params[i] = Pointer.to(new int[] {v});
      } else if (a instanceof Float v) {
        params[i] = Pointer.to(new float[] {v});
      } else if (a instanceof Double v) {
        params[i] = Pointer.to(new double[] {v});
      } else if (a instanceof int[] v) {
        params[i] = Pointer.to(v);
      } else {
        throw new IllegalStateException(op + ": unsupported kernel argument " + a);
      }
    }
    check(JCudaDriver.cuLaunchKernel(f, gx, gy, gz, bx, by, bz, 0, stream, Pointer.to(params), null),
        op + ": launch of a [" + gx + ", " + gy + ", " + gz + "] grid of [" + bx + ", " + by + ", " + bz + "] blocks");
  }

  /** The bytes each launch argument occupies as a kernel parameter (what {@link PtxSignatures} reads off the PTX). */
  static List<Integer> argumentBytes(Object... args) {
    List<Integer> out = new java.util.ArrayList<>(args.length);
    for (Object a : args) {
      if (a instanceof CUdeviceptr || a instanceof Double) {
        out.add(8);
      } else if (a instanceof Integer || a instanceof Float) {
        out.add(4);
      } else if (a instanceof int[] v) {
        out.add(4 * v.length);
      } else {
        throw new IllegalStateException("unsupported kernel argument " + a);
      }
    }
    return out;
  }

  private void check(int result, String what) {
    if (result != CUDA_SUCCESS) {
      throw new BackendException("cuda: " + what + " failed on " + label + ": " + CUresult.stringFor(result));
    }
  }

  @Override
  public String toString() {
    return "CudaBackend[" + label + ", gemm=" + (cublas != null ? "cublas" : "own") + "]";
  }
}
