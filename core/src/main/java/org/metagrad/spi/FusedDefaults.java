package org.metagrad.spi;

import java.util.ArrayList;
import java.util.List;
import org.metagrad.DType;

/**
 * The default fused kernels of {@link Backend}, composed from its other kernels, so that a backend
 * without its own fused loops (the reference, OpenCL) runs them unchanged. Intermediates are released
 * as soon as they are dead (device backends hold device memory).
 */
final class FusedDefaults {
  private FusedDefaults() {}

  /** Buffers made along the way, released at the end unless returned. */
  private static final class Temps implements AutoCloseable {
    private final List<Buffer> list = new ArrayList<>();

    Buffer add(Buffer b) {
      list.add(b);
      return b;
    }

    Buffer keep(Buffer b) {
      list.remove(b);
      return b;
    }

    @Override
    public void close() {
      for (Buffer b : list) {
        b.release();
      }
    }
  }

  /** A rank-1 view of C elements broadcast along dim 1 of {@code shape}. */
  private static View channel(View c, int[] shape) {
    int[] st = new int[shape.length];
    st[1] = c.strides()[0];
    return new View(c.buffer(), c.offset(), shape, st);
  }

  private static View vec(Buffer b, int c) {
    return View.contiguous(b, c);
  }

  private static View scalar(Buffer b, int c) {
    return new View(b, 0, new int[] {c}, new int[] {0});
  }

  static void checkBatchNorm(String op, View x, View gamma, View beta) {
    if (x.rank() < 2) {
      throw new IllegalArgumentException(op + ": expected [N, C, ...], got " + java.util.Arrays.toString(x.shape()));
    }
    int c = x.shape()[1];
    for (View v : new View[] {gamma, beta}) {
      if (v != null && (v.rank() != 1 || v.shape()[0] != c)) {
        throw new IllegalArgumentException(op + ": per-channel parameter " + java.util.Arrays.toString(v.shape())
            + " does not match " + c + " channels of " + java.util.Arrays.toString(x.shape()));
      }
    }
  }

  /** The shape a per-channel reduction of {@code xs} keeps: 1 everywhere but the channel dim. */
  private static int[] channelKept(int[] xs) {
    int[] kept = new int[xs.length];
    java.util.Arrays.fill(kept, 1);
    kept[1] = xs[1];
    return kept;
  }

  static Buffer[] batchNormTrain(Backend be, View x, View gamma, View beta, double eps) {
    checkBatchNorm("batchNormTrain", x, gamma, beta);
    int[] xs = x.shape();
    int c = xs[1];
    double m = c == 0 ? 0 : (double) x.numel() / c;
    int[] kept = channelKept(xs);
    DType dt = x.dtype();
    try (Temps t = new Temps()) {
      View cnt = scalar(t.add(be.full(dt, 1, m)), c);
      Buffer mean = t.add(be.binary(BinaryOp.DIV, vec(t.add(be.reduce(ReduceOp.SUM, x, kept)), c), cnt));
      View xc = View.contiguous(t.add(be.binary(BinaryOp.SUB, x, channel(vec(mean, c), xs))), xs);
      View sq = View.contiguous(t.add(be.binary(BinaryOp.MUL, xc, xc)), xs);
      View var = vec(t.add(be.binary(BinaryOp.DIV, vec(t.add(be.reduce(ReduceOp.SUM, sq, kept)), c), cnt)), c);
      View ve = vec(t.add(be.binary(BinaryOp.ADD, var, scalar(t.add(be.full(dt, 1, eps)), c))), c);
      View std = vec(t.add(be.unary(UnaryOp.SQRT, 0, ve)), c);
      Buffer invStd = t.add(be.binary(BinaryOp.DIV, scalar(t.add(be.full(dt, 1, 1)), c), std));
      Buffer y = t.add(be.binary(BinaryOp.DIV, xc, channel(std, xs)));
      if (gamma != null) {
        y = t.add(be.binary(BinaryOp.MUL, View.contiguous(y, xs), channel(gamma, xs)));
      }
      if (beta != null) {
        y = t.add(be.binary(BinaryOp.ADD, View.contiguous(y, xs), channel(beta, xs)));
      }
      return new Buffer[] {t.keep(y), t.keep(mean), t.keep(invStd)};
    }
  }

