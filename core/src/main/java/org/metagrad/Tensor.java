package org.metagrad;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.metagrad.spi.Backend;
import org.metagrad.spi.Backends;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ConvGeometry;
import org.metagrad.spi.HeapBuffer;
import org.metagrad.spi.ReduceOp;
import org.metagrad.spi.UnaryOp;
import org.metagrad.spi.View;

/**
 * An immutable n-dimensional array of FLOAT32 or FLOAT64 values on one {@link Device}, optionally
 * recorded on the autograd graph. Every op returns a new tensor; views (reshape, permute, expand,
 * slice, squeeze, unsqueeze) share memory and copy nothing. Binary ops broadcast like NumPy.
 *
 * <pre>{@code
 * Tensor w = Tensor.of(new double[] {1, 2, 3}, 3).requiresGrad(true);
 * Tensor loss = w.mul(w).sum();                       // 14
 * Tensor g = Autograd.grad(loss, List.of(w)).get(0);  // [2, 4, 6]
 * }</pre>
 *
 * <h2>Which dtype a factory makes</h2>
 * One rule: <b>a Java array keeps its precision; everything else gets the default dtype.</b>
 * <ul>
 *   <li>{@link #of(double[], int...)} is FLOAT64 and {@link #of(float[], int...)} FLOAT32: the data's own
 *       precision, nothing rounded behind the caller's back.
 *   <li>Every factory without data and without a dtype ({@link #zeros(int...)}, {@link #ones(int...)},
 *       {@link #arange(int)}, {@link #scalar(double)}, and {@code Module.init(rng)} in {@code nn}) makes the
 *       <em>default dtype</em>, {@link Metagrad#defaultDType()}: FLOAT32 unless configured with
 *       {@code Metagrad.configure().defaultDType(DType.FLOAT64).apply()} or {@code -Dmetagrad.dtype=float64}.
 *   <li>A factory given a {@link DType} makes that dtype ({@code zeros(DType.FLOAT64, 2, 3)},
 *       {@code of(data, DType.FLOAT32, n)}, {@code scalar(v, dtype)}, {@code rand}, {@code randn}, ...).
 *   <li>Ops never convert: both operands of a binary op must have one dtype, and mixing them is an
 *       {@link IllegalArgumentException} that names both and the fix ({@code x.to(DType.FLOAT32)}). Scalar
 *       arguments ({@code x.add(1.0)}) take the tensor's dtype.
 * </ul>
 * So {@code Tensor.of(new double[] {1, 2}, 2).add(Tensor.ones(2))} mixes FLOAT64 and FLOAT32: write
 * {@code Tensor.of(new float[] {1, 2}, 2)}, or {@code Tensor.of(data, DType.FLOAT32, 2)}, or configure FLOAT64 as the
 * default.
 */
public final class Tensor {
  private final Buffer buffer;
  private final int offset;
  private final int[] shape;
  private final int[] strides;
  private final boolean requiresGrad;
  final Node node;

  private Tensor(Buffer buffer, int offset, int[] shape, int[] strides, boolean requiresGrad, Node node) {
    this(buffer, offset, shape, strides, requiresGrad, node, true);
  }

  private Tensor(Buffer buffer, int offset, int[] shape, int[] strides, boolean requiresGrad, Node node,
      boolean attach) {
    this.buffer = buffer;
    this.offset = offset;
    this.shape = shape;
    this.strides = strides;
    this.requiresGrad = requiresGrad;
    this.node = node;
    if (node != null && attach) {
      node.out = this;
    }
  }

  /**
   * This tensor's place in the graph without its values: same node, shape, strides, dtype, device and
   * requiresGrad, but a {@link Node.Released} buffer. A recorded node holds these for the inputs (and the
   * output) its backward rule never reads (see {@link Node#saved}), so the graph does not keep their
   * memory alive; the autograd walk identifies a recorded tensor by its node, so the two are the same
   * vertex.
   */
  Tensor graphRef() {
    return buffer instanceof Node.Released ? this
        : new Tensor(new Node.Released(buffer), offset, shape, strides, requiresGrad, node, false);
  }

  // ---------------------------------------------------------------- construction

  /** Wraps a freshly produced contiguous buffer (backends and internal code; the buffer must not change). */
  static Tensor wrap(Buffer buffer, int... shape) {
    if (Shapes.numel(shape) != buffer.size()) {
      throw new IllegalArgumentException("wrap: buffer of " + buffer.size() + " elements does not match shape "
          + Shapes.str(shape));
    }
    TensorScope.track(buffer);
    return new Tensor(buffer, 0, shape.clone(), View.contiguousStrides(shape), false, null);
  }

  /** A FLOAT64 tensor (the array's precision) holding a copy of {@code data} with the given shape, on the default device. */
  public static Tensor of(double[] data, int... shape) {
    checkData("of", data.length, shape);
    return onDefault(HeapBuffer.wrap(data.clone()), shape);
  }

  /** A FLOAT32 tensor (the array's precision) holding a copy of {@code data} with the given shape, on the default device. */
  public static Tensor of(float[] data, int... shape) {
    checkData("of", data.length, shape);
    return onDefault(HeapBuffer.wrap(data.clone()), shape);
  }

  /** A tensor of the given dtype holding {@code data} (rounded for FLOAT32), on the default device. */
  public static Tensor of(double[] data, DType dtype, int... shape) {
    checkData("of", data.length, shape);
    return onDefault(org.metagrad.spi.ReferenceBackend.INSTANCE.upload(data, dtype), shape);
  }

  /** A 0-dimensional tensor. */
  public static Tensor scalar(double value, DType dtype) {
    return full(value, dtype);
  }

  /** A 0-dimensional tensor of the default dtype ({@link Metagrad#defaultDType()}, FLOAT32 unless configured). */
  public static Tensor scalar(double value) {
    return full(value, Metagrad.defaultDType());
  }

  /** A tensor filled with {@code value}. */
  public static Tensor full(double value, DType dtype, int... shape) {
    return fill("full", value, dtype, shape);
  }

