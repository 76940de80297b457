package org.metagrad.spi;

import org.metagrad.DType;
import org.metagrad.Device;

/**
 * The executable specification: scalar, obvious loops with double accumulation. Every other backend is
 * tested against it. Slow by design; never picked when a faster CPU backend loads.
 */
public final class ReferenceBackend implements Backend {
  /** The shared instance. */
  public static final ReferenceBackend INSTANCE = new ReferenceBackend();

  @Override
  public String name() {
    return "reference";
  }

  @Override
  public Device device() {
    return Device.cpu();
  }

  @Override
  public boolean supports(DType dtype) {
    return true;
  }

  @Override
  public Buffer upload(double[] data, DType dtype) {
    HeapBuffer out = HeapBuffer.allocate(dtype, data.length);
    for (int i = 0; i < data.length; i++) {
      out.set(i, data[i]);
    }
    return out;
  }

  @Override
  public Buffer upload(float[] data) {
    return HeapBuffer.wrap(data.clone());
  }

  @Override
  public double[] downloadDouble(View v) {
    HeapBuffer b = HeapBuffer.of(v.buffer());
    double[] out = new double[v.numel()];
    StridedIndex it = StridedIndex.of(v);
    for (int i = 0; i < out.length; i++, it.next()) {
      out[i] = b.get(it.offset(0));
    }
    return out;
  }

  @Override
  public float[] downloadFloat(View v) {
    HeapBuffer b = HeapBuffer.of(v.buffer());
    float[] out = new float[v.numel()];
    StridedIndex it = StridedIndex.of(v);
    for (int i = 0; i < out.length; i++, it.next()) {
      out[i] = (float) b.get(it.offset(0));
    }
    return out;
  }

  @Override
  public Buffer full(DType dtype, int n, double value) {
    HeapBuffer out = HeapBuffer.allocate(dtype, n);
    for (int i = 0; i < n; i++) {
      out.set(i, value);
    }
    return out;
  }

  /**
   * The scalar definition of each unary op, shared with other backends' scalar paths. Transcendental ops
   * use {@link StrictMath} (fdlibm's algorithms, the same bits on every JVM, JIT tier and processor), not
   * {@link Math}, whose intrinsics may differ by an ulp between the interpreter and compiled code.
   */
  public static double apply(UnaryOp op, double p, double x) {
    return switch (op) {
      case NEG -> -x;
      case EXP -> StrictMath.exp(x);
      case LOG -> StrictMath.log(x);
      case SQRT -> Math.sqrt(x);
      case TANH -> StrictMath.tanh(x);
      case POW -> pow(x, p);
      case SIGN -> Math.signum(x);
    };
  }

  private static double pow(double x, double p) {
    if (p == 2) {
      return x * x;
    }
    if (p == 1) {
      return x;
    }
    if (p == 0) {
      return 1;
    }
    return StrictMath.pow(x, p);
  }

  /** The scalar definition of each binary op, shared with other backends' scalar paths. */
  public static double apply(BinaryOp op, double a, double b) {
    return switch (op) {
      case ADD -> a + b;
      case SUB -> a - b;
      case MUL -> a * b;
      case DIV -> a / b;
      case GT -> a > b ? 1 : 0;
      case GE -> a >= b ? 1 : 0;
      case LT -> a < b ? 1 : 0;
      case LE -> a <= b ? 1 : 0;
      case EQ -> a == b ? 1 : 0;
      case NE -> a != b ? 1 : 0;
    };
  }

  @Override
  public Buffer unary(UnaryOp op, double param, View x) {
    HeapBuffer in = HeapBuffer.of(x.buffer());
    HeapBuffer out = HeapBuffer.allocate(x.dtype(), x.numel());
    StridedIndex it = StridedIndex.of(x);
    int n = x.numel();
    for (int i = 0; i < n; i++, it.next()) {
      out.set(i, apply(op, param, in.get(it.offset(0))));
    }
    return out;
  }

  @Override
  public Buffer binary(BinaryOp op, View a, View b) {
    HeapBuffer ba = HeapBuffer.of(a.buffer());
    HeapBuffer bb = HeapBuffer.of(b.buffer());
    int n = a.numel();
    HeapBuffer out = HeapBuffer.allocate(a.dtype(), n);
    StridedIndex it = new StridedIndex(a.shape(), new int[][] {a.strides(), b.strides()},
        new int[] {a.offset(), b.offset()});
    for (int i = 0; i < n; i++, it.next()) {
      out.set(i, apply(op, ba.get(it.offset(0)), bb.get(it.offset(1))));
    }
    return out;
  }

