package org.metagrad.spark;

import java.io.Serializable;

/**
 * A failure injected into a distributed job, for testing that Spark's re-execution leaves the result
 * unchanged: the first attempt ({@code TaskContext.attemptNumber() == 0}) of partition {@code partition} of
 * the gradient job of meta-iteration {@code iteration} throws after computing its first task's gradient.
 * Retries need {@code spark.task.maxFailures >= 2}; note that the {@code local[N]} master allows no retry
 * ({@code local[N,F]} allows F - 1).
 *
 * @param iteration the meta-iteration (1-based) whose gradient job fails once
 * @param partition the partition that fails on its first attempt
 */
public record FaultInjection(long iteration, int partition) implements Serializable {
  /**
   * Validates the values.
   *
   * @throws IllegalArgumentException for an iteration below 1 or a negative partition
   */
  public FaultInjection {
    if (iteration < 1 || partition < 0) {
      throw new IllegalArgumentException("FaultInjection: iteration must be >= 1 and partition >= 0, got "
          + iteration + " and " + partition);
    }
  }

  /** The exception's message prefix (tests look for it in Spark's logs and listener events). */
  public static final String MESSAGE = "metagrad: injected failure";
}
