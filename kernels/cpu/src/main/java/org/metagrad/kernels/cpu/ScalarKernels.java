package org.metagrad.kernels.cpu;

import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.UnaryOp;

/**
 * The hot inner loops of the CPU backends in plain Java: each works on one contiguous (or stride-0)
 * run of elements, so the backend's dispatch code can hand it the innermost dimension of any view.
 * {@link VectorKernels} overrides them with Vector API versions; this class is the whole scalar backend
 * and also the reference for the vector one's semantics (float results are the double result rounded
 * once, as in the reference backend; the vector set's float exp, log and tanh are its own, within an ulp).
 */
class ScalarKernels {
  /** Micro-tile rows and columns of this kernel set's GEMM (float, then double). */
  int mrF() {
    return ScalarLoops.MRF;
  }

  int nrF() {
    return ScalarLoops.NRF;
  }

  int mrD() {
    return ScalarLoops.MRD;
  }

  int nrD() {
    return ScalarLoops.NRD;
  }

  /** Depth of a packed float GEMM block (see {@link GemmF}). */
  int kcF() {
    return 128;
  }

  /** Copies of each A value in an A panel packed for {@link #tilePF}: 1 here, the vector length there. */
  int aLanesF() {
    return 1;
  }

  void binaryF(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n, int mode) {
    ScalarLoops.binaryF(op, a, ao, b, bo, o, oo, n, mode);
  }

  void binaryD(BinaryOp op, double[] a, int ao, double[] b, int bo, double[] o, int oo, int n, int mode) {
    ScalarLoops.binaryD(op, a, ao, b, bo, o, oo, n, mode);
  }

  /**
   * One element of {@link #unaryF(UnaryOp, double, float[], int, float[], int, int)}, for strided and
   * stride-0 runs: it must give the contiguous loop's bits, so that a result does not depend on layout.
   */
  float unaryF(UnaryOp op, double p, float x) {
    return (float) org.metagrad.spi.ReferenceBackend.apply(op, p, x);
  }

