package org.metagrad.nn;

import org.metagrad.Tensor;

/**
 * Mean over the spatial dims, {@code [N, C, H, W]} to {@code [N, C]}, as
 * {@code nn.AdaptiveAvgPool2d(1)} followed by flatten. No parameters.
 *
 * <pre>{@code new GlobalAvgPool2d().apply(Params.empty(), x, Mode.TRAIN)  // [N, 640, 5, 5] -> [N, 640]}</pre>
 */
public final class GlobalAvgPool2d extends Stateless {
  /** The layer. */
  public GlobalAvgPool2d() {}

  /** {@code mean(x, dims 2 and 3)}. */
  @Override
  public Tensor apply(Params p, Tensor x, Mode mode) {
    if (x.rank() != 4) {
      throw Layers.badInput(toString(), "[N, C, H, W]", x);
    }
    return x.mean(new int[] {2, 3}, false);
  }

  @Override
  public String toString() {
    return "GlobalAvgPool2d";
  }
}
