package org.metagrad.meta.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.metagrad.Autograd;
import org.metagrad.GradOptions;
import org.metagrad.TaskParallel;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.MetaLearner;
import org.metagrad.meta.algo.MetaStep;
import org.metagrad.nn.Params;
import org.metagrad.nn.io.Checkpoints;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.GradClip;
import org.metagrad.nn.optim.LrSchedule;
import org.metagrad.nn.optim.OptimizerState;
import org.metagrad.nn.optim.Step;

/**
 * Meta-training loop for any {@link MetaLearner}: each iteration {@code t} (1-based) takes the meta-batch of
 * tasks {@code (t-1)*B .. t*B-1} from a {@link TaskSource}, computes their meta-gradients in parallel worker
 * threads, averages them in task order, optionally clips them by global norm and applies one Adam step
 * whose learning rate comes from an {@link LrSchedule} evaluated at the optimizer's step count. Every
 * {@code valEvery} iterations (and at the end) a {@link Validator} scores the parameters; the best are kept.
 * Every {@code checkpointEvery} iterations (and at the end) it writes {@code last.safetensors} (parameters,
 * Adam state, iteration, best score) and, when validation improved, {@code best.safetensors}.
 *
 * <p><b>Determinism and exact resume.</b> Tasks are pure functions of their index, the per-task gradients
 * are summed in task order whatever thread computed them, and the checkpoint holds everything the next
 * iteration reads (parameters, Adam moments and step count, iteration, best score). So the final
 * parameters are bit-identical for any number of worker threads, and a run interrupted after a checkpoint
 * and {@linkplain #train resumed} from it ends with the same bits as an uninterrupted run. (The learner's
 * model must not mutate shared state during training: use BatchNorm in {@code BATCH_STATS} mode.)
 *
 * <pre>{@code
 * MetaTrainer.Options o = MetaTrainer.Options.of(2000, 4).threads(2).validateEvery(200).checkpointEvery(200)
 *     .outDir(Path.of("runs/protonet"));
 * MetaTrainer.Result r = new MetaTrainer(learner, TaskSource.of(sampler), Adam.of(1e-3),
 *     LrSchedule.constant(1e-3), o).train(init, validator, null, null);
 * }</pre>
 */
public final class MetaTrainer {
  /** File name of the latest checkpoint inside the output folder. */
  public static final String LAST = "last.safetensors";
  /** File name of the best-validation checkpoint inside the output folder. */
  public static final String BEST = "best.safetensors";
  /** File name of the per-iteration metrics inside the output folder. */
  public static final String METRICS_CSV = "metrics.csv";

  static final String META_ITERATION = "iteration";
  static final String META_BEST_SCORE = "best_val_accuracy";
  static final String META_BEST_ITERATION = "best_iteration";

  /**
   * How long and how to train.
   *
   * @param iterations total meta-iterations (outer steps), >= 1
   * @param metaBatch tasks per meta-iteration, >= 1
   * @param threads worker threads computing the tasks of a meta-batch, >= 1
   * @param valEvery validate every this many iterations (0: only at the end)
   * @param checkpointEvery write {@value #LAST} every this many iterations (0: only at the end)
   * @param clipNorm clip the averaged meta-gradient to this global L2 norm (0: no clipping)
   * @param outDir folder for checkpoints and metrics, or null to write nothing
   */
  public record Options(int iterations, int metaBatch, int threads, int valEvery, int checkpointEvery,
                        double clipNorm, Path outDir) {
    /**
     * Validates the values.
     *
     * @throws IllegalArgumentException naming the bad option
     */
    public Options {
      if (iterations < 1) {
        throw new IllegalArgumentException("MetaTrainer: iterations must be >= 1, got " + iterations);
      }
      if (metaBatch < 1) {
        throw new IllegalArgumentException("MetaTrainer: meta-batch must be >= 1, got " + metaBatch);
      }
      if (threads < 1) {
        throw new IllegalArgumentException("MetaTrainer: threads must be >= 1, got " + threads);
      }
      if (valEvery < 0 || checkpointEvery < 0) {
        throw new IllegalArgumentException("MetaTrainer: validation and checkpoint intervals must be >= 0, got "
            + valEvery + " and " + checkpointEvery);
      }
      if (!(clipNorm >= 0) || Double.isInfinite(clipNorm)) {
        throw new IllegalArgumentException("MetaTrainer: clip norm must be finite and >= 0, got " + clipNorm);
      }
    }

    /** {@code iterations} iterations of {@code metaBatch} tasks, 1 thread, validation and checkpoint at the end only. */
    public static Options of(int iterations, int metaBatch) {
      return new Options(iterations, metaBatch, 1, 0, 0, 0, null);
    }

    /** A copy with {@code n} worker threads. */
    public Options threads(int n) {
      return new Options(iterations, metaBatch, n, valEvery, checkpointEvery, clipNorm, outDir);
    }

    /** A copy validating every {@code n} iterations. */
    public Options validateEvery(int n) {
      return new Options(iterations, metaBatch, threads, n, checkpointEvery, clipNorm, outDir);
    }

    /** A copy checkpointing every {@code n} iterations. */
    public Options checkpointEvery(int n) {
      return new Options(iterations, metaBatch, threads, valEvery, n, clipNorm, outDir);
    }

    /** A copy clipping the meta-gradient to global norm {@code c} (0 turns clipping off). */
    public Options clipNorm(double c) {
      return new Options(iterations, metaBatch, threads, valEvery, checkpointEvery, c, outDir);
    }

    /** A copy writing checkpoints and metrics into {@code dir}. */
    public Options outDir(Path dir) {
      return new Options(iterations, metaBatch, threads, valEvery, checkpointEvery, clipNorm, dir);
    }
  }

