package org.metagrad.nn.optim;

import java.util.LinkedHashMap;
import java.util.Map;
import org.metagrad.Autograd;
import org.metagrad.Tensor;
import org.metagrad.nn.Params;

/**
 * Adam, exactly as {@code torch.optim.Adam} (not AdamW: weight decay is an L2 term added to the
 * gradient). At step {@code t} (1-based): {@code g = grad + wd p}, {@code m = b1 m + (1 - b1) g},
 * {@code v = b2 v + (1 - b2) g^2}, and
 * {@code p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)}. Buffers are named
 * {@code exp_avg.<param>} and {@code exp_avg_sq.<param>}; t is the state's step count.
 *
 * <pre>{@code
 * Optimizer opt = Adam.of(1e-3);
 * Step s = opt.step(params, grads, opt.init(params));
 * }</pre>
 *
 * @param lr learning rate, >= 0
 * @param beta1 decay of the first moment, in [0, 1)
 * @param beta2 decay of the second moment, in [0, 1)
 * @param eps added to the denominator, > 0
 * @param weightDecay L2 penalty coefficient, >= 0
 */
public record Adam(double lr, double beta1, double beta2, double eps, double weightDecay) implements Optimizer {
  /** Buffer kind of the first moment, as PyTorch's state key. */
  public static final String EXP_AVG = "exp_avg";
  /** Buffer kind of the second moment, as PyTorch's state key. */
  public static final String EXP_AVG_SQ = "exp_avg_sq";

  /** Validates. */
  public Adam {
    Updates.checkLr("Adam", lr);
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
      throw new IllegalArgumentException("Adam: betas must be in [0, 1), got " + beta1 + ", " + beta2);
    }
    if (!(eps > 0)) {
      throw new IllegalArgumentException("Adam: eps must be > 0, got " + eps);
    }
    if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
      throw new IllegalArgumentException("Adam: weight decay must be finite and >= 0, got " + weightDecay);
    }
  }

  /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay. */
  public static Adam of(double lr) {
    return new Adam(lr, 0.9, 0.999, 1e-8, 0);
  }

  @Override
  public Adam withLr(double newLr) {
    return new Adam(newLr, beta1, beta2, eps, weightDecay);
  }

  /** Zero first and second moments for every parameter. */
  @Override
  public OptimizerState init(Params params) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    params.asMap().forEach((n, p) -> {
      m.put(EXP_AVG + "." + n, Tensor.zeros(p.dtype(), p.shape()).to(p.device()));
      m.put(EXP_AVG_SQ + "." + n, Tensor.zeros(p.dtype(), p.shape()).to(p.device()));
    });
    return new OptimizerState(0, m);
  }

  /** One Adam update; see the class formula. */
  @Override
  public Step step(Params params, Params grads, OptimizerState state) {
    Updates.checkGrads("Adam", params, grads);
    long t = state.step() + 1;
    // StrictMath: the same bias corrections in every JVM and JIT tier (Math.pow may differ by an ulp).
    double bc1 = 1 - StrictMath.pow(beta1, t);
    double bc2 = 1 - StrictMath.pow(beta2, t);
    double stepSize = lr / bc1;
    double sqrtBc2 = Math.sqrt(bc2);
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
        Tensor m = Updates.bufferOrZeros(state, EXP_AVG, n, p).mul(beta1).add(g.mul(1 - beta1));
        Tensor v = Updates.bufferOrZeros(state, EXP_AVG_SQ, n, p).mul(beta2).add(g.mul(g).mul(1 - beta2));
        buffers.put(EXP_AVG + "." + n, m);
        buffers.put(EXP_AVG_SQ + "." + n, v);
        Tensor denom = v.sqrt().div(sqrtBc2).add(eps);
        out.put(n, Updates.leafLike(pd.sub(m.div(denom).mul(stepSize)), p));
      }
    }
    return new Step(out.isEmpty() ? Params.empty() : Params.of(out), new OptimizerState(t, buffers));
  }
}
