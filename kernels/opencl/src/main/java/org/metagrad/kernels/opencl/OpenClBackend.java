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
import org.metagrad.kernels.common.DeviceShapes;
import org.metagrad.kernels.common.Strided;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BackendException;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ConvGeometry;
import org.metagrad.spi.ReduceOp;
import org.metagrad.spi.UnaryOp;
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
 * <pre>{@code
 * Backend cl = new OpenClBackendFactory().open(Device.openCl(0));
 * Buffer a = cl.upload(new float[] {1, 2, 3});
 * Buffer b = cl.unary(UnaryOp.EXP, 0, View.contiguous(a, 3));
 * float[] e = cl.downloadFloat(View.contiguous(b, 3));
 * }</pre>
 */
public final class OpenClBackend implements Backend {
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
  /** Work-group size of the 1-d kernels; fixed because PoCL compiles one variant per local size. */
  private static final int WG = 256;
  /** Work-group size the grouped reduction kernel is written for ({@code MG_REDUCE_WG}). */
  private static final int REDUCE_WG = 64;

  private final Device device;
  private final String label;
  private final cl_device_id deviceId;
  private final cl_context context;
  private final cl_command_queue queue;
  private final boolean fp64;
  private final long maxAlloc;
  private final GemmKernel gemm;
  private final ProgramCache programs;
  private final Object launchLock = new Object();
  private volatile boolean closed;

  OpenClBackend(Device device, cl_platform_id platform, cl_device_id deviceId, String name) {
    this(device, platform, deviceId, name, null);
  }