  /**
   * What one unit of a meta-batch contributes: the loss of item {@code index} (a task, or for pre-training a
   * labelled minibatch), differentiable with respect to {@code params}. Must be a pure function of
   * {@code (params, index)} so that threads and resumption do not change the bits.
   */
  @FunctionalInterface
  public interface Objective {
    /** The loss (and accuracy) of item {@code index} under {@code params}. */
    MetaStep loss(Params params, long index);

    /** The meta-loss of a learner on the tasks of a source: {@code learner.metaLoss(params, tasks.task(index))}. */
    static Objective of(MetaLearner learner, TaskSource tasks) {
      if (learner == null || tasks == null) {
        throw new IllegalArgumentException("MetaTrainer: learner and tasks are required");
      }
      return (params, index) -> learner.metaLoss(params, tasks.task(index));
    }
  }

  /** Scores parameters on validation tasks (higher is better), e.g. mean accuracy. */
  @FunctionalInterface
  public interface Validator {
    /** The score of {@code params}. */
    double score(Params params);
  }

  /**
   * One row of the training log.
   *
   * @param iteration the iteration just completed (1-based)
   * @param loss mean meta-loss of the meta-batch
   * @param accuracy mean query accuracy of the meta-batch (NaN for regression)
   * @param lr the learning rate used by this step
   * @param valAccuracy validation score after this step, or NaN if not validated here
   * @param seconds wall time since this session started
   */
  public record Row(long iteration, double loss, double accuracy, double lr, double valAccuracy, double seconds) {}

  /** Receives progress; exceptions it throws abort training (the last checkpoint stays valid). */
  public interface Listener {
    /** Called after every iteration with its log row. */
    void iteration(Row row, Options options);

    /** Called after a validation with the score and whether it is a new best. */
    default void validated(long iteration, double score, boolean best) {}
  }

  /**
   * The outcome of training.
   *
   * @param last the final parameters (detached)
   * @param best the parameters with the best validation score (the final ones if never validated)
   * @param bestScore the best validation score, NaN if there was no validator
   * @param bestIteration the iteration of the best parameters
   * @param optimizerState the final Adam state
   * @param history all log rows, including those of earlier sessions of a resumed run
   * @param seconds wall time of this session
   */
  public record Result(Params last, Params best, double bestScore, long bestIteration,
                       OptimizerState optimizerState, List<Row> history, double seconds) {}

  private final Objective objective;
  private final Adam adam;
  private final LrSchedule schedule;
  private final Options options;

  /**
   * A trainer.
   *
   * @param learner the algorithm
   * @param tasks the training tasks
   * @param adam the outer optimizer (its own lr is replaced by the schedule's at every step)
   * @param schedule the outer learning rate as a function of the step count
   * @param options loop settings
   */
  public MetaTrainer(MetaLearner learner, TaskSource tasks, Adam adam, LrSchedule schedule, Options options) {
    this(Objective.of(learner, tasks), adam, schedule, options);
  }

