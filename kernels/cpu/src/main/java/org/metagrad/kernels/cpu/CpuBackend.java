package org.metagrad.kernels.cpu;

import java.util.Arrays;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ConvGeometry;
import org.metagrad.spi.HeapBuffer;
import org.metagrad.spi.ReduceOp;
import org.metagrad.spi.ReferenceBackend;
import org.metagrad.spi.UnaryOp;
import org.metagrad.spi.View;

/**
 * The CPU backend on {@link HeapBuffer} host memory: shape dispatch, threading and the strided
 * fallbacks live here, the hot inner loops in a {@link ScalarKernels} (plain Java) or
 * {@link VectorKernels} (Vector API). Semantics are those of {@link ReferenceBackend}; results are
 * bit-identical for any thread count because work is only ever split by output.
 *
 * <p>Dispatch is built for small tensors as much as large ones: contiguous views go straight to one
 * kernel call, strided views are collapsed to the fewest dimensions and walked row by row, and work
 * below a threshold never leaves the calling thread.
 */
final class CpuBackend implements Backend {
  /**
   * Elements below which elementwise work stays on the calling thread. A memory-bound pass over 128K
   * floats takes tens of microseconds; below that a handoff gains little, and on a loaded machine a
   * helper preempted inside its chunk stalls the caller for a whole time slice (seen as 5-10 ms spikes
   * on 250K-element ops in the MAML profile at 1 << 15).
   */
  static final int PARALLEL_ELEMENTS = 1 << 17;

  private final String name;
  private final ScalarKernels k;
  private final int threads;
  private final CpuFused fused;

