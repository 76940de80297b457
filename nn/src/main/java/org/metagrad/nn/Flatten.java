package org.metagrad.nn;

import org.metagrad.Tensor;

/**
 * Flattens all dims after the batch dim, {@code [N, d1, d2, ...]} to {@code [N, d1*d2*...]}, as
 * {@code torch.nn.Flatten()}. No parameters.
 *
 * <pre>{@code new Flatten().apply(Params.empty(), Tensor.zeros(5, 64, 1, 1), Mode.TRAIN)  // [5, 64]}</pre>
 */
public final class Flatten extends Stateless {
  /** The layer. */
  public Flatten() {}

  /** x reshaped to {@code [N, -1]}. */
  @Override
  public Tensor apply(Params p, Tensor x, Mode mode) {
    if (x.rank() < 1) {
      throw Layers.badInput(toString(), "[N, ...]", x);
    }
    return x.rank() == 1 ? x.reshape(x.size(0), 1) : x.flatten(1, -1);
  }

  @Override
  public String toString() {
    return "Flatten";
  }
}