  /**
   * Contiguous unary op; {@code p} is POW's exponent. Exp, log, tanh and pow go through {@link StrictMath}
   * in double and round once: {@code Math}'s may change by an ulp between JIT tiers.
   */
  void unaryF(UnaryOp op, double p, float[] x, int xo, float[] o, int oo, int n) {
    // A switch expression with no default: a UnaryOp without a loop here does not compile.
    int done = switch (op) {
      case NEG -> {
        for (int i = 0; i < n; i++) {
          o[oo + i] = -x[xo + i];
        }
        yield n;
      }
      case EXP -> {
        for (int i = 0; i < n; i++) {
          o[oo + i] = (float) StrictMath.exp(x[xo + i]);
        }
        yield n;
      }
      case LOG -> {
        for (int i = 0; i < n; i++) {
          o[oo + i] = (float) StrictMath.log(x[xo + i]);
        }
        yield n;
      }
      case SQRT -> {
        for (int i = 0; i < n; i++) {
          o[oo + i] = (float) Math.sqrt(x[xo + i]);
        }
        yield n;
      }
      case TANH -> {
        for (int i = 0; i < n; i++) {
          o[oo + i] = (float) StrictMath.tanh(x[xo + i]);
        }
        yield n;
      }
      case SIGN -> {
        for (int i = 0; i < n; i++) {
          o[oo + i] = Math.signum(x[xo + i]);
        }
        yield n;
      }
      case POW -> {
        if (p == 2) {
          // A float times a float is exact in double, so rounding once gives the reference's value.
          for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            o[oo + i] = v * v;
          }
        } else if (p == 1) {
          System.arraycopy(x, xo, o, oo, n);
        } else if (p == 0) {
          java.util.Arrays.fill(o, oo, oo + n, 1f);
        } else {
          for (int i = 0; i < n; i++) {
            o[oo + i] = (float) StrictMath.pow(x[xo + i], p);
          }
        }
        yield n;
      }
    };
  }

  /** Contiguous unary op in double; {@code p} is POW's exponent. */
  void unaryD(UnaryOp op, double p, double[] x, int xo, double[] o, int oo, int n) {
    // A switch expression with no default: a UnaryOp without a loop here does not compile.
    int done = switch (op) {
      case NEG -> {
        for (int i = 0; i < n; i++) {
          o[oo + i] = -x[xo + i];
        }
        yield n;
      }
      case EXP -> {
        for (int i = 0; i < n; i++) {
          o[oo + i] = StrictMath.exp(x[xo + i]);
        }
        yield n;
      }
      case LOG -> {
        for (int i = 0; i < n; i++) {
          o[oo + i] = StrictMath.log(x[xo + i]);
        }
        yield n;
      }
      case SQRT -> {
        for (int i = 0; i < n; i++) {
          o[oo + i] = Math.sqrt(x[xo + i]);
        }
        yield n;
      }
      case TANH -> {
        for (int i = 0; i < n; i++) {
          o[oo + i] = StrictMath.tanh(x[xo + i]);
        }
        yield n;
      }
      case SIGN -> {
        for (int i = 0; i < n; i++) {
          o[oo + i] = Math.signum(x[xo + i]);
        }
        yield n;
      }
      case POW -> {
        if (p == 2) {
          for (int i = 0; i < n; i++) {
            double v = x[xo + i];
            o[oo + i] = v * v;
          }
        } else if (p == 1) {
          System.arraycopy(x, xo, o, oo, n);
        } else if (p == 0) {
          java.util.Arrays.fill(o, oo, oo + n, 1d);
        } else {
          for (int i = 0; i < n; i++) {
            o[oo + i] = StrictMath.pow(x[xo + i], p);
          }
        }
        yield n;
      }
    };
  }

  /** {@code o[i] = c[i*sc] != 0 ? a[i*sa] : b[i*sb]} (offsets added) for strides >= 0. */
  void whereF(float[] c, int co, int sc, float[] a, int ao, int sa, float[] b, int bo, int sb,
      float[] o, int oo, int n) {
    for (int i = 0; i < n; i++) {
      o[oo + i] = c[co + i * sc] != 0 ? a[ao + i * sa] : b[bo + i * sb];
    }
  }

  /**
   * {@code o = x <= 0 ? +0 : v} elementwise: relu's forward (v = x) and backward (v = the output
   * gradient). NaN in x, for which {@code <=} is false, passes v (relu(NaN) is NaN and its gradient passes,
   * as in PyTorch); -0 gives +0.
   */
  void maskPositiveF(float[] x, int xo, int sx, float[] v, int vo, int sv, float[] o, int oo, int n) {
    for (int i = 0; i < n; i++) {
      o[oo + i] = x[xo + i * sx] <= 0 ? 0f : v[vo + i * sv];
    }
  }

  /** Double version of {@link #maskPositiveF}. */
  void maskPositiveD(double[] x, int xo, int sx, double[] v, int vo, int sv, double[] o, int oo, int n) {
    for (int i = 0; i < n; i++) {
      o[oo + i] = x[xo + i * sx] <= 0 ? 0d : v[vo + i * sv];
    }
  }

  /** Double version of {@link #whereF}. */
  void whereD(double[] c, int co, int sc, double[] a, int ao, int sa, double[] b, int bo, int sb,
      double[] o, int oo, int n) {
    for (int i = 0; i < n; i++) {
      o[oo + i] = c[co + i * sc] != 0 ? a[ao + i * sa] : b[bo + i * sb];
    }
  }

  /**
   * Sum of a contiguous run. Blocks of {@link #SUM_BLOCK} are summed in float and the block sums in
   * double: the error then grows with the block length, not with n, and the order depends only on n.
   */
  double sumF(float[] x, int xo, int n) {
    double total = 0;
    for (int s = 0; s < n; s += SUM_BLOCK) {
      int e = Math.min(n, s + SUM_BLOCK);
      // Four independent partial sums break the add latency chain.
      float s0 = 0;
      float s1 = 0;
      float s2 = 0;
      float s3 = 0;
      int i = s;
      for (; i + 3 < e; i += 4) {
        s0 += x[xo + i];
        s1 += x[xo + i + 1];
        s2 += x[xo + i + 2];
        s3 += x[xo + i + 3];
      }
      for (; i < e; i++) {
        s0 += x[xo + i];
      }
      total += (double) ((s0 + s1) + (s2 + s3));
    }
    return total;
  }

  /** Elements summed in float before being added into a double. */
  static final int SUM_BLOCK = 256;

  /** Sum of a contiguous run of doubles. */
  double sumD(double[] x, int xo, int n) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int i = 0;
    for (; i + 3 < n; i += 4) {
      s0 += x[xo + i];
      s1 += x[xo + i + 1];
      s2 += x[xo + i + 2];
      s3 += x[xo + i + 3];
    }
    for (; i < n; i++) {
      s0 += x[xo + i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /** Maximum of a contiguous run (n >= 1), NaN if any element is NaN. */
  float maxF(float[] x, int xo, int n) {
    float m = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      float v = x[xo + i];
      if (v > m || v != v) {
        m = v;
        if (v != v) {
          return v;
        }
      }
    }
    return m;
  }

  /** Double version of {@link #maxF}. */
  double maxD(double[] x, int xo, int n) {
    double m = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      double v = x[xo + i];
      if (v > m || v != v) {
        m = v;
        if (v != v) {
          return v;
        }
      }
    }
    return m;
  }

  /** {@code acc[ao + j] += x[xo + j]} for j in [0, n). */
  void addRowF(float[] acc, int ao, float[] x, int xo, int n) {
    for (int j = 0; j < n; j++) {
      acc[ao + j] += x[xo + j];
    }
  }

  /** Double version of {@link #addRowF}. */
  void addRowD(double[] acc, int ao, double[] x, int xo, int n) {
    for (int j = 0; j < n; j++) {
      acc[ao + j] += x[xo + j];
    }
  }

  /** {@code acc[ao + j] = max(acc[ao + j], x[xo + j])} with NaN propagating. */
  void maxRowF(float[] acc, int ao, float[] x, int xo, int n) {
    for (int j = 0; j < n; j++) {
      float v = x[xo + j];
      float m = acc[ao + j];
      if (v > m || v != v) {
        acc[ao + j] = v;
      }
    }
  }

  /** Double version of {@link #maxRowF}. */
  void maxRowD(double[] acc, int ao, double[] x, int xo, int n) {
    for (int j = 0; j < n; j++) {
      double v = x[xo + j];
      double m = acc[ao + j];
      if (v > m || v != v) {
        acc[ao + j] = v;
      }
    }
  }

  // ------------------------------------------------------------------ fused batch norm runs

  /** {@code sum (x - m)^2} over a contiguous run, in float blocks folded into a double (as sumF). */
  double sumSqDevF(float[] x, int xo, int n, float m) {
    double total = 0;
    for (int s = 0; s < n; s += SUM_BLOCK) {
      int e = Math.min(n, s + SUM_BLOCK);
      float s0 = 0;
      float s1 = 0;
      int i = s;
      for (; i + 1 < e; i += 2) {
        float d0 = x[xo + i] - m;
        float d1 = x[xo + i + 1] - m;
        s0 += d0 * d0;
        s1 += d1 * d1;
      }
      for (; i < e; i++) {
        float d0 = x[xo + i] - m;
        s0 += d0 * d0;
      }
      total += (double) (s0 + s1);
    }
    return total;
  }

  /** Double version of {@link #sumSqDevF}. */
  double sumSqDevD(double[] x, int xo, int n, double m) {
    double s0 = 0;
    double s1 = 0;
    int i = 0;
    for (; i + 1 < n; i += 2) {
      double d0 = x[xo + i] - m;
      double d1 = x[xo + i + 1] - m;
      s0 += d0 * d0;
      s1 += d1 * d1;
    }
    for (; i < n; i++) {
      double d0 = x[xo + i] - m;
      s0 += d0 * d0;
    }
    return s0 + s1;
  }

  /** {@code sum g * (x - m)} over two contiguous runs, in float blocks folded into a double. */
  double dotDevF(float[] g, int go, float[] x, int xo, int n, float m) {
    double total = 0;
    for (int s = 0; s < n; s += SUM_BLOCK) {
      int e = Math.min(n, s + SUM_BLOCK);
      float s0 = 0;
      float s1 = 0;
      int i = s;
      for (; i + 1 < e; i += 2) {
        s0 += g[go + i] * (x[xo + i] - m);
        s1 += g[go + i + 1] * (x[xo + i + 1] - m);
      }
      for (; i < e; i++) {
        s0 += g[go + i] * (x[xo + i] - m);
      }
      total += (double) (s0 + s1);
    }
    return total;
  }

  /** Double version of {@link #dotDevF}. */
  double dotDevD(double[] g, int go, double[] x, int xo, int n, double m) {
    double s0 = 0;
    double s1 = 0;
    int i = 0;
    for (; i + 1 < n; i += 2) {
      s0 += g[go + i] * (x[xo + i] - m);
      s1 += g[go + i + 1] * (x[xo + i + 1] - m);
    }
    for (; i < n; i++) {
      s0 += g[go + i] * (x[xo + i] - m);
    }
    return s0 + s1;
  }

  /** {@code o = (x - m) * s + b} over a contiguous run. */
  void normF(float[] x, int xo, float[] o, int oo, int n, float m, float s, float b) {
    for (int i = 0; i < n; i++) {
      o[oo + i] = (x[xo + i] - m) * s + b;
    }
  }

  /** Double version of {@link #normF}. */
  void normD(double[] x, int xo, double[] o, int oo, int n, double m, double s, double b) {
    for (int i = 0; i < n; i++) {
      o[oo + i] = (x[xo + i] - m) * s + b;
    }
  }

  /** {@code o = g * a + (x - m) * b + c} over contiguous runs (batch norm's input gradient). */
  void bnBackF(float[] g, int go, float[] x, int xo, float[] o, int oo, int n, float m, float a, float b, float c) {
    for (int i = 0; i < n; i++) {
      o[oo + i] = g[go + i] * a + (x[xo + i] - m) * b + c;
    }
  }

  /** Double version of {@link #bnBackF}. */
  void bnBackD(double[] g, int go, double[] x, int xo, double[] o, int oo, int n, double m, double a, double b,
               double c) {
    for (int i = 0; i < n; i++) {
      o[oo + i] = g[go + i] * a + (x[xo + i] - m) * b + c;
    }
  }

  /**
   * One output row of 2x2 max pooling: {@code o[oo + j] = max(x[r0 + 2j], x[r0 + 2j + 1], x[r1 + 2j],
   * x[r1 + 2j + 1])} for j in [0, ow), NaN winning; the running max visits the window row by row, as the
   * reference reduction does.
   */
  void maxPool2RowF(float[] x, int r0, int r1, float[] o, int oo, int ow) {
    for (int j = 0; j < ow; j++) {
      float m = x[r0 + 2 * j];
      float v = x[r0 + 2 * j + 1];
      m = v > m || v != v ? v : m;
      v = x[r1 + 2 * j];
      m = v > m || v != v ? v : m;
      v = x[r1 + 2 * j + 1];
      o[oo + j] = v > m || v != v ? v : m;
    }
  }

  /**
   * One output row of the 2x2 max pooling backward: for window j (rows r0, r1 of x and of the result
   * {@code r}, columns 2j, 2j + 1) with maximum {@code out[oo + j]}, each element equal to the maximum
   * gets {@code g[go + j] / count}, times its 0/1 mask as the composite computes it (so a NaN maximum gives
   * NaN); the others 0.
   */
  void maxPool2BackRowF(float[] x, int r0, int r1, float[] out, int oo, float[] g, int go, float[] r, int q0, int q1,
                        int ow) {
    for (int j = 0; j < ow; j++) {
      float m = out[oo + j];
      float e00 = x[r0 + 2 * j] == m ? 1f : 0f;
      float e01 = x[r0 + 2 * j + 1] == m ? 1f : 0f;
      float e10 = x[r1 + 2 * j] == m ? 1f : 0f;
      float e11 = x[r1 + 2 * j + 1] == m ? 1f : 0f;
      float gd = g[go + j] / ((e00 + e01) + (e10 + e11));
      r[q0 + 2 * j] = gd * e00;
      r[q0 + 2 * j + 1] = gd * e01;
      r[q1 + 2 * j] = gd * e10;
      r[q1 + 2 * j + 1] = gd * e11;
    }
  }

  /**
   * Packs a full panel of {@code nr} columns of a B whose columns are contiguous along the depth (a
   * transposed operand, row stride 1): {@code pb[base + q * nr + j] = b[src + j * bCs + q]} for j &lt; nr,
   * q &lt; kc. This is a transpose; walking the depth in blocks of 8 keeps 8 output rows hot instead of
   * touching kc rows per column (hand-timed harness, not JMH, panels in cache: 9.5 -> 4.8 ms for conv4's
   * layer-2 weight gradient panels).
   */
  void packColumnsF(float[] b, int src, int bCs, int kc, float[] pb, int base, int nr) {
    transposeBlockedF(b, src, bCs, kc, nr, pb, base, nr);
  }

  /** {@code dst[d + j] = x[base + idx[io + j]]} for j &lt; n (an implicit-im2col panel row). */
  void gatherF(float[] x, int base, int[] idx, int io, float[] dst, int d, int n) {
    for (int j = 0; j < n; j++) {
      dst[d + j] = x[base + idx[io + j]];
    }
  }

  /**
   * {@code dst[d + j] = m[mo + j] ? x[off + j] : 0} for j &lt; n (an implicit-im2col panel row whose pixels
   * are contiguous in x). Only the elements where m is true are read: the others may lie outside x.
   */
  void loadMaskedF(float[] x, int off, boolean[] m, int mo, float[] dst, int d, int n) {
    for (int j = 0; j < n; j++) {
      dst[d + j] = m[mo + j] ? x[off + j] : 0f;
    }
  }

  /**
   * {@code dst[d + j] = m[mo + j] ? x[base + idx[io + j]] : 0} for j &lt; n. Every index must be inside x,
   * also where m is false: the vector version gathers all lanes, then zeroes those (JDK 25's masked gather
   * range-checks masked-off lanes too).
   */
  void gatherMaskedF(float[] x, int base, int[] idx, int io, boolean[] m, int mo, float[] dst, int d, int n) {
    for (int j = 0; j < n; j++) {
      dst[d + j] = m[mo + j] ? x[base + idx[io + j]] : 0f;
    }
  }

  /** {@code p[base + q * ld + j] = x[src + j * xs + q]} for j &lt; cols, q &lt; kc, in depth blocks of 8. */
  static void transposeBlockedF(float[] x, int src, int xs, int kc, int cols, float[] p, int base, int ld) {
    int q = 0;
    for (; q + 8 <= kc; q += 8) {
      for (int j = 0; j < cols; j++) {
        int s = src + j * xs + q;
        int d = base + q * ld + j;
        p[d] = x[s];
        p[d + ld] = x[s + 1];
        p[d + 2 * ld] = x[s + 2];
        p[d + 3 * ld] = x[s + 3];
        p[d + 4 * ld] = x[s + 4];
        p[d + 5 * ld] = x[s + 5];
        p[d + 6 * ld] = x[s + 6];
        p[d + 7 * ld] = x[s + 7];
      }
    }
    for (; q < kc; q++) {
      for (int j = 0; j < cols; j++) {
        p[base + q * ld + j] = x[src + j * xs + q];
      }
    }
  }

  /**
   * A block of dot products added into C: {@code c[co + r * ldc + s] += sum_q a[ao + r * aRs + q] *
   * b[bo + s * bCs + q]} for r &lt; rows (at most 4), s &lt; cols (at most 3), q &lt; kk. Each dot
   * product is summed in a fixed order that does not depend on the block shape.
   */
  void dotBlockF(float[] a, int ao, int aRs, float[] b, int bo, int bCs, int kk, float[] c, int co, int ldc,
                 int rows, int cols) {
    for (int r = 0; r < rows; r++) {
      for (int s = 0; s < cols; s++) {
        int x = ao + r * aRs;
        int y = bo + s * bCs;
        float acc = 0;
        for (int q = 0; q < kk; q++) {
          acc += a[x + q] * b[y + q];
        }
        c[co + r * ldc + s] += acc;
      }
    }
  }

  /** {@code y[yo + j] += alpha * x[xo + j]}. */
  void axpyF(float alpha, float[] x, int xo, float[] y, int yo, int n) {
    for (int j = 0; j < n; j++) {
      y[yo + j] += alpha * x[xo + j];
    }
  }

  /** Double version of {@link #axpyF}. */
  void axpyD(double alpha, double[] x, int xo, double[] y, int yo, int n) {
    for (int j = 0; j < n; j++) {
      y[yo + j] += alpha * x[xo + j];
    }
  }

  void tileF(float[] pa, int pao, float[] pb, int pbo, int kc, float[] c, int co, int ldc) {
    ScalarLoops.tileF(pa, pao, pb, pbo, kc, c, co, ldc);
  }

  void tileEdgeF(float[] pa, int pao, float[] pb, int pbo, int kc, float[] t) {
    ScalarLoops.tileEdgeF(pa, pao, pb, pbo, kc, t);
  }

  /**
   * One depth row of a pre-broadcast A panel: {@code a[r + i * aRs]} for {@code i < mv} (0 for
   * {@code mv <= i < mr}), each written {@code lanes} times from {@code pa[d + i * lanes]}.
   */
  void broadcastRowF(float[] a, int r, int aRs, int mv, int mr, int lanes, float[] pa, int d) {
    for (int i = 0; i < mr; i++, d += lanes) {
      java.util.Arrays.fill(pa, d, d + lanes, i < mv ? a[r + i * aRs] : 0f);
    }
  }

  /** {@link #tileF} on an A panel packed with {@link #aLanesF} copies per value. */
  void tilePF(float[] pa, int pao, float[] pb, int pbo, int kc, float[] c, int co, int ldc) {
    tileF(pa, pao, pb, pbo, kc, c, co, ldc);
  }

  /** {@link #tileEdgeF} on an A panel packed with {@link #aLanesF} copies per value. */
  void tileEdgePF(float[] pa, int pao, float[] pb, int pbo, int kc, float[] t) {
    tileEdgeF(pa, pao, pb, pbo, kc, t);
  }

  /**
   * Whether {@link ConvF} lays out inputs as shifted planes for the in-place kernels below: false here, where
   * those kernels copy the rows into a panel per tile (per tile rather than per group of panels, so the packed
   * path stays faster: conv4's second layer forward and backward on 75 images, JMH Conv2dBench, 353-373 ms
   * packed against 506-609 ms through planes without the incubator module).
   */
  boolean inPlaceRowsF() {
    return false;
  }

  /**
   * {@link #tilePF} with B's depth row q read in place: {@code nrF()} values from {@code src[ro[roo + q] + bo]}.
   * Here the rows are copied into the panel {@code pb} (kc x NR) first; the vector kernel sets read them in
   * place and leave pb alone.
   */
  void tilePRowsF(float[] pa, int pao, float[] src, int[] ro, int roo, int bo, int kc, float[] pb, float[] c, int co,
      int ldc) {
    packRowsF(src, ro, roo, bo, kc, pb);
    tilePF(pa, pao, pb, 0, kc, c, co, ldc);
  }

  /** {@link #tileEdgeF(boolean, float[], int, float[], int, int, float[], int, int)} (pre-broadcast A) with B's rows read as by {@link #tilePRowsF}. */
  void tileEdgePRowsF(float[] pa, int pao, float[] src, int[] ro, int roo, int bo, int kc, float[] pb, float[] t,
      int mv, int nv) {
    packRowsF(src, ro, roo, bo, kc, pb);
    tileEdgeF(true, pa, pao, pb, 0, kc, t, mv, nv);
  }

  /**
   * {@link #tileF} with A's row i read in place: depth q at {@code src[ro[roo + i] + ao + q]}. Here the rows
   * are copied into the panel {@code pa} (kc x MR) first; the vector kernel sets read them in place and take
   * no panel (null where only they are called, as where {@link #inPlaceAF}).
   */
  void tileARowsF(float[] src, int[] ro, int roo, int ao, float[] pb, int pbo, int kc, float[] pa, float[] c, int co,
      int ldc) {
    packARowsF(src, ro, roo, ao, kc, pa);
    tileF(pa, 0, pb, pbo, kc, c, co, ldc);
  }

  /** {@link #tileEdgeF(float[], int, float[], int, int, float[])} with A's rows read as by {@link #tileARowsF}. */
  void tileEdgeARowsF(float[] src, int[] ro, int roo, int ao, float[] pb, int pbo, int kc, float[] pa, float[] t) {
    packARowsF(src, ro, roo, ao, kc, pa);
    tileEdgeF(pa, 0, pb, pbo, kc, t);
  }

  /**
   * Whether {@link GemmF#sharedARows} reads A's rows in place too ({@link #tileARRowsF}) instead of packing A
   * for {@link #tilePRowsF}: false here.
   */
  boolean inPlaceAF() {
    return false;
  }

  /**
   * Whether the single-matrix GEMM packs A row by row for {@link #tileARowsF} (only sets with {@link #inPlaceAF}
   * may say so).
   */
  boolean rowsAGemmF() {
    return false;
  }

  /** A micro-tile with both A's rows (as by {@link #tileARowsF}) and B's (as by {@link #tilePRowsF}) read in place; only where {@link #inPlaceAF}. */
  void tileARRowsF(float[] as, int[] aro, int aroo, int ao, float[] bs, int[] bro, int broo, int bo, int kc, float[] c,
      int co, int ldc) {
    throw new UnsupportedOperationException("tileARRowsF: A is packed for this kernel set");
  }

  /** The edge tile of {@link #tileARRowsF}, the used {@code mv x nv} corner of t defined; only where {@link #inPlaceAF}. */
  void tileEdgeARRowsF(float[] as, int[] aro, int aroo, int ao, float[] bs, int[] bro, int broo, int bo, int kc,
      float[] t, int mv, int nv) {
    throw new UnsupportedOperationException("tileEdgeARRowsF: A is packed for this kernel set");
  }

  private void packARowsF(float[] src, int[] ro, int roo, int ao, int kc, float[] pa) {
    int mr = mrF();
    for (int i = 0; i < mr; i++) {
      int r = ro[roo + i] + ao;
      for (int q = 0; q < kc; q++) {
        pa[q * mr + i] = src[r + q];
      }
    }
  }

  private void packRowsF(float[] src, int[] ro, int roo, int bo, int kc, float[] pb) {
    int nr = nrF();
    for (int q = 0; q < kc; q++) {
      System.arraycopy(src, ro[roo + q] + bo, pb, q * nr, nr);
    }
  }

  /**
   * An edge tile of which only the first {@code mv} rows and {@code nv} columns are used (the others of t are
   * undefined afterwards): {@link #tileEdgePF} when {@code pre}, else {@link #tileEdgeF}. Kernel sets with
   * narrower tile kernels run the smallest that covers the used corner.
   */
  void tileEdgeF(boolean pre, float[] pa, int pao, float[] pb, int pbo, int kc, float[] t, int mv, int nv) {
    if (pre) {
      tileEdgePF(pa, pao, pb, pbo, kc, t);
    } else {
      tileEdgeF(pa, pao, pb, pbo, kc, t);
    }
  }

  void tileD(double[] pa, int pao, double[] pb, int pbo, int kc, double[] c, int co, int ldc) {
    ScalarLoops.tileD(pa, pao, pb, pbo, kc, c, co, ldc);
  }

  void tileEdgeD(double[] pa, int pao, double[] pb, int pbo, int kc, double[] t) {
    ScalarLoops.tileEdgeD(pa, pao, pb, pbo, kc, t);
  }
}
