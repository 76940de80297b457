package org.metagrad.kernels.common;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Supplier;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BackendException;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ConvGeometry;
import org.metagrad.spi.ReduceOp;
import org.metagrad.spi.UnaryOp;
import org.metagrad.spi.View;

/**
 * The device-independent half of the GPU backends (OpenCL, CUDA), which run the same kernels ({@code *.c} in
 * {@code org/metagrad/kernels/common}, same families, names and argument order): argument checks, the strided
 * elementwise map (with its dense {@code _c} fast path and chunking by {@link Strided#MAX_RANK}), copy, fill,
 * reduction planning (serial or grouped kernel, the gather fallback), pad, concat and the unfold/fold window
 * launches. A subclass supplies the device: allocation, a device-to-device copy, kernel lookup and launch, and
 * {@link #run} around every public operation (a lock and a current context, or nothing).
 *
 * <p>Every launch is one-dimensional in the kernels' sense: {@code groups} groups (OpenCL work-groups, CUDA
 * blocks) of {@code groupSize} items, so {@code groups * groupSize} items in all; the elementwise, copy and window
 * kernels use groups of {@link #WG} items and at least one item per element, the grouped reduction one group of
 * {@link #REDUCE_WG} per output. Kernel arguments are the device handles of buffers (see
 * {@link DeviceBuffer}), {@code Integer}, {@code Float}, {@code Double} and {@code int[]} (a struct of ints passed
 * by value).
 *
 * <p>Failure paths are part of the contract: inputs are resolved (and a released one rejected) before the output
 * is allocated, and an output is released when a launch into it fails.
 *
 * @param <B> the backend's buffer type
 * @param <K> the backend's kernel handle ({@code cl_kernel}, {@code CUfunction})
 */
public abstract class DeviceBackend<B extends DeviceBuffer<?>, K> implements Backend {
  /** Items per group of the one-dimensional kernels (elementwise, copy, fill, serial reduction, windows). */
  protected static final int WG = 256;
  /** Items per group the grouped reduction kernel is written for ({@code MG_REDUCE_WG} in {@code reduce.c}). */
  protected static final int REDUCE_WG = 64;

  /** The device this backend runs on. */
  protected final Device device;
  /** The device as {@code kind:N (name)}, the form used in exception messages. */
  protected final String label;
  private final String kind;
  private volatile boolean closed;

  /**
   * A backend of device {@code device}.
   *
   * @param device the device
   * @param label the device as exception messages name it, e.g. {@code opencl:0 (pthread-cpu)}
   * @param kind the backend as messages about foreign buffers name it, e.g. {@code OpenCL}
   */
  protected DeviceBackend(Device device, String label, String kind) {
    this.device = device;
    this.label = label;
    this.kind = kind;
  }

  // ---------------------------------------------------------------------------------------------
  // Device hooks

  /**
   * Runs the body of a public operation: under the backend's lock with its context current (CUDA), or directly
   * (OpenCL). Implementations that hold a lock also call {@link #ensureOpen} inside it.
   *
   * @param op the operation, for messages
   * @param body the operation
   * @param <T> the result type
   * @return what {@code body} returns
   */
  protected abstract <T> T run(String op, Supplier<T> body);

  /**
   * Allocates device memory for {@code n > 0} elements of a supported dtype (the size and dtype are checked).
   *
   * @param op the operation, for messages
   * @param dtype the element type
   * @param n the number of elements, positive
   * @param bytes {@code n * dtype.byteSize()}
   * @return a new buffer
   * @throws BackendException when the device cannot hold it
   */
  protected abstract B allocateDevice(String op, DType dtype, int n, long bytes);

  /**
   * A buffer of no elements, which holds no device memory.
   *
   * @param dtype the element type
   * @return a new empty buffer
   */
  protected abstract B emptyBuffer(DType dtype);

  /**
   * The kernel {@code name} of family {@code family} ({@code family.c}) compiled for element type {@code real}
   * and source element type {@code src}.
   *
   * @param family the kernel family: elementwise, reduce, copy, window, gemm
   * @param name the kernel's name in the source
   * @param real the element type it writes
   * @param src the element type it reads (differs from {@code real} only for conversions)
   * @return the kernel
   */
  protected abstract K kernel(String family, String name, DType real, DType src);

