package org.metagrad.nn;

/**
 * Which statistics BatchNorm normalizes with: the known trap of BatchNorm inside meta-learning, made
 * explicit.
 *
 * <pre>{@code new BatchNorm2d(64, BnMode.BATCH_STATS)   // original MAML: transductive batch statistics}</pre>
 */
public enum BnMode {
  /**
   * Batch statistics in training and in evaluation (transductive, as the original MAML); no running
   * statistics are kept and {@link Mode#state()} is not touched.
   */
  BATCH_STATS,
  /**
   * PyTorch's behaviour: batch statistics in training, which also update {@code running_mean} and
   * {@code running_var} in {@link Mode#state()} with momentum 0.1 and the unbiased batch variance;
   * running statistics in evaluation.
   */
  RUNNING_STATS,
  /**
   * MAML++ per-step statistics: like {@link #RUNNING_STATS} but with one set of running statistics per
   * inner step {@link Mode#step()}, named {@code running_mean.step{k}}, {@code running_var.step{k}},
   * {@code num_batches_tracked.step{k}}.
   */
  PER_STEP
}
