package org.metagrad.meta.algo;

import java.util.List;
import org.metagrad.Tensor;

/**
 * The outcome of one meta-training forward pass on a task: the query loss after adaptation, a scalar that
 * is differentiable with respect to the meta-parameters, and the query accuracy (NaN for regression).
 *
 * @param loss scalar query loss; {@code Autograd.grad(loss, params.values())} is the meta-gradient
 * @param accuracy fraction of correctly classified queries, or NaN
 */
public record MetaStep(Tensor loss, double accuracy) {

  /** Validates that the loss is a scalar. */
  public MetaStep {
    if (loss == null || loss.numel() != 1) {
      throw new IllegalArgumentException("MetaStep: loss must be a scalar tensor");
    }
  }

  /** The mean over a meta-batch: loss {@code (1/B) sum_b loss_b} (still differentiable), mean accuracy. */
  public static MetaStep mean(List<MetaStep> steps) {
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("MetaStep.mean: empty meta-batch");
    }
    Tensor sum = null;
    double acc = 0;
    for (MetaStep s : steps) {
      sum = sum == null ? s.loss : sum.add(s.loss);
      acc += s.accuracy;
    }
    return new MetaStep(sum.div((double) steps.size()), acc / steps.size());
  }

  /** The loss value as a double. */
  public double lossValue() {
    return loss.item();
  }
}
