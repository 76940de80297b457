package org.metagrad.kernels.cpu;

import java.util.Arrays;
import org.metagrad.DType;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.HeapBuffer;
import org.metagrad.spi.View;

/**
 * The CPU backend's fused batch norm and tiled max pooling: one task per channel (batch norm) or per
 * image plane (pooling), each computed in a fixed order by one thread, so results are bit-identical for
 * any thread count. Strided operands are first copied to contiguous memory (one fast pass).
 */
final class CpuFused {
  private final CpuBackend be;
  private final ScalarKernels k;
  private final int threads;

  CpuFused(CpuBackend be, ScalarKernels k, int threads) {
    this.be = be;
    this.k = k;
    this.threads = threads;
  }

  /** The view's elements contiguous from the returned offset: the backing array if possible, else a copy. */
  private Object data(View v, int[] off) {
    View c = v;
    if (!v.isContiguous()) {
      c = View.contiguous(be.copy(v, v.dtype()), v.shape());
    }
    off[0] = c.offset();
    HeapBuffer h = HeapBuffer.of(c.buffer());
    return h.dtype() == DType.FLOAT32 ? h.floats() : h.doubles();
  }

  /** Element i of a rank-1 view (gamma, beta, saved statistics) as a double; {@code dflt} when null. */
  private static double at(View v, int i, double dflt) {
    return v == null ? dflt : HeapBuffer.of(v.buffer()).get(v.offset() + i * v.strides()[0]);
  }

  private int threadsFor(long elements) {
    return elements < CpuBackend.PARALLEL_ELEMENTS ? 1 : threads;
  }

  private static void checkBatchNorm(String op, View x, View gamma, View beta) {
    if (x.rank() < 2) {
      throw new IllegalArgumentException(op + ": expected [N, C, ...], got " + Arrays.toString(x.shape()));
    }
    int c = x.shape()[1];
    for (View v : new View[] {gamma, beta}) {
      if (v != null && (v.rank() != 1 || v.shape()[0] != c || v.dtype() != x.dtype())) {
        throw new IllegalArgumentException(op + ": per-channel parameter " + Arrays.toString(v.shape()) + " "
            + v.dtype() + " does not match " + c + " channels of " + Arrays.toString(x.shape()) + " " + x.dtype());
      }
    }
  }

  Buffer[] batchNormTrain(View x, View gamma, View beta, double eps) {
    return batchNormTrain(x, gamma, beta, eps, false);
  }

