package org.metagrad.meta.algo;

/**
 * Differentiation order of a gradient-based inner loop. {@link #SECOND} differentiates through the inner
 * gradients (exact MAML meta-gradient, Finn et al. 2017); {@link #FIRST} treats them as constants
 * (first-order MAML), so the meta-gradient is the query-loss gradient evaluated at the adapted weights.
 */
public enum Order {
  /** Inner gradients detached: {@code fast = fast - lr * g.detach()}. */
  FIRST,
  /** Inner gradients recorded ({@code GradOptions.createGraph(true)}) and differentiated again. */
  SECOND
}
