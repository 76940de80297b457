package org.metagrad.meta.task;

import java.util.Arrays;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * A few-shot regression task: support inputs {@code [S, ...]} with targets {@code [S, ...]}, query inputs
 * {@code [Q, ...]} with targets {@code [Q, ...]}; the loss is the mean squared error, whose outputs must
 * have the targets' shape.
 *
 * <pre>{@code RegressionTask t = RegressionTask.sine(rng, 10, 10, DType.FLOAT32);  // x, y [10, 1] }</pre>
 *
 * @param supportX support inputs
 * @param supportY support targets, first dim = S
 * @param queryX query inputs
 * @param queryY query targets, first dim = Q
 */
public record RegressionTask(Tensor supportX, Tensor supportY, Tensor queryX, Tensor queryY)
    implements FewShotTask {

  /**
   * Validates that both sets are non-empty and inputs match targets in number.
   *
   * @throws IllegalArgumentException otherwise
   */
  public RegressionTask {
    check("support", supportX, supportY);
    check("query", queryX, queryY);
  }

  private static void check(String which, Tensor x, Tensor y) {
    if (x == null || y == null) {
      throw new IllegalArgumentException("RegressionTask: null " + which + " set");
    }
    if (x.rank() < 1 || x.size(0) == 0) {
      throw new IllegalArgumentException("RegressionTask: empty " + which + " set");
    }
    if (y.rank() < 1 || y.size(0) != x.size(0)) {
      throw new IllegalArgumentException("RegressionTask: " + which + " inputs " + Arrays.toString(x.shape())
          + " and targets " + Arrays.toString(y.shape()) + " differ in number");
    }
  }

  /**
   * The sine-wave task family of MAML (Finn et al. 2017, sec. 5.1): {@code y = A sin(x - phase)} with
   * amplitude A uniform in [0.1, 5], phase uniform in [0, pi], and x uniform in [-5, 5]; shapes
   * {@code [k, 1]} and {@code [q, 1]}. Same as {@code SineWave.sample(rng).task(rng, k, q, dtype)}.
   *
   * @throws IllegalArgumentException if k or q is below 1
   */
  public static RegressionTask sine(Rng rng, int k, int q, DType dtype) {
    if (k < 1 || q < 1) {
      throw new IllegalArgumentException("RegressionTask.sine: k and q must be >= 1, got " + k + ", " + q);
    }
    return SineWave.sample(rng).task(rng, k, q, dtype);
  }

  /** Mean squared error against the support targets. */
  @Override
  public Tensor supportLoss(Tensor outputs) {
    return F.mse(outputs, supportY);
  }

  /** Mean squared error against the query targets. */
  @Override
  public Tensor queryLoss(Tensor outputs) {
    return F.mse(outputs, queryY);
  }

  /** Always NaN: accuracy is undefined for regression. */
  @Override
  public double queryAccuracy(Tensor outputs) {
    return Double.NaN;
  }

  @Override
  public RegressionTask to(DType dtype) {
    return new RegressionTask(supportX.to(dtype), supportY.to(dtype), queryX.to(dtype), queryY.to(dtype));
  }
}
