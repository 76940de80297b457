package org.metagrad.meta.algo;

import java.util.ArrayList;
import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.GradOptions;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/**
 * Implicit MAML (Rajeswaran, Finn, Kakade and Levine, NeurIPS 2019, "Meta-Learning with Implicit
 * Gradients", arXiv:1909.04630). The inner problem of a task is the proximally regularised support loss
 * {@code phi*(theta) = argmin_phi L_support(phi) + (lambda/2) |phi - theta|^2}, solved approximately by
 * {@code k} gradient-descent steps from {@code phi_0 = theta}:
 * {@code phi <- phi - lr * (grad L_support(phi) + lambda (phi - theta))} (the paper's "iMAML, GD" variant).
 * Stationarity of the inner problem and the implicit function theorem give
 * {@code d phi* / d theta = (I + H / lambda)^{-1}}, {@code H} the Hessian of the support loss at phi*, so the
 * meta-gradient of the query loss is
 * <pre>{@code   g = (I + H / lambda)^{-1} grad_phi L_query(phi) }</pre>
 * computed by {@link ConjugateGradient} on Hessian-vector products of the support loss at phi: the engine
 * records one gradient {@code grad L_support(phi)} with its graph and differentiates it again against the
 * CG direction (double backward, {@code GradOptions.outputGrads}: {@code grad (grad L . v) = H v}).
 *
 * <p>The inner steps record no graph across steps (each step differentiates a fresh leaf and updates under
 * {@code noGrad}), so the memory of a meta-gradient does not grow with the number of inner steps: it is one
 * support-loss gradient graph plus one Hessian-vector product at a time, whatever {@code k}.
 *
 * <p>Damping {@code delta >= 0} solves {@code (I + (H + delta I) / lambda) x = b} instead (Tikhonov damping,
 * which keeps the system positive definite where the support loss is not convex); {@code delta = 0} is the
 * exact implicit gradient. The CG iteration stops at {@code cgSteps} steps or at residual
 * {@code cgTolerance * |b|}.
 *
 * <p>Integration with the trainers: {@link #metaLoss} returns a surrogate scalar whose value is the query
 * loss {@code L_query(phi)} and whose gradient with respect to {@code theta} is exactly g (the implicit
 * gradient is not the derivative of a recorded graph): {@code L_q(phi) + sum_i <theta_i, g_i> -
 * sum_i <sg(theta_i), g_i>}, sg stopping gradients. When the inner problem is solved to convergence and CG
 * is exact, g is the true derivative of the value {@code L_query(phi*(theta))}, which is what
 * {@link MetaGradCheck} verifies with finite differences in the tests.
 *
 * <pre>{@code
 * Imaml im = new Imaml(model, 16, 0.1, 2.0, 5, 0.0).withTestInnerSteps(16);
 * MetaStep step = im.metaLoss(params.requiresGrad(true), task);
 * List<Tensor> g = Autograd.grad(step.loss(), params.values());  // the implicit meta-gradient
 * }</pre>
 */
public final class Imaml implements MetaLearner {
  private final Module model;
  private final int innerSteps;
  private final double innerLr;
  private final double lambda;
  private final int cgSteps;
  private final double cgDamping;
  private final double cgTolerance;
  private final int testInnerSteps;
  private final Mode mode;

  /**
   * iMAML with as many test-time inner steps as training ones and CG tolerance 1e-10.
   *
   * @param innerSteps gradient steps on the regularised support loss (>= 0)
   * @param innerLr inner step size (finite, >= 0)
   * @param lambda proximal regularisation strength (finite, > 0); the paper uses 2.0 on Omniglot
   * @param cgSteps conjugate-gradient steps for the meta-gradient (>= 1); the paper uses 5
   * @param cgDamping Tikhonov damping delta added to the Hessian (finite, >= 0; 0 = exact)
   */
  public Imaml(Module model, int innerSteps, double innerLr, double lambda, int cgSteps, double cgDamping) {
    this(model, innerSteps, innerLr, lambda, cgSteps, cgDamping, 1e-10, innerSteps, Mode.train());
  }