  /**
   * A trainer of any per-item {@link Objective}, e.g. the pre-training loss of a transfer baseline on
   * labelled minibatches; item {@code (t-1)*B + b} is the b-th of iteration t's meta-batch.
   *
   * @param objective the loss of one item
   * @param adam the optimizer (its own lr is replaced by the schedule's at every step)
   * @param schedule the learning rate as a function of the step count
   * @param options loop settings
   */
  public MetaTrainer(Objective objective, Adam adam, LrSchedule schedule, Options options) {
    if (objective == null || adam == null || schedule == null || options == null) {
      throw new IllegalArgumentException("MetaTrainer: learner, tasks, optimizer, schedule and options are required");
    }
    this.objective = objective;
    this.adam = adam;
    this.schedule = schedule;
    this.options = options;
  }

  /** The loop settings. */
  public Options options() {
    return options;
  }

  /**
   * Trains from {@code init} (the learner's full meta-parameters), or continues a run from the checkpoint
   * {@code resume} (a {@value #LAST} written by a trainer with the same settings; null to start afresh).
   *
   * @param init initial meta-parameters (also the template the checkpoint is checked against)
   * @param validator scores parameters for best-model selection, or null
   * @param resume checkpoint to continue from, or null
   * @param listener progress receiver, or null
   * @throws UncheckedIOException when a checkpoint cannot be read or written
   * @throws IllegalArgumentException when the checkpoint does not fit {@code init} or is past the end
   */
  public Result train(Params init, Validator validator, Path resume, Listener listener) {
    Params params = init.detach().requiresGrad(true);
    OptimizerState state = adam.init(params);
    long start = 0;
    double bestScore = Double.NaN;
    long bestIteration = 0;
    Params best = null;
    List<Row> history = new ArrayList<>();
    if (resume != null) {
      try {
        Checkpoints.Loaded c = Checkpoints.load(resume);
        params = c.paramsLike(init).requiresGrad(true);
        state = c.optimizer() == null ? state : c.optimizer();
        start = Long.parseLong(require(c.metadata(), META_ITERATION, resume));
        bestScore = Double.parseDouble(require(c.metadata(), META_BEST_SCORE, resume));
        bestIteration = Long.parseLong(require(c.metadata(), META_BEST_ITERATION, resume));
        Path bestFile = resume.resolveSibling(BEST);
        if (!Double.isNaN(bestScore) && Files.exists(bestFile)) {
          best = Checkpoints.load(bestFile).paramsLike(init);
        }
        history.addAll(MetricsFiles.readCsv(resume.resolveSibling(METRICS_CSV), start));
      } catch (IOException e) {
        throw new UncheckedIOException("MetaTrainer: cannot resume from " + resume + ": " + e.getMessage(), e);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("MetaTrainer: checkpoint " + resume + " has bad metadata: "
            + e.getMessage(), e);
      }
      if (start > options.iterations()) {
        throw new IllegalArgumentException("MetaTrainer: checkpoint " + resume + " is at iteration " + start
            + ", past the requested " + options.iterations() + " iterations");
      }
    }
    if (options.outDir() != null) {
      try {
        Files.createDirectories(options.outDir());
      } catch (IOException e) {
        throw new UncheckedIOException("MetaTrainer: cannot create output folder " + options.outDir(), e);
      }
    }
    long t0 = System.nanoTime();
    for (long it = start + 1; it <= options.iterations(); it++) {
      double lr = schedule.lr(state.step());
      Batch b = metaBatch(params, it);
      List<Tensor> grads = b.grads;
      if (options.clipNorm() > 0) {
        grads = GradClip.byGlobalNorm(grads, options.clipNorm()).grads();
      }
      Step step = adam.withLr(lr).step(params, Params.of(zip(params.names(), grads)), state);
      params = step.params().requiresGrad(true);
      state = step.state();
      double val = Double.NaN;
      boolean last = it == options.iterations();
      if (validator != null && (last || (options.valEvery() > 0 && it % options.valEvery() == 0))) {
        val = validator.score(params.detach());
        boolean improved = Double.isNaN(bestScore) || val > bestScore;
        if (improved) {
          bestScore = val;
          bestIteration = it;
          best = params.detach();
          save(BEST, best, null, it, bestScore, bestIteration);
        }
        if (listener != null) {
          listener.validated(it, val, improved);
        }
      }
      Row row = new Row(it, b.loss, b.accuracy, lr, val, (System.nanoTime() - t0) / 1e9);
      history.add(row);
      if (last || (options.checkpointEvery() > 0 && it % options.checkpointEvery() == 0)) {
        save(LAST, params.detach(), state, it, bestScore, bestIteration);
        if (options.outDir() != null) {
          MetricsFiles.writeCsv(options.outDir().resolve(METRICS_CSV), history);
        }
      }
      if (listener != null) {
        listener.iteration(row, options);
      }
    }
    Params lastParams = params.detach();
    return new Result(lastParams, best == null ? lastParams : best, bestScore,
        best == null ? options.iterations() : bestIteration, state, List.copyOf(history),
        (System.nanoTime() - t0) / 1e9);
  }

