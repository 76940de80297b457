package org.metagrad.nn.optim;

import java.util.LinkedHashMap;
import java.util.Map;
import org.metagrad.Autograd;
import org.metagrad.Tensor;
import org.metagrad.nn.Params;

/**
 * Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, exactly as
 * {@code torch.optim.SGD} with dampening 0: {@code g = grad + wd p}; with momentum
 * {@code b = mu b + g} (b starts at 0, so the first step gives {@code b = g}) and
 * {@code g = nesterov ? g + mu b : b}; then {@code p = p - lr g}. Buffers are named
 * {@code momentum_buffer.<param>} (only when momentum is non-zero).
 *
 * <pre>{@code
 * Optimizer opt = new SGD(0.1, 0.9, true, 5e-4);
 * Step s = opt.step(params, grads, opt.init(params));
 * }</pre>
 *
 * @param lr learning rate, >= 0
 * @param momentum momentum factor mu in [0, 1)
 * @param nesterov Nesterov momentum (needs momentum > 0, as PyTorch)
 * @param weightDecay L2 penalty coefficient, >= 0
 */
public record SGD(double lr, double momentum, boolean nesterov, double weightDecay) implements Optimizer {
  /** The buffer kind of the momentum, as PyTorch's state key. */
  public static final String MOMENTUM_BUFFER = "momentum_buffer";

  /** Validates. */
  public SGD {
    Updates.checkLr("SGD", lr);
    if (!(momentum >= 0 && momentum < 1)) {
      throw new IllegalArgumentException("SGD: momentum must be in [0, 1), got " + momentum);
    }
    if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
      throw new IllegalArgumentException("SGD: weight decay must be finite and >= 0, got " + weightDecay);
    }
    if (nesterov && momentum == 0) {
      throw new IllegalArgumentException("SGD: Nesterov momentum requires a momentum > 0");
    }
  }

  /** Plain SGD {@code p = p - lr grad}. */
  public static SGD of(double lr) {
    return new SGD(lr, 0, false, 0);
  }

  @Override
  public SGD withLr(double newLr) {
    return new SGD(newLr, momentum, nesterov, weightDecay);
  }

  /** Zero momentum buffers (none without momentum). */
  @Override
  public OptimizerState init(Params params) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    if (momentum != 0) {
      params.asMap().forEach((n, p) -> m.put(MOMENTUM_BUFFER + "." + n, org.metagrad.Tensor.zeros(p.dtype(),
          p.shape()).to(p.device())));
    }
    return new OptimizerState(0, m);
  }

  /** One SGD update; see the class formula. */
  @Override
  public Step step(Params params, Params grads, OptimizerState state) {
    Updates.checkGrads("SGD", params, grads);
    Map<String, Tensor> buffers = new LinkedHashMap<>(state.buffers());
    LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
    try (Autograd.NoGrad ng = Autograd.noGrad()) {
      for (Map.Entry<String, Tensor> e : params.asMap().entrySet()) {
        String n = e.getKey();
        Tensor p = e.getValue();
        if (!grads.contains(n)) {
          out.put(n, p);
          continue;
        }
        Tensor g = grads.get(n).detach();
        Tensor pd = p.detach();
        if (weightDecay != 0) {
          g = g.add(pd.mul(weightDecay));
        }
        if (momentum != 0) {
          Tensor b = Updates.bufferOrZeros(state, MOMENTUM_BUFFER, n, p).mul(momentum).add(g);
          buffers.put(MOMENTUM_BUFFER + "." + n, b);
          g = nesterov ? g.add(b.mul(momentum)) : b;
        }
        out.put(n, Updates.leafLike(pd.sub(g.mul(lr)), p));
      }
    }
    return new Step(out.isEmpty() ? Params.empty() : Params.of(out), new OptimizerState(state.step() + 1, buffers));
  }
}
