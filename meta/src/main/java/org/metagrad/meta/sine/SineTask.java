package org.metagrad.meta.sine;

import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * One sine-wave regression task of Finn et al. (2017), section 5.1: {@code y = A sin(x - phase)} with
 * amplitude {@code A ~ U[0.1, 5]}, phase {@code ~ U[0, pi]}, inputs {@code x ~ U[-5, 5]}. Support and
 * query points are drawn independently; x and y are {@code [K, 1]}.
 *
 * <pre>{@code SineTask t = SineTask.sample(new Rng(1), 10, 10, DType.FLOAT32); }</pre>
 */
public record SineTask(double amplitude, double phase, Tensor supportX, Tensor supportY, Tensor queryX,
                       Tensor queryY) {

  /** Minimum and maximum amplitude, phase and input range, as in the MAML paper. */
  public static final double A_MIN = 0.1;
  /** Maximum amplitude. */
  public static final double A_MAX = 5.0;
  /** Input range half-width. */
  public static final double X_RANGE = 5.0;

  /** Draws a task with k support and q query points. */
  public static SineTask sample(Rng rng, int k, int q, DType dtype) {
    if (k < 1 || q < 1) {
      throw new IllegalArgumentException("SineTask: need at least one support and one query point, got K=" + k
          + " Q=" + q);
    }
    double a = A_MIN + (A_MAX - A_MIN) * rng.nextDouble();
    double phase = Math.PI * rng.nextDouble();
    Tensor[] s = points(rng, k, a, phase, dtype);
    Tensor[] qq = points(rng, q, a, phase, dtype);
    return new SineTask(a, phase, s[0], s[1], qq[0], qq[1]);
  }

  private static Tensor[] points(Rng rng, int n, double a, double phase, DType dtype) {
    double[] x = new double[n];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = -X_RANGE + 2 * X_RANGE * rng.nextDouble();
      y[i] = a * Math.sin(x[i] - phase);
    }
    return new Tensor[] {Tensor.of(x, dtype, n, 1), Tensor.of(y, dtype, n, 1)};
  }

  /** The true function on a grid of n points over [-5, 5], as {@code [n, 1]} x and y. */
  public Tensor[] curve(int n, DType dtype) {
    double[] x = new double[n];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = -X_RANGE + 2 * X_RANGE * i / (n - 1.0);
      y[i] = amplitude * Math.sin(x[i] - phase);
    }
    return new Tensor[] {Tensor.of(x, dtype, n, 1), Tensor.of(y, dtype, n, 1)};
  }
}