  static Buffer[] batchNormBackward(Backend be, View g, View x, View mean, View invStd, View gamma) {
    checkBatchNorm("batchNormBackward", x, gamma, null);
    int[] xs = x.shape();
    int c = xs[1];
    double m = c == 0 ? 0 : (double) x.numel() / c;
    int[] kept = channelKept(xs);
    DType dt = x.dtype();
    try (Temps t = new Temps()) {
      View cnt = scalar(t.add(be.full(dt, 1, m)), c);
      View xc = View.contiguous(t.add(be.binary(BinaryOp.SUB, x, channel(mean, xs))), xs);
      View xhat = View.contiguous(t.add(be.binary(BinaryOp.MUL, xc, channel(invStd, xs))), xs);
      Buffer gBeta = t.add(be.reduce(ReduceOp.SUM, g, kept));
      View gx = View.contiguous(t.add(be.binary(BinaryOp.MUL, g, xhat)), xs);
      Buffer gGamma = t.add(be.reduce(ReduceOp.SUM, gx, kept));
      View a = vec(t.add(be.binary(BinaryOp.DIV, vec(gBeta, c), cnt)), c);
      View b = vec(t.add(be.binary(BinaryOp.DIV, vec(gGamma, c), cnt)), c);
      View k = gamma == null ? invStd : vec(t.add(be.binary(BinaryOp.MUL, invStd, gamma)), c);
      View t1 = View.contiguous(t.add(be.binary(BinaryOp.MUL, xhat, channel(b, xs))), xs);
      View t2 = View.contiguous(t.add(be.binary(BinaryOp.SUB, g, channel(a, xs))), xs);
      View t3 = View.contiguous(t.add(be.binary(BinaryOp.SUB, t2, t1)), xs);
      Buffer out = t.add(be.binary(BinaryOp.MUL, t3, channel(k, xs)));
      return new Buffer[] {t.keep(out), t.keep(gGamma), t.keep(gBeta)};
    }
  }

  static Buffer[] batchNormReluTrain(Backend be, View x, View gamma, View beta, double eps) {
    Buffer[] r = be.batchNormTrain(x, gamma, beta, eps);
    Buffer y = r[0];
    try {
      r[0] = be.relu(View.contiguous(y, x.shape()));
    } catch (RuntimeException e) {
      r[1].release();
      r[2].release();
      throw e;
    } finally {
      y.release(); // the pre-ReLU values never reach a Tensor, so no scope would free device memory
    }
    return r;
  }

  static Buffer[] batchNormReluBackward(Backend be, View g, View x, View out, View mean, View invStd, View gamma) {
    try (Temps t = new Temps()) {
      View gm = View.contiguous(t.add(be.reluBackward(out, g)), g.shape());
      return be.batchNormBackward(gm, x, mean, invStd, gamma);
    }
  }

  static Buffer[] batchNormReluPoolTrain(Backend be, View x, View gamma, View beta, double eps, int k) {
    checkPool("batchNormReluPoolTrain", x, k);
    Buffer[] r = be.batchNormReluTrain(x, gamma, beta, eps);
    Buffer y = r[0];
    try {
      r[0] = be.maxPool2dTiled(View.contiguous(y, x.shape()), k);
    } catch (RuntimeException e) {
      r[1].release();
      r[2].release();
      throw e;
    } finally {
      y.release();
    }
    return r;
  }

