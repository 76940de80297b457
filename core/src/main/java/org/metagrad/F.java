package org.metagrad;

import java.util.Arrays;
import java.util.List;
import org.metagrad.internal.Composites;
import org.metagrad.spi.ConvGeometry;

/**
 * Composite operations built from the primitives of {@link Tensor}. None has backward code of its own:
 * their gradients, of any order, come from the primitives'. Shapes follow PyTorch: images are
 * {@code [N, C, H, W]}, conv weights {@code [out, in, kh, kw]}, linear weights {@code [out, in]}.
 */
public final class F {
  private F() {}

  /** Default epsilon of batch normalization, as PyTorch. */
  public static final double BN_EPS = 1e-5;

  /** {@code y = x W^T + b}: x {@code [..., in]}, w {@code [out, in]}, b {@code [out]} or null. */
  public static Tensor linear(Tensor x, Tensor w, Tensor b) {
    if (w.rank() != 2 || x.rank() < 1 || x.size(-1) != w.size(1)) {
      throw new IllegalArgumentException("linear: input " + Shapes.str(x.shape()) + " does not match weight "
          + Shapes.str(w.shape()) + " (expected [..., " + (w.rank() == 2 ? w.size(1) : "in") + "] and [out, in])");
    }
    Tensor y = x.matmul(w.mT());
    return b == null ? y : y.add(b);
  }

  /**
   * 2-d convolution (cross-correlation, as PyTorch): x {@code [N, C, H, W]}, w {@code [O, C, kh, kw]},
   * b {@code [O]} or null, to {@code [N, O, oh, ow]}. Defined as {@code W . unfold(x) + b} (the composite
   * {@code org.metagrad.internal.Composites.conv2d}); runs as one fused op (the backend's {@code conv2d} kernel forward, its
   * input- and weight-gradient kernels backward) whose derivatives of every order are the composite's.
   */
  public static Tensor conv2d(Tensor x, Tensor w, Tensor b, ConvSpec spec) {
    ConvGeometry g = convGeometry(x, w, b, spec);
    x.checkSameDeviceAndType("conv2d", w);
    if (b != null) {
      x.checkSameDeviceAndType("conv2d", b);
    }
    if (x.numel() == 0 || w.numel() == 0) {
      return Composites.conv2d(x, w, b, spec);
    }
    return FusedOps.conv2d(x, w, b, g);
  }

  private static ConvGeometry convGeometry(Tensor x, Tensor w, Tensor b, ConvSpec spec) {
    if (x.rank() != 4 || w.rank() != 4 || x.size(1) != w.size(1)) {
      throw new IllegalArgumentException("conv2d: input " + Shapes.str(x.shape()) + " and weight "
          + Shapes.str(w.shape()) + " do not match (expected [N, C, H, W] and [O, C, kh, kw])");
    }
    if (b != null && (b.rank() != 1 || b.size(0) != w.size(0))) {
      throw new IllegalArgumentException("conv2d: bias " + Shapes.str(b.shape()) + " does not match "
          + w.size(0) + " output channels");
    }
    ConvGeometry g = Composites.convGeometry(x, w, spec);
    Shapes.numel("conv2d", (long) g.n(), w.size(0), g.oh(), g.ow());
    return g;
  }

  /**
   * Max pooling with a square window; padding counts as -infinity (as PyTorch). Non-overlapping windows
   * (stride == kernel, no padding) run as one fused op with the same values and derivatives of every
   * order as the composite (ties share the gradient equally).
   */
  public static Tensor maxPool2d(Tensor x, int kernel, int stride, int padding) {
    checkPoolInput("maxPool2d", x, kernel, padding);
    if (stride == kernel && padding == 0) {
      Composites.tiledWindows("maxPool2d", x, kernel); // checks the window fits
      if (x.numel() > 0) {
        return FusedOps.maxPool2d(x, kernel);
      }
    }
    return Composites.maxPool2d(x, kernel, stride, padding);
  }

