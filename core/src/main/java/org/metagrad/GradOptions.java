package org.metagrad;

import java.util.List;

/**
 * Options of {@link Autograd#grad}: whether to record the gradient computation (so it can be
 * differentiated again), whether inputs the outputs do not depend on are allowed (they get zeros), and
 * explicit output gradients for non-scalar outputs.
 *
 * <pre>{@code GradOptions.createGraph(true).allowUnused(true)}</pre>
 */
public record GradOptions(boolean createGraph, boolean allowUnused, List<Tensor> outputGrads) {

  /** No graph, unused inputs rejected, scalar outputs. */
  public static GradOptions defaults() {
    return new GradOptions(false, false, null);
  }

  /** Defaults with {@code createGraph} set. */
  public static GradOptions createGraph(boolean on) {
    return new GradOptions(on, false, null);
  }

  /** A copy with {@code allowUnused} set. */
  public GradOptions allowUnused(boolean on) {
    return new GradOptions(createGraph, on, outputGrads);
  }

  /** A copy with explicit gradients of the outputs (one per output, same shapes). */
  public GradOptions outputGrads(List<Tensor> grads) {
    return new GradOptions(createGraph, allowUnused, grads);
  }
}
