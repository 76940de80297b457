package org.metagrad.meta.sine;

import java.util.ArrayList;
import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.GradCheck;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/**
 * MAML on sine-wave regression (Finn et al. 2017, section 5.1), the embedded default job: a 1-40-40-1
 * ReLU network, K support points, one or more inner SGD steps on the mean squared error, second-order
 * meta-gradients, Adam on the outer loop.
 */
public final class SineMaml {
  /** Hyper-parameters of a run. */
  public record Config(int iterations, int metaBatch, int k, int queries, int innerSteps, double innerLr,
                       double outerLr, long seed) {
    /** The paper's values, shortened to a run of seconds (70,000 iterations of 25 tasks in the paper). */
    public static Config demo() {
      return new Config(3000, 4, 10, 10, 1, 0.01, 1e-3, 1);
    }
  }

  private final Module model;
  private final Config config;

  /** A learner for the given model (any Module taking [K, 1] to [K, 1]). */
  public SineMaml(Module model, Config config) {
    this.model = model;
    this.config = config;
  }

  /** Query loss after {@code steps} inner steps from {@code params} on the task's support set. */
  public Tensor adaptedQueryLoss(Params params, SineTask task, int steps, boolean secondOrder) {
    return F.mse(model.apply(adapt(params, task, steps, secondOrder), task.queryX(), Mode.TRAIN), task.queryY());
  }

  /** Fast weights after {@code steps} SGD steps on the support MSE. */
  public Params adapt(Params params, SineTask task, int steps, boolean secondOrder) {
    Params fast = params;
    for (int s = 0; s < steps; s++) {
      Tensor loss = F.mse(model.apply(fast, task.supportX(), Mode.TRAIN), task.supportY());
      List<Tensor> g = Autograd.grad(loss, fast.values(), GradOptions.createGraph(secondOrder));
      fast = fast.zip(g, (p, gi) -> p.sub(gi.mul(config.innerLr())));
    }
    return fast;
  }

  /** Runs meta-training and returns the learned initialization; {@code log} receives (iteration, loss). */
  public Params train(Params init, java.util.function.ObjIntConsumer<Double> log) {
    Rng rng = new Rng(config.seed());
    Params params = init.requiresGrad(true);
    List<Tensor> m = new ArrayList<>();
    List<Tensor> v = new ArrayList<>();
    for (Tensor p : params.values()) {
      m.add(p.detach().mul(0.0));
      v.add(p.detach().mul(0.0));
    }
    double b1 = 0.9;
    double b2 = 0.999;
    for (int it = 1; it <= config.iterations(); it++) {
      Tensor total = null;
      for (int t = 0; t < config.metaBatch(); t++) {
        SineTask task = SineTask.sample(rng, config.k(), config.queries(), init.values().get(0).dtype());
        Tensor l = adaptedQueryLoss(params, task, config.innerSteps(), true);
        total = total == null ? l : total.add(l);
      }
      Tensor metaLoss = total.div(config.metaBatch());
      List<Tensor> g = Autograd.grad(metaLoss, params.values());
      // Adam (Kingma and Ba 2015) with bias correction, on detached values.
      List<Tensor> next = new ArrayList<>();
      double c1 = 1 - Math.pow(b1, it);
      double c2 = 1 - Math.pow(b2, it);
      for (int i = 0; i < g.size(); i++) {
        m.set(i, m.get(i).mul(b1).add(g.get(i).mul(1 - b1)));
        v.set(i, v.get(i).mul(b2).add(g.get(i).square().mul(1 - b2)));
        Tensor step = m.get(i).div(c1).div(v.get(i).div(c2).sqrt().add(1e-8)).mul(config.outerLr());
        next.add(params.values().get(i).detach().sub(step));
      }
      params = params.zip(next, (p, n) -> n.requiresGrad(true));
      if (log != null) {
        log.accept(metaLoss.item(), it);
      }
    }
    return params.detach();
  }

  /**
   * Compares the second-order meta-gradient of one task's post-adaptation query loss with central
   * finite differences in FLOAT64.
   */
  public GradCheck.Report checkMetaGradient(Params params, SineTask task) {
    Params p64 = params.to(DType.FLOAT64);
    SineTask t64 = new SineTask(task.amplitude(), task.phase(), task.supportX().to(DType.FLOAT64),
        task.supportY().to(DType.FLOAT64), task.queryX().to(DType.FLOAT64), task.queryY().to(DType.FLOAT64));
    List<String> names = p64.names();
    return GradCheck.check(xs -> {
      Params p = Params.empty();
      for (int i = 0; i < names.size(); i++) {
        p = p.with(names.get(i), xs.get(i));
      }
      return adaptedQueryLoss(p, t64, config.innerSteps(), true);
    }, p64.values(), GradCheck.Options.order(1).tolerances(1e-7, 1e-5));
  }
}