  /** Opens with GEMM kernel {@code forced}, or by {@value #GEMM_PROPERTY} and the device type when null. */
  OpenClBackend(Device device, cl_platform_id platform, cl_device_id deviceId, String name, GemmKernel forced) {
    this.device = device;
    this.label = device + " (" + name + ")";
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

  @Override
  public Device device() {
    return device;
  }

  /** The device as {@code opencl:N (device name)}, the form used in exception messages. */
  public String describe() {
    return label;
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
      if (closed) {
        return;
      }
      closed = true;
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

  /** Whether {@link #close} has been called. */
  public boolean isClosed() {
    return closed;
  }

  private void ensureOpen(String op) {
    if (closed) {
      throw new BackendException(op + ": " + label + " is closed (Metagrad.close() or Backend.close() was called);"
          + " open the device again for new tensors");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Memory and transfers

  /**
   * A new uninitialised buffer of {@code n} elements.
   *
   * @throws BackendException naming the bytes asked for when the device cannot hold them
   */
  public OpenClBuffer allocate(DType dtype, int n) {
    return alloc("allocate", dtype, n);
  }

  private OpenClBuffer alloc(String op, DType dtype, int n) {
    ensureOpen(op);
    requireSupported(op, dtype);
    if (n < 0) {
      throw new IllegalArgumentException(op + ": negative size " + n + " on " + label);
    }
    if (n == 0) {
      return new OpenClBuffer(this, dtype, 0, null);
    }
    long bytes = (long) n * dtype.byteSize();
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

  @Override
  public Buffer full(DType dtype, int n, double value) {
    OpenClBuffer out = alloc("full", dtype, n);
    if (n > 0) {
      fill(out, value);
    }
    return out;
  }

  private void fill(OpenClBuffer out, double value) {
    DType dt = out.dtype();
    cl_kernel k = programs.kernel("copy", "mg_fill", dt, dt, "");
    int n = out.size();
    launch("full", k, new long[] {roundUp(n, WG)}, new long[] {WG}, out.mem("full"), n, real(dt, value));
  }

  // ---------------------------------------------------------------------------------------------
  // Elementwise

  @Override
  public Buffer unary(UnaryOp op, double param, View x) {
    String what = "unary " + op;
    buffer(what, x);
    DType dt = x.dtype();
    requireSupported(what, dt);
    return map(what, unaryKernel(op), "elementwise", dt, dt, new View[] {x}, real(dt, param));
  }

  /** The kernel of a unary op in {@code elementwise.c} (its contiguous variant adds {@code _c}). */
  static String unaryKernel(UnaryOp op) {
    return "mg_unary_" + op.name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The kernel of a binary op in {@code elementwise.c} (its contiguous variant adds {@code _c}). */
  static String binaryKernel(BinaryOp op) {
    return "mg_binary_" + op.name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The kernel of a reduction in {@code reduce.c}: one item per output, or a work-group per output. */
  static String reduceKernel(ReduceOp op, boolean serial) {
    return "mg_reduce_" + op.name().toLowerCase(java.util.Locale.ROOT) + (serial ? "_serial" : "_group");
  }

  @Override
  public Buffer binary(BinaryOp op, View a, View b) {
    String what = "binary " + op;
    DeviceShapes.sameShapes(what, a, b);
    sameDtype(what, a, b);
    return map(what, binaryKernel(op), "elementwise", a.dtype(), a.dtype(),
        new View[] {a, b}, null);
  }

  @Override
  public Buffer where(View cond, View a, View b) {
    DeviceShapes.sameShapes("where", cond, a, b);
    sameDtype("where", cond, a, b);
    return map("where", "mg_where", "elementwise", a.dtype(), a.dtype(), new View[] {cond, a, b}, null);
  }

  @Override
  public Buffer copy(View x, DType to) {
    OpenClBuffer in = buffer("copy", x);
    requireSupported("copy", x.dtype());
    requireSupported("copy", to);
    int n = x.numel();
    if (to == x.dtype() && x.isContiguous() && n > 0) {
      // Same layout, same type: a plain device-side memcpy, no kernel.
      cl_mem src = in.mem("copy");
      OpenClBuffer out = alloc("copy", to, n);
      long es = to.byteSize();
      try {
        check(CL.clEnqueueCopyBuffer(queue, src, out.mem("copy"), x.offset() * es, 0, n * es, 0,
            null, null), "copy of " + n + " x " + to);
      } catch (CLException | BackendException e) {
        out.release();
        throw e instanceof BackendException be ? be : new BackendException("copy: " + e.getMessage() + " on " + label, e);
      }
      return out;
    }
    return map("copy", "mg_copy", "copy", to, x.dtype(), new View[] {x}, null);
  }

  /**
   * Runs a strided map kernel {@code out[i] = f(inputs[i]...)} into a new contiguous buffer of
   * dtype {@code real}; {@code scalar} (may be null) is passed after the element count.
   */
  private OpenClBuffer map(String op, String kernel, String family, DType real, DType src, View[] in,
                           Object scalar) {
    int n = in[0].numel();
    int[] shape = in[0].shape();
    int[][] strides = new int[in.length + 1][];
    int[] offsets = new int[in.length + 1];
    cl_mem[] mems = new cl_mem[in.length + 1];
    // Inputs are resolved (and a released one rejected) before the output exists, so a bad input
    // cannot leak the output buffer.
    for (int i = 0; i < in.length; i++) {
      strides[i + 1] = in[i].strides();
      offsets[i + 1] = in[i].offset();
      mems[i + 1] = n == 0 ? null : buffer(op, in[i]).mem(op);
    }
    OpenClBuffer out = alloc(op, real, n);
    if (n == 0) {
      return out;
    }
    strides[0] = View.contiguousStrides(shape);
    mems[0] = out.mem(op);
    try {
      Strided s = Strided.of(shape, strides, offsets);
      if (s.dense() && (kernel.startsWith("mg_unary_") || kernel.startsWith("mg_binary_"))) {
        // Every operand is dense: the "_c" variant indexes with one add and no descriptor, which
        // lets PoCL vectorise the work-item loop (several times faster than the strided walk).
        cl_kernel k = programs.kernel(family, kernel + "_c", real, src, "");
        Object[] args = new Object[2 * mems.length + (scalar == null ? 0 : 1)];
        System.arraycopy(mems, 0, args, 0, mems.length);
        for (int i = 1; i < mems.length; i++) {
          args[mems.length + i - 1] = s.offsets[i];
        }
        args[2 * mems.length - 1] = n;
        if (scalar != null) {
          args[2 * mems.length] = scalar;
        }
        launch(op, k, new long[] {roundUp(n, WG)}, new long[] {WG}, args);
      } else {
        scatter(op, programs.kernel(family, kernel, real, src, ""), s, mems, scalar);
      }
    } catch (RuntimeException e) {
      out.release();
      throw e;
    }
    return out;
  }

  /** Launches a strided kernel once per chunk of at most {@link Strided#MAX_RANK} dimensions. */
  private void scatter(String op, cl_kernel k, Strided s, cl_mem[] mems, Object scalar) {
    for (Strided c : s.chunks()) {
      int n = c.numel();
      Object[] args = new Object[mems.length + (scalar == null ? 2 : 3)];
      System.arraycopy(mems, 0, args, 0, mems.length);
      args[mems.length] = c.pack();
      args[mems.length + 1] = n;
      if (scalar != null) {
        args[mems.length + 2] = scalar;
      }
      launch(op, k, new long[] {roundUp(n, WG)}, new long[] {WG}, args);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reductions

  @Override
  public Buffer reduce(ReduceOp op, View x, int[] outShape) {
    String what = "reduce " + op;
    buffer(what, x);
    DType dt = x.dtype();
    requireSupported(what, dt);
    int[] s = x.shape();
    DeviceShapes.ReducePlan plan = DeviceShapes.reducePlan(what, x, outShape);
    int outN = plan.outN();
    OpenClBuffer out = alloc(what, dt, outN);
    if (outN == 0) {
      return out;
    }
    int innerN = plan.innerN();
    if (x.numel() == 0) {
      if (op == ReduceOp.MAX) {
        out.release();
        throw new IllegalArgumentException("max: cannot reduce a zero-size dimension of shape "
            + Arrays.toString(s));
      }
      fill(out, 0);
      return out;
    }
    Strided outer = Strided.of(plan.keptShape(), new int[][] {plan.keptStrides()}, new int[] {x.offset()});
    Strided inner = Strided.of(plan.redShape(), new int[][] {plan.redStrides()}, new int[] {0});
    OpenClBuffer src = buffer(what, x);
    OpenClBuffer gathered = null;
    if (outer.rank() > Strided.MAX_RANK || inner.rank() > Strided.MAX_RANK) {
      // Too many unmergeable dimensions for the kernel's descriptor: gather x as [kept..., reduced...]
      // (the copy kernel splits any rank), after which both sides collapse to one dimension.
      try {
        gathered = (OpenClBuffer) copy(new View(src, x.offset(), plan.gatherShape(), plan.gatherStrides()), dt);
      } catch (RuntimeException e) {
        out.release();
        throw e;
      }
      src = gathered;
      outer = Strided.of(new int[] {outN}, new int[][] {{innerN}}, new int[] {0});
      inner = Strided.of(new int[] {innerN}, new int[][] {{1}}, new int[] {0});
    }
    // Many outputs (or short reductions): one item per output keeps every item busy with no
    // synchronisation. Few long reductions: a work-group per output so the long loop is shared.
    boolean serial = innerN <= 256 || outN >= 4096;
    String kernel = reduceKernel(op, serial);
    try {
      cl_kernel k = programs.kernel("reduce", kernel, dt, dt, "");
      long[] global = serial ? new long[] {roundUp(outN, WG)} : new long[] {(long) outN * REDUCE_WG};
      long[] local = serial ? new long[] {WG} : new long[] {REDUCE_WG};
      launch(what, k, global, local, out.mem(what), src.mem(what), outer.pack(), inner.pack(), outN, innerN);
    } catch (RuntimeException e) {
      out.release();
      throw e;
    } finally {
      if (gathered != null) {
        // Safe while the kernel may still run: OpenCL defers the free until queued commands finish.
        gathered.release();
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Movement

  @Override
  public Buffer pad(View x, int[] before, int[] after) {
    buffer("pad", x);
    int[] outShape = DeviceShapes.padShape(x, before, after);
    long outN = DeviceShapes.numel(outShape);
    OpenClBuffer out = alloc("pad", x.dtype(), checkedSize("pad", outN, outShape));
    if (outN == 0) {
      return out;
    }
    try {
      fill(out, 0);
      if (x.numel() > 0) {
        int[] os = View.contiguousStrides(outShape);
        scatterCopy("pad", out, os, DeviceShapes.padBase(before, os), x);
      }
    } catch (RuntimeException e) {
      out.release();
      throw e;
    }
    return out;
  }

  @Override
  public Buffer concat(View[] parts, int dim) {
    int[] outShape = DeviceShapes.concatShape(parts, dim);
    for (View p : parts) {
      sameDtype("concat", parts[0], p);
    }
    long outN = DeviceShapes.numel(outShape);
    OpenClBuffer out = alloc("concat", parts[0].dtype(), checkedSize("concat", outN, outShape));
    if (outN == 0) {
      return out;
    }
    int[] os = View.contiguousStrides(outShape);
    int start = 0;
    try {
      for (View p : parts) {
        if (p.numel() > 0) {
          scatterCopy("concat", out, os, start * os[dim], p);
        }
        start += p.shape()[dim];
      }
    } catch (RuntimeException e) {
      out.release();
      throw e;
    }
    return out;
  }

  /** Copies view {@code x} into {@code out} at {@code base} with output strides {@code os}. */
  private void scatterCopy(String op, OpenClBuffer out, int[] os, int base, View x) {
    DType dt = out.dtype();
    cl_kernel k = programs.kernel("copy", "mg_copy", dt, x.dtype(), "");
    Strided s = Strided.of(x.shape(), new int[][] {os, x.strides()}, new int[] {base, x.offset()});
    scatter(op, k, s, new cl_mem[] {out.mem(op), buffer(op, x).mem(op)}, null);
  }

  // ---------------------------------------------------------------------------------------------
  // GEMM and windows

  @Override
  public Buffer matmul(View a, View b) {
    buffer("matmul", a);
    buffer("matmul", b);
    if (a.rank() != 3 || b.rank() != 3 || a.shape()[0] != b.shape()[0] || a.shape()[2] != b.shape()[1]) {
      throw new IllegalArgumentException("matmul: cannot contract " + Arrays.toString(a.shape()) + " with "
          + Arrays.toString(b.shape()) + " (expected [B, M, K] and [B, K, N])");
    }
    sameDtype("matmul", a, b);
    DType dt = a.dtype();
    requireSupported("matmul", dt);
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

  @Override
  public Buffer unfold(View x, ConvGeometry g) {
    buffer("unfold", x);
    int[] want = {g.n(), g.c(), g.h(), g.w()};
    if (!Arrays.equals(x.shape(), want)) {
      throw new IllegalArgumentException("unfold: input " + Arrays.toString(x.shape()) + " does not match "
          + g + " (expected " + Arrays.toString(want) + ")");
    }
    requireSupported("unfold", x.dtype());
    int[] outShape = {g.n(), g.rows(), g.cols()};
    long total = (long) g.n() * g.rows() * g.cols();
    OpenClBuffer out = alloc("unfold", x.dtype(), checkedSize("unfold", total, outShape));
    if (total == 0) {
      return out;
    }
    int[] s = x.strides();
    return window("unfold", "mg_unfold", out, x, g, new int[] {x.offset(), s[0], s[1], s[2], s[3]});
  }

  @Override
  public Buffer fold(View cols, ConvGeometry g) {
    buffer("fold", cols);
    int[] want = {g.n(), g.rows(), g.cols()};
    if (!Arrays.equals(cols.shape(), want)) {
      throw new IllegalArgumentException("fold: columns " + Arrays.toString(cols.shape()) + " do not match "
          + g + " (expected " + Arrays.toString(want) + ")");
    }
    requireSupported("fold", cols.dtype());
    int[] outShape = {g.n(), g.c(), g.h(), g.w()};
    long total = (long) g.n() * g.c() * g.h() * g.w();
    OpenClBuffer out = alloc("fold", cols.dtype(), checkedSize("fold", total, outShape));
    if (total == 0) {
      return out;
    }
    int[] s = cols.strides();
    return window("fold", "mg_fold", out, cols, g, new int[] {cols.offset(), s[0], s[1], s[2], 0});
  }

  private OpenClBuffer window(String op, String kernel, OpenClBuffer out, View in, ConvGeometry g, int[] layout) {
    int[] args = {g.n(), g.c(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(), g.dh(), g.dw(),
        g.oh(), g.ow(), layout[0], layout[1], layout[2], layout[3], layout[4]};
    int total = out.size();
    try {
      cl_kernel k = programs.kernel("window", kernel, out.dtype(), out.dtype(), "");
      launch(op, k, new long[] {roundUp(total, WG)}, new long[] {WG}, out.mem(op), buffer(op, in).mem(op), args,
          total);
    } catch (RuntimeException e) {
      out.release();
      throw e;
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Plumbing

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

  /** The kernel's scalar of element type {@code dt}. */
  private static Object real(DType dt, double v) {
    return dt == DType.FLOAT64 ? (Object) v : (Object) (float) v;
  }

  private static long roundUp(long n, long m) {
    return (n + m - 1) / m * m;
  }

  private void check(int status, String what) {
    if (status != CL_SUCCESS) {
      throw new BackendException("opencl: " + what + " failed on " + label + ": " + CL.stringFor_errorCode(status));
    }
  }

  private void requireSupported(String op, DType dtype) {
    if (!supports(dtype)) {
      throw new BackendException(op + ": dtype " + dtype + " is not supported on " + label
          + " (the device does not report cl_khr_fp64)");
    }
  }

  private static int checkedSize(String op, long n, int[] shape) {
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(op + ": result shape " + Arrays.toString(shape) + " has " + n
          + " elements, more than a buffer can index");
    }
    return (int) n;
  }

  /**
   * The view's buffer as one of ours, after checking that every element the view can reach lies
   * inside it: an out-of-range read on a CPU OpenCL device would crash the JVM, not throw.
   */
  private OpenClBuffer buffer(String op, View v) {
    ensureOpen(op);
    if (!(v.buffer() instanceof OpenClBuffer b) || b.backend() != this) {
      throw new IllegalArgumentException(op + ": buffer on " + v.buffer().device() + " given to the OpenCL backend of "
          + label + "; move it first");
    }
    DeviceShapes.checkReach(op, v, b.size(), label);
    return b;
  }

  private void sameDtype(String op, View... vs) {
    for (View v : vs) {
      buffer(op, v);
      if (v.dtype() != vs[0].dtype()) {
        throw new IllegalArgumentException(op + ": dtypes differ (" + vs[0].dtype() + " vs " + v.dtype() + ") on "
            + label);
      }
    }
    requireSupported(op, vs[0].dtype());
  }

  @Override
  public String toString() {
    return "OpenClBackend[" + label + ", fp64=" + fp64 + "]";
  }
}