  @Override
  public Buffer where(View cond, View a, View b) {
    HeapBuffer bc = HeapBuffer.of(cond.buffer());
    HeapBuffer ba = HeapBuffer.of(a.buffer());
    HeapBuffer bb = HeapBuffer.of(b.buffer());
    int n = a.numel();
    HeapBuffer out = HeapBuffer.allocate(a.dtype(), n);
    StridedIndex it = new StridedIndex(a.shape(), new int[][] {cond.strides(), a.strides(), b.strides()},
        new int[] {cond.offset(), a.offset(), b.offset()});
    for (int i = 0; i < n; i++, it.next()) {
      out.set(i, bc.get(it.offset(0)) != 0 ? ba.get(it.offset(1)) : bb.get(it.offset(2)));
    }
    return out;
  }

  @Override
  public Buffer reduce(ReduceOp op, View x, int[] outShape) {
    HeapBuffer in = HeapBuffer.of(x.buffer());
    int outN = 1;
    for (int s : outShape) {
      outN *= s;
    }
    int[] outStrides = View.contiguousStrides(outShape);
    int[] mapped = new int[outShape.length];
    for (int d = 0; d < outShape.length; d++) {
      mapped[d] = outShape[d] == 1 ? 0 : outStrides[d];
    }
    double[] acc = new double[outN];
    if (op == ReduceOp.MAX) {
      java.util.Arrays.fill(acc, Double.NEGATIVE_INFINITY);
      if (x.numel() == 0 && outN > 0) {
        throw new IllegalArgumentException("max: cannot reduce a zero-size dimension of shape "
            + java.util.Arrays.toString(x.shape()));
      }
    }
    StridedIndex it = new StridedIndex(x.shape(), new int[][] {x.strides(), mapped}, new int[] {x.offset(), 0});
    int n = x.numel();
    for (int i = 0; i < n; i++, it.next()) {
      double v = in.get(it.offset(0));
      int o = it.offset(1);
      if (op == ReduceOp.SUM) {
        acc[o] += v;
      } else if (v > acc[o] || Double.isNaN(v)) {
        acc[o] = v;
      }
    }
    HeapBuffer out = HeapBuffer.allocate(x.dtype(), outN);
    for (int i = 0; i < outN; i++) {
      out.set(i, acc[i]);
    }
    return out;
  }

  @Override
  public Buffer copy(View x, DType to) {
    HeapBuffer in = HeapBuffer.of(x.buffer());
    int n = x.numel();
    HeapBuffer out = HeapBuffer.allocate(to, n);
    StridedIndex it = StridedIndex.of(x);
    for (int i = 0; i < n; i++, it.next()) {
      out.set(i, in.get(it.offset(0)));
    }
    return out;
  }

  @Override
  public Buffer pad(View x, int[] before, int[] after) {
    int r = x.rank();
    int[] outShape = new int[r];
    for (int d = 0; d < r; d++) {
      outShape[d] = before[d] + x.shape()[d] + after[d];
    }
    int[] os = View.contiguousStrides(outShape);
    int base = 0;
    for (int d = 0; d < r; d++) {
      base += before[d] * os[d];
    }
    HeapBuffer in = HeapBuffer.of(x.buffer());
    int outN = 1;
    for (int s : outShape) {
      outN *= s;
    }
    HeapBuffer out = HeapBuffer.allocate(x.dtype(), outN);
    StridedIndex it = new StridedIndex(x.shape(), new int[][] {x.strides(), os}, new int[] {x.offset(), base});
    int n = x.numel();
    for (int i = 0; i < n; i++, it.next()) {
      out.set(it.offset(1), in.get(it.offset(0)));
    }
    return out;
  }

