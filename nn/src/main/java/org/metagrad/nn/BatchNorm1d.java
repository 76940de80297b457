package org.metagrad.nn;

import org.metagrad.Tensor;

/**
 * Batch normalization of features {@code [N, C]} (statistics over N) or sequences {@code [N, C, L]}
 * (over N and L); see {@link BatchNorm} for the formula, state names and modes.
 *
 * <pre>{@code new BatchNorm1d(256, BnMode.RUNNING_STATS)}</pre>
 */
public final class BatchNorm1d extends BatchNorm {
  /** Affine, eps 1e-5, momentum 0.1, in the given mode. */
  public BatchNorm1d(int channels, BnMode mode) {
    this(channels, mode, org.metagrad.F.BN_EPS, DEFAULT_MOMENTUM, true, 1);
  }

  private BatchNorm1d(int channels, BnMode mode, double eps, double momentum, boolean affine, int steps) {
    super("BatchNorm1d", channels, mode, eps, momentum, affine, steps);
  }

  @Override
  BatchNorm copy(double eps, double momentum, boolean affine, int steps) {
    return new BatchNorm1d(channels(), mode(), eps, momentum, affine, steps);
  }

  @Override
  void checkRank(Tensor x) {
    if (x.rank() != 2 && x.rank() != 3) {
      throw Layers.badInput(toString(), expectedShape(), x);
    }
  }

  @Override
  String expectedShape() {
    return "[N, " + channels() + "] or [N, " + channels() + ", L]";
  }

  @Override
  String kind() {
    return "BatchNorm1d";
  }
}