  /** Channel ch's mean over the n planes of s values of x (laid out [n, c, s] from base). */
  private double channelMean(Object xa, int base, int n, int c, int s, int ch) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
      int o = base + (i * c + ch) * s;
      sum += xa instanceof float[] f ? k.sumF(f, o, s) : k.sumD((double[]) xa, o, s);
    }
    return sum / ((long) n * s);
  }

  /** Channel ch's sum of squared deviations from mu (rounded to float for float x, as the kernels take it). */
  private double channelSumSqDev(Object xa, int base, int n, int c, int s, int ch, double mu) {
    double ssq = 0;
    for (int i = 0; i < n; i++) {
      int o = base + (i * c + ch) * s;
      ssq += xa instanceof float[] f ? k.sumSqDevF(f, o, s, (float) mu) : k.sumSqDevD((double[]) xa, o, s, mu);
    }
    return ssq;
  }


  /** Batch norm with batch statistics; with {@code relu} the output is ReLU'd plane by plane while in L1. */
  Buffer[] batchNormTrain(View x, View gamma, View beta, double eps, boolean relu) {
    checkBatchNorm(relu ? "batchNormReluTrain" : "batchNormTrain", x, gamma, beta);
    int[] xs = x.shape();
    int n = xs[0];
    int c = xs[1];
    int total = x.numel();
    int s = c == 0 || n == 0 ? 0 : total / (n * c);
    long m = (long) n * s;
    boolean f32 = x.dtype() == DType.FLOAT32;
    int[] xo = new int[1];
    Object xa = data(x, xo);
    double[] mean = new double[c];
    double[] inv = new double[c];
    Object ya = f32 ? new float[total] : new double[total];
    int base = xo[0];
    Parallel.forRange(threadsFor(total), c, Math.max(1, (int) (CpuBackend.PARALLEL_ELEMENTS / 2 / Math.max(1, m))),
        (lo, hi) -> {
          for (int ch = lo; ch < hi; ch++) {
            double mu = channelMean(xa, base, n, c, s, ch);
            double is = 1.0 / Math.sqrt(channelSumSqDev(xa, base, n, c, s, ch, mu) / m + eps);
            double sc = is * at(gamma, ch, 1.0);
            double sh = at(beta, ch, 0.0);
            for (int i = 0; i < n; i++) {
              int o = (i * c + ch) * s;
              if (f32) {
                float[] yf = (float[]) ya;
                k.normF((float[]) xa, base + o, yf, o, s, (float) mu, (float) sc, (float) sh);
                if (relu) {
                  k.maskPositiveF(yf, o, 1, yf, o, 1, yf, o, s);
                }
              } else {
                double[] yd = (double[]) ya;
                k.normD((double[]) xa, base + o, yd, o, s, mu, sc, sh);
                if (relu) {
                  k.maskPositiveD(yd, o, 1, yd, o, 1, yd, o, s);
                }
              }
            }
            mean[ch] = mu;
            inv[ch] = is;
          }
        });
    return new Buffer[] {wrap(ya), be.upload(mean, x.dtype()), be.upload(inv, x.dtype())};
  }

  Buffer[] batchNormBackward(View g, View x, View mean, View invStd, View gamma) {
    return batchNormBackward(g, x, null, mean, invStd, gamma);
  }

  /**
   * Batch norm's backward; with {@code out} (the output of {@link #batchNormTrain} with relu) the gradient
   * is first masked by {@code out <= 0 ? 0 : g} (g passes where out is NaN), one channel at a time into a
   * buffer that stays in L2, so the masked gradient never makes a pass through memory of its own.
   */
  Buffer[] batchNormBackward(View g, View x, View out, View mean, View invStd, View gamma) {
    String op = out == null ? "batchNormBackward" : "batchNormReluBackward";
    checkBatchNorm(op, x, gamma, null);
    if (!Arrays.equals(g.shape(), x.shape()) || (out != null && !Arrays.equals(out.shape(), x.shape()))) {
      throw new IllegalArgumentException(op + ": gradient " + Arrays.toString(g.shape())
          + (out == null ? "" : " or output " + Arrays.toString(out.shape())) + " does not match input "
          + Arrays.toString(x.shape()));
    }
    if (out != null && (out.dtype() != x.dtype() || g.dtype() != x.dtype())) {
      throw new IllegalArgumentException(op + ": dtypes differ: gradient " + g.dtype() + ", output " + out.dtype()
          + ", input " + x.dtype());
    }
    int[] xs = x.shape();
    int n = xs[0];
    int c = xs[1];
    int total = x.numel();
    int s = c == 0 || n == 0 ? 0 : total / (n * c);
    long m = (long) n * s;
    boolean f32 = x.dtype() == DType.FLOAT32;
    int[] xo = new int[1];
    int[] go = new int[1];
    Object xa = data(x, xo);
    Object ga0 = data(g, go);
    int[] uo = new int[1];
    Object ua = out == null ? null : data(out, uo);
    double[] gGamma = new double[c];
    double[] gBeta = new double[c];
    Object oa = f32 ? new float[total] : new double[total];
    int xb = xo[0];
    int gb0 = go[0];
    Parallel.forRange(threadsFor(total), c, Math.max(1, (int) (CpuBackend.PARALLEL_ELEMENTS / 2 / Math.max(1, m))),
        (lo, hi) -> {
          Object masked = ua == null ? null : f32 ? new float[n * s] : new double[n * s];
          for (int ch = lo; ch < hi; ch++) {
            double mu = at(mean, ch, 0);
            double is = at(invStd, ch, 1);
            double sg = 0;
            double dot = 0;
            // With a mask, channel ch's gradient planes go masked into `masked` (plane i at i * s); below, gb is
            // then set per plane so that gb + o addresses it there.
            Object ga = ga0;
            int gb = gb0;
            if (masked != null) {
              for (int i = 0; i < n; i++) {
                int o = (i * c + ch) * s;
                if (f32) {
                  k.maskPositiveF((float[]) ua, uo[0] + o, 1, (float[]) ga0, gb0 + o, 1, (float[]) masked, i * s, s);
                } else {
                  k.maskPositiveD((double[]) ua, uo[0] + o, 1, (double[]) ga0, gb0 + o, 1, (double[]) masked, i * s, s);
                }
              }
              ga = masked;
            }
            for (int i = 0; i < n; i++) {
              int o = (i * c + ch) * s;
              if (masked != null) {
                gb = i * s - o;
              }
              if (f32) {
                sg += k.sumF((float[]) ga, gb + o, s);
                dot += k.dotDevF((float[]) ga, gb + o, (float[]) xa, xb + o, s, (float) mu);
              } else {
                sg += k.sumD((double[]) ga, gb + o, s);
                dot += k.dotDevD((double[]) ga, gb + o, (double[]) xa, xb + o, s, mu);
              }
            }
            double gg = dot * is;
            double kk = is * at(gamma, ch, 1.0);
            double a = kk;
            double b = -kk * is * gg / m;
            double cc = -kk * sg / m;
            for (int i = 0; i < n; i++) {
              int o = (i * c + ch) * s;
              if (masked != null) {
                gb = i * s - o;
              }
              if (f32) {
                k.bnBackF((float[]) ga, gb + o, (float[]) xa, xb + o, (float[]) oa, o, s, (float) mu, (float) a,
                    (float) b, (float) cc);
              } else {
                k.bnBackD((double[]) ga, gb + o, (double[]) xa, xb + o, (double[]) oa, o, s, mu, a, b, cc);
              }
            }
            gGamma[ch] = gg;
            gBeta[ch] = sg;
          }
        });
    return new Buffer[] {wrap(oa), be.upload(gGamma, x.dtype()), be.upload(gBeta, x.dtype())};
  }

  /**
   * Batch norm (batch statistics), ReLU and k x k max pooling in one pass per plane: each image's plane of a
   * channel is normalised and ReLU'd into a per-thread buffer (L1) and pooled from there, so only the
   * pooled output is written. The scale uses invStd rounded to the dtype, as saved, so that
   * {@link #batchNormReluPoolBackward} recomputes exactly the pooled activation.
   */
  Buffer[] batchNormReluPoolTrain(View x, View gamma, View beta, double eps, int kk) {
    checkBatchNorm("batchNormReluPoolTrain", x, gamma, beta);
    checkPool("batchNormReluPoolTrain", x, kk);
    int[] xs = x.shape();
    int n = xs[0];
    int c = xs[1];
    int h = xs[2];
    int w = xs[3];
    int s = h * w;
    int oh = h / kk;
    int ow = w / kk;
    long m = (long) n * s;
    boolean f32 = x.dtype() == DType.FLOAT32;
    int[] xo = new int[1];
    Object xa = data(x, xo);
    double[] mean = new double[c];
    double[] inv = new double[c];
    Object pa = f32 ? new float[n * c * oh * ow] : new double[n * c * oh * ow];
    int base = xo[0];
    Parallel.forRange(threadsFor(x.numel()), c, Math.max(1, (int) (CpuBackend.PARALLEL_ELEMENTS / 2 / Math.max(1, m))),
        (lo, hi) -> {
          Object plane = f32 ? new float[s] : new double[s];
          for (int ch = lo; ch < hi; ch++) {
            double mu = channelMean(xa, base, n, c, s, ch);
            double is = 1.0 / Math.sqrt(channelSumSqDev(xa, base, n, c, s, ch, mu) / m + eps);
            if (f32) {
              is = (float) is;
            }
            mean[ch] = mu;
            inv[ch] = is;
            for (int i = 0; i < n; i++) {
              activation(xa, base + (i * c + ch) * s, s, plane, mu, is, gamma, beta, ch);
              int po = (i * c + ch) * oh * ow;
              if (f32) {
                poolPlaneF((float[]) plane, 0, w, (float[]) pa, po, oh, ow, kk);
              } else {
                poolPlaneD((double[]) plane, 0, w, (double[]) pa, po, oh, ow, kk);
              }
            }
          }
        });
    return new Buffer[] {wrap(pa), be.upload(mean, x.dtype()), be.upload(inv, x.dtype())};
  }

  /** {@code plane = relu((x - mu) * (is * gamma) + beta)} for one plane, with the forward's exact roundings. */
  private void activation(Object xa, int xo, int s, Object plane, double mu, double is, View gamma, View beta,
      int ch) {
    double sc = is * at(gamma, ch, 1.0);
    double sh = at(beta, ch, 0.0);
    if (plane instanceof float[] p) {
      k.normF((float[]) xa, xo, p, 0, s, (float) mu, (float) sc, (float) sh);
      k.maskPositiveF(p, 0, 1, p, 0, 1, p, 0, s);
    } else {
      double[] p = (double[]) plane;
      k.normD((double[]) xa, xo, p, 0, s, mu, sc, sh);
      k.maskPositiveD(p, 0, 1, p, 0, 1, p, 0, s);
    }
  }

  /**
   * The backward of {@link #batchNormReluPoolTrain}: per channel, each plane's activation recomputed into
   * L1, unpooled from the pooled output and gradient and masked by the ReLU into a channel buffer (L2),
   * then batch norm's two passes over it.
   */
  Buffer[] batchNormReluPoolBackward(View g, View x, View out, View mean, View invStd, View gamma, View beta,
      int kk) {
    String op = "batchNormReluPoolBackward";
    checkBatchNorm(op, x, gamma, beta);
    checkPool(op, x, kk);
    int[] xs = x.shape();
    int n = xs[0];
    int c = xs[1];
    int h = xs[2];
    int w = xs[3];
    int s = h * w;
    int oh = h / kk;
    int ow = w / kk;
    int[] ps = {n, c, oh, ow};
    if (!Arrays.equals(out.shape(), ps) || !Arrays.equals(g.shape(), ps)) {
      throw new IllegalArgumentException(op + ": output " + Arrays.toString(out.shape()) + " and gradient "
          + Arrays.toString(g.shape()) + " must be " + Arrays.toString(ps) + " for input " + Arrays.toString(xs)
          + " and window " + kk);
    }
    if (out.dtype() != x.dtype() || g.dtype() != x.dtype()) {
      throw new IllegalArgumentException(op + ": dtypes differ: gradient " + g.dtype() + ", output " + out.dtype()
          + ", input " + x.dtype());
    }
    long m = (long) n * s;
    boolean f32 = x.dtype() == DType.FLOAT32;
    int[] xo = new int[1];
    int[] oo = new int[1];
    int[] go = new int[1];
    Object xa = data(x, xo);
    Object outA = data(out, oo);
    Object ga = data(g, go);
    double[] gGamma = new double[c];
    double[] gBeta = new double[c];
    Object oa = f32 ? new float[n * c * s] : new double[n * c * s];
    int xb = xo[0];
    boolean remainder = oh * kk != h || ow * kk != w;
    Parallel.forRange(threadsFor(x.numel()), c, Math.max(1, (int) (CpuBackend.PARALLEL_ELEMENTS / 2 / Math.max(1, m))),
        (lo, hi) -> {
          Object plane = f32 ? new float[s] : new double[s];
          Object dy = f32 ? new float[n * s] : new double[n * s];
          for (int ch = lo; ch < hi; ch++) {
            double mu = at(mean, ch, 0);
            double is = at(invStd, ch, 1);
            double sg = 0;
            double dot = 0;
            for (int i = 0; i < n; i++) {
              int o = (i * c + ch) * s;
              int po = (i * c + ch) * oh * ow;
              activation(xa, xb + o, s, plane, mu, is, gamma, beta, ch);
              if (f32) {
                float[] d = (float[]) dy;
                float[] p = (float[]) plane;
                if (remainder) {
                  Arrays.fill(d, i * s, (i + 1) * s, 0f);
                }
                unpoolPlaneF(p, 0, w, (float[]) outA, oo[0] + po, (float[]) ga, go[0] + po, d, i * s, oh, ow, kk);
                k.maskPositiveF(p, 0, 1, d, i * s, 1, d, i * s, s);
                sg += k.sumF(d, i * s, s);
                dot += k.dotDevF(d, i * s, (float[]) xa, xb + o, s, (float) mu);
              } else {
                double[] d = (double[]) dy;
                double[] p = (double[]) plane;
                if (remainder) {
                  Arrays.fill(d, i * s, (i + 1) * s, 0.0);
                }
                unpoolPlaneD(p, 0, w, (double[]) outA, oo[0] + po, (double[]) ga, go[0] + po, d, i * s, oh, ow, kk);
                k.maskPositiveD(p, 0, 1, d, i * s, 1, d, i * s, s);
                sg += k.sumD(d, i * s, s);
                dot += k.dotDevD(d, i * s, (double[]) xa, xb + o, s, mu);
              }
            }
            double gg = dot * is;
            double kg = is * at(gamma, ch, 1.0);
            double b = -kg * is * gg / m;
            double cc = -kg * sg / m;
            for (int i = 0; i < n; i++) {
              int o = (i * c + ch) * s;
              if (f32) {
                k.bnBackF((float[]) dy, i * s, (float[]) xa, xb + o, (float[]) oa, o, s, (float) mu, (float) kg,
                    (float) b, (float) cc);
              } else {
                k.bnBackD((double[]) dy, i * s, (double[]) xa, xb + o, (double[]) oa, o, s, mu, kg, b, cc);
              }
            }
            gGamma[ch] = gg;
            gBeta[ch] = sg;
          }
        });
    return new Buffer[] {wrap(oa), be.upload(gGamma, x.dtype()), be.upload(gBeta, x.dtype())};
  }

  private static void checkPool(String op, View x, int kk) {
    if (x.rank() != 4) {
      throw new IllegalArgumentException(op + ": expected [N, C, H, W], got " + Arrays.toString(x.shape()));
    }
    if (kk < 1 || x.shape()[2] < kk || x.shape()[3] < kk) {
      throw new IllegalArgumentException(op + ": window " + kk + " larger than input " + Arrays.toString(x.shape()));
    }
  }

  Buffer maxPool2dTiled(View x, int kk) {
    checkPool("maxPool2dTiled", x, kk);
    int[] xs = x.shape();
    int planes = xs[0] * xs[1];
    int h = xs[2];
    int w = xs[3];
    int oh = h / kk;
    int ow = w / kk;
    int[] xo = new int[1];
    Object xa = data(x, xo);
    int base = xo[0];
    boolean f32 = x.dtype() == DType.FLOAT32;
    Object oa = f32 ? new float[planes * oh * ow] : new double[planes * oh * ow];
    Parallel.forRange(threadsFor((long) planes * h * w), planes,
        Math.max(1, CpuBackend.PARALLEL_ELEMENTS / 2 / Math.max(1, h * w)), (lo, hi) -> {
          for (int p = lo; p < hi; p++) {
            if (f32) {
              poolPlaneF((float[]) xa, base + p * h * w, w, (float[]) oa, p * oh * ow, oh, ow, kk);
            } else {
              poolPlaneD((double[]) xa, base + p * h * w, w, (double[]) oa, p * oh * ow, oh, ow, kk);
            }
          }
        });
    return wrap(oa);
  }

  // NaN wins as in the reference reduction: v replaces m when v > m or v is NaN, visiting the window row
  // by row, so the result is the reduction's (the vector 2x2 row may pick the other of two equal zeros of
  // opposite sign; the backward's equality test, and so every gradient, cannot tell them apart).
  private void poolPlaneF(float[] x, int xo, int w, float[] o, int oo, int oh, int ow, int kk) {
    if (kk == 2) {
      for (int i = 0; i < oh; i++) {
        int r0 = xo + 2 * i * w;
        k.maxPool2RowF(x, r0, r0 + w, o, oo + i * ow, ow);
      }
      return;
    }
    for (int i = 0; i < oh; i++) {
      for (int j = 0; j < ow; j++) {
        float m = Float.NEGATIVE_INFINITY;
        for (int a = 0; a < kk; a++) {
          int r = xo + (i * kk + a) * w + j * kk;
          for (int b = 0; b < kk; b++) {
            float v = x[r + b];
            if (v > m || v != v) {
              m = v;
            }
          }
        }
        o[oo + i * ow + j] = m;
      }
    }
  }

  private static void poolPlaneD(double[] x, int xo, int w, double[] o, int oo, int oh, int ow, int kk) {
    for (int i = 0; i < oh; i++) {
      for (int j = 0; j < ow; j++) {
        double m = Double.NEGATIVE_INFINITY;
        for (int a = 0; a < kk; a++) {
          int r = xo + (i * kk + a) * w + j * kk;
          for (int b = 0; b < kk; b++) {
            double v = x[r + b];
            if (v > m || v != v) {
              m = v;
            }
          }
        }
        o[oo + i * ow + j] = m;
      }
    }
  }

  Buffer maxPool2dTiledBackward(View x, View out, View g, int kk) {
    checkPool("maxPool2dTiledBackward", x, kk);
    int[] xs = x.shape();
    int planes = xs[0] * xs[1];
    int h = xs[2];
    int w = xs[3];
    int oh = h / kk;
    int ow = w / kk;
    int[] ps = {xs[0], xs[1], oh, ow};
    if (!Arrays.equals(out.shape(), ps) || !Arrays.equals(g.shape(), ps)) {
      throw new IllegalArgumentException("maxPool2dTiledBackward: output " + Arrays.toString(out.shape())
          + " and gradient " + Arrays.toString(g.shape()) + " must be " + Arrays.toString(ps) + " for input "
          + Arrays.toString(xs) + " and window " + kk);
    }
    int[] xo = new int[1];
    int[] oo = new int[1];
    int[] go = new int[1];
    Object xa = data(x, xo);
    Object outA = data(out, oo);
    Object ga = data(g, go);
    int xb = xo[0];
    int ob = oo[0];
    int gb = go[0];
    boolean f32 = x.dtype() == DType.FLOAT32;
    Object ra = f32 ? new float[planes * h * w] : new double[planes * h * w];
    Parallel.forRange(threadsFor((long) planes * h * w), planes,
        Math.max(1, CpuBackend.PARALLEL_ELEMENTS / 2 / Math.max(1, h * w)), (lo, hi) -> {
          for (int p = lo; p < hi; p++) {
            if (f32) {
              unpoolPlaneF((float[]) xa, xb + p * h * w, w, (float[]) outA, ob + p * oh * ow, (float[]) ga,
                  gb + p * oh * ow, (float[]) ra, p * h * w, oh, ow, kk);
            } else {
              unpoolPlaneD((double[]) xa, xb + p * h * w, w, (double[]) outA, ob + p * oh * ow, (double[]) ga,
                  gb + p * oh * ow, (double[]) ra, p * h * w, oh, ow, kk);
            }
          }
        });
    return wrap(ra);
  }

  // As the composite's backward: g / count (count of elements equal to the max), then times the 0/1 mask
  // (so a NaN maximum gives NaN, as 0 * inf does there); dropped remainder rows and columns stay 0.
  private void unpoolPlaneF(float[] x, int xo, int w, float[] out, int outo, float[] g, int go, float[] r,
                                   int ro, int oh, int ow, int kk) {
    if (kk == 2) {
      for (int i = 0; i < oh; i++) {
        int x0 = xo + 2 * i * w;
        int q = ro + 2 * i * w;
        k.maxPool2BackRowF(x, x0, x0 + w, out, outo + i * ow, g, go + i * ow, r, q, q + w, ow);
      }
      return;
    }
    for (int i = 0; i < oh; i++) {
      for (int j = 0; j < ow; j++) {
        float m = out[outo + i * ow + j];
        int cnt = 0;
        for (int a = 0; a < kk; a++) {
          int q = xo + (i * kk + a) * w + j * kk;
          for (int b = 0; b < kk; b++) {
            if (x[q + b] == m) {
              cnt++;
            }
          }
        }
        float gd = g[go + i * ow + j] / (float) cnt;
        for (int a = 0; a < kk; a++) {
          int q = (i * kk + a) * w + j * kk;
          for (int b = 0; b < kk; b++) {
            r[ro + q + b] = gd * (x[xo + q + b] == m ? 1f : 0f);
          }
        }
      }
    }
  }

  private static void unpoolPlaneD(double[] x, int xo, int w, double[] out, int outo, double[] g, int go, double[] r,
                                   int ro, int oh, int ow, int kk) {
    for (int i = 0; i < oh; i++) {
      for (int j = 0; j < ow; j++) {
        double m = out[outo + i * ow + j];
        int cnt = 0;
        for (int a = 0; a < kk; a++) {
          int q = xo + (i * kk + a) * w + j * kk;
          for (int b = 0; b < kk; b++) {
            if (x[q + b] == m) {
              cnt++;
            }
          }
        }
        double gd = g[go + i * ow + j] / cnt;
        for (int a = 0; a < kk; a++) {
          int q = (i * kk + a) * w + j * kk;
          for (int b = 0; b < kk; b++) {
            r[ro + q + b] = gd * (x[xo + q + b] == m ? 1.0 : 0.0);
          }
        }
      }
    }
  }

  private static Buffer wrap(Object arr) {
    return arr instanceof float[] f ? HeapBuffer.wrap(f) : HeapBuffer.wrap((double[]) arr);
  }
}
