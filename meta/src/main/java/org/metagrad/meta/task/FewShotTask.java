package org.metagrad.meta.task;

import org.metagrad.DType;
import org.metagrad.Tensor;

/**
 * A few-shot task: a support set to adapt on and a query set to evaluate on, each carrying its own loss,
 * so gradient-based meta-learners (MAML, Meta-SGD, ANIL, Reptile) work for classification and regression
 * alike. Metric-based learners need class labels and accept only {@link Task}.
 *
 * <p>The two kinds: {@link Task} (cross-entropy on integer labels) and {@link RegressionTask} (mean
 * squared error on tensor targets).
 */
public sealed interface FewShotTask permits Task, RegressionTask {

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