  private Imaml(Module model, int innerSteps, double innerLr, double lambda, int cgSteps, double cgDamping,
                double cgTolerance, int testInnerSteps, Mode mode) {
    InnerLoop.checkSteps("iMAML", innerSteps, innerLr);
    InnerLoop.checkSteps("iMAML", testInnerSteps, innerLr);
    if (model == null || mode == null) {
      throw new IllegalArgumentException("iMAML: model and mode must not be null");
    }
    if (!(lambda > 0) || Double.isInfinite(lambda)) {
      throw new IllegalArgumentException("iMAML: lambda (proximal regularisation) must be finite and > 0, got "
          + lambda);
    }
    if (cgSteps < 1) {
      throw new IllegalArgumentException("iMAML: CG steps must be >= 1, got " + cgSteps);
    }
    if (!(cgDamping >= 0) || Double.isInfinite(cgDamping)) {
      throw new IllegalArgumentException("iMAML: CG damping must be finite and >= 0, got " + cgDamping);
    }
    if (!(cgTolerance >= 0) || Double.isInfinite(cgTolerance)) {
      throw new IllegalArgumentException("iMAML: CG tolerance must be finite and >= 0, got " + cgTolerance);
    }
    this.model = model;
    this.innerSteps = innerSteps;
    this.innerLr = innerLr;
    this.lambda = lambda;
    this.cgSteps = cgSteps;
    this.cgDamping = cgDamping;
    this.cgTolerance = cgTolerance;
    this.testInnerSteps = testInnerSteps;
    this.mode = mode;
  }

  /** A copy taking {@code steps} inner steps at test time ({@link #adapt}). */
  public Imaml withTestInnerSteps(int steps) {
    return new Imaml(model, innerSteps, innerLr, lambda, cgSteps, cgDamping, cgTolerance, steps, mode);
  }

  /** A copy stopping CG at residual {@code tol * |b|} (0: always {@code cgSteps} steps unless exact). */
  public Imaml withCgTolerance(double tol) {
    return new Imaml(model, innerSteps, innerLr, lambda, cgSteps, cgDamping, tol, testInnerSteps, mode);
  }

  /** A copy running every forward pass in {@code m} (default {@link Mode#train()}: batch statistics). */
  public Imaml withMode(Mode m) {
    return new Imaml(model, innerSteps, innerLr, lambda, cgSteps, cgDamping, cgTolerance, testInnerSteps, m);
  }

  /** Inner steps during meta-training. */
  public int innerSteps() {
    return innerSteps;
  }

  /** Proximal regularisation strength lambda. */
  public double lambda() {
    return lambda;
  }

  /** Conjugate-gradient steps. */
  public int cgSteps() {
    return cgSteps;
  }

  /**
   * The approximate proximal solution after {@code steps} gradient steps on
   * {@code L_support(phi) + (lambda/2)|phi - theta|^2} from {@code phi = theta}; detached leaves. No graph is
   * kept between steps.
   */
  public Params innerSolve(Params theta, FewShotTask task, int steps) {
    InnerLoop.checkSteps("iMAML", steps, innerLr);
    Params anchor = theta.detach();
    Params phi = anchor;
    List<String> names = anchor.names();
    for (int s = 0; s < steps; s++) {
      Params leaves = phi.detach().requiresGrad(true);
      Tensor loss = task.supportLoss(model.apply(leaves, task.supportX(), mode));
      List<Tensor> g = Autograd.grad(loss, leaves.values(), GradOptions.defaults().allowUnused(true));
      try (Autograd.NoGrad ng = Autograd.noGrad()) {
        List<Tensor> next = new ArrayList<>(names.size());
        for (int i = 0; i < names.size(); i++) {
          Tensor p = leaves.get(names.get(i)).detach();
          Tensor step = g.get(i).detach().add(p.sub(anchor.get(names.get(i))).mul(lambda));
          next.add(p.sub(step.mul(innerLr)).detach());
        }
        phi = anchor.zip(next, (a, n) -> n);
      }
    }
    return phi;
  }

  /**
   * The Hessian-vector product operator {@code v -> H v} of the support loss at {@code phi}: the gradient
   * {@code grad L_support(phi)} is recorded once (with its graph) and each product differentiates it again
   * against v. Vectors are lists in the order of {@code phi.names()}.
   */
  public ConjugateGradient.Operator supportHessian(Params phi, FewShotTask task) {
    Params leaves = phi.detach().requiresGrad(true);
    Tensor loss = task.supportLoss(model.apply(leaves, task.supportX(), mode));
    List<Tensor> g = Autograd.grad(loss, leaves.values(), GradOptions.createGraph(true).allowUnused(true));
    List<Tensor> inputs = leaves.values();
    return v -> {
      if (v.size() != inputs.size()) {
        throw new IllegalArgumentException("iMAML: a Hessian-vector product needs " + inputs.size()
            + " tensors, got " + v.size());
      }
      // Only gradient entries that depend on the parameters carry a graph; the others have zero Hessian rows.
      List<Tensor> outs = new ArrayList<>();
      List<Tensor> weights = new ArrayList<>();
      for (int i = 0; i < g.size(); i++) {
        if (g.get(i).requiresGrad()) {
          outs.add(g.get(i));
          weights.add(v.get(i).detach());
        }
      }
      List<Tensor> hv = new ArrayList<>(inputs.size());
      if (outs.isEmpty()) {
        for (Tensor t : inputs) {
          hv.add(t.detach().mul(0.0));
        }
        return hv;
      }
      List<Tensor> r = Autograd.grad(outs, inputs, GradOptions.defaults().allowUnused(true).outputGrads(weights));
      for (Tensor t : r) {
        hv.add(t.detach());
      }
      return hv;
    };
  }

