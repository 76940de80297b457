package org.metagrad.nn;

import org.metagrad.Tensor;

/**
 * {@code max(x, 0)} elementwise, any shape (gradient 0 at 0, as PyTorch). No parameters.
 *
 * <pre>{@code new ReLU().apply(Params.empty(), Tensor.of(new double[] {-1, 2}, 2), Mode.TRAIN)  // [0, 2]}</pre>
 */
public final class ReLU extends Stateless {
  /** The layer. */
  public ReLU() {}

  /** {@code max(x, 0)}. */
  @Override
  public Tensor apply(Params p, Tensor x, Mode mode) {
    return x.relu();
  }

  @Override
  public String toString() {
    return "ReLU";
  }
}