  /**
   * Queues {@code groups} groups of {@code groupSize} items of {@code kernel}.
   *
   * @param op the operation, for messages
   * @param kernel the kernel
   * @param groups the number of groups
   * @param groupSize the items per group ({@link #WG} or {@link #REDUCE_WG})
   * @param args the kernel's arguments in its parameter order
   */
  protected abstract void launch(String op, K kernel, long groups, int groupSize, Object... args);

  /**
   * Queues a device-to-device copy of {@code n} elements of {@code out}'s dtype into {@code out} at 0.
   *
   * @param op the operation, for messages
   * @param out the destination
   * @param src the device handle of the source buffer
   * @param srcByteOffset where in the source the elements start, in bytes
   * @param n the number of elements, positive
   */
  protected abstract void copyDevice(String op, B out, Object src, long srcByteOffset, int n);

  /**
   * What the message about an unsupported dtype adds after the device's label (empty by default).
   *
   * @return the text, starting with a space when not empty
   */
  protected String unsupportedDetail() {
    return "";
  }

  // ---------------------------------------------------------------------------------------------
  // Introspection and lifecycle

  @Override
  public Device device() {
    return device;
  }

  /**
   * The device as {@code kind:N (name)}, the form used in exception messages.
   *
   * @return the label
   */
  public String describe() {
    return label;
  }

  /**
   * Whether {@link #close} has been called.
   *
   * @return true once closed
   */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Marks the backend closed; the caller holds its lock.
   *
   * @return false when it was already closed
   */
  protected final boolean markClosed() {
    if (closed) {
      return false;
    }
    closed = true;
    return true;
  }