  @Override
  public Buffer concat(View[] parts, int dim) {
    int[] outShape = parts[0].shape().clone();
    outShape[dim] = 0;
    for (View p : parts) {
      outShape[dim] += p.shape()[dim];
    }
    int[] os = View.contiguousStrides(outShape);
    int outN = 1;
    for (int s : outShape) {
      outN *= s;
    }
    HeapBuffer out = HeapBuffer.allocate(parts[0].dtype(), outN);
    int start = 0;
    for (View p : parts) {
      HeapBuffer in = HeapBuffer.of(p.buffer());
      StridedIndex it = new StridedIndex(p.shape(), new int[][] {p.strides(), os},
          new int[] {p.offset(), start * os[dim]});
      int n = p.numel();
      for (int i = 0; i < n; i++, it.next()) {
        out.set(it.offset(1), in.get(it.offset(0)));
      }
      start += p.shape()[dim];
    }
    return out;
  }

  @Override
  public Buffer matmul(View a, View b) {
    int bs = a.shape()[0];
    int m = a.shape()[1];
    int k = a.shape()[2];
    int n = b.shape()[2];
    HeapBuffer ba = HeapBuffer.of(a.buffer());
    HeapBuffer bb = HeapBuffer.of(b.buffer());
    HeapBuffer out = HeapBuffer.allocate(a.dtype(), bs * m * n);
    int[] as = a.strides();
    int[] bst = b.strides();
    for (int p = 0; p < bs; p++) {
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double acc = 0;
          int ao = a.offset() + p * as[0] + i * as[1];
          int bo = b.offset() + p * bst[0] + j * bst[2];
          for (int q = 0; q < k; q++) {
            acc += ba.get(ao + q * as[2]) * bb.get(bo + q * bst[1]);
          }
          out.set((p * m + i) * n + j, acc);
        }
      }
    }
    return out;
  }

  @Override
  public Buffer unfold(View x, ConvGeometry g) {
    HeapBuffer in = HeapBuffer.of(x.buffer());
    int oh = g.oh();
    int ow = g.ow();
    int rows = g.rows();
    int cols = g.cols();
    HeapBuffer out = HeapBuffer.allocate(x.dtype(), g.n() * rows * cols);
    int[] s = x.strides();
    for (int b = 0; b < g.n(); b++) {
      for (int c = 0; c < g.c(); c++) {
        for (int ki = 0; ki < g.kh(); ki++) {
          for (int kj = 0; kj < g.kw(); kj++) {
            int row = (c * g.kh() + ki) * g.kw() + kj;
            for (int oi = 0; oi < oh; oi++) {
              int ii = oi * g.sh() - g.ph() + ki * g.dh();
              for (int oj = 0; oj < ow; oj++) {
                int jj = oj * g.sw() - g.pw() + kj * g.dw();
                double v = 0;
                if (ii >= 0 && ii < g.h() && jj >= 0 && jj < g.w()) {
                  v = in.get(x.offset() + b * s[0] + c * s[1] + ii * s[2] + jj * s[3]);
                }
                out.set((b * rows + row) * cols + oi * ow + oj, v);
              }
            }
          }
        }
      }
    }
    return out;
  }

  @Override
  public Buffer fold(View colsView, ConvGeometry g) {
    HeapBuffer in = HeapBuffer.of(colsView.buffer());
    int oh = g.oh();
    int ow = g.ow();
    int rows = g.rows();
    double[] acc = new double[g.n() * g.c() * g.h() * g.w()];
    int[] s = colsView.strides();
    for (int b = 0; b < g.n(); b++) {
      for (int c = 0; c < g.c(); c++) {
        for (int ki = 0; ki < g.kh(); ki++) {
          for (int kj = 0; kj < g.kw(); kj++) {
            int row = (c * g.kh() + ki) * g.kw() + kj;
            for (int oi = 0; oi < oh; oi++) {
              int ii = oi * g.sh() - g.ph() + ki * g.dh();
              if (ii < 0 || ii >= g.h()) {
                continue;
              }
              for (int oj = 0; oj < ow; oj++) {
                int jj = oj * g.sw() - g.pw() + kj * g.dw();
                if (jj < 0 || jj >= g.w()) {
                  continue;
                }
                acc[((b * g.c() + c) * g.h() + ii) * g.w() + jj] +=
                    in.get(colsView.offset() + b * s[0] + row * s[1] + (oi * ow + oj) * s[2]);
              }
            }
          }
        }
      }
    }
    HeapBuffer out = HeapBuffer.allocate(colsView.dtype(), acc.length);
    for (int i = 0; i < acc.length; i++) {
      out.set(i, acc[i]);
    }
    return out;
  }
}