  static Buffer[] batchNormReluPoolBackward(Backend be, View g, View x, View out, View mean, View invStd, View gamma,
      View beta, double eps, int k) {
    checkPool("batchNormReluPoolBackward", x, k);
    try (Temps t = new Temps()) {
      // The activation again (the same kernels on the same input give the same bits), then both backwards.
      Buffer[] r = be.batchNormReluTrain(x, gamma, beta, eps);
      View y = View.contiguous(t.add(r[0]), x.shape());
      t.add(r[1]);
      t.add(r[2]);
      View gy = View.contiguous(t.add(be.maxPool2dTiledBackward(y, out, g, k)), x.shape());
      return be.batchNormReluBackward(gy, x, y, mean, invStd, gamma);
    }
  }

  static void checkPool(String op, View x, int k) {
    if (x.rank() != 4) {
      throw new IllegalArgumentException(op + ": expected [N, C, H, W], got " + java.util.Arrays.toString(x.shape()));
    }
    if (k < 1 || x.shape()[2] < k || x.shape()[3] < k) {
      throw new IllegalArgumentException(op + ": window " + k + " larger than input "
          + java.util.Arrays.toString(x.shape()));
    }
  }

  /** x as {@code [N, C, oh, k, ow, k]} (remainder dropped). */
  static View tiles(View x, int k) {
    int[] s = x.shape();
    int[] st = x.strides();
    return new View(x.buffer(), x.offset(), new int[] {s[0], s[1], s[2] / k, k, s[3] / k, k},
        new int[] {st[0], st[1], st[2] * k, st[2], st[3] * k, st[3]});
  }

  /** A pooled [N, C, oh, ow] view broadcast over the windows of {@link #tiles}. */
  private static View overTiles(View p, int k) {
    int[] s = p.shape();
    int[] st = p.strides();
    return new View(p.buffer(), p.offset(), new int[] {s[0], s[1], s[2], k, s[3], k},
        new int[] {st[0], st[1], st[2], 0, st[3], 0});
  }

  static Buffer maxPool2dTiled(Backend be, View x, int k) {
    checkPool("maxPool2dTiled", x, k);
    int[] s = x.shape();
    return be.reduce(ReduceOp.MAX, tiles(x, k), new int[] {s[0], s[1], s[2] / k, 1, s[3] / k, 1});
  }

  static Buffer maxPool2dTiledBackward(Backend be, View x, View out, View g, int k) {
    checkPool("maxPool2dTiledBackward", x, k);
    int[] s = x.shape();
    int oh = s[2] / k;
    int ow = s[3] / k;
    int[] ts = {s[0], s[1], oh, k, ow, k};
    try (Temps t = new Temps()) {
      View mask = View.contiguous(t.add(be.binary(BinaryOp.EQ, tiles(x, k), overTiles(out, k))), ts);
      Buffer count = t.add(be.reduce(ReduceOp.SUM, mask, new int[] {s[0], s[1], oh, 1, ow, 1}));
      View gd = View.contiguous(t.add(be.binary(BinaryOp.DIV, g, View.contiguous(count, s[0], s[1], oh, ow))),
          s[0], s[1], oh, ow);
      Buffer gt = t.add(be.binary(BinaryOp.MUL, overTiles(gd, k), mask));
      if (oh * k == s[2] && ow * k == s[3]) {
        return t.keep(gt);
      }
      return t.keep(t.add(be.pad(View.contiguous(gt, s[0], s[1], oh * k, ow * k), new int[4],
          new int[] {0, 0, s[2] - oh * k, s[3] - ow * k})));
    }
  }

  /** Checks the operands of the conv2d kernels against their geometry; names the op and the shapes. */
  static void checkConv(String op, View x, View w, View gy, ConvGeometry g) {
    int[] xs = {g.n(), g.c(), g.h(), g.w()};
    if (x != null && !java.util.Arrays.equals(x.shape(), xs)) {
      throw new IllegalArgumentException(op + ": input " + java.util.Arrays.toString(x.shape()) + " does not match "
          + java.util.Arrays.toString(xs) + " of " + g);
    }
    if (w != null && (w.rank() != 2 || w.shape()[1] != g.rows())) {
      throw new IllegalArgumentException(op + ": weight " + java.util.Arrays.toString(w.shape())
          + " is not [out, " + g.rows() + "] (c*kh*kw of " + g + ")");
    }
    if (gy != null && (gy.rank() != 3 || gy.shape()[0] != g.n() || gy.shape()[2] != g.cols()
        || (w != null && gy.shape()[1] != w.shape()[0]))) {
      throw new IllegalArgumentException(op + ": output gradient " + java.util.Arrays.toString(gy.shape())
          + " is not [" + g.n() + ", " + (w != null ? w.shape()[0] : "out") + ", " + g.cols() + "]");
    }
  }