  /** Average pooling with a square window; zero padding is counted in the mean (as PyTorch's default). */
  public static Tensor avgPool2d(Tensor x, int kernel, int stride, int padding) {
    checkPoolInput("avgPool2d", x, kernel, padding);
    int n = x.size(0);
    int c = x.size(1);
    if (stride == kernel && padding == 0) {
      return Composites.tiledWindows("avgPool2d", x, kernel).mean(new int[] {3, 5}, false);
    }
    ConvGeometry g = new ConvGeometry(n * c, 1, x.size(2), x.size(3), kernel, kernel, stride, stride, padding,
        padding, 1, 1);
    return x.reshape(n * c, 1, x.size(2), x.size(3)).unfold(g).mean(1, false).reshape(n, c, g.oh(), g.ow());
  }

  private static void checkPoolInput(String op, Tensor x, int kernel, int padding) {
    if (x.rank() != 4) {
      throw new IllegalArgumentException(op + ": expected [N, C, H, W], got " + Shapes.str(x.shape()));
    }
    if (kernel < 1 || padding < 0 || padding * 2 > kernel) {
      throw new IllegalArgumentException(op + ": bad window " + kernel + " with padding " + padding
          + " (padding must be at most half the window)");
    }
  }

  /**
   * Batch normalization with this batch's statistics (training mode, as PyTorch's {@code batch_norm(...,
   * training=True)}): per channel (dim 1), {@code (x - mean) / sqrt(var + eps) * gamma + beta} with the mean and
   * biased variance of x over every dim but 1. gamma/beta may be null. Works for {@code [N, C]}, {@code [N, C, L]}
   * and {@code [N, C, H, W]}. Runs as one fused op (two passes over x forward, two backward) whose derivatives of
   * every order are those of the composite definition (mean, centred square, mean, add, sqrt, div, affine). For
   * given (running) statistics, see {@link #batchNormWithStats}.
   */
  public static Tensor batchNorm(Tensor x, Tensor gamma, Tensor beta, double eps) {
    Composites.reducedDims(x);
    checkAffine(x, gamma, beta);
    if (x.numel() == 0) {
      return Composites.batchNorm(x, gamma, beta, eps);
    }
    return FusedOps.batchNorm(x, gamma, beta, eps);
  }

  /**
   * {@code relu(batchNorm(x, gamma, beta, eps))} with batch statistics, as one fused op (the ReLU applied
   * in the normalising pass forward, its mask in the batch-norm backward): the same values and
   * derivatives of every order as the two ops one after the other.
   */
  public static Tensor batchNormRelu(Tensor x, Tensor gamma, Tensor beta, double eps) {
    Composites.reducedDims(x);
    checkAffine(x, gamma, beta);
    if (x.numel() == 0) {
      return Composites.batchNormRelu(x, gamma, beta, eps);
    }
    return FusedOps.batchNormRelu(x, gamma, beta, eps);
  }

  /**
   * {@code maxPool2d(relu(batchNorm(x, gamma, beta, eps)), k, k, 0)} with batch statistics (conv4's block
   * after the convolution) as one fused op: the full-size activation is never stored, the backward
   * recomputes it. The same values and derivatives of every order as the three ops one after the other.
   * x {@code [N, C, H, W]} with {@code H, W >= k}.
   */
  public static Tensor batchNormReluMaxPool(Tensor x, Tensor gamma, Tensor beta, double eps, int k) {
    checkPoolInput("maxPool2d", x, k, 0);
    Composites.tiledWindows("maxPool2d", x, k);
    checkAffine(x, gamma, beta);
    if (x.numel() == 0) {
      return Composites.batchNormReluMaxPool(x, gamma, beta, eps, k);
    }
    return FusedOps.batchNormReluPool(x, gamma, beta, eps, k);
  }

