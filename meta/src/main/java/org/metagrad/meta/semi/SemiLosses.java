package org.metagrad.meta.semi;

import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.metagrad.Autograd;
import org.metagrad.F;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * The unsupervised losses of the semi- and self-supervised methods, written with core tensor ops (so their
 * gradients are graphs like every other op's). Logits are {@code [N, K]}; probabilities are their softmax
 * over classes; "mean" is over the N rows unless said otherwise.
 *
 * <ul>
 *   <li>{@link #consistency}: {@code mean_{n,k} (softmax(a)_nk - softmax(b)_nk)^2}, the squared-error
 *       consistency of the Pi-model (Laine and Aila 2017) and Mean Teacher (Tarvainen and Valpola 2017;
 *       there {@code b} is the teacher's, detached by the caller);</li>
 *   <li>{@link #kl}: {@code mean_n sum_k p_nk (log p_nk - log q_nk)}, the divergence of VAT (Miyato et al.
 *       2018), with {@link #vatPerturbation} the adversarial direction by power iteration;</li>
 *   <li>{@link #pseudoLabel}: confidence-thresholded hard pseudo-labels (Lee 2013; FixMatch's Sohn et al. 2020
 *       with a weak and a strong view, {@link #fixMatch});</li>
 *   <li>{@link #ntXent}: SimCLR's normalised temperature-scaled cross-entropy (Chen et al. 2020);</li>
 *   <li>{@link #byol}: BYOL's normalised squared error {@code 2 - 2 cos(p, z)} (Grill et al. 2020).</li>
 * </ul>
 */
public final class SemiLosses {
  private SemiLosses() {}

  private static void logits(String op, Tensor a) {
    if (a == null || a.rank() != 2) {
      throw new IllegalArgumentException(op + ": expected logits [N, K], got "
          + (a == null ? "null" : Arrays.toString(a.shape())));
    }
  }

  private static void same(String op, Tensor a, Tensor b) {
    logits(op, a);
    logits(op, b);
    if (!Arrays.equals(a.shape(), b.shape())) {
      throw new IllegalArgumentException(op + ": shapes " + Arrays.toString(a.shape()) + " and "
          + Arrays.toString(b.shape()) + " differ");
    }
  }

  /**
   * Squared-error consistency between the class probabilities of two sets of logits:
   * {@code mean_n sum_k (softmax(a)_nk - softmax(b)_nk)^2}, the squared distance of the probability vectors.
   * (Laine and Aila and the Mean Teacher code divide it by the number of classes K as well and use weights of
   * 30-100 for K = 10; with 964 classes that division would shrink the term 100 times more, so it is left out
   * here and the weight is 10.) Gradients flow into both arguments; detach {@code b} for a fixed target (Mean
   * Teacher).
   *
   * @param a logits {@code [N, K]}
   * @param b logits {@code [N, K]}
   * @return the scalar loss
   * @throws IllegalArgumentException when the shapes are not equal {@code [N, K]}
   */
  public static Tensor consistency(Tensor a, Tensor b) {
    same("consistency", a, b);
    return F.softmax(a, 1).sub(F.softmax(b, 1)).square().sum().div((double) a.size(0));
  }

  /**
   * {@code KL(p || q) = mean_n sum_k p_nk (log p_nk - log q_nk)} with {@code p = softmax(pLogits)} and
   * {@code q = softmax(qLogits)}, computed with log-softmax (stable for large logits).
   *
   * @param pLogits logits of the reference distribution {@code [N, K]} (detach it for VAT)
   * @param qLogits logits of the other {@code [N, K]}
   * @return the scalar divergence
   * @throws IllegalArgumentException when the shapes are not equal {@code [N, K]}
   */
  public static Tensor kl(Tensor pLogits, Tensor qLogits) {
    same("kl", pLogits, qLogits);
    Tensor logP = F.logSoftmax(pLogits, 1);
    Tensor logQ = F.logSoftmax(qLogits, 1);
    return logP.exp().mul(logP.sub(logQ)).sum().div((double) pLogits.size(0));
  }

  /** How VAT's power iteration gets the product of the divergence's Hessian with a direction. */
  public enum Direction {
    /**
     * Miyato et al.'s finite difference: {@code g = grad_r KL(p || f(x + r))} at {@code r = xi d}, which is
     * {@code xi H d + O(xi^2)} since the divergence and its gradient vanish at {@code r = 0}.
     */
    FINITE_DIFFERENCE,
    /**
     * The exact Hessian-vector product by double backward: {@code H d = grad_r <grad_r KL(p || f(x + r)), d>}
     * at {@code r = 0}, the first gradient recorded with {@code createGraph}.
     */
    HESSIAN
  }

  /**
   * VAT's adversarial perturbation {@code r_adv = eps * d / ||d||} per example, {@code d} the dominant
   * eigenvector of the Hessian of {@code r -> KL(softmax(clean) || softmax(f(x + r)))} at {@code r = 0},
   * approximated by {@code iterations} power iterations from a Gaussian direction drawn from {@code rng}
   * (Miyato et al. 2018, Algorithm 1). Norms are L2 over all of an example's elements. Returns a detached
   * tensor of x's shape and dtype.
   *
   * @param f the network's logits of a batch shaped like x
   * @param x the inputs (not differentiated)
   * @param clean the logits of x, the reference distribution (detached here)
   * @param xi the finite-difference step (used by {@link Direction#FINITE_DIFFERENCE} only), > 0
   * @param eps the perturbation's norm, >= 0
   * @param iterations power iterations, >= 1
   * @param direction how the Hessian-vector product is formed
   * @param rng the generator of the starting direction
   * @return {@code r_adv}, detached
   * @throws IllegalArgumentException for a bad option
   */
  public static Tensor vatPerturbation(UnaryOperator<Tensor> f, Tensor x, Tensor clean, double xi, double eps,
                                       int iterations, Direction direction, Rng rng) {
    if (!(xi > 0) || !(eps >= 0) || Double.isInfinite(eps) || iterations < 1 || direction == null) {
      throw new IllegalArgumentException("vatPerturbation: need xi > 0, finite eps >= 0, iterations >= 1 and a"
          + " direction; got xi " + xi + ", eps " + eps + ", iterations " + iterations + ", " + direction);
    }
    if (x.rank() < 2) {
      throw new IllegalArgumentException("vatPerturbation: x must be a batch [N, ...], got " + Arrays.toString(
          x.shape()));
    }
    Tensor p = clean.detach();
    Tensor xd = x.detach();
    Tensor d = unit(Tensor.randn(rng, x.dtype(), x.shape()).to(x.device()));
    for (int i = 0; i < iterations; i++) {
      Tensor g = direction == Direction.FINITE_DIFFERENCE ? divergenceGradient(f, xd, p, d.mul(xi))
          : hessianVector(f, xd, p, d);
      d = unit(g.detach());
    }
    return d.mul(eps).detach();
  }

  /**
   * Per-example unit vectors for the power iteration, without gradient: each example first divided by its
   * largest magnitude (+1e-30), as Miyato et al.'s code does, so that the additive 1e-12 of {@link #normalise}
   * stays negligible for a gradient of any scale (the finite-difference gradient is of the order of xi).
   */
  private static Tensor unit(Tensor d) {
    int[] dims = new int[d.rank() - 1];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = i + 1;
    }
    return normalise(d.div(d.abs().max(dims, true).add(1e-30)));
  }

  /**
   * {@code grad_r KL(softmax(clean) || softmax(f(x + r)))} at {@code r} (first order, detached).
   *
   * @param f the logits function
   * @param x the inputs
   * @param clean the reference logits
   * @param r where the gradient is taken, shaped like x
   * @return the gradient, shaped like x
   */
  static Tensor divergenceGradient(UnaryOperator<Tensor> f, Tensor x, Tensor clean, Tensor r) {
    Tensor rr = r.detach().requiresGrad(true);
    return Autograd.grad(kl(clean.detach(), f.apply(x.detach().add(rr))), List.of(rr)).get(0).detach();
  }

  /**
   * The Hessian-vector product {@code H v} of {@code r -> KL(softmax(clean) || softmax(f(x + r)))} at
   * {@code r = 0}, by double backward: the gradient recorded with {@code createGraph}, its inner product with
   * {@code v} differentiated again.
   *
   * @param f the logits function
   * @param x the inputs
   * @param clean the reference logits
   * @param v the direction, shaped like x
   * @return {@code H v}, detached
   */
  static Tensor hessianVector(UnaryOperator<Tensor> f, Tensor x, Tensor clean, Tensor v) {
    Tensor r = Tensor.zeros(x.dtype(), x.shape()).to(x.device()).requiresGrad(true);
    Tensor g0 = Autograd.grad(kl(clean.detach(), f.apply(x.detach().add(r))), List.of(r),
        GradOptions.createGraph(true)).get(0);
    return Autograd.grad(g0.mul(v.detach()).sum(), List.of(r)).get(0).detach();
  }

  /**
   * Each example (row of the first dimension) divided by its L2 norm over the other dimensions
   * ({@code + 1e-12}, so a zero example stays zero).
   *
   * @param d a batch {@code [N, ...]}
   * @return the normalised batch
   */
  public static Tensor normalise(Tensor d) {
    int[] dims = new int[d.rank() - 1];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = i + 1;
    }
    return d.div(d.square().sum(dims, true).sqrt().add(1e-12));
  }

  /**
   * Hard pseudo-labels and their confidence mask: per row the arg-max class of {@code softmax(logits)} and
   * whether its probability is at least {@code threshold} (ties to the lowest class; a row holding NaN is
   * never confident).
   *
   * @param logits {@code [N, K]}
   * @param threshold in [0, 1]
   * @return labels and mask
   */
  public static PseudoLabels pseudoLabels(Tensor logits, double threshold) {
    logits("pseudoLabels", logits);
    if (!(threshold >= 0 && threshold <= 1)) {
      throw new IllegalArgumentException("pseudoLabels: threshold must be in [0, 1], got " + threshold);
    }
    double[] p;
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      p = F.softmax(logits.detach(), 1).toDoubleArray();
    }
    int n = logits.size(0);
    int k = logits.size(1);
    int[] y = new int[n];
    boolean[] mask = new boolean[n];
    for (int i = 0; i < n; i++) {
      int best = 0;
      for (int j = 1; j < k; j++) {
        if (p[i * k + j] > p[i * k + best]) {
          best = j;
        }
      }
      y[i] = best;
      mask[i] = p[i * k + best] >= threshold;
    }
    return new PseudoLabels(y, mask);
  }

  /**
   * Hard pseudo-labels with a confidence mask.
   *
   * @param labels the arg-max class per row
   * @param confident whether the row's top probability reached the threshold
   */
  public record PseudoLabels(int[] labels, boolean[] confident) {
    /** The fraction of confident rows. @return in [0, 1] */
    public double rate() {
      int c = 0;
      for (boolean b : confident) {
        c += b ? 1 : 0;
      }
      return confident.length == 0 ? 0 : (double) c / confident.length;
    }
  }

  /**
   * The masked cross-entropy {@code (1/N) sum_n mask_n * (-log softmax(logits)_{n, y_n})}: divided by all N
   * rows, confident or not, as FixMatch's loss is (so the weight of the term grows with the confident fraction).
   *
   * @param logits the logits trained {@code [N, K]}
   * @param target labels and mask of N rows
   * @return the scalar loss (0 when no row is confident, still a graph)
   */
  public static Tensor maskedCrossEntropy(Tensor logits, PseudoLabels target) {
    logits("maskedCrossEntropy", logits);
    int n = logits.size(0);
    int k = logits.size(1);
    if (target.labels().length != n) {
      throw new IllegalArgumentException("maskedCrossEntropy: " + target.labels().length + " targets for " + n
          + " rows");
    }
    double[] w = new double[n * k];
    for (int i = 0; i < n; i++) {
      if (target.confident()[i]) {
        w[i * k + target.labels()[i]] = 1;
      }
    }
    Tensor weights = Tensor.of(w, logits.dtype(), n, k).to(logits.device());
    return F.logSoftmax(logits, 1).mul(weights).sum().div(-(double) Math.max(n, 1));
  }

  /**
   * Pseudo-labelling (Lee 2013, with the confidence threshold of Oliver et al. 2018's implementation): the
   * masked cross-entropy of {@code logits} against their own confident arg-max classes.
   *
   * @param logits {@code [N, K]}
   * @param threshold confidence threshold in [0, 1]
   * @return the scalar loss
   */
  public static Tensor pseudoLabel(Tensor logits, double threshold) {
    return maskedCrossEntropy(logits, pseudoLabels(logits, threshold));
  }

  /**
   * FixMatch's unlabelled loss (Sohn et al. 2020, eq. 4): pseudo-labels from the weakly augmented view's
   * logits (no gradient), confident ones (max probability >= {@code threshold}) training the strongly
   * augmented view: {@code (1/N) sum_n 1[max q_n >= tau] CE(argmax q_n, strong_n)}.
   *
   * @param weak logits of the weak views {@code [N, K]}
   * @param strong logits of the strong views {@code [N, K]}
   * @param threshold tau, in [0, 1] (0.95 in the paper)
   * @return the scalar loss
   */
  public static Tensor fixMatch(Tensor weak, Tensor strong, double threshold) {
    same("fixMatch", weak, strong);
    return maskedCrossEntropy(strong, pseudoLabels(weak, threshold));
  }

  /**
   * SimCLR's NT-Xent loss over a batch of N pairs (Chen et al. 2020, eq. 1): with {@code z = [z1; z2]}
   * ({@code 2N} rows) L2-normalised and {@code s_ij = z_i . z_j / t}, the loss is
   * {@code (1/2N) sum_i -log(exp(s_{i,j(i)}) / sum_{k != i} exp(s_ik))} where {@code j(i)} is i's other view.
   *
   * @param z1 projections of the first views {@code [N, D]}
   * @param z2 projections of the second views {@code [N, D]}, row n the same image as z1's
   * @param temperature t, > 0
   * @return the scalar loss
   * @throws IllegalArgumentException for different shapes, fewer than 2 pairs or a temperature not above 0
   */
  public static Tensor ntXent(Tensor z1, Tensor z2, double temperature) {
    same("ntXent", z1, z2);
    int n = z1.size(0);
    if (n < 2 || !(temperature > 0)) {
      throw new IllegalArgumentException("ntXent: need at least 2 pairs and temperature > 0, got " + n + " and "
          + temperature);
    }
    Tensor z = normalise(Tensor.concat(List.of(z1, z2), 0));
    Tensor s = z.matmul(z.mT()).div(temperature);
    // A row's own similarity is left out of its softmax: a finite -1e4 below the others (exp underflows to
    // exactly 0), not -inf, whose product with the one-hot's 0 would be NaN.
    Tensor self = Tensor.eye(2 * n, z.dtype()).to(z.device()).mul(1e4);
    int[] pos = new int[2 * n];
    for (int i = 0; i < n; i++) {
      pos[i] = i + n;
      pos[i + n] = i;
    }
    return F.crossEntropy(s.sub(self), pos);
  }

  /**
   * BYOL's regression loss {@code mean_n (2 - 2 cos(p_n, z_n))}, the squared distance of the L2-normalised
   * vectors (Grill et al. 2020, eq. 2); {@code z} is the target network's projection (detach it).
   *
   * @param p the online predictions {@code [N, D]}
   * @param z the target projections {@code [N, D]}
   * @return the scalar loss
   */
  public static Tensor byol(Tensor p, Tensor z) {
    same("byol", p, z);
    return normalise(p).mul(normalise(z)).sum(1, false).mul(-2.0).add(2.0).mean();
  }

  /**
   * The sigmoid-shaped ramp-up {@code exp(-5 (1 - t)^2)} for {@code t = min(step / rampSteps, 1)} of Laine
   * and Aila (2017) and Tarvainen and Valpola (2017) (1 for {@code rampSteps <= 0}).
   *
   * @param step the current step, >= 0
   * @param rampSteps the length of the ramp
   * @return the weight in (0, 1]
   */
  public static double rampUp(long step, long rampSteps) {
    if (rampSteps <= 0) {
      return 1;
    }
    double t = Math.min(1.0, Math.max(0.0, (double) step / rampSteps));
    return StrictMath.exp(-5 * (1 - t) * (1 - t));
  }

}
