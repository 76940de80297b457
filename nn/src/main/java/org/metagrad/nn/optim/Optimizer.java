package org.metagrad.nn.optim;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.metagrad.Tensor;
import org.metagrad.nn.Params;

/**
 * A functional first-order optimizer: {@code step(params, grads, state)} returns new parameters and a
 * new state and changes nothing. The update runs under {@code Autograd.noGrad()}; each returned tensor
 * is a detached leaf with {@code requiresGrad} as its input had. Parameters whose gradient is missing
 * (null in a list, absent in a {@link Params}) are returned unchanged, as PyTorch skips parameters whose
 * {@code .grad} is None.
 *
 * <pre>{@code
 * Optimizer opt = Adam.of(1e-3);
 * OptimizerState st = opt.init(params);
 * List<Tensor> g = Autograd.grad(loss, params.values());
 * Step s = opt.step(params, g, st);
 * }</pre>
 */
public interface Optimizer {
  /** The learning rate. */
  double lr();

  /** A copy with another learning rate (how schedules are applied). */
  Optimizer withLr(double lr);

  /** A state with zero buffers for every parameter and step 0. */
  OptimizerState init(Params params);

  /**
   * One update from gradients given by name (a subset of the parameter names, same shapes).
   *
   * @throws IllegalArgumentException for a gradient whose name is not a parameter or whose shape differs
   */
  Step step(Params params, Params grads, OptimizerState state);

  /** One update from gradients in parameter order ({@code params.values()}), nulls allowed. */
  default Step step(Params params, List<Tensor> grads, OptimizerState state) {
    List<String> names = params.names();
    if (grads.size() != names.size()) {
      throw new IllegalArgumentException(getClass().getSimpleName() + ".step: " + names.size() + " parameters but "
          + grads.size() + " gradients");
    }
    Map<String, Tensor> m = new HashMap<>();
    for (int i = 0; i < names.size(); i++) {
      if (grads.get(i) != null) {
        m.put(names.get(i), grads.get(i));
      }
    }
    return step(params, m.isEmpty() ? Params.empty() : Params.of(m), state);
  }
}
