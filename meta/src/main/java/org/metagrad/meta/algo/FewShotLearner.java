package org.metagrad.meta.algo;

import org.metagrad.Autograd;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

/**
 * A few-shot learner: given (meta-)parameters, it adapts to a task's support set and predicts on new
 * inputs of that task. Adaptation may fine-tune weights (MAML), compute class prototypes (ProtoNet) or
 * remember the support set (Matching Networks); whatever it derives from the task is returned inside the
 * adapted {@link Params} under the {@code task.} prefix.
 *
 * <pre>{@code
 * Params adapted = learner.adapt(params, task);
 * Tensor logits = learner.predict(adapted, task.queryX());
 * double acc = learner.evaluate(params, task);
 * }</pre>
 */
public interface FewShotLearner {

  /**
   * The full parameter set this learner optimises, from the model's initial parameters: the model's own
   * plus any the learner adds (Meta-SGD step sizes, a learned scale, a verification head). The default
   * adds nothing.
   */
  default Params initMetaParams(Params modelParams, Rng rng) {
    return modelParams;
  }

  /**
   * Test-time adaptation to the task's support set. The result carries no graph back to {@code params}
   * (it is meant for evaluation, not for meta-gradients).
   *
   * @throws IllegalArgumentException if the task kind is not supported or the parameters do not fit
   */
  Params adapt(Params params, FewShotTask task);

  /** Outputs (logits {@code [n, ways]} for classification) for inputs x with adapted parameters. */
  Tensor predict(Params adapted, Tensor x);

  /** Query accuracy after test-time adaptation: {@code accuracy(predict(adapt(params, task), queryX))}. */
  default double evaluate(Params params, Task task) {
    Params adapted = adapt(params, task);
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return task.queryAccuracy(predict(adapted, task.queryX()));
    }
  }

  /** Query loss after test-time adaptation (for regression tasks, where accuracy is undefined). */
  default double evaluateLoss(Params params, FewShotTask task) {
    Params adapted = adapt(params, task);
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return task.queryLoss(predict(adapted, task.queryX())).item();
    }
  }
}
