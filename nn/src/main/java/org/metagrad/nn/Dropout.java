package org.metagrad.nn;

import org.metagrad.F;
import org.metagrad.Tensor;

/**
 * Inverted dropout, as {@code torch.nn.Dropout(p)}: in training, each element is zeroed with probability
 * p and the rest scaled by {@code 1/(1-p)}, with randomness drawn from {@link Mode#rng()}; identity in
 * evaluation or when the mode has no rng. Any shape. No parameters.
 *
 * <pre>{@code new Dropout(0.5).apply(Params.empty(), x, Mode.train().withRng(new Rng(7)))}</pre>
 */
public final class Dropout extends Stateless {
  private final double p;

  /** Drop probability p in [0, 1). */
  public Dropout(double p) {
    if (!(p >= 0 && p < 1)) {
      throw new IllegalArgumentException("Dropout: p must be in [0, 1), got " + p);
    }
    this.p = p;
  }

  /** The drop probability. */
  public double p() {
    return p;
  }

  /** Masked and rescaled x in training with an rng, else x. */
  @Override
  public Tensor apply(Params params, Tensor x, Mode mode) {
    if (!mode.training() || mode.rng() == null || p == 0) {
      return x;
    }
    return F.dropout(x, p, mode.rng());
  }

  @Override
  public String toString() {
    return "Dropout(" + p + ")";
  }
}
