package org.metagrad.meta.sine;

import java.util.List;
import java.util.function.ObjIntConsumer;
import org.metagrad.DType;
import org.metagrad.GradCheck;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.Maml;
import org.metagrad.meta.algo.Order;
import org.metagrad.meta.task.RegressionTask;
import org.metagrad.meta.train.MetaTrainer;
import org.metagrad.meta.train.TaskSource;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.LrSchedule;

/**
 * MAML on sine-wave regression (Finn et al. 2017, section 5.1), the embedded default job: a 1-40-40-1
 * ReLU network ({@code Backbones.sineMlp()}), K support points, inner SGD steps on the mean squared error,
 * second-order meta-gradients ({@link Maml}), Adam on the outer loop ({@link MetaTrainer} with
 * {@code nn.optim.Adam}). Tasks are {@link RegressionTask#sine} draws, task {@code i} from its own seeded
 * {@link Rng}, so training is deterministic.
 *
 * <pre>{@code
 * SineMaml m = new SineMaml(Backbones.sineMlp(), SineMaml.Config.demo());
 * Params learned = m.train(net.init(new Rng(1), DType.FLOAT32), null);
 * double mse = m.adaptedQueryLoss(learned, task, 10).item();
 * }</pre>
 */
public final class SineMaml {
  /**
   * Hyper-parameters of a run.
   *
   * @param iterations meta-iterations
   * @param metaBatch tasks per meta-iteration
   * @param k support points per task
   * @param queries query points per task
   * @param innerSteps inner SGD steps in training
   * @param innerLr inner step size
   * @param outerLr Adam learning rate
   * @param seed seed of the task sequence
   */
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

  /** Second-order MAML with {@code steps} inner steps at the configured inner learning rate. */
  public Maml maml(int steps) {
    return new Maml(model, steps, config.innerLr(), Order.SECOND);
  }

  /** The training tasks: task {@code i} is {@code RegressionTask.sine} from a generator seeded by (seed, i). */
  public TaskSource tasks() {
    return i -> RegressionTask.sine(new Rng(config.seed() * 0x9E3779B97F4A7C15L + i), config.k(), config.queries(),
        DType.FLOAT32);
  }

  /** Query MSE after {@code steps} inner steps from {@code params} on the task's support set (with graph). */
  public Tensor adaptedQueryLoss(Params params, RegressionTask task, int steps) {
    return maml(steps).metaLoss(params.requiresGrad(true), task).loss();
  }

  /** Fast weights after {@code steps} SGD steps on the support MSE (detached). */
  public Params adapt(Params params, RegressionTask task, int steps) {
    return maml(steps).adapt(params, task);
  }

  /**
   * Runs meta-training and returns the learned initialization.
   *
   * @param init initial parameters
   * @param log receives (meta-loss, iteration) after every iteration, or null
   */
  public Params train(Params init, ObjIntConsumer<Double> log) {
    MetaTrainer t = new MetaTrainer(maml(config.innerSteps()), tasks(), Adam.of(config.outerLr()),
        LrSchedule.constant(config.outerLr()), MetaTrainer.Options.of(config.iterations(), config.metaBatch()));
    MetaTrainer.Listener l = log == null ? null : (row, o) -> log.accept(row.loss(), (int) row.iteration());
    return t.train(init, null, null, l).last();
  }

  /**
   * Compares the second-order meta-gradient of one task's post-adaptation query loss with central
   * finite differences in FLOAT64.
   */
  public GradCheck.Report checkMetaGradient(Params params, RegressionTask task) {
    Params p64 = params.to(DType.FLOAT64);
    RegressionTask t64 = task.to(DType.FLOAT64);
    List<String> names = p64.names();
    Maml m = maml(config.innerSteps());
    return GradCheck.check(xs -> {
      Params p = Params.empty();
      for (int i = 0; i < names.size(); i++) {
        p = p.with(names.get(i), xs.get(i));
      }
      return m.metaLoss(p, t64).loss();
    }, p64.values(), GradCheck.Options.order(1).tolerances(1e-7, 1e-5));
  }
}