  /**
   * Fails when the backend is closed.
   *
   * @param op the operation, for the message
   * @throws BackendException when {@link #close} has been called
   */
  protected final void ensureOpen(String op) {
    if (closed) {
      throw new BackendException(op + ": " + label + " is closed (Metagrad.close() or Backend.close() was called);"
          + " open the device again for new tensors");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Memory

  /**
   * A new uninitialised buffer of {@code n} elements.
   *
   * @param dtype the element type
   * @param n the number of elements
   * @return the buffer
   * @throws BackendException naming the bytes asked for when the device cannot hold them
   */
  public B allocate(DType dtype, int n) {
    return run("allocate", () -> alloc("allocate", dtype, n));
  }

  /**
   * A new uninitialised buffer of {@code n} elements, after checking that the backend is open, the dtype supported
   * and the size not negative.
   *
   * @param op the operation, for messages
   * @param dtype the element type
   * @param n the number of elements
   * @return the buffer
   */
  protected final B alloc(String op, DType dtype, int n) {
    ensureOpen(op);
    requireSupported(op, dtype);
    if (n < 0) {
      throw new IllegalArgumentException(op + ": negative size " + n + " on " + label);
    }
    if (n == 0) {
      return emptyBuffer(dtype);
    }
    return allocateDevice(op, dtype, n, (long) n * dtype.byteSize());
  }

  @Override
  public Buffer full(DType dtype, int n, double value) {
    return run("full", () -> {
      B out = alloc("full", dtype, n);
      if (n > 0) {
        fill(out, value);
      }
      return out;
    });
  }

  /**
   * Sets every element of {@code out} (not empty) to {@code value} with the {@code mg_fill} kernel.
   *
   * @param out the buffer
   * @param value the value
   */
  protected final void fill(B out, double value) {
    DType dt = out.dtype();
    K k = kernel("copy", "mg_fill", dt, dt);
    int n = out.size();
    launch("full", k, groups(n), WG, out.handle("full"), n, real(dt, value));
  }

  // ---------------------------------------------------------------------------------------------
  // Elementwise

  /**
   * The kernel of a unary op in {@code elementwise.c} (its dense variant adds {@code _c}).
   *
   * @param op the op
   * @return the kernel's name
   */
  public static String unaryKernel(UnaryOp op) {
    return "mg_unary_" + op.name().toLowerCase(Locale.ROOT);
  }

  /**
   * The kernel of a binary op in {@code elementwise.c} (its dense variant adds {@code _c}).
   *
   * @param op the op
   * @return the kernel's name
   */
  public static String binaryKernel(BinaryOp op) {
    return "mg_binary_" + op.name().toLowerCase(Locale.ROOT);
  }

  /**
   * The kernel of a reduction in {@code reduce.c}: one item per output, or a group per output.
   *
   * @param op the reduction
   * @param serial one item per output (else a group of {@link #REDUCE_WG} per output)
   * @return the kernel's name
   */
  public static String reduceKernel(ReduceOp op, boolean serial) {
    return "mg_reduce_" + op.name().toLowerCase(Locale.ROOT) + (serial ? "_serial" : "_group");
  }

  @Override
  public Buffer unary(UnaryOp op, double param, View x) {
    String what = "unary " + op;
    return run(what, () -> {
      buffer(what, x);
      DType dt = x.dtype();
      requireSupported(what, dt);
      return map(what, unaryKernel(op), "elementwise", dt, dt, new View[] {x}, real(dt, param));
    });
  }

  @Override
  public Buffer binary(BinaryOp op, View a, View b) {
    String what = "binary " + op;
    return run(what, () -> {
      DeviceShapes.sameShapes(what, a, b);
      sameDtype(what, a, b);
      return map(what, binaryKernel(op), "elementwise", a.dtype(), a.dtype(), new View[] {a, b}, null);
    });
  }

  @Override
  public Buffer where(View cond, View a, View b) {
    return run("where", () -> {
      DeviceShapes.sameShapes("where", cond, a, b);
      sameDtype("where", cond, a, b);
      return map("where", "mg_where", "elementwise", a.dtype(), a.dtype(), new View[] {cond, a, b}, null);
    });
  }

  @Override
  public Buffer copy(View x, DType to) {
    return run("copy", () -> {
      B in = buffer("copy", x);
      requireSupported("copy", x.dtype());
      requireSupported("copy", to);
      int n = x.numel();
      if (to == x.dtype() && x.isContiguous() && n > 0) {
        // Same layout, same type: a device-to-device copy, no kernel.
        Object src = in.handle("copy");
        B out = alloc("copy", to, n);
        return filled(out, () -> copyDevice("copy", out, src, x.offset() * (long) to.byteSize(), n));
      }
      return map("copy", "mg_copy", "copy", to, x.dtype(), new View[] {x}, null);
    });
  }

  /**
   * Runs a strided map kernel {@code out[i] = f(inputs[i]...)} into a new contiguous buffer of dtype {@code real};
   * {@code scalar} (may be null) follows the element count.
   */
  private B map(String op, String kernel, String family, DType real, DType src, View[] in, Object scalar) {
    int n = in[0].numel();
    int[] shape = in[0].shape();
    int[][] strides = new int[in.length + 1][];
    int[] offsets = new int[in.length + 1];
    Object[] handles = new Object[in.length + 1];
    // Inputs are resolved (and a released one rejected) before the output exists, so a bad input cannot leak the
    // output buffer.
    for (int i = 0; i < in.length; i++) {
      strides[i + 1] = in[i].strides();
      offsets[i + 1] = in[i].offset();
      handles[i + 1] = n == 0 ? null : buffer(op, in[i]).handle(op);
    }
    B out = alloc(op, real, n);
    if (n == 0) {
      return out;
    }
    strides[0] = View.contiguousStrides(shape);
    handles[0] = out.handle(op);
    try {
      Strided s = Strided.of(shape, strides, offsets);
      if (s.dense() && (kernel.startsWith("mg_unary_") || kernel.startsWith("mg_binary_"))) {
        // Every operand is dense: the "_c" variant indexes with one add and no descriptor (which, for one, lets
        // PoCL vectorise the work-item loop: several times faster than the strided walk).
        K k = kernel(family, kernel + "_c", real, src);
        Object[] args = new Object[2 * handles.length + (scalar == null ? 0 : 1)];
        System.arraycopy(handles, 0, args, 0, handles.length);
        for (int i = 1; i < handles.length; i++) {
          args[handles.length + i - 1] = s.offsets[i];
        }
        args[2 * handles.length - 1] = n;
        if (scalar != null) {
          args[2 * handles.length] = scalar;
        }
        launch(op, k, groups(n), WG, args);
      } else {
        scatter(op, kernel(family, kernel, real, src), s, handles, scalar);
      }
    } catch (RuntimeException e) {
      out.release();
      throw e;
    }
    return out;
  }

  /** Launches a strided kernel once per chunk of at most {@link Strided#MAX_RANK} dimensions. */
  private void scatter(String op, K k, Strided s, Object[] handles, Object scalar) {
    for (Strided c : s.chunks()) {
      int n = c.numel();
      Object[] args = new Object[handles.length + (scalar == null ? 2 : 3)];
      System.arraycopy(handles, 0, args, 0, handles.length);
      args[handles.length] = c.pack();
      args[handles.length + 1] = n;
      if (scalar != null) {
        args[handles.length + 2] = scalar;
      }
      launch(op, k, groups(n), WG, args);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reductions

  @Override
  public Buffer reduce(ReduceOp op, View x, int[] outShape) {
    String what = "reduce " + op;
    return run(what, () -> reduceBody(what, op, x, outShape));
  }

  private B reduceBody(String what, ReduceOp op, View x, int[] outShape) {
    buffer(what, x);
    DType dt = x.dtype();
    requireSupported(what, dt);
    int[] s = x.shape();
    DeviceShapes.ReducePlan plan = DeviceShapes.reducePlan(what, x, outShape);
    int outN = plan.outN();
    B out = alloc(what, dt, outN);
    if (outN == 0) {
      return out;
    }
    int innerN = plan.innerN();
    if (x.numel() == 0) {
      if (op == ReduceOp.MAX) {
        out.release();
        throw new IllegalArgumentException("max: cannot reduce a zero-size dimension of shape " + Arrays.toString(s));
      }
      fill(out, 0);
      return out;
    }
    Strided outer = Strided.of(plan.keptShape(), new int[][] {plan.keptStrides()}, new int[] {x.offset()});
    Strided inner = Strided.of(plan.redShape(), new int[][] {plan.redStrides()}, new int[] {0});
    B src = buffer(what, x);
    B gathered = null;
    if (outer.rank() > Strided.MAX_RANK || inner.rank() > Strided.MAX_RANK) {
      // Too many unmergeable dimensions for the kernel's descriptor: gather x as [kept..., reduced...]
      // (the copy kernel splits any rank), after which both sides collapse to one dimension.
      try {
        gathered = ours(copy(new View(src, x.offset(), plan.gatherShape(), plan.gatherStrides()), dt));
      } catch (RuntimeException e) {
        out.release();
        throw e;
      }
      src = gathered;
      outer = Strided.of(new int[] {outN}, new int[][] {{innerN}}, new int[] {0});
      inner = Strided.of(new int[] {innerN}, new int[][] {{1}}, new int[] {0});
    }
    // Many outputs (or short reductions): one item per output keeps every item busy with no synchronisation. Few
    // long reductions: a group per output so the long loop is shared.
    boolean serial = innerN <= 256 || outN >= 4096;
    String kernel = reduceKernel(op, serial);
    try {
      K k = kernel("reduce", kernel, dt, dt);
      launch(what, k, serial ? groups(outN) : outN, serial ? WG : REDUCE_WG, out.handle(what), src.handle(what),
          outer.pack(), inner.pack(), outN, innerN);
    } catch (RuntimeException e) {
      out.release();
      throw e;
    } finally {
      if (gathered != null) {
        // Safe while the kernel may still run: OpenCL defers the free until queued commands finish, and a CUDA
        // block's reuse is ordered after this kernel on the one stream.
        gathered.release();
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Movement

  @Override
  public Buffer pad(View x, int[] before, int[] after) {
    return run("pad", () -> {
      buffer("pad", x);
      int[] outShape = DeviceShapes.padShape(x, before, after);
      long outN = DeviceShapes.numel(outShape);
      B out = alloc("pad", x.dtype(), checkedSize("pad", outN, outShape));
      if (outN == 0) {
        return out;
      }
      return filled(out, () -> {
        fill(out, 0);
        if (x.numel() > 0) {
          int[] os = View.contiguousStrides(outShape);
          scatterCopy("pad", out, os, DeviceShapes.padBase(before, os), x);
        }
      });
    });
  }

  @Override
  public Buffer concat(View[] parts, int dim) {
    return run("concat", () -> {
      int[] outShape = DeviceShapes.concatShape(parts, dim);
      for (View p : parts) {
        sameDtype("concat", parts[0], p);
      }
      long outN = DeviceShapes.numel(outShape);
      B out = alloc("concat", parts[0].dtype(), checkedSize("concat", outN, outShape));
      if (outN == 0) {
        return out;
      }
      int[] os = View.contiguousStrides(outShape);
      return filled(out, () -> {
        int start = 0;
        for (View p : parts) {
          if (p.numel() > 0) {
            scatterCopy("concat", out, os, start * os[dim], p);
          }
          start += p.shape()[dim];
        }
      });
    });
  }

  /** Copies view {@code x} into {@code out} at {@code base} with output strides {@code os}. */
  private void scatterCopy(String op, B out, int[] os, int base, View x) {
    K k = kernel("copy", "mg_copy", out.dtype(), x.dtype());
    Strided s = Strided.of(x.shape(), new int[][] {os, x.strides()}, new int[] {base, x.offset()});
    scatter(op, k, s, new Object[] {out.handle(op), buffer(op, x).handle(op)}, null);
  }

  // ---------------------------------------------------------------------------------------------
  // GEMM checks and windows

  /**
   * The checks of {@code matmul}: both views ours and in range, shapes {@code [B, M, K]} and {@code [B, K, N]},
   * one supported dtype.
   *
   * @param a the left operand
   * @param b the right operand
   * @throws IllegalArgumentException naming the shapes or dtypes when they do not fit
   */
  protected final void checkMatmul(View a, View b) {
    buffer("matmul", a);
    buffer("matmul", b);
    if (a.rank() != 3 || b.rank() != 3 || a.shape()[0] != b.shape()[0] || a.shape()[2] != b.shape()[1]) {
      throw new IllegalArgumentException("matmul: cannot contract " + Arrays.toString(a.shape()) + " with "
          + Arrays.toString(b.shape()) + " (expected [B, M, K] and [B, K, N])");
    }
    sameDtype("matmul", a, b);
  }

  @Override
  public Buffer unfold(View x, ConvGeometry g) {
    return run("unfold", () -> {
      buffer("unfold", x);
      int[] want = {g.n(), g.c(), g.h(), g.w()};
      if (!Arrays.equals(x.shape(), want)) {
        throw new IllegalArgumentException("unfold: input " + Arrays.toString(x.shape()) + " does not match "
            + g + " (expected " + Arrays.toString(want) + ")");
      }
      requireSupported("unfold", x.dtype());
      int[] outShape = {g.n(), g.rows(), g.cols()};
      long total = (long) g.n() * g.rows() * g.cols();
      B out = alloc("unfold", x.dtype(), checkedSize("unfold", total, outShape));
      if (total == 0) {
        return out;
      }
      int[] s = x.strides();
      return window("unfold", "mg_unfold", out, x, g, new int[] {x.offset(), s[0], s[1], s[2], s[3]});
    });
  }

  @Override
  public Buffer fold(View cols, ConvGeometry g) {
    return run("fold", () -> {
      buffer("fold", cols);
      int[] want = {g.n(), g.rows(), g.cols()};
      if (!Arrays.equals(cols.shape(), want)) {
        throw new IllegalArgumentException("fold: columns " + Arrays.toString(cols.shape()) + " do not match "
            + g + " (expected " + Arrays.toString(want) + ")");
      }
      requireSupported("fold", cols.dtype());
      int[] outShape = {g.n(), g.c(), g.h(), g.w()};
      long total = (long) g.n() * g.c() * g.h() * g.w();
      B out = alloc("fold", cols.dtype(), checkedSize("fold", total, outShape));
      if (total == 0) {
        return out;
      }
      int[] s = cols.strides();
      return window("fold", "mg_fold", out, cols, g, new int[] {cols.offset(), s[0], s[1], s[2], 0});
    });
  }

  private B window(String op, String kernel, B out, View in, ConvGeometry g, int[] layout) {
    int[] args = {g.n(), g.c(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(), g.dh(), g.dw(),
        g.oh(), g.ow(), layout[0], layout[1], layout[2], layout[3], layout[4]};
    int total = out.size();
    return filled(out, () -> launch(op, kernel("window", kernel, out.dtype(), out.dtype()), groups(total), WG,
        out.handle(op), buffer(op, in).handle(op), args, total));
  }

  /**
   * Runs {@code body}, which writes the new buffer {@code out}, and returns {@code out}; when it fails, {@code out} is
   * released before the exception goes on, so that a failed op leaks no device memory.
   */
  private B filled(B out, Runnable body) {
    try {
      body.run();
    } catch (RuntimeException e) {
      out.release();
      throw e;
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Plumbing

  /**
   * Groups of {@link #WG} items that cover {@code n} items.
   *
   * @param n the number of items
   * @return {@code ceil(n / WG)}
   */
  protected static long groups(long n) {
    return (n + WG - 1) / WG;
  }

  /**
   * The kernel's scalar of element type {@code dt}: a {@code Double} for FLOAT64, else a {@code Float}.
   *
   * @param dt the element type
   * @param v the value
   * @return the boxed scalar
   */
  protected static Object real(DType dt, double v) {
    return dt == DType.FLOAT64 ? (Object) v : (Object) (float) v;
  }

  /**
   * Fails unless this backend runs {@code dtype}.
   *
   * @param op the operation, for the message
   * @param dtype the dtype
   * @throws BackendException when {@link #supports} says no
   */
  protected final void requireSupported(String op, DType dtype) {
    if (!supports(dtype)) {
      throw new BackendException(op + ": dtype " + dtype + " is not supported on " + label + unsupportedDetail());
    }
  }

  /**
   * {@code n} as an int, or an exception naming the shape when a buffer cannot index it.
   *
   * @param op the operation, for the message
   * @param n the number of elements
   * @param shape the result shape, for the message
   * @return {@code n}
   */
  protected static int checkedSize(String op, long n, int[] shape) {
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(op + ": result shape " + Arrays.toString(shape) + " has " + n
          + " elements, more than a buffer can index");
    }
    return (int) n;
  }

  /**
   * The view's buffer as one of ours, after checking that the backend is open and that every element the view can
   * reach lies inside the buffer: an out-of-range access on a device is no exception (it crashes a CPU OpenCL
   * device's process, and it poisons a CUDA context).
   *
   * @param op the operation, for messages
   * @param v the view
   * @return its buffer
   * @throws IllegalArgumentException when the buffer belongs to another backend or the view overruns it
   */
  protected final B buffer(String op, View v) {
    ensureOpen(op);
    if (!(v.buffer() instanceof DeviceBuffer<?> b) || b.backend() != this) {
      throw new IllegalArgumentException(op + ": buffer on " + v.buffer().device() + " given to the " + kind
          + " backend of " + label + "; move it first");
    }
    DeviceShapes.checkReach(op, v, b.size(), label);
    return ours(b);
  }

  /**
   * A buffer this backend made (by {@link #alloc} or an operation), as its own type.
   *
   * @param b the buffer
   * @return {@code b}
   */
  @SuppressWarnings("unchecked")
  protected final B ours(Buffer b) {
    return (B) b;
  }

  /**
   * Checks that the views are ours and in range, share one dtype, and that it is supported.
   *
   * @param op the operation, for messages
   * @param vs the views
   */
  protected final void sameDtype(String op, View... vs) {
    for (View v : vs) {
      buffer(op, v);
      if (v.dtype() != vs[0].dtype()) {
        throw new IllegalArgumentException(op + ": dtypes differ (" + vs[0].dtype() + " vs " + v.dtype() + ") on "
            + label);
      }
    }
    requireSupported(op, vs[0].dtype());
  }
}