  /**
   * Batch normalization with given statistics (evaluation mode, as PyTorch's {@code batch_norm(x, running_mean,
   * running_var, ..., training=False)}): {@code (x - mean) / sqrt(var + eps) * gamma + beta} per channel (dim 1),
   * with mean and var {@code [C]} given (e.g. running statistics), not computed from x. gamma/beta may be null.
   * Gradients flow to x, mean, var, gamma and beta. For this batch's own statistics, see {@link #batchNorm}.
   *
   * @throws IllegalArgumentException when mean, var, gamma or beta does not have one element per channel of x
   */
  public static Tensor batchNormWithStats(Tensor x, Tensor mean, Tensor var, Tensor gamma, Tensor beta,
      double eps) {
    Composites.reducedDims(x);
    int[] cs = Composites.channelShape(x);
    if (mean.numel() != x.size(1) || var.numel() != x.size(1)) {
      throw new IllegalArgumentException("batchNormWithStats: statistics " + Shapes.str(mean.shape()) + "/"
          + Shapes.str(var.shape()) + " do not match " + x.size(1) + " channels of " + Shapes.str(x.shape()));
    }
    Tensor y = x.sub(mean.reshape(cs)).div(var.reshape(cs).add(eps).sqrt());
    return Composites.affine(y, gamma, beta, x);
  }

  /** The checks the composite's affine step makes (and the ones its mul/add would), before a fused kernel runs. */
  private static void checkAffine(Tensor x, Tensor gamma, Tensor beta) {
    for (Tensor p : new Tensor[] {gamma, beta}) {
      if (p == null) {
        continue;
      }
      String what = p == gamma ? "gamma " : "beta ";
      if (p.numel() != x.size(1)) {
        throw new IllegalArgumentException("batchNorm: " + what + Shapes.str(p.shape()) + " does not match "
            + x.size(1) + " channels");
      }
      if (p.dtype() != x.dtype()) {
        throw new IllegalArgumentException("batchNorm: mixed dtypes " + x.dtype() + " and " + p.dtype() + " (input "
            + Shapes.str(x.shape()) + ", " + what + Shapes.str(p.shape()) + "); " + Tensor.castHint(x.dtype(), p.dtype()));
      }
      if (!p.device().equals(x.device())) {
        throw new IllegalArgumentException("batchNorm: tensors on different devices: " + x.device() + " and "
            + p.device());
      }
    }
  }

  /** {@code x - logsumexp(x, dim)}, stabilised by the (detached, provably cancelling) max. */
  public static Tensor logSoftmax(Tensor x, int dim) {
    Tensor m = x.max(dim, true).detach();
    Tensor s = x.sub(m);
    return s.sub(s.exp().sum(dim, true).log());
  }

  /** {@code exp(x) / sum(exp(x))} along dim. */
  public static Tensor softmax(Tensor x, int dim) {
    return logSoftmax(x, dim).exp();
  }

  /** {@code log(sum(exp(x)))} along dim, stabilised. */
  public static Tensor logSumExp(Tensor x, int dim, boolean keepDim) {
    Tensor m = x.max(dim, true).detach();
    Tensor r = x.sub(m).exp().sum(dim, true).log().add(m);
    return keepDim ? r : r.squeeze(dim);
  }

