package org.metagrad.nn;

import org.metagrad.Tensor;

/**
 * Batch normalization of images {@code [N, C, H, W]} per channel, statistics over N, H and W; see
 * {@link BatchNorm} for the formula, state names and modes.
 *
 * <pre>{@code new BatchNorm2d(64, BnMode.BATCH_STATS).affine(false)}</pre>
 */
public final class BatchNorm2d extends BatchNorm {
  /** Affine, eps 1e-5, momentum 0.1, in the given mode. */
  public BatchNorm2d(int channels, BnMode mode) {
    this(channels, mode, org.metagrad.F.BN_EPS, DEFAULT_MOMENTUM, true, 1);
  }

  private BatchNorm2d(int channels, BnMode mode, double eps, double momentum, boolean affine, int steps) {
    super("BatchNorm2d", channels, mode, eps, momentum, affine, steps);
  }

  @Override
  BatchNorm copy(double eps, double momentum, boolean affine, int steps) {
    return new BatchNorm2d(channels(), mode(), eps, momentum, affine, steps);
  }

  @Override
  void checkRank(Tensor x) {
    if (x.rank() != 4) {
      throw Layers.badInput(toString(), expectedShape(), x);
    }
  }

  @Override
  String expectedShape() {
    return "[N, " + channels() + ", H, W]";
  }

  @Override
  String kind() {
    return "BatchNorm2d";
  }
}
