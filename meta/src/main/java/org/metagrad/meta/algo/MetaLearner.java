package org.metagrad.meta.algo;

import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.nn.Params;

/**
 * A few-shot learner trained by gradient descent on a meta-objective: {@link #metaLoss} is the query loss
 * after adaptation on the support set, differentiable with respect to every tensor of the meta-parameters
 * (which must be leaves with {@code requiresGrad(true)}).
 *
 * <pre>{@code
 * Params p = learner.initMetaParams(model.init(rng), rng).requiresGrad(true);
 * MetaStep step = learner.metaLoss(p, task);
 * List<Tensor> g = Autograd.grad(step.loss(), p.values());
 * }</pre>
 */
public interface MetaLearner extends FewShotLearner {

  /**
   * The post-adaptation query loss {@code L_query(adapt(params, support))} and accuracy, with the graph
   * back to {@code params}.
   *
   * @throws IllegalArgumentException if the task kind is not supported or a needed parameter is missing or
   *     does not require grad
   */
  MetaStep metaLoss(Params params, FewShotTask task);

  /** The meta-gradient: {@code d metaLoss / d params}, one tensor per parameter (zeros where unused). */
  default List<Tensor> metaGradient(Params params, FewShotTask task) {
    return Autograd.grad(metaLoss(params, task).loss(), params.values(),
        org.metagrad.GradOptions.defaults().allowUnused(true));
  }
}
