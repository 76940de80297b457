package org.metagrad.nn.optim;

import java.util.ArrayList;
import java.util.List;
import org.metagrad.Tensor;
import org.metagrad.nn.Params;

/**
 * Gradient clipping by global norm, as {@code torch.nn.utils.clip_grad_norm_}: with
 * {@code norm = sqrt(sum_i ||g_i||^2)} over all gradients, each is scaled by
 * {@code maxNorm / (norm + 1e-6)} when that factor is below 1, and left alone otherwise. The factor is a
 * constant: gradients that carry a graph keep it, scaled.
 *
 * <pre>{@code
 * GradClip.Clipped<List<Tensor>> c = GradClip.byGlobalNorm(grads, 1.0);
 * opt.step(params, c.grads(), state);  // c.norm() is the norm before clipping
 * }</pre>
 */
public final class GradClip {
  private GradClip() {}

  /**
   * Clipped gradients and the global norm measured before clipping.
   *
   * @param grads the gradients, scaled or the input unchanged
   * @param norm the global L2 norm of the input gradients
   * @param <T> a list of tensors or a {@link Params}
   */
  public record Clipped<T>(T grads, double norm) {}

  /** The global L2 norm {@code sqrt(sum ||g_i||^2)} of the gradients (nulls skipped). */
  public static double globalNorm(List<Tensor> grads) {
    double sq = 0;
    for (Tensor g : grads) {
      if (g != null) {
        Tensor d = g.detach();
        sq += d.mul(d).sum().item();
      }
    }
    return Math.sqrt(sq);
  }

  /** The gradients clipped to global norm at most maxNorm (nulls kept). */
  public static Clipped<List<Tensor>> byGlobalNorm(List<Tensor> grads, double maxNorm) {
    if (!(maxNorm > 0)) {
      throw new IllegalArgumentException("GradClip: maxNorm must be > 0, got " + maxNorm);
    }
    double norm = globalNorm(grads);
    double coef = maxNorm / (norm + 1e-6);
    if (!(coef < 1)) {
      return new Clipped<>(grads, norm);
    }
    List<Tensor> out = new ArrayList<>(grads.size());
    for (Tensor g : grads) {
      out.add(g == null ? null : g.mul(coef));
    }
    return new Clipped<>(out, norm);
  }

  /** The named gradients clipped to global norm at most maxNorm. */
  public static Clipped<Params> byGlobalNorm(Params grads, double maxNorm) {
    Clipped<List<Tensor>> c = byGlobalNorm(grads.values(), maxNorm);
    return new Clipped<>(c.grads() == null ? grads : grads.zip(c.grads(), (a, b) -> b), c.norm());
  }
}
