package org.metagrad.meta.algo;

import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/**
 * Reptile (Nichol, Achiam and Schulman, 2018): run plain SGD for k steps on a task's support set from
 * {@code theta} to {@code phi}, then move the initialisation towards the adapted weights,
 * {@code theta <- theta + epsilon * mean_tasks(phi - theta)}.
 *
 * <p>Reptile is not a gradient method: {@code phi - theta} is not the gradient of any loss (for k &gt; 1 its
 * expectation approximates a mix of the MAML gradient and the joint-training gradient), so this class
 * deliberately offers no {@code metaLoss}; use {@link #reptileDelta} and {@link #outerStep}, or
 * {@link #surrogateStep} to hand the Reptile direction to a gradient-based optimiser (what
 * {@code metagrad train --algorithm reptile} does).
 *
 * <pre>{@code
 * Reptile r = new Reptile(model, 5, 0.01);
 * List<Params> deltas = tasks.stream().map(t -> r.reptileDelta(theta, t)).toList();
 * theta = Reptile.outerStep(theta, deltas, 1.0);
 * }</pre>
 */
public final class Reptile implements FewShotLearner {
  private final Module model;
  private final int innerSteps;
  private final double innerLr;
  private final int testInnerSteps;
  private final Mode mode;

  /** Reptile with k = innerSteps SGD steps at learning rate innerLr, the same at test time. */
  public Reptile(Module model, int innerSteps, double innerLr) {
    this(model, innerSteps, innerLr, innerSteps, Mode.train());
  }

  private Reptile(Module model, int innerSteps, double innerLr, int testInnerSteps, Mode mode) {
    InnerLoop.checkSteps("Reptile", innerSteps, innerLr);
    InnerLoop.checkSteps("Reptile", testInnerSteps, innerLr);
    if (model == null || mode == null) {
      throw new IllegalArgumentException("Reptile: model and mode must not be null");
    }
    this.model = model;
    this.innerSteps = innerSteps;
    this.innerLr = innerLr;
    this.testInnerSteps = testInnerSteps;
    this.mode = mode;
  }

  /** A copy taking {@code steps} SGD steps at test time. */
  public Reptile withTestInnerSteps(int steps) {
    return new Reptile(model, innerSteps, innerLr, steps, mode);
  }

  /** A copy running every forward pass in {@code m} (plus the step index). */
  public Reptile withMode(Mode m) {
    return new Reptile(model, innerSteps, innerLr, testInnerSteps, m);
  }

  /** {@code phi - theta} after k SGD steps on the support set; detached, same names as theta. */
  public Params reptileDelta(Params theta, FewShotTask task) {
    Params phi = InnerLoop.run("Reptile", model::apply, theta, theta.names(), (n, g) -> g.mul(innerLr), innerSteps,
        InnerLoop.Graph.NONE, task, mode);
    Params base = theta.detach();
    return phi.detach().zip(base, Tensor::sub);
  }

  /**
   * The outer update {@code theta + epsilon * (1/B) sum_b delta_b} (serial Reptile for B = 1, batched
   * otherwise); the result is made of leaves with the same {@code requiresGrad} flag as theta's tensors.
   *
   * @throws IllegalArgumentException for no deltas or deltas whose names differ from theta's
   */
  public static Params outerStep(Params theta, List<Params> deltas, double epsilon) {
    if (deltas.isEmpty()) {
      throw new IllegalArgumentException("Reptile.outerStep: no task deltas");
    }
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      Params sum = null;
      for (Params d : deltas) {
        sum = sum == null ? d.detach() : sum.zip(d, Tensor::add);
      }
      double scale = epsilon / deltas.size();
      Params next = theta.zip(sum, (t, d) -> t.add(d.mul(scale)).detach().requiresGrad(t.requiresGrad()));
      return next;
    }
  }

  /**
   * One task's contribution for a gradient-based outer optimiser such as the trainer's Adam: a scalar whose
   * <em>value</em> is the query loss of the adapted weights {@code phi} (for progress reports; nothing is
   * differentiated through it) and whose <em>gradient</em> with respect to {@code theta} is exactly
   * {@code theta - phi}, the negated Reptile direction. A minimiser therefore moves theta towards phi; with
   * plain SGD at step size epsilon this is the serial Reptile update, and handing the direction to Adam
   * instead is the variant Nichol et al. (2018, section 3) suggest. The scalar is
   * {@code L_q(phi) + sum_i <theta_i, d_i> - sum_i <sg(theta_i), d_i>} with {@code d_i = sg(theta_i - phi_i)},
   * where sg stops gradients: the last two terms cancel in value and leave gradient {@code d}.
   *
   * <p>It is not a loss of theta (its finite differences are not theta - phi), so meta-gradient checks do
   * not apply to Reptile.
   */
  public MetaStep surrogateStep(Params theta, FewShotTask task) {
    Params phi = InnerLoop.run("Reptile", model::apply, theta, theta.names(), (n, g) -> g.mul(innerLr), innerSteps,
        InnerLoop.Graph.NONE, task, mode).detach();
    Tensor queryLoss;
    double accuracy;
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      Tensor out = model.apply(phi, task.queryX(), mode.withStep(InnerLoop.lastStep(innerSteps)));
      queryLoss = task.queryLoss(out).detach();
      accuracy = task.queryAccuracy(out);
    }
    Tensor surrogate = queryLoss;
    for (String n : theta.names()) {
      Tensor t = theta.get(n);
      Tensor d = t.detach().sub(phi.get(n));
      surrogate = surrogate.add(t.mul(d).sum().sub(t.detach().mul(d).sum()));
    }
    return new MetaStep(surrogate, accuracy);
  }

  /** The weights after the test-time SGD steps, detached. */
  @Override
  public Params adapt(Params params, FewShotTask task) {
    return InnerLoop.run("Reptile", model::apply, params, params.names(), (n, g) -> g.mul(innerLr),
        testInnerSteps, InnerLoop.Graph.NONE, task, mode).detach();
  }

  /** The model's outputs with adapted parameters. */
  @Override
  public Tensor predict(Params adapted, Tensor x) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return model.apply(adapted, x, mode.withStep(InnerLoop.lastStep(testInnerSteps)));
    }
  }

  @Override
  public String toString() {
    return "Reptile(steps " + innerSteps + ", lr " + innerLr + ")";
  }
}
