package org.metagrad.meta.algo;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.metagrad.Autograd;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/**
 * Meta-SGD (Li, Zhou, Chen and Li, 2017): MAML with a learned step size per parameter element,
 * {@code theta' = theta - alpha (*) grad L_support(theta)} (elementwise product), where both the
 * initialisation {@code theta} and the step sizes {@code alpha} are meta-parameters.
 *
 * <p>The step sizes live in the same {@link Params} as the model, named {@code "alpha." + name} with the
 * parameter's shape; {@link #initMetaParams} adds them, filled with {@code alphaInit}. The paper takes one
 * inner step; more are allowed (the same alpha at every step).
 *
 * <pre>{@code
 * MetaSgd msgd = new MetaSgd(model, 1, 0.4, Order.SECOND);
 * Params p = msgd.initMetaParams(model.init(rng), rng).requiresGrad(true);   // w, b, alpha.w, alpha.b
 * }</pre>
 */
public final class MetaSgd implements MetaLearner {
  /** Prefix of the step-size parameters. */
  public static final String ALPHA = "alpha.";

  private final Module model;
  private final int innerSteps;
  private final double alphaInit;
  private final Order order;
  private final int testInnerSteps;
  private final Mode mode;

  /**
   * Meta-SGD with {@code innerSteps} inner steps and step sizes initialised to {@code alphaInit}.
   */
  public MetaSgd(Module model, int innerSteps, double alphaInit, Order order) {
    this(model, innerSteps, alphaInit, order, innerSteps, Mode.train());
  }

  private MetaSgd(Module model, int innerSteps, double alphaInit, Order order, int testInnerSteps, Mode mode) {
    InnerLoop.checkSteps("Meta-SGD", innerSteps, 0);
    InnerLoop.checkSteps("Meta-SGD", testInnerSteps, 0);
    if (!Double.isFinite(alphaInit)) {
      throw new IllegalArgumentException("Meta-SGD: alphaInit must be finite, got " + alphaInit);
    }
    if (model == null || order == null || mode == null) {
      throw new IllegalArgumentException("Meta-SGD: model, order and mode must not be null");
    }
    this.model = model;
    this.innerSteps = innerSteps;
    this.alphaInit = alphaInit;
    this.order = order;
    this.testInnerSteps = testInnerSteps;
    this.mode = mode;
  }

  /** A copy taking {@code steps} inner steps at test time. */
  public MetaSgd withTestInnerSteps(int steps) {
    return new MetaSgd(model, innerSteps, alphaInit, order, steps, mode);
  }

  /** A copy running every forward pass in {@code m} (plus the step index). */
  public MetaSgd withMode(Mode m) {
    return new MetaSgd(model, innerSteps, alphaInit, order, testInnerSteps, m);
  }

  /** The model parameters followed by {@code alpha.<name>} tensors filled with {@code alphaInit}. */
  @Override
  public Params initMetaParams(Params modelParams, Rng rng) {
    Map<String, Tensor> alphas = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : modelParams.asMap().entrySet()) {
      if (e.getKey().startsWith(ALPHA)) {
        throw new IllegalArgumentException("Meta-SGD: model parameter '" + e.getKey() + "' uses the reserved prefix "
            + ALPHA);
      }
      Tensor t = e.getValue();
      alphas.put(ALPHA + e.getKey(), Tensor.full(alphaInit, t.dtype(), t.shape()).to(t.device()));
    }
    return modelParams.merge(Params.of(alphas));
  }

  /** The model's parameters (everything but the step sizes). */
  public static Params modelParams(Params metaParams) {
    return metaParams.without(ALPHA);
  }

  private static List<String> checked(Params metaParams) {
    Params m = modelParams(metaParams);
    for (String n : m.names()) {
      if (!metaParams.contains(ALPHA + n)) {
        throw new IllegalArgumentException("Meta-SGD: no step size '" + ALPHA + n + "' for parameter '" + n
            + "' (use initMetaParams)");
      }
    }
    return m.names();
  }

  /** The adapted model parameters after the meta-training inner loop, with the graph to init and alpha. */
  public Params fastWeights(Params params, FewShotTask task) {
    List<String> names = checked(params);
    Params fast = InnerLoop.run("Meta-SGD", model::apply, modelParams(params), names,
        (n, g) -> g.mul(params.get(ALPHA + n)), innerSteps, InnerLoop.graph(order), task, mode);
    return fast;
  }

  /** {@code L_query(theta - alpha (*) grad L_support(theta))} with the graph back to theta and alpha. */
  @Override
  public MetaStep metaLoss(Params params, FewShotTask task) {
    Params fast = fastWeights(params, task);
    Tensor out = model.apply(fast, task.queryX(), mode.withStep(InnerLoop.lastStep(innerSteps)));
    return new MetaStep(task.queryLoss(out), task.queryAccuracy(out.detach()));
  }

  /** The adapted model parameters (without step sizes), detached. */
  @Override
  public Params adapt(Params params, FewShotTask task) {
    List<String> names = checked(params);
    Params alphas = params.detach();
    return InnerLoop.run("Meta-SGD", model::apply, modelParams(params), names,
        (n, g) -> g.mul(alphas.get(ALPHA + n)), testInnerSteps, InnerLoop.Graph.NONE, task, mode).detach();
  }

  /** The model's outputs with adapted parameters. */
  @Override
  public Tensor predict(Params adapted, Tensor x) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return model.apply(modelParams(adapted), x, mode.withStep(InnerLoop.lastStep(testInnerSteps)));
    }
  }

  @Override
  public String toString() {
    return "Meta-SGD(steps " + innerSteps + ", alpha0 " + alphaInit + ", " + order + ")";
  }
}
