package org.metagrad.meta.algo;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.metagrad.Autograd;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/**
 * Model-Agnostic Meta-Learning (Finn, Abbeel and Levine, ICML 2017): the inner loop takes {@code k}
 * gradient steps {@code theta_{s+1} = theta_s - lr * grad L_support(theta_s)} from the meta-parameters
 * {@code theta_0}, and the meta-loss is {@code L_query(theta_k)}, differentiated back to {@code theta_0}.
 *
 * <p>{@link Order#SECOND} records the inner gradients, so the meta-gradient is exact:
 * {@code prod_s (I - lr H_s) grad L_query(theta_k)}. {@link Order#FIRST} detaches them, which makes the
 * meta-gradient {@code grad L_query(theta_k)}, the gradient at the adapted weights.
 *
 * <p>BatchNorm: every forward pass uses the configured {@link Mode} (default {@link Mode#train()}, batch
 * statistics as in the original MAML) with {@code withStep(s)} for inner step s and
 * {@code withStep(k - 1)} for the query pass (MAML++, Antoniou et al. 2019), so per-step BN layers work.
 *
 * <pre>{@code
 * Maml maml = new Maml(model, 5, 0.4, Order.SECOND).withTestInnerSteps(10);
 * MetaStep step = maml.metaLoss(params.requiresGrad(true), task);
 * }</pre>
 */
public final class Maml implements MetaLearner {
  private final Module model;
  private final int innerSteps;
  private final double innerLr;
  private final Order order;
  private final int testInnerSteps;
  private final Mode mode;
  private final Predicate<String> adaptable;
  private final String who;

  /**
   * MAML adapting every parameter, with as many test-time inner steps as training ones.
   *
   * @param innerSteps number of inner gradient steps k (>= 0)
   * @param innerLr inner learning rate (>= 0)
   */
  public Maml(Module model, int innerSteps, double innerLr, Order order) {
    this(model, innerSteps, innerLr, order, innerSteps, Mode.train(), n -> true, "MAML");
  }

  Maml(Module model, int innerSteps, double innerLr, Order order, int testInnerSteps, Mode mode,
       Predicate<String> adaptable, String who) {
    InnerLoop.checkSteps(who, innerSteps, innerLr);
    InnerLoop.checkSteps(who, testInnerSteps, innerLr);
    if (model == null || order == null || mode == null) {
      throw new IllegalArgumentException(who + ": model, order and mode must not be null");
    }
    this.model = model;
    this.innerSteps = innerSteps;
    this.innerLr = innerLr;
    this.order = order;
    this.testInnerSteps = testInnerSteps;
    this.mode = mode;
    this.adaptable = adaptable;
    this.who = who;
  }

  /** A copy taking {@code steps} inner steps at test time ({@link #adapt}). */
  public Maml withTestInnerSteps(int steps) {
    return new Maml(model, innerSteps, innerLr, order, steps, mode, adaptable, who);
  }

  /** A copy running every forward pass in {@code m} (plus the step index), e.g. with BN running state. */
  public Maml withMode(Mode m) {
    return new Maml(model, innerSteps, innerLr, order, testInnerSteps, m, adaptable, who);
  }

  /** A copy with another differentiation order. */
  public Maml withOrder(Order o) {
    return new Maml(model, innerSteps, innerLr, o, testInnerSteps, mode, adaptable, who);
  }

  /** The model being meta-learned. */
  public Module model() {
    return model;
  }

  /** Inner steps during meta-training. */
  public int innerSteps() {
    return innerSteps;
  }

  /** Inner steps at test time. */
  public int testInnerSteps() {
    return testInnerSteps;
  }

  /** Inner learning rate. */
  public double innerLr() {
    return innerLr;
  }

  /** Differentiation order of the inner loop. */
  public Order order() {
    return order;
  }

  /** The names the inner loop adapts (all for MAML, the head for ANIL). */
  List<String> adaptedNames(Params params) {
    List<String> names = new ArrayList<>();
    for (String n : params.names()) {
      if (adaptable.test(n)) {
        names.add(n);
      }
    }
    if (names.isEmpty()) {
      throw new IllegalArgumentException(who + ": none of the parameters " + params.names()
          + " is adapted in the inner loop");
    }
    return names;
  }

  /**
   * The fast weights {@code theta_k} after the meta-training inner loop, with the graph back to
   * {@code params} that the order prescribes (for inspection and tests; {@link #metaLoss} uses it).
   */
  public Params fastWeights(Params params, FewShotTask task) {
    return InnerLoop.run(who, model::apply, params, adaptedNames(params), (n, g) -> g.mul(innerLr), innerSteps,
        InnerLoop.graph(order), task, mode);
  }

  /** {@code L_query(theta_k)} with the graph back to {@code params}, and the query accuracy. */
  @Override
  public MetaStep metaLoss(Params params, FewShotTask task) {
    Params fast = fastWeights(params, task);
    Tensor out = model.apply(fast, task.queryX(), mode.withStep(InnerLoop.lastStep(innerSteps)));
    return new MetaStep(task.queryLoss(out), task.queryAccuracy(out.detach()));
  }

  /** {@code theta_k'} after the test-time inner steps, detached from {@code params}. */
  @Override
  public Params adapt(Params params, FewShotTask task) {
    return InnerLoop.run(who, model::apply, params, adaptedNames(params), (n, g) -> g.mul(innerLr),
        testInnerSteps, InnerLoop.Graph.NONE, task, mode).detach();
  }

  /** The model's outputs with adapted parameters, at the step index of the last test-time step. */
  @Override
  public Tensor predict(Params adapted, Tensor x) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return model.apply(adapted, x, mode.withStep(InnerLoop.lastStep(testInnerSteps)));
    }
  }

  @Override
  public String toString() {
    return who + "(steps " + innerSteps + ", lr " + innerLr + ", " + order + ", test steps " + testInnerSteps
        + ")";
  }
}