  /**
   * The operator {@code A v = v + (H v + delta v) / lambda} of the implicit-gradient system at {@code phi}.
   */
  public ConjugateGradient.Operator implicitSystem(Params phi, FewShotTask task) {
    ConjugateGradient.Operator h = supportHessian(phi, task);
    double d = cgDamping;
    double l = lambda;
    return v -> {
      List<Tensor> hv = h.apply(v);
      List<Tensor> out = new ArrayList<>(v.size());
      try (Autograd.NoGrad ng = Autograd.noGrad()) {
        for (int i = 0; i < v.size(); i++) {
          out.add(v.get(i).add(hv.get(i).add(v.get(i).mul(d)).div(l)));
        }
      }
      return out;
    };
  }

  /**
   * One task's implicit meta-gradient with what it was computed from.
   *
   * @param gradient {@code (I + (H + delta I)/lambda)^{-1} grad L_query(phi)}, one tensor per parameter
   * @param queryLoss {@code L_query(phi)}, detached
   * @param accuracy query accuracy at phi (NaN for regression)
   * @param adapted phi, detached
   * @param cg the CG solve's statistics
   */
  public record ImplicitGradient(List<Tensor> gradient, Tensor queryLoss, double accuracy, Params adapted,
                                 ConjugateGradient.Result cg) {}

  /** Solves the inner problem from {@code theta} and computes the implicit meta-gradient there. */
  public ImplicitGradient implicitGradient(Params theta, FewShotTask task) {
    Params phi = innerSolve(theta, task, innerSteps);
    Params leaves = phi.detach().requiresGrad(true);
    Tensor out = model.apply(leaves, task.queryX(), mode);
    Tensor lq = task.queryLoss(out);
    List<Tensor> v = Autograd.grad(lq, leaves.values(), GradOptions.defaults().allowUnused(true));
    double acc = task.queryAccuracy(out.detach());
    ConjugateGradient.Result cg = ConjugateGradient.solve(implicitSystem(phi, task), v, cgSteps, cgTolerance);
    return new ImplicitGradient(cg.solution(), lq.detach(), acc, phi, cg);
  }

  /**
   * A scalar with value {@code L_query(phi)} whose gradient with respect to {@code params} is the implicit
   * meta-gradient (see the class comment), and the query accuracy at phi.
   *
   * @throws IllegalArgumentException if a parameter does not require grad
   */
  @Override
  public MetaStep metaLoss(Params params, FewShotTask task) {
    for (String n : params.names()) {
      if (!params.get(n).requiresGrad()) {
        throw new IllegalArgumentException("iMAML: parameter '" + n + "' does not require grad; pass "
            + "params.requiresGrad(true) to get meta-gradients");
      }
    }
    ImplicitGradient ig = implicitGradient(params, task);
    Tensor surrogate = ig.queryLoss();
    List<Tensor> theta = params.values();
    for (int i = 0; i < theta.size(); i++) {
      Tensor t = theta.get(i);
      Tensor gi = ig.gradient().get(i);
      surrogate = surrogate.add(t.mul(gi).sum().sub(t.detach().mul(gi).sum()));
    }
    return new MetaStep(surrogate, ig.accuracy());
  }

  /** phi after the test-time inner steps on the regularised support loss, detached. */
  @Override
  public Params adapt(Params params, FewShotTask task) {
    return innerSolve(params, task, testInnerSteps);
  }

  /** The model's outputs with adapted parameters. */
  @Override
  public Tensor predict(Params adapted, Tensor x) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return model.apply(adapted, x, mode);
    }
  }

  @Override
  public String toString() {
    return "iMAML(steps " + innerSteps + ", lr " + innerLr + ", lambda " + lambda + ", CG " + cgSteps
        + " steps, damping " + cgDamping + ", test steps " + testInnerSteps + ")";
  }
}