  private static Tensor fill(String op, double value, DType dtype, int[] shape) {
    int n = Shapes.numel(op, shape);
    Device d = Backends.defaultDevice();
    return wrap(Backends.forDevice(d).full(dtype, n, value), shape);
  }

  /** Zeros of the given dtype. */
  public static Tensor zeros(DType dtype, int... shape) {
    return fill("zeros", 0, dtype, shape);
  }

  /** Zeros of the default dtype ({@link Metagrad#defaultDType()}, FLOAT32 unless configured). */
  public static Tensor zeros(int... shape) {
    return fill("zeros", 0, Metagrad.defaultDType(), shape);
  }

  /** Ones of the given dtype. */
  public static Tensor ones(DType dtype, int... shape) {
    return fill("ones", 1, dtype, shape);
  }

  /** Ones of the default dtype ({@link Metagrad#defaultDType()}, FLOAT32 unless configured). */
  public static Tensor ones(int... shape) {
    return fill("ones", 1, Metagrad.defaultDType(), shape);
  }

  /** {@code [start, start+step, ...)} below {@code end}, as a 1-d tensor. */
  public static Tensor arange(double start, double end, double step, DType dtype) {
    if (step == 0 || !Double.isFinite(start) || !Double.isFinite(end) || !Double.isFinite(step)) {
      throw new IllegalArgumentException("arange: step must be non-zero and bounds finite, got start " + start
          + " end " + end + " step " + step);
    }
    // the count as a long first: an int cast would saturate at 2^31-1 and allocate that much
    int n = Shapes.numel("arange", (long) Math.max(0, Math.ceil((end - start) / step)));
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = start + i * step;
    }
    return of(v, dtype, n);
  }

  /** {@code [0, 1, ..., n-1]} of the default dtype ({@link Metagrad#defaultDType()}, FLOAT32 unless configured). */
  public static Tensor arange(int n) {
    return arange(0, n, 1, Metagrad.defaultDType());
  }

  /** The n x n identity matrix. */
  public static Tensor eye(int n, DType dtype) {
    double[] v = new double[Shapes.numel("eye", (long) n, n)];
    for (int i = 0; i < n; i++) {
      v[i * n + i] = 1;
    }
    return of(v, dtype, n, n);
  }

  /** Uniform samples in [0, 1) from {@code rng}. */
  public static Tensor rand(Rng rng, DType dtype, int... shape) {
    double[] v = new double[Shapes.numel("rand", shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = rng.nextDouble();
    }
    return of(v, dtype, shape);
  }

  /** Uniform samples in [lo, hi) from {@code rng}. */
  public static Tensor uniform(Rng rng, double lo, double hi, DType dtype, int... shape) {
    double[] v = new double[Shapes.numel("uniform", shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = lo + (hi - lo) * rng.nextDouble();
    }
    return of(v, dtype, shape);
  }

  /** Standard normal samples from {@code rng}. */
  public static Tensor randn(Rng rng, DType dtype, int... shape) {
    double[] v = new double[Shapes.numel("randn", shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = rng.nextGaussian();
    }
    return of(v, dtype, shape);
  }

  private static Tensor onDefault(Buffer host, int[] shape) {
    Tensor t = wrap(host, shape);
    Device d = Backends.defaultDevice();
    return d.kind() == Device.Kind.CPU ? t : t.to(d);
  }

  private static void checkData(String op, int length, int[] shape) {
    int n = Shapes.numel(op, shape);
    if (n != length) {
      throw new IllegalArgumentException(op + ": " + length + " values do not fill shape " + Shapes.str(shape)
          + " (" + n + " elements)");
    }
  }

  // ---------------------------------------------------------------- metadata

  /** The shape (a copy). */
  public int[] shape() {
    return shape.clone();
  }

  /** Size of dimension {@code d} (negative counts from the end). */
  public int size(int d) {
    return shape[Shapes.normDim("size", d, shape.length)];
  }

  /** Number of dimensions. */
  public int rank() {
    return shape.length;
  }

  /** Number of elements. */
  public int numel() {
    return Shapes.numel(shape);
  }

  /** Element type. */
  public DType dtype() {
    return buffer.dtype();
  }

  /** The device that holds this tensor's memory. */
  public Device device() {
    return buffer.device();
  }

  /** Whether gradients flow to this tensor. */
  public boolean requiresGrad() {
    return requiresGrad;
  }

  /** True for tensors not produced by a recorded op (user-created or detached). */
  public boolean isLeaf() {
    return node == null;
  }

  /** A leaf sharing this tensor's memory with gradient tracking switched on or off. */
  public Tensor requiresGrad(boolean on) {
    return new Tensor(buffer, offset, shape, strides, on, null);
  }

  /** A leaf sharing memory, cut from the graph (no gradient flows through it). */
  public Tensor detach() {
    return new Tensor(buffer, offset, shape, strides, false, null);
  }

  /**
   * The strided view kernels receive (SPI users only). Its shape and strides are copies: a caller that writes
   * into them cannot change this immutable tensor (two small arrays per call).
   */
  public View view() {
    return new View(data(), offset, shape.clone(), strides.clone());
  }

  /** The buffer for a kernel to read; a {@link #graphRef()} has none. */
  private Buffer data() {
    if (buffer instanceof Node.Released) {
      throw new IllegalStateException("the values of this " + Shapes.str(shape) + " tensor were not saved by the"
          + " graph (" + buffer + "): a backward rule reads a value Node.saved does not keep");
    }
    return buffer;
  }

  /** True when elements are laid out row-major without gaps. */
  public boolean isContiguous() {
    return view().isContiguous();
  }

  Backend backend() {
    return Backends.forDevice(buffer.device());
  }

  // ---------------------------------------------------------------- host access

  /**
   * The row-major index of the first NaN or infinite element, or -1 when every element is finite (a check a
   * trainer or a gradient check makes before trusting values; copies the elements to the host once).
   */
  public int firstNonFiniteIndex() {
    double[] v = toDoubleArray();
    for (int i = 0; i < v.length; i++) {
      if (!Double.isFinite(v[i])) {
        return i;
      }
    }
    return -1;
  }

  /** All elements in row-major order as doubles. */
  public double[] toDoubleArray() {
    return backend().downloadDouble(view());
  }

  /** All elements in row-major order as floats. */
  public float[] toFloatArray() {
    return backend().downloadFloat(view());
  }

  /** The single value of a one-element tensor. */
  public double item() {
    if (numel() != 1) {
      throw new IllegalArgumentException("item: tensor of shape " + Shapes.str(shape) + " has " + numel()
          + " elements, not 1");
    }
    return toDoubleArray()[0];
  }

  /** Element at the given index. */
  public double get(int... index) {
    if (index.length != shape.length) {
      throw new IllegalArgumentException("get: index of rank " + index.length + " for shape " + Shapes.str(shape));
    }
    int[] one = new int[shape.length];
    Arrays.fill(one, 1);
    int off = offset;
    for (int i = 0; i < index.length; i++) {
      if (index[i] < 0 || index[i] >= shape[i]) {
        throw new IllegalArgumentException("get: index " + Arrays.toString(index) + " out of range for shape "
            + Shapes.str(shape));
      }
      off += index[i] * strides[i];
    }
    return backend().downloadDouble(new View(data(), off, new int[0], new int[0]))[0];
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Tensor").append(Shapes.str(shape)).append(' ').append(dtype());
    if (device().kind() != Device.Kind.CPU) {
      sb.append(" on ").append(device());
    }
    if (requiresGrad) {
      sb.append(" requiresGrad");
    }
    double[] v = toDoubleArray();
    sb.append(' ');
    format(sb, v, 0, 0);
    return sb.toString();
  }

  private int format(StringBuilder sb, double[] v, int dim, int pos) {
    if (shape.length == 0) {
      sb.append(v.length == 1 ? fmt(v[0]) : "[]");
      return pos + 1;
    }
    sb.append('[');
    int n = shape[dim];
    int stride = 1;
    for (int d = dim + 1; d < shape.length; d++) {
      stride *= shape[d];
    }
    for (int i = 0; i < n; i++) {
      if (n > 6 && i == 3) {
        sb.append("..., ");
        i = n - 3;
      }
      if (dim == shape.length - 1) {
        sb.append(fmt(v[pos + i]));
      } else {
        format(sb, v, dim + 1, pos + i * stride);
      }
      if (i < n - 1) {
        sb.append(", ");
      }
    }
    sb.append(']');
    return pos;
  }

  private static String fmt(double x) {
    return x == Math.rint(x) && Math.abs(x) < 1e15 ? String.valueOf((long) x) + "." : String.format("%.4g", x);
  }

  // ---------------------------------------------------------------- op plumbing

  private static Tensor result(Buffer out, int[] shape, Op op, Object attr, Tensor... inputs) {
    TensorScope.track(out);
    boolean rg = false;
    if (Autograd.isEnabled()) {
      for (Tensor t : inputs) {
        if (t.requiresGrad) {
          rg = true;
          break;
        }
      }
    }
    if (!rg) {
      return new Tensor(out, 0, shape, View.contiguousStrides(shape), false, null);
    }
    return Node.record(new Tensor(out, 0, shape, View.contiguousStrides(shape), true, new Node(op, inputs, attr)));
  }

  /** The output of a fused op (see {@link Fused}): recorded as one FUSED node with f as its attribute. */
  static Tensor fusedResult(Buffer out, int[] shape, Fused f, Tensor... inputs) {
    return result(out, shape, Op.FUSED, f, inputs);
  }

  /** A recorded identity view (same buffer, a RESHAPE node of the same shape): a distinct graph vertex. */
  Tensor alias() {
    return viewResult(offset, shape, strides, Op.RESHAPE, null);
  }

  private Tensor viewResult(int newOffset, int[] newShape, int[] newStrides, Op op, Object attr) {
    boolean rg = requiresGrad && Autograd.isEnabled();
    if (!rg) {
      return new Tensor(buffer, newOffset, newShape, newStrides, false, null);
    }
    return Node.record(new Tensor(buffer, newOffset, newShape, newStrides, true, new Node(op, new Tensor[] {this}, attr)));
  }

  private static Tensor constant(Buffer out, int[] shape) {
    TensorScope.track(out);
    return new Tensor(out, 0, shape, View.contiguousStrides(shape), false, null);
  }

  /** Throws, naming op, unless o has this tensor's device and dtype (for fused ops' argument checks). */
  void checkSameDeviceAndType(String op, Tensor o) {
    sameDeviceAndType(op, o);
  }

  private void sameDeviceAndType(String op, Tensor o) {
    if (!device().equals(o.device())) {
      throw new IllegalArgumentException(op + ": tensors on different devices: " + device() + " and " + o.device());
    }
    if (dtype() != o.dtype()) {
      throw new IllegalArgumentException(op + ": mixed dtypes " + dtype() + " and " + o.dtype() + " (shapes "
          + Shapes.str(shape) + " and " + Shapes.str(o.shape) + "); " + castHint(dtype(), o.dtype()));
    }
  }

  /**
   * The fix a mixed-dtype error names: {@code cast one with .to(DType.FLOAT32) (or the other with
   * .to(DType.FLOAT64))}, with a pointer to the rule that made them differ.
   */
  static String castHint(DType a, DType b) {
    return "cast the " + b + " one with .to(DType." + a + ") (or the other with .to(DType." + b + ")); Tensor.of(double[])"
        + " is FLOAT64, factories without data use the default dtype, " + Metagrad.settings().defaultDType();
  }

  /** A 0-d constant of this tensor's dtype and device. */
  Tensor scalarLike(double v) {
    return constant(backend().full(dtype(), 1, v), new int[0]);
  }

  /** A constant of this tensor's dtype/device filled with v. */
  Tensor fullLike(double v, int... shape) {
    return constant(backend().full(dtype(), Shapes.numel(shape), v), shape);
  }

  /** Broadcast view without recording (kernels see stride 0). */
  private View broadcastView(int[] target) {
    int r = target.length;
    int[] st = new int[r];
    for (int i = 0; i < r; i++) {
      int j = i - (r - shape.length);
      st[i] = j < 0 || (shape[j] == 1 && target[i] != 1) ? 0 : strides[j];
    }
    return new View(data(), offset, target, st);
  }

  // ---------------------------------------------------------------- unary primitives

  private Tensor unary(Op op, UnaryOp k, double p) {
    return result(backend().unary(k, p, view()), shape.clone(), op, op == Op.POW ? (Object) p : null, this);
  }

  /** Elementwise {@code -x}. */
  public Tensor neg() {
    return unary(Op.NEG, UnaryOp.NEG, 0);
  }

  /** Elementwise {@code e^x}. */
  public Tensor exp() {
    return unary(Op.EXP, UnaryOp.EXP, 0);
  }

  /** Elementwise natural logarithm. */
  public Tensor log() {
    return unary(Op.LOG, UnaryOp.LOG, 0);
  }

  /** Elementwise square root. */
  public Tensor sqrt() {
    return unary(Op.SQRT, UnaryOp.SQRT, 0);
  }

  /** Elementwise hyperbolic tangent. */
  public Tensor tanh() {
    return unary(Op.TANH, UnaryOp.TANH, 0);
  }

  /** Elementwise {@code x^p} for a scalar exponent. */
  public Tensor pow(double p) {
    if (p == 1) {
      return this;
    }
    return unary(Op.POW, UnaryOp.POW, p);
  }

  /** Elementwise {@code a^b} for a tensor exponent, as {@code exp(b log a)} (a &gt; 0). */
  public Tensor pow(Tensor b) {
    return b.mul(log()).exp();
  }

  /** Elementwise sign (-1, 0, 1); a constant with no gradient. */
  public Tensor sign() {
    return constant(backend().unary(UnaryOp.SIGN, 0, view()), shape.clone());
  }

  /** Elementwise {@code |x|}, composed as {@code x * sign(x)} (gradient 0 at 0, like PyTorch). */
  public Tensor abs() {
    return mul(sign());
  }

  /** Elementwise {@code 1/x}. */
  public Tensor reciprocal() {
    return scalarLike(1).div(this);
  }

  /** Elementwise {@code x^2}. */
  public Tensor square() {
    return mul(this);
  }

  /**
   * {@code max(x, 0)}, defined as {@code where(x <= 0, 0, x)} (its composite definition): relu(-2) and relu(-0)
   * are +0, relu(NaN) is NaN and the gradient passes where x &gt; 0 or x is NaN (zero where x &lt;= 0), as
   * PyTorch's. Runs as one fused pass forward and one backward, with the composite's derivatives of every
   * order.
   */
  public Tensor relu() {
    return numel() == 0 ? org.metagrad.internal.Composites.relu(this) : FusedOps.relu(this);
  }

  /** Logistic sigmoid, composed stably from {@code exp(-|x|)} (no overflow in either tail). */
  public Tensor sigmoid() {
    Tensor t = abs().neg().exp();
    Tensor onePlus = t.add(1);
    return where(ge(0), onePlus.reciprocal(), t.div(onePlus));
  }

  // ---------------------------------------------------------------- binary primitives

  private Tensor binary(Op op, BinaryOp k, Tensor o) {
    String name = k.name().toLowerCase(java.util.Locale.ROOT);
    sameDeviceAndType(name, o);
    int[] out = Shapes.broadcast(name, shape, o.shape);
    Shapes.numel(name, out);
    Buffer b = backend().binary(k, broadcastView(out), o.broadcastView(out));
    if (op == null) {
      return constant(b, out);
    }
    return result(b, out, op, null, this, o);
  }

  /** Elementwise sum with broadcasting. */
  public Tensor add(Tensor o) {
    return binary(Op.ADD, BinaryOp.ADD, o);
  }

  /** Adds a scalar. */
  public Tensor add(double s) {
    return add(scalarLike(s));
  }

  /** Elementwise difference with broadcasting. */
  public Tensor sub(Tensor o) {
    return binary(Op.SUB, BinaryOp.SUB, o);
  }

  /** Subtracts a scalar. */
  public Tensor sub(double s) {
    return sub(scalarLike(s));
  }

  /** Elementwise product with broadcasting. */
  public Tensor mul(Tensor o) {
    return binary(Op.MUL, BinaryOp.MUL, o);
  }

  /** Multiplies by a scalar. */
  public Tensor mul(double s) {
    return mul(scalarLike(s));
  }

  /** Elementwise quotient with broadcasting. */
  public Tensor div(Tensor o) {
    return binary(Op.DIV, BinaryOp.DIV, o);
  }

  /** Divides by a scalar. */
  public Tensor div(double s) {
    return div(scalarLike(s));
  }

  /**
   * Elementwise maximum with broadcasting, composed with {@link #where}: NaN where either operand is NaN (as
   * PyTorch's {@code torch.maximum}); ties and a NaN in {@code this} send the gradient to {@code this}, a NaN
   * in {@code o} alone to {@code o}.
   */
  public Tensor maximum(Tensor o) {
    return where(ge(o).add(isNaN()), this, o);
  }

  /** Elementwise minimum, the mirror of {@link #maximum} (NaN where either is NaN, ties to {@code this}). */
  public Tensor minimum(Tensor o) {
    return where(le(o).add(isNaN()), this, o);
  }

  /** Mask of the NaN elements ({@code x != x}: 1 or 0, this dtype, no gradient). */
  private Tensor isNaN() {
    return ne(this);
  }

  /** Clamps into [lo, hi] as {@code minimum(maximum(x, lo), hi)}: NaN stays NaN, +-Inf go to the bounds. */
  public Tensor clamp(double lo, double hi) {
    return maximum(scalarLike(lo)).minimum(scalarLike(hi));
  }

  /** Mask {@code x > o} (1 or 0, this dtype, no gradient). */
  public Tensor gt(Tensor o) {
    return binary(null, BinaryOp.GT, o);
  }

  /** Mask {@code x >= o}. */
  public Tensor ge(Tensor o) {
    return binary(null, BinaryOp.GE, o);
  }

  /** Mask {@code x < o}. */
  public Tensor lt(Tensor o) {
    return binary(null, BinaryOp.LT, o);
  }

  /** Mask {@code x <= o}. */
  public Tensor le(Tensor o) {
    return binary(null, BinaryOp.LE, o);
  }

  /** Mask {@code x == o}. */
  public Tensor eq(Tensor o) {
    return binary(null, BinaryOp.EQ, o);
  }

  /** Mask {@code x != o}. */
  public Tensor ne(Tensor o) {
    return binary(null, BinaryOp.NE, o);
  }

  /** Mask {@code x > s}. */
  public Tensor gt(double s) {
    return gt(scalarLike(s));
  }

  /** Mask {@code x >= s}. */
  public Tensor ge(double s) {
    return ge(scalarLike(s));
  }

  /** Mask {@code x < s}. */
  public Tensor lt(double s) {
    return lt(scalarLike(s));
  }

  /** Mask {@code x <= s}. */
  public Tensor le(double s) {
    return le(scalarLike(s));
  }

  /** Mask {@code x == s}. */
  public Tensor eq(double s) {
    return eq(scalarLike(s));
  }

  /**
   * Elementwise {@code cond != 0 ? a : b} with broadcasting of all three; no gradient flows to cond.
   */
  public static Tensor where(Tensor cond, Tensor a, Tensor b) {
    a.sameDeviceAndType("where", b);
    cond.sameDeviceAndType("where", a);
    int[] out = Shapes.broadcast("where", Shapes.broadcast("where", cond.shape, a.shape), b.shape);
    Shapes.numel("where", out);
    Buffer buf = a.backend().where(cond.broadcastView(out), a.broadcastView(out), b.broadcastView(out));
    return result(buf, out, Op.WHERE, null, cond.detach(), a, b);
  }

  // ---------------------------------------------------------------- reductions

  /** Sum of all elements (a 0-d tensor). */
  public Tensor sum() {
    return sum(Shapes.allDims(shape.length), false);
  }

  /** Sum over the given dims, keeping them as size 1 when {@code keepDim}. */
  public Tensor sum(int[] dims, boolean keepDim) {
    return reduce(Op.SUM, ReduceOp.SUM, "sum", dims, keepDim);
  }

  /** Sum over one dim. */
  public Tensor sum(int dim, boolean keepDim) {
    return sum(new int[] {dim}, keepDim);
  }

  /** Mean of all elements. */
  public Tensor mean() {
    return mean(Shapes.allDims(shape.length), false);
  }

  /** Mean over the given dims. */
  public Tensor mean(int[] dims, boolean keepDim) {
    int[] nd = Shapes.normDims("mean", dims, shape.length);
    long count = 1;
    for (int d : nd) {
      count *= shape[d];
    }
    return sum(nd, keepDim).div((double) count);
  }

  /** Mean over one dim. */
  public Tensor mean(int dim, boolean keepDim) {
    return mean(new int[] {dim}, keepDim);
  }

  /** Maximum of all elements. */
  public Tensor max() {
    return max(Shapes.allDims(shape.length), false);
  }

  /** Maximum over the given dims; ties share the gradient equally. */
  public Tensor max(int[] dims, boolean keepDim) {
    return reduce(Op.MAX, ReduceOp.MAX, "max", dims, keepDim);
  }

  /** Maximum over one dim. */
  public Tensor max(int dim, boolean keepDim) {
    return max(new int[] {dim}, keepDim);
  }

  /** Minimum over dims, as {@code -max(-x)}. */
  public Tensor min(int[] dims, boolean keepDim) {
    return neg().max(dims, keepDim).neg();
  }

  /**
   * Variance over dims with {@code correction} (0: biased, divide by n; 1: unbiased, n-1), composed as
   * {@code sum((x - mean)^2) / (n - correction)}.
   */
  public Tensor var(int[] dims, boolean keepDim, int correction) {
    int[] nd = Shapes.normDims("var", dims, shape.length);
    long count = 1;
    for (int d : nd) {
      count *= shape[d];
    }
    Tensor c = sub(mean(nd, true));
    return c.mul(c).sum(nd, keepDim).div((double) (count - correction));
  }

  private Tensor reduce(Op op, ReduceOp k, String name, int[] dims, boolean keepDim) {
    int[] nd = Shapes.normDims(name, dims, shape.length);
    int[] kept = shape.clone();
    for (int d : nd) {
      if (k == ReduceOp.MAX && shape[d] == 0) {
        throw new IllegalArgumentException(name + ": cannot reduce zero-size dim " + d + " of shape "
            + Shapes.str(shape));
      }
      kept[d] = 1;
    }
    Buffer b = backend().reduce(k, view(), kept);
    int[] outShape = keepDim ? kept : dropDims(shape, nd);
    return result(b, outShape, op, new ReduceAttr(nd, keepDim), this);
  }

  record ReduceAttr(int[] dims, boolean keepDim) {}

  private static int[] dropDims(int[] shape, int[] sortedDims) {
    int[] out = new int[shape.length - sortedDims.length];
    int j = 0;
    int k = 0;
    for (int i = 0; i < shape.length; i++) {
      if (k < sortedDims.length && sortedDims[k] == i) {
        k++;
      } else {
        out[j++] = shape[i];
      }
    }
    return out;
  }

  /** Sums this (broadcast) gradient down to {@code target}'s shape: the adjoint of broadcasting. */
  Tensor sumTo(int[] target) {
    if (Arrays.equals(shape, target)) {
      return this;
    }
    int lead = shape.length - target.length;
    if (lead < 0) {
      throw new IllegalArgumentException("sumTo: cannot reduce " + Shapes.str(shape) + " to " + Shapes.str(target));
    }
    List<Integer> dims = new ArrayList<>();
    for (int i = 0; i < shape.length; i++) {
      if (i < lead || (target[i - lead] == 1 && shape[i] != 1)) {
        dims.add(i);
      }
    }
    Tensor s = dims.isEmpty() ? this : sum(dims.stream().mapToInt(Integer::intValue).toArray(), true);
    return s.reshape(target);
  }

  // ---------------------------------------------------------------- movement

  /** A tensor with the same elements in a new shape (one dim may be -1); a view when strides allow. */
  public Tensor reshape(int... newShape) {
    int[] ns = inferShape(newShape);
    if (Arrays.equals(ns, shape)) {
      return this;
    }
    int[] st = Shapes.viewStrides(shape, strides, ns);
    if (st != null) {
      return viewResult(offset, ns, st, Op.RESHAPE, null);
    }
    Buffer b = backend().copy(view(), dtype());
    return result(b, ns, Op.RESHAPE, null, this);
  }

  /** Same as {@link #reshape}. */
  public Tensor view(int... newShape) {
    return reshape(newShape);
  }

  private int[] inferShape(int[] newShape) {
    int infer = -1;
    long known = 1;
    for (int i = 0; i < newShape.length; i++) {
      if (newShape[i] == -1) {
        if (infer >= 0) {
          throw new IllegalArgumentException("reshape: more than one -1 in " + Shapes.str(newShape));
        }
        infer = i;
      } else if (newShape[i] < 0) {
        throw new IllegalArgumentException("reshape: negative size in " + Shapes.str(newShape));
      } else {
        // saturating: past 2^31-1 no tensor matches, and a wrapped product could look like 0 or n
        known = Math.min(known * newShape[i], 1L << 32);
      }
    }
    if (infer < 0) {
      Shapes.numel("reshape", newShape);
    }
    int n = numel();
    int[] ns = newShape.clone();
    if (infer >= 0) {
      if (known == 0 || n % known != 0) {
        throw new IllegalArgumentException("reshape: cannot reshape " + Shapes.str(shape) + " (" + n
            + " elements) into " + Shapes.str(newShape));
      }
      ns[infer] = (int) (n / known);
    } else if (known != n) {
      throw new IllegalArgumentException("reshape: cannot reshape " + Shapes.str(shape) + " (" + n
          + " elements) into " + Shapes.str(newShape) + " (" + known + " elements)");
    }
    return ns;
  }

  /** Flattens dims {@code start..end} (inclusive) into one. */
  public Tensor flatten(int start, int end) {
    if (shape.length == 0) {
      return reshape(1);
    }
    int s = Shapes.normDim("flatten", start, shape.length);
    int e = Shapes.normDim("flatten", end, shape.length);
    if (s > e) {
      throw new IllegalArgumentException("flatten: start dim " + start + " after end dim " + end);
    }
    int[] ns = new int[shape.length - (e - s)];
    int j = 0;
    for (int i = 0; i < s; i++) {
      ns[j++] = shape[i];
    }
    int p = 1;
    for (int i = s; i <= e; i++) {
      p *= shape[i];
    }
    ns[j++] = p;
    for (int i = e + 1; i < shape.length; i++) {
      ns[j++] = shape[i];
    }
    return reshape(ns);
  }

  /** Reorders dims: output dim i is input dim {@code perm[i]}; a view. */
  public Tensor permute(int... perm) {
    if (perm.length != shape.length) {
      throw new IllegalArgumentException("permute: " + Arrays.toString(perm) + " is not a permutation of "
          + shape.length + " dims (shape " + Shapes.str(shape) + ")");
    }
    int[] p = new int[perm.length];
    boolean[] seen = new boolean[perm.length];
    for (int i = 0; i < perm.length; i++) {
      p[i] = Shapes.normDim("permute", perm[i], shape.length);
      if (seen[p[i]]) {
        throw new IllegalArgumentException("permute: dim " + perm[i] + " repeated in " + Arrays.toString(perm));
      }
      seen[p[i]] = true;
    }
    int[] ns = new int[p.length];
    int[] st = new int[p.length];
    boolean identity = true;
    for (int i = 0; i < p.length; i++) {
      ns[i] = shape[p[i]];
      st[i] = strides[p[i]];
      identity &= p[i] == i;
    }
    return identity ? this : viewResult(offset, ns, st, Op.PERMUTE, p);
  }

  /** Swaps two dims; a view. */
  public Tensor transpose(int d0, int d1) {
    int a = Shapes.normDim("transpose", d0, shape.length);
    int b = Shapes.normDim("transpose", d1, shape.length);
    int[] p = Shapes.allDims(shape.length);
    p[a] = b;
    p[b] = a;
    return permute(p);
  }

  /** Transposes the last two dims (matrix transpose, batched); a view. */
  public Tensor mT() {
    if (shape.length < 2) {
      throw new IllegalArgumentException("mT: needs rank >= 2, got shape " + Shapes.str(shape));
    }
    return transpose(-2, -1);
  }

  /** Broadcasts to a larger shape (size-1 dims stretch, -1 keeps a size, new dims go in front); a view. */
  public Tensor expand(int... target) {
    int r = target.length;
    if (r < shape.length) {
      throw new IllegalArgumentException("expand: target " + Shapes.str(target) + " has fewer dims than "
          + Shapes.str(shape));
    }
    int[] ns = new int[r];
    for (int i = 0; i < r; i++) {
      int j = i - (r - shape.length);
      int t = target[i];
      if (t == -1) {
        if (j < 0) {
          throw new IllegalArgumentException("expand: -1 not allowed for new leading dim " + i);
        }
        t = shape[j];
      }
      if (j >= 0 && shape[j] != 1 && shape[j] != t) {
        throw new IllegalArgumentException("expand: cannot expand " + Shapes.str(shape) + " to "
            + Shapes.str(target) + " (dim " + i + ": " + shape[j] + " vs " + t + ")");
      }
      ns[i] = t;
    }
    if (Arrays.equals(ns, shape)) {
      return this;
    }
    // a view takes no memory, but every later use (numel, contiguous, a kernel) counts its elements in an int
    Shapes.numel("expand", ns);
    View v = broadcastView(ns);
    return viewResult(offset, ns, v.strides(), Op.EXPAND, null);
  }

  /** Elements {@code start..end-1} along {@code dim}; a view. Negative indices count from the end. */
  public Tensor slice(int dim, int start, int end) {
    int d = Shapes.normDim("slice", dim, shape.length);
    int n = shape[d];
    int s = start < 0 ? start + n : start;
    int e = end < 0 ? end + n : Math.min(end, n);
    if (s < 0 || s > n || e < s) {
      throw new IllegalArgumentException("slice: range [" + start + ", " + end + ") invalid for dim " + dim
          + " of size " + n + " (shape " + Shapes.str(shape) + ")");
    }
    if (s == 0 && e == n) {
      return this;
    }
    int[] ns = shape.clone();
    ns[d] = e - s;
    return viewResult(offset + s * strides[d], ns, strides.clone(), Op.SLICE, new int[] {d, s, e});
  }

  /** Element {@code i} along {@code dim}, removing that dim; a view. */
  public Tensor select(int dim, int i) {
    int d = Shapes.normDim("select", dim, shape.length);
    int idx = i < 0 ? i + shape[d] : i;
    if (idx < 0 || idx >= shape[d]) {
      throw new IllegalArgumentException("select: index " + i + " out of range for dim " + dim + " of size "
          + shape[d]);
    }
    return slice(d, idx, idx + 1).squeeze(d);
  }

  /** Removes a size-1 dim; a view. */
  public Tensor squeeze(int dim) {
    int d = Shapes.normDim("squeeze", dim, shape.length);
    if (shape[d] != 1) {
      throw new IllegalArgumentException("squeeze: dim " + dim + " has size " + shape[d] + ", not 1 (shape "
          + Shapes.str(shape) + ")");
    }
    int[] ns = dropDims(shape, new int[] {d});
    return reshape(ns);
  }

  /** Inserts a size-1 dim at {@code dim} (0..rank); a view. */
  public Tensor unsqueeze(int dim) {
    int d = dim < 0 ? dim + shape.length + 1 : dim;
    if (d < 0 || d > shape.length) {
      throw new IllegalArgumentException("unsqueeze: dim " + dim + " out of range for rank " + shape.length);
    }
    int[] ns = new int[shape.length + 1];
    for (int i = 0, j = 0; i < ns.length; i++) {
      ns[i] = i == d ? 1 : shape[j++];
    }
    return reshape(ns);
  }

  /** Zero padding: {@code before[k]} and {@code after[k]} elements around dim k (one entry per dim). */
  public Tensor pad(int[] before, int[] after) {
    if (before.length != shape.length || after.length != shape.length) {
      throw new IllegalArgumentException("pad: need " + shape.length + " before/after sizes for shape "
          + Shapes.str(shape) + ", got " + before.length + " and " + after.length);
    }
    int[] ns = new int[shape.length];
    long[] padded = new long[shape.length];
    boolean none = true;
    for (int i = 0; i < shape.length; i++) {
      if (before[i] < 0 || after[i] < 0) {
        throw new IllegalArgumentException("pad: negative padding " + Arrays.toString(before) + " / "
            + Arrays.toString(after));
      }
      none &= before[i] == 0 && after[i] == 0;
      padded[i] = (long) before[i] + shape[i] + after[i];
      ns[i] = (int) padded[i];
    }
    if (none) {
      return this;
    }
    Shapes.numel("pad", padded);
    Buffer b = backend().pad(view(), before.clone(), after.clone());
    return result(b, ns, Op.PAD, new int[][] {before.clone(), after.clone()}, this);
  }

  /** Concatenates along {@code dim}; all other dims must agree. */
  public static Tensor concat(List<Tensor> parts, int dim) {
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("concat: no tensors given");
    }
    Tensor first = parts.get(0);
    int d = Shapes.normDim("concat", dim, first.rank());
    long[] total = new long[first.rank()];
    for (int k = 0; k < total.length; k++) {
      total[k] = first.shape[k];
    }
    total[d] = 0;
    int[] ns = first.shape.clone();
    View[] views = new View[parts.size()];
    for (int i = 0; i < parts.size(); i++) {
      Tensor p = parts.get(i);
      first.sameDeviceAndType("concat", p);
      if (p.rank() != first.rank()) {
        throw new IllegalArgumentException("concat: tensor " + i + " has shape " + Shapes.str(p.shape)
            + ", rank differs from " + Shapes.str(first.shape));
      }
      for (int k = 0; k < ns.length; k++) {
        if (k != d && p.shape[k] != first.shape[k]) {
          throw new IllegalArgumentException("concat: tensor " + i + " has shape " + Shapes.str(p.shape)
              + ", which differs from " + Shapes.str(first.shape) + " outside dim " + dim);
        }
      }
      total[d] += p.shape[d];
      views[i] = p.view();
    }
    Shapes.numel("concat", total);
    ns[d] = (int) total[d];
    if (parts.size() == 1) {
      return first;
    }
    Buffer b = first.backend().concat(views, d);
    return result(b, ns, Op.CONCAT, d, parts.toArray(new Tensor[0]));
  }

  /** Stacks equal-shaped tensors along a new dim. */
  public static Tensor stack(List<Tensor> parts, int dim) {
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("stack: no tensors given");
    }
    List<Tensor> u = new ArrayList<>(parts.size());
    for (Tensor t : parts) {
      if (!Arrays.equals(t.shape, parts.get(0).shape)) {
        throw new IllegalArgumentException("stack: shapes differ: " + Shapes.str(parts.get(0).shape) + " and "
            + Shapes.str(t.shape));
      }
      u.add(t.unsqueeze(dim));
    }
    return concat(u, dim);
  }

  /** A contiguous copy (or this tensor if already contiguous). */
  public Tensor contiguous() {
    if (isContiguous() && offset == 0 && buffer.size() == numel()) {
      return this;
    }
    return result(backend().copy(view(), dtype()), shape.clone(), Op.CAST, null, this);
  }

  /** Converts to another dtype (differentiable; the gradient is cast back). */
  public Tensor to(DType dtype) {
    if (dtype == dtype()) {
      return this;
    }
    Backend be = backend();
    if (!be.supports(dtype)) {
      throw new IllegalArgumentException("to: backend " + be.name() + " on " + device() + " does not support "
          + dtype);
    }
    return result(be.copy(view(), dtype), shape.clone(), Op.CAST, null, this);
  }

  /** Copies to another device (differentiable; the gradient is copied back). */
  public Tensor to(Device target) {
    if (target.equals(device())) {
      return this;
    }
    Backend dst = Backends.forDevice(target);
    if (!dst.supports(dtype())) {
      throw new IllegalArgumentException("to: " + dst.name() + " on " + target + " does not support " + dtype());
    }
    Buffer b = dtype() == DType.FLOAT32 ? dst.upload(toFloatArray()) : dst.upload(toDoubleArray(), dtype());
    return result(b, shape.clone(), Op.TRANSFER, null, this);
  }

  // ---------------------------------------------------------------- matmul and windows

  /**
   * Matrix product with NumPy semantics: {@code [..., M, K] x [..., K, N] -> [..., M, N]}, batch dims
   * broadcast; a 1-d operand is treated as a row (left) or column (right) vector and its dim removed.
   */
  public Tensor matmul(Tensor o) {
    sameDeviceAndType("matmul", o);
    if (shape.length == 0 || o.shape.length == 0) {
      throw new IllegalArgumentException("matmul: scalars have no matrix product (shapes " + Shapes.str(shape)
          + " and " + Shapes.str(o.shape) + ")");
    }
    if (shape.length == 1) {
      return unsqueeze(0).matmul(o).squeeze(-2);
    }
    if (o.shape.length == 1) {
      return matmul(o.unsqueeze(1)).squeeze(-1);
    }
    int m = shape[shape.length - 2];
    int k = shape[shape.length - 1];
    int k2 = o.shape[o.shape.length - 2];
    int n = o.shape[o.shape.length - 1];
    if (k != k2) {
      throw new IllegalArgumentException("matmul: cannot contract " + Shapes.str(shape) + " with "
          + Shapes.str(o.shape) + " (" + k + " != " + k2 + ")");
    }
    int[] ba = Arrays.copyOf(shape, shape.length - 2);
    int[] bb = Arrays.copyOf(o.shape, o.shape.length - 2);
    int[] batch = Shapes.broadcast("matmul", ba, bb);
    Shapes.numel("matmul", concatShape(batch, m, n));
    int bn = Shapes.numel(batch);
    View va = collapseBatch(broadcastView(concatShape(batch, m, k)), bn);
    View vb = o.collapseBatch(o.broadcastView(concatShape(batch, k, n)), bn);
    Buffer out = backend().matmul(va, vb);
    return result(out, concatShape(batch, m, n), Op.MATMUL, null, this, o);
  }

  /**
   * {@code sum_p this[p] @ o[p]} for {@code [B, M, K]} and {@code [B, K, N]}, as a constant {@code [M, N]}:
   * the same value as {@code matmul(o).sumTo([M, N])} up to rounding, without the {@code [B, M, N]}
   * products. Not recorded, so only for gradients computed without {@code createGraph}.
   */
  Tensor matmulSumBatch(Tensor o) {
    sameDeviceAndType("matmul", o);
    int[] s = concatShape(new int[0], shape[1], o.shape[2]);
    return constant(backend().matmulSumBatch(view(), o.view()), s);
  }

  private static int[] concatShape(int[] batch, int r, int c) {
    int[] s = Arrays.copyOf(batch, batch.length + 2);
    s[batch.length] = r;
    s[batch.length + 1] = c;
    return s;
  }

  /** Views a broadcast [batch..., r, c] as [B, r, c], copying only when strides cannot merge. */
  private View collapseBatch(View v, int bn) {
    int r = v.rank();
    int[] sh = v.shape();
    int[] st = v.strides();
    int[] batchShape = Arrays.copyOf(sh, r - 2);
    int[] batchStrides = Arrays.copyOf(st, r - 2);
    int[] merged = Shapes.viewStrides(batchShape, batchStrides, new int[] {bn});
    if (batchShape.length == 0) {
      return new View(v.buffer(), v.offset(), new int[] {1, sh[r - 2], sh[r - 1]}, new int[] {0, st[r - 2], st[r - 1]});
    }
    if (merged != null) {
      return new View(v.buffer(), v.offset(), new int[] {bn, sh[r - 2], sh[r - 1]},
          new int[] {merged[0], st[r - 2], st[r - 1]});
    }
    Buffer b = backend().copy(v, dtype());
    return View.contiguous(b, bn, sh[r - 2], sh[r - 1]);
  }

  /** im2col: {@code [n, c, h, w]} to {@code [n, c*kh*kw, oh*ow]} for the given window geometry. */
  public Tensor unfold(ConvGeometry g) {
    checkWindowInput("unfold", g);
    Shapes.numel("unfold", (long) g.n(), g.rows(), g.cols());
    Buffer b = backend().unfold(view(), g);
    return result(b, new int[] {g.n(), g.rows(), g.cols()}, Op.UNFOLD, g, this);
  }

  /** col2im, the adjoint of unfold: {@code [n, c*kh*kw, oh*ow]} to {@code [n, c, h, w]}, summing overlaps. */
  public Tensor fold(ConvGeometry g) {
    if (shape.length != 3 || shape[0] != g.n() || shape[1] != g.rows() || shape[2] != g.cols()) {
      throw new IllegalArgumentException("fold: expected columns of shape [" + g.n() + ", " + g.rows() + ", "
          + g.cols() + "], got " + Shapes.str(shape));
    }
    Shapes.numel("fold", (long) g.n(), g.c(), g.h(), g.w());
    Buffer b = backend().fold(view(), g);
    return result(b, new int[] {g.n(), g.c(), g.h(), g.w()}, Op.FOLD, g, this);
  }

  private void checkWindowInput(String op, ConvGeometry g) {
    if (shape.length != 4 || shape[0] != g.n() || shape[1] != g.c() || shape[2] != g.h() || shape[3] != g.w()) {
      throw new IllegalArgumentException(op + ": expected input of shape [" + g.n() + ", " + g.c() + ", " + g.h()
          + ", " + g.w() + "], got " + Shapes.str(shape));
    }
  }

  // ---------------------------------------------------------------- internal access for Derivatives

  int[] shapeRef() {
    return shape;
  }

  Buffer buffer() {
    return buffer;
  }
}