  private record Batch(List<Tensor> grads, double loss, double accuracy) {}

  private record TaskGrad(List<Tensor> grads, double loss, double accuracy) {}

  private Batch metaBatch(Params params, long it) {
    int n = options.metaBatch();
    List<Long> indices = new ArrayList<>(n);
    for (int b = 0; b < n; b++) {
      indices.add((it - 1) * n + b);
    }
    // The tasks side by side, each task's kernels on its own thread (TaskParallel); with one thread the
    // tasks run in turn and each kernel uses the backend's threads.
    final Params p = params;
    List<TaskGrad> results = TaskParallel.map(options.threads(), indices, index -> taskGrad(p, index));
    // Summation in task order, independent of which thread finished first: the bits do not depend on threads.
    List<Tensor> sum = new ArrayList<>(results.get(0).grads);
    double loss = results.get(0).loss;
    double acc = results.get(0).accuracy;
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      for (int b = 1; b < n; b++) {
        TaskGrad r = results.get(b);
        for (int i = 0; i < sum.size(); i++) {
          sum.set(i, sum.get(i).add(r.grads.get(i)));
        }
        loss += r.loss;
        acc += r.accuracy;
      }
      if (n > 1) {
        for (int i = 0; i < sum.size(); i++) {
          sum.set(i, sum.get(i).div((double) n));
        }
      }
    }
    return new Batch(sum, loss / n, acc / n);
  }

  private TaskGrad taskGrad(Params params, long index) {
    MetaStep s = objective.loss(params, index);
    List<Tensor> g = Autograd.grad(s.loss(), params.values(), GradOptions.defaults().allowUnused(true));
    List<Tensor> detached = new ArrayList<>(g.size());
    for (Tensor t : g) {
      detached.add(t.detach());
    }
    double loss = s.lossValue();
    if (!Double.isFinite(loss)) {
      throw new IllegalStateException(String.format(Locale.ROOT,
          "MetaTrainer: meta-loss of task %d is %s (diverged: lower the learning rates or clip the gradient)",
          index, loss));
    }
    return new TaskGrad(detached, loss, s.accuracy());
  }

  private void save(String file, Params p, OptimizerState state, long it, double bestScore, long bestIt) {
    if (options.outDir() == null) {
      return;
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put(META_ITERATION, Long.toString(it));
    meta.put(META_BEST_SCORE, Double.toString(bestScore));
    meta.put(META_BEST_ITERATION, Long.toString(bestIt));
    Path f = options.outDir().resolve(file);
    try {
      Checkpoints.save(f, p, null, state, meta);
    } catch (IOException e) {
      throw new UncheckedIOException("MetaTrainer: cannot write checkpoint " + f + ": " + e.getMessage(), e);
    }
  }

  private static String require(Map<String, String> meta, String key, Path file) {
    String v = meta.get(key);
    if (v == null) {
      throw new IllegalArgumentException("MetaTrainer: checkpoint " + file + " has no '" + key
          + "' entry; it was not written by MetaTrainer");
    }
    return v;
  }

  private static Map<String, Tensor> zip(List<String> names, List<Tensor> values) {
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      m.put(names.get(i), values.get(i));
    }
    return m;
  }
}
