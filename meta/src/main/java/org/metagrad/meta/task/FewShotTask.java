package org.metagrad.meta.task;

import org.metagrad.DType;
import org.metagrad.Tensor;

/**
 * A few-shot task: a support set to adapt on and a query set to evaluate on, each carrying its own loss,
 * so gradient-based meta-learners (MAML, Meta-SGD, ANIL, Reptile) work for classification and regression
 * alike. Metric-based learners need class labels and accept only {@link Task}.
 *
 * <p>Two kinds come with the library: {@link Task} (cross-entropy on integer labels) and {@link RegressionTask}
 * (mean squared error on tensor targets). Bring your own data as either (build a {@code Task} from your tensors
 * and labels with {@link Task#of}), or implement this interface for another loss: every gradient-based learner
 * and {@link org.metagrad.meta.train.MetaTrainer} (through a {@link org.metagrad.meta.train.TaskSource} lambda)
 * then trains on it. Implementations must be immutable and their losses differentiable to second order.
 *
 * <pre>{@code
 * record HuberTask(Tensor supportX, Tensor supportY, Tensor queryX, Tensor queryY) implements FewShotTask {
 *   public Tensor supportLoss(Tensor out) { return huber(out, supportY); }
 *   public Tensor queryLoss(Tensor out) { return huber(out, queryY); }
 *   public double queryAccuracy(Tensor out) { return Double.NaN; }
 *   public FewShotTask to(DType d) { return new HuberTask(supportX.to(d), supportY.to(d), queryX.to(d), queryY.to(d)); }
 * }
 * }</pre>
 */
public interface FewShotTask {

  /** Support inputs, first dim = number of support examples. */
  Tensor supportX();

  /** Query inputs, first dim = number of query examples. */
  Tensor queryX();

  /** Number of support examples ({@code supportX().size(0)}). */
  default int supportSize() {
    return supportX().size(0);
  }

  /** Number of query examples ({@code queryX().size(0)}). */
  default int querySize() {
    return queryX().size(0);
  }

  /** The task's loss of model outputs on the support set (a differentiable scalar). */
  Tensor supportLoss(Tensor outputs);

  /** The task's loss of model outputs on the query set (a differentiable scalar). */
  Tensor queryLoss(Tensor outputs);

  /** Fraction of query examples whose arg-max output is the label; NaN for regression. */
  double queryAccuracy(Tensor outputs);

  /** The same task with inputs (and tensor targets) converted to {@code dtype}. */
  FewShotTask to(DType dtype);
}
