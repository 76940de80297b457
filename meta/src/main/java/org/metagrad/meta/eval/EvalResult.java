package org.metagrad.meta.eval;

import java.util.Arrays;
import java.util.Locale;

/**
 * Accuracies over test episodes and their summary: the mean and the 95% confidence interval half-width
 * {@code 1.96 * sigma / sqrt(n)}, where sigma is the population standard deviation of the per-episode
 * accuracies ({@code numpy.std}, as in the MAML and ProtoNets evaluation scripts).
 *
 * <pre>{@code
 * EvalResult r = EvalResult.of(new double[] {0.9, 1.0, 0.8});
 * r.mean();   // 0.9
 * r.ci95();   // 1.96 * 0.0816 / sqrt(3) = 0.0924
 * }</pre>
 *
 * @param accuracies per-episode accuracy, in episode order
 * @param mean the mean accuracy
 * @param std the population standard deviation
 * @param ci95 the half-width of the 95% confidence interval of the mean
 */
public record EvalResult(double[] accuracies, double mean, double std, double ci95) {

  /**
   * Summarises per-episode accuracies.
   *
   * @throws IllegalArgumentException if there are none or one is not finite
   */
  public static EvalResult of(double[] accuracies) {
    if (accuracies == null || accuracies.length == 0) {
      throw new IllegalArgumentException("EvalResult: no episodes to summarise");
    }
    int n = accuracies.length;
    double sum = 0;
    for (double a : accuracies) {
      if (!Double.isFinite(a)) {
        throw new IllegalArgumentException("EvalResult: accuracy " + a + " is not finite");
      }
      sum += a;
    }
    double mean = sum / n;
    double ss = 0;
    for (double a : accuracies) {
      ss += (a - mean) * (a - mean);
    }
    double std = Math.sqrt(ss / n);
    return new EvalResult(accuracies.clone(), mean, std, ci95(std, n));
  }

  /** {@code 1.96 * sigma / sqrt(n)}. */
  public static double ci95(double sigma, int n) {
    if (n < 1) {
      throw new IllegalArgumentException("EvalResult: n must be >= 1, got " + n);
    }
    return 1.96 * sigma / Math.sqrt(n);
  }

  /** The number of episodes. */
  public int episodes() {
    return accuracies.length;
  }

  /** Per-episode accuracies (a copy). */
  @Override
  public double[] accuracies() {
    return accuracies.clone();
  }

  /** E.g. {@code 98.41% ± 0.23% (600 episodes)}. */
  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%.2f%% \u00b1 %.2f%% (%d episodes)", 100 * mean, 100 * ci95,
        accuracies.length);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EvalResult r && Arrays.equals(accuracies, r.accuracies);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(accuracies);
  }
}
