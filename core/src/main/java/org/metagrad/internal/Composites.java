package org.metagrad.internal;

import java.util.Arrays;
import org.metagrad.ConvSpec;
import org.metagrad.Tensor;
import org.metagrad.spi.ConvGeometry;

/**
 * Not public API. The composite definitions of the fused ops of {@link org.metagrad.F} and {@link Tensor#relu()},
 * written with recorded primitives only: each defines its fused op's derivatives of every order (a recorded, i.e.
 * second-order, backward of the fused node rebuilds and differentiates it) and is the oracle that the tests and
 * benchmarks compare the fused kernels against. They do not check their arguments as the public ops do (the public
 * op checks first); call them only with arguments that {@code F}'s op accepts.
 */
public final class Composites {
  private Composites() {}

  /** {@code W . unfold(x) + b}: the definition of {@link org.metagrad.F#conv2d}. */
  public static Tensor conv2d(Tensor x, Tensor w, Tensor b, ConvSpec spec) {
    ConvGeometry g = convGeometry(x, w, spec);
    int n = x.size(0);
    int o = w.size(0);
    Tensor cols = x.unfold(g);
    Tensor y = w.reshape(o, g.rows()).matmul(cols).reshape(n, o, g.oh(), g.ow());
    return b == null ? y : y.add(b.reshape(1, o, 1, 1));
  }

  /** The geometry of a convolution of x (rank 4) by w (rank 4) with the spec's stride, padding and dilation. */
  public static ConvGeometry convGeometry(Tensor x, Tensor w, ConvSpec spec) {
    return new ConvGeometry(x.size(0), x.size(1), x.size(2), x.size(3), w.size(2), w.size(3),
        spec.strideH(), spec.strideW(), spec.padH(), spec.padW(), spec.dilationH(), spec.dilationW());
  }

  /**
   * {@code where(x <= 0, 0, x)}: the definition of {@link Tensor#relu()}. Written with {@code <=} so that NaN, for
   * which every comparison is false, keeps its value and passes its gradient, as PyTorch's relu does; {@code
   * where(x > 0, x, 0)} would turn a diverged activation into 0.
   */
  public static Tensor relu(Tensor x) {
    return Tensor.where(x.le(0), Tensor.zeros(x.dtype()).to(x.device()), x);
  }

  /**
   * Max pooling with a square window, padding counting as -infinity: the definition of
   * {@link org.metagrad.F#maxPool2d} (non-overlapping windows as a reduction over a tiled view, others through
   * unfold).
   */
  public static Tensor maxPool2d(Tensor x, int kernel, int stride, int padding) {
    int n = x.size(0);
    int c = x.size(1);
    if (stride == kernel && padding == 0) {
      return tiledWindows("maxPool2d", x, kernel).max(new int[] {3, 5}, false);
    }
    Tensor xp = x;
    if (padding > 0) {
      int[] before = {0, 0, padding, padding};
      int[] after = {0, 0, padding, padding};
      xp = x.pad(before, after);
      double[] m = new double[xp.numel()];
      int hp = xp.size(2);
      int wp = xp.size(3);
      for (int i = 0; i < m.length; i++) {
        int col = i % wp;
        int row = (i / wp) % hp;
        if (row < padding || row >= hp - padding || col < padding || col >= wp - padding) {
          m[i] = Double.NEGATIVE_INFINITY;
        }
      }
      xp = xp.add(Tensor.of(m, x.dtype(), xp.shape()).to(x.device()));
    }
    ConvGeometry g = new ConvGeometry(n * c, 1, xp.size(2), xp.size(3), kernel, kernel, stride, stride, 0, 0, 1, 1);
    return xp.reshape(n * c, 1, xp.size(2), xp.size(3)).unfold(g).max(1, false).reshape(n, c, g.oh(), g.ow());
  }

  /**
   * Non-overlapping k x k windows as dims 3 and 5 of a {@code [n, c, oh, k, ow, k]} view (floor mode drops the
   * remainder rows and columns), so pooling is a plain reduction without im2col.
   *
   * @param op the op named in the error message
   * @throws IllegalArgumentException when the window is larger than the image
   */
  public static Tensor tiledWindows(String op, Tensor x, int kernel) {
    int oh = x.size(2) / kernel;
    int ow = x.size(3) / kernel;
    if (oh < 1 || ow < 1) {
      throw new IllegalArgumentException(op + ": window " + kernel + " larger than input "
          + Arrays.toString(x.shape()));
    }
    return x.slice(2, 0, oh * kernel).slice(3, 0, ow * kernel).reshape(x.size(0), x.size(1), oh, kernel, ow, kernel);
  }

  /**
   * Batch normalization with batch statistics: mean, centred square, mean, add, sqrt, div, affine (the definition
   * of {@link org.metagrad.F#batchNorm}). gamma/beta may be null.
   */
  public static Tensor batchNorm(Tensor x, Tensor gamma, Tensor beta, double eps) {
    int[] dims = reducedDims(x);
    Tensor mean = x.mean(dims, true);
    Tensor xc = x.sub(mean);
    Tensor var = xc.mul(xc).mean(dims, true);
    return affine(xc.div(var.add(eps).sqrt()), gamma, beta, x);
  }

  /** {@link #relu} of {@link #batchNorm}: the definition of {@link org.metagrad.F#batchNormRelu}. */
  public static Tensor batchNormRelu(Tensor x, Tensor gamma, Tensor beta, double eps) {
    return relu(batchNorm(x, gamma, beta, eps));
  }

  /**
   * {@code maxPool2d(relu(batchNorm(x)), k, k, 0)}: the definition of {@link org.metagrad.F#batchNormReluMaxPool}.
   */
  public static Tensor batchNormReluMaxPool(Tensor x, Tensor gamma, Tensor beta, double eps, int k) {
    return maxPool2d(batchNormRelu(x, gamma, beta, eps), k, k, 0);
  }

  /** The dims batch normalization reduces over: every dim but 1 (channels) of {@code [N, C, ...]}. */
  public static int[] reducedDims(Tensor x) {
    if (x.rank() < 2) {
      throw new IllegalArgumentException("batchNorm: expected [N, C, ...], got " + Arrays.toString(x.shape()));
    }
    int[] dims = new int[x.rank() - 1];
    for (int i = 2; i < x.rank(); i++) {
      dims[i - 1] = i;
    }
    return dims;
  }

  /** {@code [1, C, 1, ...]} of x's rank: the shape that broadcasts a per-channel vector over x. */
  public static int[] channelShape(Tensor x) {
    int[] s = new int[x.rank()];
    Arrays.fill(s, 1);
    s[1] = x.size(1);
    return s;
  }

  /**
   * {@code y * gamma + beta} per channel of x (each may be null).
   *
   * @throws IllegalArgumentException when gamma or beta does not have one element per channel of x
   */
  public static Tensor affine(Tensor y, Tensor gamma, Tensor beta, Tensor x) {
    int[] cs = channelShape(x);
    if (gamma != null) {
      if (gamma.numel() != x.size(1)) {
        throw new IllegalArgumentException("batchNorm: gamma " + Arrays.toString(gamma.shape()) + " does not match "
            + x.size(1) + " channels");
      }
      y = y.mul(gamma.reshape(cs));
    }
    if (beta != null) {
      if (beta.numel() != x.size(1)) {
        throw new IllegalArgumentException("batchNorm: beta " + Arrays.toString(beta.shape()) + " does not match "
            + x.size(1) + " channels");
      }
      y = y.add(beta.reshape(cs));
    }
    return y;
  }
}