  /** w [o, k] seen as the batch-shared A of a [n, o, k] product (or its transpose [n, k, o]). */
  private static View shared(View w, int n, boolean transposed) {
    int[] s = w.shape();
    int[] st = w.strides();
    return transposed ? new View(w.buffer(), w.offset(), new int[] {n, s[1], s[0]}, new int[] {0, st[1], st[0]})
        : new View(w.buffer(), w.offset(), new int[] {n, s[0], s[1]}, new int[] {0, st[0], st[1]});
  }

  static Buffer conv2d(Backend be, View x, View w, View bias, ConvGeometry g) {
    checkConv("conv2d", x, w, null, g);
    int o = w.shape()[0];
    if (bias != null && (bias.rank() != 1 || bias.shape()[0] != o)) {
      throw new IllegalArgumentException("conv2d: bias " + java.util.Arrays.toString(bias.shape()) + " does not match "
          + o + " output channels");
    }
    int[] ys = {g.n(), o, g.cols()};
    try (Temps t = new Temps()) {
      View cols = View.contiguous(t.add(be.unfold(x, g)), g.n(), g.rows(), g.cols());
      Buffer y = t.add(be.matmul(shared(w, g.n(), false), cols));
      if (bias != null) {
        y = t.add(be.binary(BinaryOp.ADD, View.contiguous(y, ys), channel(bias, ys)));
      }
      return t.keep(y);
    }
  }

  static Buffer conv2dBackwardInput(Backend be, View gy, View w, ConvGeometry g) {
    checkConv("conv2dBackwardInput", null, w, gy, g);
    try (Temps t = new Temps()) {
      Buffer cols = t.add(be.matmul(shared(w, g.n(), true), gy));
      return be.fold(View.contiguous(cols, g.n(), g.rows(), g.cols()), g);
    }
  }

  static Buffer conv2dBackwardWeight(Backend be, View gy, View x, ConvGeometry g) {
    checkConv("conv2dBackwardWeight", x, null, gy, g);
    int k = g.rows();
    int p = g.cols();
    try (Temps t = new Temps()) {
      Buffer cols = t.add(be.unfold(x, g));
      return be.matmulSumBatch(gy, new View(cols, 0, new int[] {g.n(), p, k}, new int[] {k * p, 1, p}));
    }
  }

  static Buffer relu(Backend be, View x) {
    return maskBy(be, "relu", x, x);
  }

  static Buffer reluBackward(Backend be, View x, View g) {
    return maskBy(be, "reluBackward", x, g);
  }

  /** {@code x <= 0 ? +0 : v} (v where x is NaN), from LE and where. */
  private static Buffer maskBy(Backend be, String op, View x, View v) {
    if (!java.util.Arrays.equals(x.shape(), v.shape()) || x.dtype() != v.dtype()) {
      throw new IllegalArgumentException(op + ": gradient " + java.util.Arrays.toString(v.shape()) + " " + v.dtype()
          + " does not match input " + java.util.Arrays.toString(x.shape()) + " " + x.dtype());
    }
    int[] xs = x.shape();
    try (Temps t = new Temps()) {
      View zero = new View(t.add(be.full(x.dtype(), 1, 0)), 0, xs, new int[xs.length]);
      View mask = View.contiguous(t.add(be.binary(BinaryOp.LE, x, zero)), xs);
      return be.where(mask, zero, v);
    }
  }
}
