package org.metagrad.nn;

import org.metagrad.Tensor;

/**
 * {@code x > 0 ? x : slope * x} elementwise, any shape, as {@code torch.nn.LeakyReLU(slope)}; composed
 * from core ops ({@code where}), so differentiable to any order. No parameters.
 *
 * <pre>{@code new LeakyReLU(0.1).apply(Params.empty(), Tensor.of(new double[] {-1, 2}, 2), Mode.TRAIN)  // [-0.1, 2]}</pre>
 */
public final class LeakyReLU extends Stateless {
  private final double slope;

  /** PyTorch's default slope 0.01. */
  public LeakyReLU() {
    this(0.01);
  }

  /** The given negative slope. */
  public LeakyReLU(double slope) {
    if (!Double.isFinite(slope)) {
      throw new IllegalArgumentException("LeakyReLU: slope must be finite, got " + slope);
    }
    this.slope = slope;
  }

  /** The negative slope. */
  public double slope() {
    return slope;
  }

  /** {@code x > 0 ? x : slope * x}, the function itself, usable outside a module. */
  public static Tensor leakyRelu(Tensor x, double slope) {
    return Tensor.where(x.gt(0), x, x.mul(slope));
  }

  /** {@code leakyRelu(x, slope)}. */
  @Override
  public Tensor apply(Params p, Tensor x, Mode mode) {
    return leakyRelu(x, slope);
  }

  @Override
  public String toString() {
    return "LeakyReLU(" + slope + ")";
  }
}