  /** One-hot rows: {@code [labels.length, classes]}, a constant of the given dtype on the default device. */
  public static Tensor oneHot(int[] labels, int classes, DType dtype) {
    double[] v = new double[Shapes.numel("oneHot", (long) labels.length, classes)];
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= classes) {
        throw new IllegalArgumentException("oneHot: label " + labels[i] + " at position " + i
            + " out of range [0, " + classes + ")");
      }
      v[i * classes + labels[i]] = 1;
    }
    return Tensor.of(v, dtype, labels.length, classes);
  }

  /**
   * Mean cross-entropy of logits {@code [N, C]} against integer labels (length N, each in [0, C)).
   */
  public static Tensor crossEntropy(Tensor logits, int[] labels) {
    if (logits.rank() != 2 || logits.size(0) != labels.length) {
      throw new IllegalArgumentException("crossEntropy: logits " + Shapes.str(logits.shape()) + " do not match "
          + labels.length + " labels (expected [N, C] with N = labels)");
    }
    int c = logits.size(1);
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= c) {
        throw new IllegalArgumentException("crossEntropy: label " + labels[i] + " at position " + i
            + " out of range [0, " + c + ") for logits " + Shapes.str(logits.shape()));
      }
    }
    Tensor oh = oneHot(labels, c, logits.dtype()).to(logits.device());
    return logSoftmax(logits, 1).mul(oh).sum().div(-(double) Math.max(labels.length, 1));
  }

  /** {@code max(x, 0)} elementwise, NaN kept: the same as {@link Tensor#relu()}, for code written in F's style. */
  public static Tensor relu(Tensor x) {
    return x.relu();
  }

  /**
   * Combines two lists of tensors pairwise, in one call: the update of a list of parameters by their gradients,
   * as PyTorch users write with {@code torch._foreach_*}.
   *
   * <pre>{@code List<Tensor> fast = F.zip(params, grads, (p, g) -> p.sub(g.mul(lr)));   // one SGD step }</pre>
   *
   * @throws IllegalArgumentException when the lists differ in length (naming both)
   */
  public static List<Tensor> zip(List<Tensor> a, List<Tensor> b,
      java.util.function.BinaryOperator<Tensor> fn) {
    if (a.size() != b.size()) {
      throw new IllegalArgumentException("F.zip: lists of " + a.size() + " and " + b.size() + " tensors");
    }
    Tensor[] out = new Tensor[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = fn.apply(a.get(i), b.get(i));
    }
    return List.of(out);
  }

  /** Mean squared error {@code mean((a - b)^2)}; shapes must match exactly. */
  public static Tensor mse(Tensor a, Tensor b) {
    if (!Arrays.equals(a.shape(), b.shape())) {
      throw new IllegalArgumentException("mse: shapes " + Shapes.str(a.shape()) + " and " + Shapes.str(b.shape())
          + " differ");
    }
    Tensor d = a.sub(b);
    return d.mul(d).mean();
  }

  /** Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p). */
  public static Tensor dropout(Tensor x, double p, Rng rng) {
    if (p < 0 || p >= 1) {
      throw new IllegalArgumentException("dropout: p must be in [0, 1), got " + p);
    }
    if (p == 0) {
      return x;
    }
    double[] m = new double[x.numel()];
    for (int i = 0; i < m.length; i++) {
      m[i] = rng.nextDouble() >= p ? 1.0 / (1 - p) : 0;
    }
    return x.mul(Tensor.of(m, x.dtype(), x.shape()).to(x.device()));
  }

  /** Squared Euclidean distances between rows: a {@code [N, D]}, b {@code [M, D]} to {@code [N, M]}. */
  public static Tensor squaredDistances(Tensor a, Tensor b) {
    if (a.rank() != 2 || b.rank() != 2 || a.size(1) != b.size(1)) {
      throw new IllegalArgumentException("squaredDistances: expected [N, D] and [M, D], got "
          + Shapes.str(a.shape()) + " and " + Shapes.str(b.shape()));
    }
    Tensor d = a.unsqueeze(1).sub(b.unsqueeze(0));
    return d.mul(d).sum(2, false);
  }

  /**
   * Cosine similarity between rows: a {@code [N, D]}, b {@code [M, D]} to {@code [N, M]}, norms clamped
   * below by eps.
   */
  public static Tensor cosineSimilarity(Tensor a, Tensor b, double eps) {
    if (a.rank() != 2 || b.rank() != 2 || a.size(1) != b.size(1)) {
      throw new IllegalArgumentException("cosineSimilarity: expected [N, D] and [M, D], got "
          + Shapes.str(a.shape()) + " and " + Shapes.str(b.shape()));
    }
    Tensor na = a.mul(a).sum(1, true).sqrt().clamp(eps, Double.MAX_VALUE);
    Tensor nb = b.mul(b).sum(1, true).sqrt().clamp(eps, Double.MAX_VALUE);
    return a.div(na).matmul(b.div(nb).mT());
  }

  /** Concatenation along dim (see {@link Tensor#concat}). */
  public static Tensor concat(List<Tensor> parts, int dim) {
    return Tensor.concat(parts, dim);
  }

  /** Stacking along a new dim (see {@link Tensor#stack}). */
  public static Tensor stack(List<Tensor> parts, int dim) {
    return Tensor.stack(parts, dim);
  }

  /** Zero padding of the last two dims of an image batch by p on each side. */
  public static Tensor pad2d(Tensor x, int p) {
    int r = x.rank();
    int[] before = new int[r];
    int[] after = new int[r];
    before[r - 1] = after[r - 1] = before[r - 2] = after[r - 2] = p;
    return x.pad(before, after);
  }
}
