package org.metagrad.meta.task;

import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * One sine wave of the MAML regression benchmark (Finn et al. 2017, sec. 5.1): {@code y = A sin(x - phase)}
 * with amplitude {@code A ~ U[0.1, 5]}, phase {@code ~ U[0, pi]} and inputs {@code x ~ U[-5, 5]}. The single
 * source of sine tasks: {@link RegressionTask#sine} is {@code SineWave.sample(rng).task(rng, k, q, dtype)}.
 *
 * <pre>{@code
 * SineWave w = SineWave.sample(rng);
 * RegressionTask t = w.task(rng, 10, 10, DType.FLOAT32);   // x, y [10, 1]
 * Tensor[] xy = w.curve(200, DType.FLOAT32);               // the true function on a grid, for plots
 * }</pre>
 *
 * @param amplitude A
 * @param phase the phase in radians
 */
public record SineWave(double amplitude, double phase) {
  /** Smallest amplitude. */
  public static final double A_MIN = 0.1;
  /** Largest amplitude. */
  public static final double A_MAX = 5.0;
  /** Inputs are drawn from {@code [-X_RANGE, X_RANGE]}. */
  public static final double X_RANGE = 5.0;

  /** Draws amplitude then phase from the benchmark's distributions. */
  public static SineWave sample(Rng rng) {
    double a = A_MIN + (A_MAX - A_MIN) * rng.nextDouble();
    double phase = Math.PI * rng.nextDouble();
    return new SineWave(a, phase);
  }

  /** {@code A sin(x - phase)}. */
  public double value(double x) {
    return amplitude * StrictMath.sin(x - phase);
  }

  /**
   * A task on this wave: k support then q query inputs drawn uniformly from [-5, 5], shapes {@code [k, 1]} and
   * {@code [q, 1]}.
   *
   * @throws IllegalArgumentException if k or q is below 1
   */
  public RegressionTask task(Rng rng, int k, int q, DType dtype) {
    if (k < 1 || q < 1) {
      throw new IllegalArgumentException("sine task: k and q must be >= 1, got " + k + ", " + q);
    }
    Tensor[] s = points(rng, k, dtype);
    Tensor[] qq = points(rng, q, dtype);
    return new RegressionTask(s[0], s[1], qq[0], qq[1]);
  }

  private Tensor[] points(Rng rng, int n, DType dtype) {
    double[] x = new double[n];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = -X_RANGE + 2 * X_RANGE * rng.nextDouble();
      y[i] = value(x[i]);
    }
    return new Tensor[] {Tensor.of(x, dtype, n, 1), Tensor.of(y, dtype, n, 1)};
  }

  /** The true function on a grid of n >= 2 points over [-5, 5], as {@code [n, 1]} x and y. */
  public Tensor[] curve(int n, DType dtype) {
    if (n < 2) {
      throw new IllegalArgumentException("sine curve: need at least 2 points, got " + n);
    }
    double[] x = new double[n];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = -X_RANGE + 2 * X_RANGE * i / (n - 1.0);
      y[i] = value(x[i]);
    }
    return new Tensor[] {Tensor.of(x, dtype, n, 1), Tensor.of(y, dtype, n, 1)};
  }
}