  CpuBackend(String name, ScalarKernels kernels, int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException(name + ": thread count must be >= 1, got " + threads);
    }
    this.name = name;
    this.k = kernels;
    this.threads = threads;
    this.fused = new CpuFused(this, kernels, threads);
  }

  // ------------------------------------------------------------------------------- fused kernels

  @Override
  public Buffer[] batchNormTrain(View x, View gamma, View beta, double eps) {
    return fused.batchNormTrain(x, gamma, beta, eps);
  }

  @Override
  public Buffer[] batchNormBackward(View g, View x, View mean, View invStd, View gamma) {
    return fused.batchNormBackward(g, x, mean, invStd, gamma);
  }

  @Override
  public Buffer[] batchNormReluTrain(View x, View gamma, View beta, double eps) {
    return fused.batchNormTrain(x, gamma, beta, eps, true);
  }

  @Override
  public Buffer[] batchNormReluBackward(View g, View x, View out, View mean, View invStd, View gamma) {
    return fused.batchNormBackward(g, x, out, mean, invStd, gamma);
  }

  @Override
  public Buffer[] batchNormReluPoolTrain(View x, View gamma, View beta, double eps, int k) {
    return fused.batchNormReluPoolTrain(x, gamma, beta, eps, k);
  }

  @Override
  public Buffer[] batchNormReluPoolBackward(View g, View x, View out, View mean, View invStd, View gamma, View beta,
      double eps, int k) {
    return fused.batchNormReluPoolBackward(g, x, out, mean, invStd, gamma, beta, k);
  }

  @Override
  public Buffer maxPool2dTiled(View x, int k) {
    return fused.maxPool2dTiled(x, k);
  }

  @Override
  public Buffer maxPool2dTiledBackward(View x, View out, View g, int k) {
    return fused.maxPool2dTiledBackward(x, out, g, k);
  }

  /** Threads this backend splits large work over. */
  int threads() {
    return threads;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Device device() {
    return Device.cpu();
  }

  @Override
  public boolean supports(DType dtype) {
    return dtype == DType.FLOAT32 || dtype == DType.FLOAT64;
  }

  @Override
  public Buffer upload(double[] data, DType dtype) {
    if (dtype == DType.FLOAT64) {
      return HeapBuffer.wrap(data.clone());
    }
    float[] f = new float[data.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) data[i];
    }
    return HeapBuffer.wrap(f);
  }

  @Override
  public Buffer upload(float[] data) {
    return HeapBuffer.wrap(data.clone());
  }

  @Override
  public double[] downloadDouble(View v) {
    double[] out = new double[v.numel()];
    copyInto(v, out, 0, View.contiguousStrides(v.shape()));
    return out;
  }

  @Override
  public float[] downloadFloat(View v) {
    float[] out = new float[v.numel()];
    copyInto(v, out, 0, View.contiguousStrides(v.shape()));
    return out;
  }

  @Override
  public Buffer full(DType dtype, int n, double value) {
    if (n < 0) {
      throw new IllegalArgumentException("full: negative size " + n);
    }
    if (dtype == DType.FLOAT32) {
      float[] f = new float[n];
      if (value != 0) {
        Arrays.fill(f, (float) value);
      }
      return HeapBuffer.wrap(f);
    }
    double[] d = new double[n];
    if (value != 0) {
      Arrays.fill(d, value);
    }
    return HeapBuffer.wrap(d);
  }

  // ---------------------------------------------------------------------------------- elementwise

  /** One inner run of an elementwise op: operand row starts, inner strides, output start, length. */
  @FunctionalInterface
  private interface RowFn {
    void row(int[] off, int[] inner, int oo, int len);
  }

  /**
   * Walks {@code shape} for the given operand views, writing a contiguous output, and hands each inner
   * run to {@code fn}; splits rows (or, when contiguous, the flat range) over threads for large n.
   */
  private void elementwise(int[] shape, View[] ins, int n, int parallelElements, RowFn fn) {
    if (n == 0) {
      return;
    }
    int nv = ins.length;
    boolean contiguous = true;
    for (View v : ins) {
      contiguous &= v.isContiguous();
    }
    int th = n < parallelElements ? 1 : threads;
    if (contiguous) {
      int[] ones = new int[nv];
      Arrays.fill(ones, 1);
      if (th == 1) {
        int[] off = new int[nv];
        for (int i = 0; i < nv; i++) {
          off[i] = ins[i].offset();
        }
        fn.row(off, ones, 0, n);
        return;
      }
      Parallel.forRange(th, n, parallelElements / 2, (lo, hi) -> {
        int[] off = new int[nv];
        for (int i = 0; i < nv; i++) {
          off[i] = ins[i].offset() + lo;
        }
        fn.row(off, ones, lo, hi - lo);
      });
      return;
    }
    int[][] st = new int[nv + 1][];
    int[] offsets = new int[nv + 1];
    for (int i = 0; i < nv; i++) {
      st[i] = ins[i].strides();
      offsets[i] = ins[i].offset();
    }
    // The output takes part in the collapse so that merged runs stay contiguous in it too.
    st[nv] = View.contiguousStrides(shape);
    Strides s = new Strides(shape, st);
    int len = s.inner();
    int[] inner = new int[nv];
    for (int i = 0; i < nv; i++) {
      inner[i] = s.innerStride(i);
    }
    int rows = s.rows();
    Parallel.forRange(th, rows, Math.max(1, parallelElements / 2 / len), (lo, hi) -> {
      Strides.Cursor c = s.cursor(offsets, lo);
      for (int r = lo; r < hi; r++, c.next()) {
        fn.row(c.off, inner, c.off[nv], len);
      }
    });
  }

  private static void checkSameShape(String op, View a, View b) {
    if (!Arrays.equals(a.shape(), b.shape())) {
      throw new IllegalArgumentException(op + ": shapes differ: " + Arrays.toString(a.shape()) + " vs "
          + Arrays.toString(b.shape()));
    }
    if (a.dtype() != b.dtype()) {
      throw new IllegalArgumentException(op + ": dtypes differ: " + a.dtype() + " vs " + b.dtype());
    }
  }

  /** 0: both runs contiguous, 1: b is a scalar, 2: a is a scalar, -1: other strides. */
  private static int mode(int sa, int sb) {
    if (sa == 1 && sb == 1) {
      return 0;
    }
    if (sa == 1 && sb == 0) {
      return 1;
    }
    if (sa == 0 && sb == 1) {
      return 2;
    }
    return -1;
  }

  @Override
  public Buffer unary(UnaryOp op, double param, View x0) {
    View x = densify(x0.shape(), new View[] {x0})[0];
    int n = x.numel();
    // Transcendental ops cost tens of cycles per element, so they pay for threads sooner.
    // A switch expression with no default: a new UnaryOp must say what it costs.
    int par = switch (op) {
      case NEG, SIGN -> PARALLEL_ELEMENTS;
      case POW -> param == 2 ? PARALLEL_ELEMENTS : PARALLEL_ELEMENTS / 8;
      case EXP, LOG, SQRT, TANH -> PARALLEL_ELEMENTS / 8;
    };
    if (x.dtype() == DType.FLOAT32) {
      float[] in = HeapBuffer.of(x.buffer()).floats();
      float[] o = new float[n];
      elementwise(x.shape(), new View[] {x}, n, par, (off, st, oo, len) -> {
        if (st[0] == 1) {
          k.unaryF(op, param, in, off[0], o, oo, len);
        } else if (st[0] == 0) {
          Arrays.fill(o, oo, oo + len, k.unaryF(op, param, in[off[0]]));
        } else {
          for (int i = 0; i < len; i++) {
            o[oo + i] = k.unaryF(op, param, in[off[0] + i * st[0]]);
          }
        }
      });
      return HeapBuffer.wrap(o);
    }
    double[] in = HeapBuffer.of(x.buffer()).doubles();
    double[] o = new double[n];
    elementwise(x.shape(), new View[] {x}, n, par, (off, st, oo, len) -> {
      if (st[0] == 1) {
        k.unaryD(op, param, in, off[0], o, oo, len);
      } else if (st[0] == 0) {
        Arrays.fill(o, oo, oo + len, ReferenceBackend.apply(op, param, in[off[0]]));
      } else {
        for (int i = 0; i < len; i++) {
          o[oo + i] = ReferenceBackend.apply(op, param, in[off[0] + i * st[0]]);
        }
      }
    });
    return HeapBuffer.wrap(o);
  }

  @Override
  public Buffer binary(BinaryOp op, View a, View b) {
    checkSameShape(op.name().toLowerCase(java.util.Locale.ROOT), a, b);
    int n = a.numel();
    View[] ins = densify(a.shape(), new View[] {a, b});
    a = ins[0];
    b = ins[1];
    if (a.dtype() == DType.FLOAT32) {
      float[] fa = HeapBuffer.of(a.buffer()).floats();
      float[] fb = HeapBuffer.of(b.buffer()).floats();
      float[] o = new float[n];
      elementwise(a.shape(), ins, n, PARALLEL_ELEMENTS, (off, st, oo, len) -> {
        int m = mode(st[0], st[1]);
        if (m >= 0) {
          k.binaryF(op, fa, off[0], fb, off[1], o, oo, len, m);
        } else {
          for (int i = 0; i < len; i++) {
            o[oo + i] = (float) ReferenceBackend.apply(op, fa[off[0] + i * st[0]], fb[off[1] + i * st[1]]);
          }
        }
      });
      return HeapBuffer.wrap(o);
    }
    double[] da = HeapBuffer.of(a.buffer()).doubles();
    double[] db = HeapBuffer.of(b.buffer()).doubles();
    double[] o = new double[n];
    elementwise(a.shape(), ins, n, PARALLEL_ELEMENTS, (off, st, oo, len) -> {
      int m = mode(st[0], st[1]);
      if (m >= 0) {
        k.binaryD(op, da, off[0], db, off[1], o, oo, len, m);
      } else {
        for (int i = 0; i < len; i++) {
          o[oo + i] = ReferenceBackend.apply(op, da[off[0] + i * st[0]], db[off[1] + i * st[1]]);
        }
      }
    });
    return HeapBuffer.wrap(o);
  }

  @Override
  public Buffer where(View cond, View a, View b) {
    checkSameShape("where", a, b);
    if (!Arrays.equals(cond.shape(), a.shape())) {
      throw new IllegalArgumentException("where: condition shape " + Arrays.toString(cond.shape())
          + " differs from value shape " + Arrays.toString(a.shape()));
    }
    if (cond.dtype() != a.dtype()) {
      // A mask of the other dtype is rare: convert it once rather than doubling the kernels.
      cond = View.contiguous(copy(cond, a.dtype()), cond.shape());
    }
    int n = a.numel();
    View[] ins = densify(a.shape(), new View[] {cond, a, b});
    cond = ins[0];
    a = ins[1];
    b = ins[2];
    if (a.dtype() == DType.FLOAT32) {
      float[] fc = HeapBuffer.of(cond.buffer()).floats();
      float[] fa = HeapBuffer.of(a.buffer()).floats();
      float[] fb = HeapBuffer.of(b.buffer()).floats();
      float[] o = new float[n];
      elementwise(a.shape(), ins, n, PARALLEL_ELEMENTS, (off, st, oo, len) ->
          k.whereF(fc, off[0], st[0], fa, off[1], st[1], fb, off[2], st[2], o, oo, len));
      return HeapBuffer.wrap(o);
    }
    double[] dc = HeapBuffer.of(cond.buffer()).doubles();
    double[] da = HeapBuffer.of(a.buffer()).doubles();
    double[] db = HeapBuffer.of(b.buffer()).doubles();
    double[] o = new double[n];
    elementwise(a.shape(), ins, n, PARALLEL_ELEMENTS, (off, st, oo, len) ->
        k.whereD(dc, off[0], st[0], da, off[1], st[1], db, off[2], st[2], o, oo, len));
    return HeapBuffer.wrap(o);
  }

  @Override
  public Buffer relu(View x) {
    return maskPositive("relu", x, x);
  }

  @Override
  public Buffer reluBackward(View x, View g) {
    return maskPositive("reluBackward", x, g);
  }

  /** {@code x <= 0 ? +0 : v} in one pass (relu forward with v = x, backward with v = the gradient; NaN x passes v). */
  private Buffer maskPositive(String op, View x, View v) {
    if (!Arrays.equals(x.shape(), v.shape()) || x.dtype() != v.dtype()) {
      throw new IllegalArgumentException(op + ": gradient " + Arrays.toString(v.shape()) + " " + v.dtype()
          + " does not match input " + Arrays.toString(x.shape()) + " " + x.dtype());
    }
    int n = x.numel();
    // relu's forward passes x as both operands: densify (copy) it once.
    View[] ins = densify(x.shape(), x == v ? new View[] {x} : new View[] {x, v});
    if (ins.length == 1) {
      ins = new View[] {ins[0], ins[0]};
    }
    if (x.dtype() == DType.FLOAT32) {
      float[] fx = HeapBuffer.of(ins[0].buffer()).floats();
      float[] fv = HeapBuffer.of(ins[1].buffer()).floats();
      float[] o = new float[n];
      elementwise(x.shape(), ins, n, PARALLEL_ELEMENTS, (off, st, oo, len) ->
          k.maskPositiveF(fx, off[0], st[0], fv, off[1], st[1], o, oo, len));
      return HeapBuffer.wrap(o);
    }
    double[] dx = HeapBuffer.of(ins[0].buffer()).doubles();
    double[] dv = HeapBuffer.of(ins[1].buffer()).doubles();
    double[] o = new double[n];
    elementwise(x.shape(), ins, n, PARALLEL_ELEMENTS, (off, st, oo, len) ->
        k.maskPositiveD(dx, off[0], st[0], dv, off[1], st[1], o, oo, len));
    return HeapBuffer.wrap(o);
  }

  // ----------------------------------------------------------------------------------- reductions

  /** Columns one reduction task handles when reducing leading dimensions. */
  private static final int COLUMN_BLOCK = 1024;
  /** Rows a float column sum adds in float before folding into its double accumulator. */
  private static final int COLUMN_ROWS = 64;

  @Override
  public Buffer reduce(ReduceOp op, View x, int[] outShape) {
    int r = x.rank();
    int[] xs = x.shape();
    String opName = op.name().toLowerCase(java.util.Locale.ROOT);
    if (outShape.length != r) {
      throw new IllegalArgumentException(opName + ": output shape " + Arrays.toString(outShape)
          + " must have the rank of input shape " + Arrays.toString(xs));
    }
    for (int d = 0; d < r; d++) {
      if (outShape[d] != 1 && outShape[d] != xs[d]) {
        throw new IllegalArgumentException(opName + ": cannot reduce " + Arrays.toString(xs) + " to "
            + Arrays.toString(outShape) + " (dim " + d + " is neither 1 nor " + xs[d] + ")");
      }
    }
    int outN = 1;
    for (int s : outShape) {
      outN *= s;
    }
    int n = x.numel();
    if (op == ReduceOp.MAX && n == 0 && outN > 0) {
      throw new IllegalArgumentException("max: cannot reduce a zero-size dimension of shape "
          + Arrays.toString(xs));
    }
    DType dt = x.dtype();
    if (outN == 0 || n == 0) {
      return HeapBuffer.allocate(dt, outN);
    }
    if (outN == n) {
      return copy(x, dt);
    }
    // Look for x = [O, R, I] with the reduced dims one block: then no copy is needed.
    long o = 1;
    long red = 1;
    long in = 1;
    int phase = 0;
    boolean block = true;
    for (int d = 0; d < r; d++) {
      if (xs[d] == 1) {
        continue;
      }
      boolean reduced = outShape[d] == 1;
      if (phase == 0 && reduced) {
        phase = 1;
      } else if (phase == 1 && !reduced) {
        phase = 2;
      } else if (phase == 2 && reduced) {
        block = false;
      }
      if (reduced) {
        red *= xs[d];
      } else if (phase == 0) {
        o *= xs[d];
      } else {
        in *= xs[d];
      }
    }
    View src = x;
    if (!block || !x.isContiguous()) {
      Buffer direct = reduceStrided(op, x, outShape, outN);
      if (direct != null) {
        return direct;
      }
      // Move kept dims first, reduced dims last, and materialize: then every output is one row.
      int[] perm = new int[r];
      int p = 0;
      for (int d = 0; d < r; d++) {
        if (outShape[d] != 1 || xs[d] == 1) {
          perm[p++] = d;
        }
      }
      for (int d = 0; d < r; d++) {
        if (outShape[d] == 1 && xs[d] != 1) {
          perm[p++] = d;
        }
      }
      int[] ps = new int[r];
      int[] pst = new int[r];
      for (int d = 0; d < r; d++) {
        ps[d] = xs[perm[d]];
        pst[d] = x.strides()[perm[d]];
      }
      src = View.contiguous(copy(new View(x.buffer(), x.offset(), ps, pst), dt), ps);
      o = outN;
      red = n / outN;
      in = 1;
    }
    return dt == DType.FLOAT32
        ? reduceF(op, HeapBuffer.of(src.buffer()).floats(), src.offset(), (int) o, (int) red, (int) in)
        : reduceD(op, HeapBuffer.of(src.buffer()).doubles(), src.offset(), (int) o, (int) red, (int) in);
  }

  /**
   * Float reduction of a view whose reduced dims do not form one block (batch norm's N, H, W around C;
   * a pooling window [.., 2, .., 2]) without the permuted copy: each output walks its reduced elements
   * in place, contiguous runs through the kernel's sum/max. Null when the reduced dims' innermost run is
   * strided and long (then the copy, whose rows are contiguous, is faster) or for float64.
   */
  private Buffer reduceStrided(ReduceOp op, View x, int[] outShape, int outN) {
    if (x.dtype() != DType.FLOAT32) {
      return null;
    }
    int r = x.rank();
    int[] xs = x.shape();
    int[] xst = x.strides();
    int nk = 0;
    int nr = 0;
    for (int d = 0; d < r; d++) {
      if (xs[d] != 1) {
        if (outShape[d] == 1) {
          nr++;
        } else {
          nk++;
        }
      }
    }
    int[] ks = new int[nk];
    int[] kst = new int[nk];
    int[] rs = new int[nr];
    int[] rst = new int[nr];
    for (int d = 0, i = 0, j = 0; d < r; d++) {
      if (xs[d] == 1) {
        continue;
      }
      if (outShape[d] == 1) {
        rs[j] = xs[d];
        rst[j++] = xst[d];
      } else {
        ks[i] = xs[d];
        kst[i++] = xst[d];
      }
    }
    Strides red = new Strides(rs, new int[][] {rst});
    int len = red.inner();
    int is = red.innerStride(0);
    if (red.rank > 2 || (is != 1 && len > 4)) {
      return null;
    }
    int n1 = red.rank == 2 ? red.shape[0] : 1;
    int s1 = red.rank == 2 ? red.strides[0][0] : 0;
    float[] in = HeapBuffer.of(x.buffer()).floats();
    float[] out = new float[outN];
    long work = (long) outN * n1 * len;
    int th = work < PARALLEL_ELEMENTS ? 1 : threads;
    boolean sum = op == ReduceOp.SUM;
    int kept = nk;
    Parallel.forRange(th, outN, (int) Math.max(1, PARALLEL_ELEMENTS / 2 / Math.max(1, n1 * len)), (lo, hi) -> {
      // Odometer over the kept dims, in output order.
      int[] idx = new int[kept];
      int base = x.offset();
      int rem = lo;
      for (int d = kept - 1; d >= 0; d--) {
        idx[d] = rem % ks[d];
        rem /= ks[d];
        base += idx[d] * kst[d];
      }
      // Runs of outputs along the innermost kept dim need no odometer step per output.
      int last = kept - 1;
      int runStride = last >= 0 ? kst[last] : 0;
      for (int o = lo; o < hi; ) {
        int run = last >= 0 ? Math.min(hi - o, ks[last] - idx[last]) : hi - o;
        if (n1 == 2 && len == 2 && is == 1) {
          // A 2x2 pooling window, unrolled; same order (and so same bits) as the general loops.
          for (int e = 0, b0 = base; e < run; e++, b0 += runStride) {
            float v0 = in[b0];
            float v1 = in[b0 + 1];
            float v2 = in[b0 + s1];
            float v3 = in[b0 + s1 + 1];
            out[o + e] = sum ? (float) ((((0.0 + v0) + v1) + v2) + v3) : max4(v0, v1, v2, v3);
          }
        } else {
          for (int e = 0, b0 = base; e < run; e++, b0 += runStride) {
            out[o + e] = sum ? sumWindow(in, b0, n1, s1, len, is) : maxWindow(in, b0, n1, s1, len, is);
          }
        }
        o += run;
        if (last >= 0) {
          base += run * runStride;
          idx[last] += run;
          for (int d = last; d >= 0 && idx[d] == ks[d]; d--) {
            base -= kst[d] * ks[d];
            idx[d] = 0;
            if (d > 0) {
              base += kst[d - 1];
              idx[d - 1]++;
            }
          }
        }
      }
    });
    return HeapBuffer.wrap(out);
  }

  /** Sum of an n1 x len window (strides s1, is) accumulated in double; long unit-stride rows by the kernel. */
  private double sumWindowD(float[] in, int base, int n1, int s1, int len, int is) {
    double acc = 0;
    for (int i1 = 0, ro = base; i1 < n1; i1++, ro += s1) {
      if (is == 1 && len >= 16) {
        acc += k.sumF(in, ro, len);
      } else {
        for (int i = 0; i < len; i++) {
          acc += in[ro + i * is];
        }
      }
    }
    return acc;
  }

  private float sumWindow(float[] in, int base, int n1, int s1, int len, int is) {
    return (float) sumWindowD(in, base, n1, s1, len, is);
  }

  /** {@link #maxWindow} of four values in order: the first NaN if any, else the largest. */
  private static float max4(float v0, float v1, float v2, float v3) {
    if (v0 != v0) {
      return v0;
    }
    float m = v0;
    if (v1 > m || v1 != v1) {
      if (v1 != v1) {
        return v1;
      }
      m = v1;
    }
    if (v2 > m || v2 != v2) {
      if (v2 != v2) {
        return v2;
      }
      m = v2;
    }
    if (v3 > m || v3 != v3) {
      if (v3 != v3) {
        return v3;
      }
      m = v3;
    }
    return m;
  }

  /** Maximum of an n1 x len window, the first NaN if any (as {@link ScalarKernels#maxF}). */
  private static float maxWindow(float[] in, int base, int n1, int s1, int len, int is) {
    float m = Float.NEGATIVE_INFINITY;
    for (int i1 = 0, ro = base; i1 < n1; i1++, ro += s1) {
      for (int i = 0; i < len; i++) {
        float v = in[ro + i * is];
        if (v > m || v != v) {
          m = v;
          if (v != v) {
            return v;
          }
        }
      }
    }
    return m;
  }

  private Buffer reduceF(ReduceOp op, float[] x, int off, int o, int rn, int in) {
    float[] out = new float[o * in];
    int th = (long) o * rn * in < PARALLEL_ELEMENTS ? 1 : threads;
    if (in == 1) {
      Parallel.forRange(th, o, Math.max(1, PARALLEL_ELEMENTS / 2 / rn), (lo, hi) -> {
        for (int i = lo; i < hi; i++) {
          out[i] = op == ReduceOp.SUM ? (float) k.sumF(x, off + i * rn, rn) : k.maxF(x, off + i * rn, rn);
        }
      });
      return HeapBuffer.wrap(out);
    }
    int cb = (in + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
    Parallel.forRange(th, o * cb, 1, (lo, hi) -> {
      for (int t = lo; t < hi; t++) {
        int oi = t / cb;
        int c0 = (t % cb) * COLUMN_BLOCK;
        int cw = Math.min(COLUMN_BLOCK, in - c0);
        int base = off + oi * rn * in + c0;
        int dst = oi * in + c0;
        if (op == ReduceOp.MAX) {
          System.arraycopy(x, base, out, dst, cw);
          for (int q = 1; q < rn; q++) {
            k.maxRowF(out, dst, x, base + q * in, cw);
          }
          continue;
        }
        // Float partial sums over COLUMN_ROWS rows, folded into doubles: accurate and still vectorized.
        double[] acc = new double[cw];
        for (int q0 = 0; q0 < rn; q0 += COLUMN_ROWS) {
          System.arraycopy(x, base + q0 * in, out, dst, cw);
          int q1 = Math.min(rn, q0 + COLUMN_ROWS);
          for (int q = q0 + 1; q < q1; q++) {
            k.addRowF(out, dst, x, base + q * in, cw);
          }
          for (int j = 0; j < cw; j++) {
            acc[j] += out[dst + j];
          }
        }
        for (int j = 0; j < cw; j++) {
          out[dst + j] = (float) acc[j];
        }
      }
    });
    return HeapBuffer.wrap(out);
  }

  private Buffer reduceD(ReduceOp op, double[] x, int off, int o, int rn, int in) {
    double[] out = new double[o * in];
    int th = (long) o * rn * in < PARALLEL_ELEMENTS ? 1 : threads;
    if (in == 1) {
      Parallel.forRange(th, o, Math.max(1, PARALLEL_ELEMENTS / 2 / rn), (lo, hi) -> {
        for (int i = lo; i < hi; i++) {
          out[i] = op == ReduceOp.SUM ? k.sumD(x, off + i * rn, rn) : k.maxD(x, off + i * rn, rn);
        }
      });
      return HeapBuffer.wrap(out);
    }
    int cb = (in + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
    Parallel.forRange(th, o * cb, 1, (lo, hi) -> {
      for (int t = lo; t < hi; t++) {
        int oi = t / cb;
        int c0 = (t % cb) * COLUMN_BLOCK;
        int cw = Math.min(COLUMN_BLOCK, in - c0);
        int base = off + oi * rn * in + c0;
        int dst = oi * in + c0;
        System.arraycopy(x, base, out, dst, cw);
        for (int q = 1; q < rn; q++) {
          if (op == ReduceOp.SUM) {
            k.addRowD(out, dst, x, base + q * in, cw);
          } else {
            k.maxRowD(out, dst, x, base + q * in, cw);
          }
        }
      }
    });
    return HeapBuffer.wrap(out);
  }

  // ------------------------------------------------------------------------------------- movement

  @Override
  public Buffer copy(View x, DType to) {
    int n = x.numel();
    if (x.isContiguous() && x.dtype() == to) {
      return to == DType.FLOAT32
          ? HeapBuffer.wrap(Arrays.copyOfRange(HeapBuffer.of(x.buffer()).floats(), x.offset(), x.offset() + n))
          : HeapBuffer.wrap(Arrays.copyOfRange(HeapBuffer.of(x.buffer()).doubles(), x.offset(), x.offset() + n));
    }
    Object out = to == DType.FLOAT32 ? new float[n] : new double[n];
    copyInto(x, out, 0, View.contiguousStrides(x.shape()));
    return to == DType.FLOAT32 ? HeapBuffer.wrap((float[]) out) : HeapBuffer.wrap((double[]) out);
  }

  /** Copies (and converts) every element of {@code src} to {@code dst[dOff + sum(i_k * dStrides[k])]}. */
  private static void copyInto(View src, Object dst, int dOff, int[] dStrides) {
    if (src.numel() == 0) {
      return;
    }
    HeapBuffer hb = HeapBuffer.of(src.buffer());
    Object sa = hb.dtype() == DType.FLOAT32 ? hb.floats() : hb.doubles();
    Strides s = new Strides(src.shape(), new int[][] {src.strides(), dStrides});
    int len = s.inner();
    int ss = s.innerStride(0);
    int ds = s.innerStride(1);
    Strides.Cursor c = s.cursor(new int[] {src.offset(), dOff}, 0);
    int rows = s.rows();
    if (len < SHORT_RUN && s.rank >= 2 && sa instanceof float[] f && dst instanceof float[] g) {
      // Short runs (pooling windows, broadcast scalars): the two innermost dims are walked here, so the
      // cursor steps once per block instead of once per run of a few elements.
      int d1 = s.rank - 2;
      int n1 = s.shape[d1];
      int ss1 = s.strides[0][d1];
      int ds1 = s.strides[1][d1];
      for (int r = 0; r < rows; r += n1, c.next(1)) {
        int so = c.off[0];
        int dof = c.off[1];
        for (int i1 = 0; i1 < n1; i1++, so += ss1, dof += ds1) {
          for (int i = 0; i < len; i++) {
            g[dof + i * ds] = f[so + i * ss];
          }
        }
      }
      return;
    }
    for (int r = 0; r < rows; r++, c.next()) {
      copyRow(sa, c.off[0], ss, dst, c.off[1], ds, len);
    }
  }

  /** Strided runs shorter than this are copied to contiguous memory before elementwise work. */
  static final int SHORT_RUN = 32;

  /**
   * The operands of an elementwise op, with every strided one replaced by a contiguous copy when the
   * collapsed iteration has short inner runs (a 2x2 pooling window broadcast over its outputs): one fast
   * copy and a vectorized contiguous loop beat a call per run of two elements. Otherwise unchanged.
   */
  private View[] densify(int[] shape, View[] ins) {
    boolean contiguous = true;
    for (View v : ins) {
      contiguous &= v.isContiguous();
    }
    if (contiguous) {
      return ins;
    }
    int[][] st = new int[ins.length + 1][];
    for (int i = 0; i < ins.length; i++) {
      st[i] = ins[i].strides();
    }
    st[ins.length] = View.contiguousStrides(shape);
    Strides s = new Strides(shape, st);
    if (s.rank < 2 || s.inner() >= SHORT_RUN) {
      return ins;
    }
    View[] out = ins.clone();
    for (int i = 0; i < ins.length; i++) {
      if (!ins[i].isContiguous()) {
        out[i] = View.contiguous(copy(ins[i], ins[i].dtype()), shape);
      }
    }
    return out;
  }

  private static void copyRow(Object src, int so, int ss, Object dst, int dOff, int ds, int len) {
    if (src instanceof float[] f) {
      if (dst instanceof float[] g) {
        if (ss == 1 && ds == 1) {
          System.arraycopy(f, so, g, dOff, len);
        } else {
          for (int i = 0; i < len; i++) {
            g[dOff + i * ds] = f[so + i * ss];
          }
        }
      } else {
        double[] g = (double[]) dst;
        for (int i = 0; i < len; i++) {
          g[dOff + i * ds] = f[so + i * ss];
        }
      }
    } else {
      double[] f = (double[]) src;
      if (dst instanceof double[] g) {
        if (ss == 1 && ds == 1) {
          System.arraycopy(f, so, g, dOff, len);
        } else {
          for (int i = 0; i < len; i++) {
            g[dOff + i * ds] = f[so + i * ss];
          }
        }
      } else {
        float[] g = (float[]) dst;
        for (int i = 0; i < len; i++) {
          g[dOff + i * ds] = (float) f[so + i * ss];
        }
      }
    }
  }

  private static Object newArray(DType dt, int n) {
    return dt == DType.FLOAT32 ? new float[n] : new double[n];
  }

  private static Buffer wrap(Object arr) {
    return arr instanceof float[] f ? HeapBuffer.wrap(f) : HeapBuffer.wrap((double[]) arr);
  }

  @Override
  public Buffer pad(View x, int[] before, int[] after) {
    int r = x.rank();
    if (before.length != r || after.length != r) {
      throw new IllegalArgumentException("pad: before " + Arrays.toString(before) + " and after "
          + Arrays.toString(after) + " must have the rank of shape " + Arrays.toString(x.shape()));
    }
    int[] outShape = new int[r];
    for (int d = 0; d < r; d++) {
      if (before[d] < 0 || after[d] < 0) {
        throw new IllegalArgumentException("pad: negative padding " + Arrays.toString(before) + " / "
            + Arrays.toString(after) + " for shape " + Arrays.toString(x.shape()));
      }
      outShape[d] = before[d] + x.shape()[d] + after[d];
    }
    int[] os = View.contiguousStrides(outShape);
    int base = 0;
    int outN = 1;
    for (int d = 0; d < r; d++) {
      base += before[d] * os[d];
      outN *= outShape[d];
    }
    Object out = newArray(x.dtype(), outN);
    if (outN > 0) {
      copyInto(x, out, base, os);
    }
    return wrap(out);
  }

  @Override
  public Buffer concat(View[] parts, int dim) {
    if (parts.length == 0) {
      throw new IllegalArgumentException("concat: no parts");
    }
    int[] outShape = parts[0].shape().clone();
    if (dim < 0 || dim >= outShape.length) {
      throw new IllegalArgumentException("concat: dim " + dim + " out of range for shape "
          + Arrays.toString(outShape));
    }
    outShape[dim] = 0;
    for (View p : parts) {
      int[] s = p.shape();
      boolean ok = s.length == outShape.length && p.dtype() == parts[0].dtype();
      for (int d = 0; ok && d < s.length; d++) {
        ok = d == dim || s[d] == parts[0].shape()[d];
      }
      if (!ok) {
        throw new IllegalArgumentException("concat: part " + p.dtype() + Arrays.toString(s)
            + " does not match " + parts[0].dtype() + Arrays.toString(parts[0].shape()) + " outside dim " + dim);
      }
      outShape[dim] += s[dim];
    }
    int[] os = View.contiguousStrides(outShape);
    int outN = 1;
    for (int s : outShape) {
      outN *= s;
    }
    Object out = newArray(parts[0].dtype(), outN);
    int start = 0;
    for (View p : parts) {
      copyInto(p, out, start * os[dim], os);
      start += p.shape()[dim];
    }
    return wrap(out);
  }

  // --------------------------------------------------------------------------------------- matmul

  @Override
  public Buffer matmul(View a, View b) {
    int[] as = a.shape();
    int[] bs = b.shape();
    if (as.length != 3 || bs.length != 3 || as[0] != bs[0] || as[2] != bs[1]) {
      throw new IllegalArgumentException("matmul: cannot multiply " + Arrays.toString(as) + " by "
          + Arrays.toString(bs) + " (expected [B, M, K] and [B, K, N])");
    }
    if (a.dtype() != b.dtype()) {
      throw new IllegalArgumentException("matmul: dtypes differ: " + a.dtype() + " vs " + b.dtype());
    }
    int batch = as[0];
    int m = as[1];
    int kk = as[2];
    int n = bs[2];
    int[] sa = a.strides();
    int[] sb = b.strides();
    if (a.dtype() == DType.FLOAT32) {
      float[] c = new float[batch * m * n];
      GemmF.gemm(k, threads, HeapBuffer.of(a.buffer()).floats(), a.offset(), sa[0], sa[1], sa[2],
          HeapBuffer.of(b.buffer()).floats(), b.offset(), sb[0], sb[1], sb[2], c, batch, m, n, kk);
      return HeapBuffer.wrap(c);
    }
    double[] c = new double[batch * m * n];
    GemmD.gemm(k, threads, HeapBuffer.of(a.buffer()).doubles(), a.offset(), sa[0], sa[1], sa[2],
        HeapBuffer.of(b.buffer()).doubles(), b.offset(), sb[0], sb[1], sb[2], c, batch, m, n, kk);
    return HeapBuffer.wrap(c);
  }

  @Override
  public Buffer matmulSumBatch(View a, View b) {
    int[] as = a.shape();
    int[] bs = b.shape();
    if (as.length != 3 || bs.length != 3 || as[0] != bs[0] || as[2] != bs[1]) {
      throw new IllegalArgumentException("matmulSumBatch: cannot multiply " + Arrays.toString(as) + " by "
          + Arrays.toString(bs) + " (expected [B, M, K] and [B, K, N])");
    }
    if (a.dtype() != b.dtype()) {
      throw new IllegalArgumentException("matmulSumBatch: dtypes differ: " + a.dtype() + " vs " + b.dtype());
    }
    if (a.dtype() != DType.FLOAT32) {
      return Backend.super.matmulSumBatch(a, b);
    }
    int[] sa = a.strides();
    int[] sb = b.strides();
    float[] c = new float[as[1] * bs[2]];
    GemmF.gemmSumBatch(k, threads, HeapBuffer.of(a.buffer()).floats(), a.offset(), sa[0], sa[1], sa[2],
        HeapBuffer.of(b.buffer()).floats(), b.offset(), sb[0], sb[1], sb[2], c, as[0], as[1], bs[2], as[2]);
    return HeapBuffer.wrap(c);
  }

  // ---------------------------------------------------------------------------------------- conv2d

  /** Whether the implicit-im2col float kernels of {@link ConvF} may run on these operands. */
  private static boolean floatConv(View... vs) {
    for (View v : vs) {
      if (v != null && v.dtype() != DType.FLOAT32) {
        return false;
      }
    }
    return true;
  }

  @Override
  public Buffer conv2d(View x, View w, View bias, ConvGeometry g) {
    g.checkOperands("conv2d", x, w, null);
    int o = w.shape()[0];
    if (!floatConv(x, w, bias) || !ConvF.forwardApplies(g, o) || (bias != null && (bias.rank() != 1
        || bias.shape()[0] != o))) {
      return Backend.super.conv2d(x, w, bias, g);
    }
    float[] y = ConvF.forward(k, threads, HeapBuffer.of(x.buffer()).floats(), x.offset(), x.strides(),
        HeapBuffer.of(w.buffer()).floats(), w.offset(), w.strides()[0], w.strides()[1],
        bias == null ? null : HeapBuffer.of(bias.buffer()).floats(), bias == null ? 0 : bias.offset(),
        bias == null ? 0 : bias.strides()[0], g, o);
    return HeapBuffer.wrap(y);
  }

  @Override
  public Buffer conv2dBackwardInput(View gy, View w, ConvGeometry g) {
    g.checkOperands("conv2dBackwardInput", null, w, gy);
    if (!floatConv(gy, w)) {
      return Backend.super.conv2dBackwardInput(gy, w, g);
    }
    return HeapBuffer.wrap(ConvF.backwardInput(k, threads, HeapBuffer.of(gy.buffer()).floats(), gy.offset(),
        gy.strides(), HeapBuffer.of(w.buffer()).floats(), w.offset(), w.strides()[0], w.strides()[1], g,
        w.shape()[0]));
  }

  @Override
  public Buffer conv2dBackwardWeight(View gy, View x, ConvGeometry g) {
    g.checkOperands("conv2dBackwardWeight", x, null, gy);
    int o = gy.shape()[1];
    if (!floatConv(gy, x) || !ConvF.backwardWeightApplies(g, o)) {
      return Backend.super.conv2dBackwardWeight(gy, x, g);
    }
    return HeapBuffer.wrap(ConvF.backwardWeight(k, threads, HeapBuffer.of(gy.buffer()).floats(), gy.offset(),
        gy.strides(), HeapBuffer.of(x.buffer()).floats(), x.offset(), x.strides(), g, o));
  }

  // ---------------------------------------------------------------------------------- unfold/fold

  private static void checkImage(String op, View x, ConvGeometry g) {
    int[] s = x.shape();
    if (s.length != 4 || s[0] != g.n() || s[1] != g.c() || s[2] != g.h() || s[3] != g.w()) {
      throw new IllegalArgumentException(op + ": input shape " + Arrays.toString(s) + " does not match geometry ["
          + g.n() + ", " + g.c() + ", " + g.h() + ", " + g.w() + "]");
    }
  }

  private static int firstValid(int pad, int shift, int stride) {
    return ConvF.firstValid(pad, shift, stride);
  }

  private static int endValid(int size, int pad, int shift, int stride, int outSize, int lo) {
    return ConvF.endValid(size, pad, shift, stride, outSize, lo);
  }

  @Override
  public Buffer unfold(View x, ConvGeometry g) {
    checkImage("unfold", x, g);
    int oh = g.oh();
    int ow = g.ow();
    int rows = g.rows();
    int cols = g.cols();
    int[] s = x.strides();
    Object in = x.dtype() == DType.FLOAT32 ? HeapBuffer.of(x.buffer()).floats() : HeapBuffer.of(x.buffer()).doubles();
    Object out = newArray(x.dtype(), g.n() * rows * cols);
    int planes = g.n() * g.c();
    long perPlane = (long) g.kh() * g.kw() * cols;
    int th = perPlane * planes < PARALLEL_ELEMENTS ? 1 : threads;
    Parallel.forRange(th, planes, (int) Math.max(1, PARALLEL_ELEMENTS / 2 / Math.max(1, perPlane)), (lo, hi) -> {
      for (int pl = lo; pl < hi; pl++) {
        int b = pl / g.c();
        int ci = pl % g.c();
        int plane = x.offset() + b * s[0] + ci * s[1];
        for (int ki = 0; ki < g.kh(); ki++) {
          int oiLo = firstValid(g.ph(), ki * g.dh(), g.sh());
          int oiHi = endValid(g.h(), g.ph(), ki * g.dh(), g.sh(), oh, oiLo);
          for (int kj = 0; kj < g.kw(); kj++) {
            int row = (ci * g.kh() + ki) * g.kw() + kj;
            int outRow = (b * rows + row) * cols;
            int ojLo = firstValid(g.pw(), kj * g.dw(), g.sw());
            int ojHi = endValid(g.w(), g.pw(), kj * g.dw(), g.sw(), ow, ojLo);
            int len = ojHi - ojLo;
            if (len == 0) {
              continue;
            }
            int jj0 = ojLo * g.sw() - g.pw() + kj * g.dw();
            int step = g.sw() * s[3];
            for (int oi = oiLo; oi < oiHi; oi++) {
              int ii = oi * g.sh() - g.ph() + ki * g.dh();
              int src = plane + ii * s[2] + jj0 * s[3];
              int dst = outRow + oi * ow + ojLo;
              if (step == 1) {
                System.arraycopy(in, src, out, dst, len);
              } else if (in instanceof float[] f) {
                float[] o = (float[]) out;
                for (int j = 0; j < len; j++) {
                  o[dst + j] = f[src + j * step];
                }
              } else {
                double[] f = (double[]) in;
                double[] o = (double[]) out;
                for (int j = 0; j < len; j++) {
                  o[dst + j] = f[src + j * step];
                }
              }
            }
          }
        }
      }
    });
    return wrap(out);
  }

  @Override
  public Buffer fold(View colsView, ConvGeometry g) {
    int oh = g.oh();
    int ow = g.ow();
    int rows = g.rows();
    int cols = g.cols();
    int[] cs = colsView.shape();
    if (cs.length != 3 || cs[0] != g.n() || cs[1] != rows || cs[2] != cols) {
      throw new IllegalArgumentException("fold: columns shape " + Arrays.toString(cs) + " does not match ["
          + g.n() + ", " + rows + ", " + cols + "] for the geometry");
    }
    int[] s = colsView.strides();
    Object in = colsView.dtype() == DType.FLOAT32 ? HeapBuffer.of(colsView.buffer()).floats()
        : HeapBuffer.of(colsView.buffer()).doubles();
    int hw = g.h() * g.w();
    Object out = newArray(colsView.dtype(), g.n() * g.c() * hw);
    int planes = g.n() * g.c();
    long perPlane = (long) g.kh() * g.kw() * cols;
    int th = perPlane * planes < PARALLEL_ELEMENTS ? 1 : threads;
    // Each (image, channel) plane is summed by one task in a fixed order: deterministic for any threads.
    Parallel.forRange(th, planes, (int) Math.max(1, PARALLEL_ELEMENTS / 2 / Math.max(1, perPlane)), (lo, hi) -> {
      for (int pl = lo; pl < hi; pl++) {
        int b = pl / g.c();
        int ci = pl % g.c();
        int dstPlane = pl * hw;
        if (in instanceof float[] f) {
          ConvF.foldPlane(k, f, colsView.offset() + b * s[0] + ci * g.kh() * g.kw() * s[1], s[1], s[2], g, ci,
              (float[]) out, dstPlane);
          continue;
        }
        for (int ki = 0; ki < g.kh(); ki++) {
          int oiLo = firstValid(g.ph(), ki * g.dh(), g.sh());
          int oiHi = endValid(g.h(), g.ph(), ki * g.dh(), g.sh(), oh, oiLo);
          for (int kj = 0; kj < g.kw(); kj++) {
            int row = (ci * g.kh() + ki) * g.kw() + kj;
            int srcRow = colsView.offset() + b * s[0] + row * s[1];
            int ojLo = firstValid(g.pw(), kj * g.dw(), g.sw());
            int ojHi = endValid(g.w(), g.pw(), kj * g.dw(), g.sw(), ow, ojLo);
            int len = ojHi - ojLo;
            if (len == 0) {
              continue;
            }
            int jj0 = ojLo * g.sw() - g.pw() + kj * g.dw();
            int sw = g.sw();
            for (int oi = oiLo; oi < oiHi; oi++) {
              int ii = oi * g.sh() - g.ph() + ki * g.dh();
              int src = srcRow + (oi * ow + ojLo) * s[2];
              int dst = dstPlane + ii * g.w() + jj0;
              double[] f = (double[]) in;
              double[] o = (double[]) out;
              if (sw == 1 && s[2] == 1) {
                k.addRowD(o, dst, f, src, len);
              } else {
                for (int j = 0; j < len; j++) {
                  o[dst + j * sw] += f[src + j * s[2]];
                }
              }
            }
          }
        }
      }
    });
    return wrap(out);
  }
}
