package org.metagrad.meta.l2l;

import org.metagrad.Tensor;

/**
 * A batch of B optimisation problems ("functions" in Andrychowicz et al. 2016) sharing one flat parameter
 * vector {@code theta [n]}: problem b owns its own slice of the coordinates, so the gradient of the summed
 * loss with respect to a coordinate is the gradient of that coordinate's own problem.
 *
 * <pre>{@code
 * Optimizee f = QuadraticFunctions.sample(new Rng(1), 64, 10, DType.FLOAT64);
 * Tensor theta = f.initialParams();           // [640]
 * Tensor l = f.losses(theta, 0);              // [64], one loss per quadratic
 * }</pre>
 */
public interface Optimizee {

  /** The starting point {@code theta_0 [n]} (no graph). */
  Tensor initialParams();

  /** Number of problems B in the batch. */
  int functions();

  /**
   * The loss of every problem at {@code theta [n]} for optimisation step {@code step} (stochastic problems
   * draw step's minibatch from it; deterministic ones ignore it): {@code [B]}, differentiable in theta.
   */
  Tensor losses(Tensor theta, int step);

  /**
   * The loss reported in evaluations ({@code [B]}): by default {@link #losses} at step 0; a stochastic problem
   * returns its full-data loss, so curves show progress rather than minibatch noise.
   */
  default Tensor evalLosses(Tensor theta) {
    return losses(theta, 0);
  }
}
