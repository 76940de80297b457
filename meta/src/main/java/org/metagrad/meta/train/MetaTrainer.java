package org.metagrad.meta.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.metagrad.Autograd;
import org.metagrad.GradOptions;
import org.metagrad.TaskParallel;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.MetaLearner;
import org.metagrad.meta.algo.MetaStep;
import org.metagrad.nn.Params;
import org.metagrad.nn.io.AtomicFiles;
import org.metagrad.nn.io.CheckpointException;
import org.metagrad.nn.io.Checkpoints;
import org.metagrad.nn.io.CrashPoints;
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
 * Every {@code checkpointEvery} iterations (and at the end) it writes {@code metrics.csv}, then, when
 * validation improved since the previous checkpoint, {@code best.safetensors}, then {@code last.safetensors}
 * (parameters, Adam state, iteration, metrics rows covered, best score and iteration), each atomically, so
 * that a kill at any point leaves a folder that {@link #train resumes} exactly (see {@code checkpoint}).
 *
 * <p><b>Divergence.</b> Every iteration's meta-loss, meta-gradients, updated parameters and Adam moments are
 * checked; the first non-finite value stops training with a {@link TrainingDivergedException} naming the
 * iteration and the value, after checkpointing the last finite state (if it is not already on disk). No
 * non-finite value is ever written to a checkpoint.
 *
 * <p><b>Strict resume.</b> A resumed run requires the complete state the trainer saved: finite parameters
 * of the template's names, shapes and dtypes, every Adam moment with exactly its parameter's shape, a step
 * count equal to the recorded iteration, and a {@code metrics.csv} holding a row for each iteration up to
 * it (rows after it, from a run killed mid-checkpoint, are dropped). If {@code best.safetensors} is missing
 * or is not the recorded best iteration's, the best is chosen again from the validations after the resumed
 * iteration (the listener is told), so a result never names a best file that does not exist.
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
  static final String META_METRICS_ROWS = "metrics_rows";

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

    /** Called with a remark the user should see, e.g. that a resumed run re-selects its best model. */
    default void notice(String message) {}
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

  /**
   * The meta-gradient of one item of a meta-batch, as {@link #taskGradient} computes it.
   *
   * @param index the item's index ({@code (t-1)*B + b} for the b-th item of iteration t)
   * @param grads the gradient of the item's loss with respect to each parameter, in the parameters' order,
   *     detached
   * @param loss the item's loss
   * @param accuracy the item's query accuracy (NaN for regression)
   */
  public record TaskGradient(long index, List<Tensor> grads, double loss, double accuracy) {
    /** Copies the gradient list. */
    public TaskGradient {
      grads = List.copyOf(grads);
    }
  }

  /**
   * Computes the per-item gradients of one meta-batch. The default runs {@link #taskGradient} on
   * {@link Options#threads()} worker threads; another implementation may compute them anywhere (another
   * process, another machine), as long as each item's result is {@code taskGradient(objective, params, i)}
   * for the same objective: the trainer sums them in index order, so the bits do not depend on where or in
   * which order they were computed.
   */
  @FunctionalInterface
  public interface Gradients {
    /**
     * The gradients of items {@code indices[0..n-1]} under {@code params}.
     *
     * @param params the current meta-parameters (requiring gradients)
     * @param indices the items of the meta-batch, ascending
     * @return one result per index, in the order of {@code indices}
     */
    List<TaskGradient> compute(Params params, long[] indices);
  }

  private final Objective objective;
  private final Adam adam;
  private final LrSchedule schedule;
  private final Options options;
  private final Gradients gradients;

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
    this.gradients = (params, indices) -> {
      List<Long> list = new ArrayList<>(indices.length);
      for (long i : indices) {
        list.add(i);
      }
      // The tasks side by side, each task's kernels on its own thread (TaskParallel); with one thread the
      // tasks run in turn and each kernel uses the backend's threads.
      return TaskParallel.map(options.threads(), list, index -> taskGradient(objective, params, index));
    };
  }

  private MetaTrainer(MetaTrainer base, Gradients gradients) {
    this.objective = base.objective;
    this.adam = base.adam;
    this.schedule = base.schedule;
    this.options = base.options;
    this.gradients = gradients;
  }

  /**
   * A copy of this trainer whose meta-batch gradients come from {@code g} instead of local worker threads
   * (e.g. a cluster computing {@link #taskGradient} of the same objective on executors). Everything else,
   * the ordered summation, clipping, the Adam step, validation, checkpoints and resume, is this trainer's.
   *
   * @param g the per-item gradient computation
   * @return the copy
   */
  public MetaTrainer withGradients(Gradients g) {
    if (g == null) {
      throw new IllegalArgumentException("MetaTrainer: gradients are required");
    }
    return new MetaTrainer(this, g);
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
   * @throws IllegalArgumentException when the checkpoint is past the end or the metrics log lost rows
   * @throws CheckpointException when the checkpoint does not fit {@code init} or its optimizer state is
   *     incomplete, mis-shaped, non-finite or at another step than its iteration (naming file and tensor)
   * @throws TrainingDivergedException when an iteration produces a non-finite value
   */
  public Result train(Params init, Validator validator, Path resume, Listener listener) {
    Params params = init.detach().requiresGrad(true);
    OptimizerState state = adam.init(params);
    long start = 0;
    double bestScore = Double.NaN;
    long bestIteration = 0;
    Params best = null;
    List<Row> history = new ArrayList<>();
    if (options.outDir() != null) {
      try {
        Files.createDirectories(options.outDir());
        // Leftovers of writes a kill interrupted; the files they were replacing are intact.
        for (String f : new String[] {LAST, BEST, METRICS_CSV}) {
          AtomicFiles.deleteTempFiles(options.outDir().resolve(f));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("MetaTrainer: cannot prepare output folder " + options.outDir() + ": "
            + e.getMessage(), e);
      }
    }
    if (resume != null) {
      Resumed r = resume(init, resume, listener);
      params = r.params.requiresGrad(true);
      state = r.state;
      start = r.iteration;
      bestScore = r.bestScore;
      bestIteration = r.bestIteration;
      best = r.best;
      history.addAll(r.history);
    }
    long t0 = System.nanoTime();
    long checkpointed = start;
    boolean bestPending = false;
    for (long it = start + 1; it <= options.iterations(); it++) {
      double lr = schedule.lr(state.step());
      Batch b = metaBatch(params, it);
      List<Tensor> grads = b.grads;
      String bad = firstNonFinite(b, params.names());
      if (options.clipNorm() > 0 && bad == null) {
        grads = GradClip.byGlobalNorm(grads, options.clipNorm()).grads();
      }
      Step step = null;
      if (bad == null) {
        step = adam.withLr(lr).step(params, Params.of(zip(params.names(), grads)), state);
        bad = firstNonFinite("updated parameter", step.params());
        if (bad == null) {
          bad = firstNonFinite("Adam moment", step.state().buffers());
        }
      }
      if (bad != null) {
        // Keep the last finite state: checkpoint iteration it-1 (if not already on disk), never the bad step.
        if (it - 1 > checkpointed) {
          checkpoint(params.detach(), state, it - 1, bestScore, bestIteration, bestPending ? best : null, history);
          checkpointed = it - 1;
        }
        throw new TrainingDivergedException(it, bad, options.outDir() == null || checkpointed == 0 ? null
            : options.outDir().resolve(LAST), checkpointed);
      }
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
          bestPending = true;
        }
        if (listener != null) {
          listener.validated(it, val, improved);
        }
      }
      Row row = new Row(it, b.loss, b.accuracy, lr, val, (System.nanoTime() - t0) / 1e9);
      history.add(row);
      if (last || (options.checkpointEvery() > 0 && it % options.checkpointEvery() == 0)) {
        checkpoint(params.detach(), state, it, bestScore, bestIteration, bestPending ? best : null, history);
        checkpointed = it;
        bestPending = false;
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

  /**
   * Writes the state after iteration {@code it}, in an order that keeps the folder consistent whenever the
   * process dies: (1) {@value #METRICS_CSV} with every row up to {@code it} (atomic replace); (2) if the
   * best parameters changed since the last checkpoint, {@value #BEST} (atomic); (3) {@value #LAST}, the
   * commit point, recording the iteration, the metrics rows it covers and the best iteration. A kill
   * before (3) leaves the previous {@value #LAST} with a log that is at least as long as it needs (resume
   * truncates the log to the checkpoint's rows) and possibly a {@value #BEST} from after it (resume sees
   * that its iteration is not the recorded best and picks the best again).
   */
  private void checkpoint(Params p, OptimizerState state, long it, double bestScore, long bestIt, Params newBest,
                          List<Row> history) {
    if (options.outDir() == null) {
      return;
    }
    CrashPoints.reached("checkpoint:start");
    MetricsFiles.writeCsv(options.outDir().resolve(METRICS_CSV), history);
    CrashPoints.reached("checkpoint:metrics-written");
    if (newBest != null) {
      save(BEST, newBest, null, bestIt, bestScore, bestIt, history.size());
      CrashPoints.reached("checkpoint:best-written");
    }
    save(LAST, p, state, it, bestScore, bestIt, history.size());
    CrashPoints.reached("checkpoint:last-written");
  }

  private record Resumed(Params params, OptimizerState state, long iteration, double bestScore, long bestIteration,
                         Params best, List<Row> history) {}

  /**
   * Reads and checks everything a resumed run continues from; any inconsistency is an error naming the file
   * and the entry, since continuing from it would silently take another trajectory than the run's.
   */
  private Resumed resume(Params init, Path resume, Listener listener) {
    Checkpoints.Loaded c;
    try {
      c = Checkpoints.load(resume);
    } catch (IOException e) {
      throw new UncheckedIOException("MetaTrainer: cannot resume from " + resume + ": " + e.getMessage(), e);
    }
    long start = parseLong(c.metadata(), META_ITERATION, resume);
    double bestScore = parseDouble(c.metadata(), META_BEST_SCORE, resume);
    long bestIteration = parseLong(c.metadata(), META_BEST_ITERATION, resume);
    if (start < 1) {
      throw new CheckpointException(resume + ": iteration " + start + " is not a completed iteration (>= 1)");
    }
    if (start > options.iterations()) {
      throw new IllegalArgumentException("MetaTrainer: checkpoint " + resume + " is at iteration " + start
          + ", past the requested " + options.iterations() + " iterations");
    }
    Params params = c.paramsLike(init);
    OptimizerState state = c.optimizerLike(adam.init(params));
    // One Adam step per iteration: any other count would change every later bias correction and lr.
    if (state.step() != start) {
      throw new CheckpointException(resume + ": optimizer step count " + state.step() + " does not match the"
          + " checkpoint's iteration " + start + " (one step per iteration)", Checkpoints.OPTIMIZER_PREFIX
          + OptimizerState.STEP, null);
    }
    if (!Double.isNaN(bestScore) && (bestIteration < 1 || bestIteration > start)) {
      throw new CheckpointException(resume + ": best iteration " + bestIteration + " is outside 1.." + start);
    }
    String rowsEntry = c.metadata().get(META_METRICS_ROWS);
    long rows = rowsEntry == null ? start : parseLong(c.metadata(), META_METRICS_ROWS, resume);
    if (rows != start) {
      throw new CheckpointException(resume + ": it covers " + rows + " metrics rows but " + start
          + " iterations (one row per iteration)");
    }
    Path csv = resume.resolveSibling(METRICS_CSV);
    List<Row> all = MetricsFiles.readCsv(csv, Long.MAX_VALUE);
    List<Row> history = new ArrayList<>();
    for (Row r : all) {
      if (r.iteration() <= start) {
        if (r.iteration() != history.size() + 1) {
          throw new IllegalArgumentException("metrics: " + csv + " has iteration " + r.iteration() + " where "
              + (history.size() + 1) + " was expected (rows must be 1, 2, ... once each)");
        }
        history.add(r);
      }
    }
    if (history.size() != start) {
      throw new IllegalArgumentException("metrics: " + csv + " holds " + history.size() + " rows up to iteration "
          + start + " but the checkpoint " + resume + " covers " + start + "; the log has lost rows");
    }
    if (all.size() != history.size() && options.outDir() != null) {
      // Rows of iterations after the checkpoint (a kill after the log was written): they are recomputed.
      MetricsFiles.writeCsv(csv, history);
    }
    Params best = null;
    if (!Double.isNaN(bestScore)) {
      Path bestFile = resume.resolveSibling(BEST);
      String why = null;
      if (!Files.exists(bestFile)) {
        why = bestFile + " is missing";
      } else {
        try {
          Checkpoints.Loaded b = Checkpoints.load(bestFile);
          String bi = b.metadata().get(META_ITERATION);
          if (bi == null || !bi.equals(Long.toString(bestIteration))) {
            why = bestFile + " holds iteration " + bi + ", not the recorded best iteration " + bestIteration;
          } else {
            best = b.paramsLike(init);
          }
        } catch (IOException e) {
          throw new UncheckedIOException("MetaTrainer: cannot read " + bestFile + ": " + e.getMessage(), e);
        }
      }
      if (why != null) {
        // Never report a best model that is not on disk: the best is chosen again among later validations.
        bestScore = Double.NaN;
        bestIteration = 0;
        if (listener != null) {
          listener.notice("resume: " + why + "; the best model is chosen again from the validations after"
              + " iteration " + start);
        }
      }
    }
    return new Resumed(params, state, start, bestScore, bestIteration, best, history);
  }

  /** Where the step went non-finite: the loss, a meta-gradient; null when all are finite. */
  private static String firstNonFinite(Batch b, List<String> names) {
    if (!Double.isFinite(b.loss)) {
      return "the meta-loss is " + b.loss;
    }
    for (int i = 0; i < b.grads.size(); i++) {
      String where = nonFiniteElement(b.grads.get(i));
      if (where != null) {
        return "the meta-gradient of '" + names.get(i) + "' " + where + " (meta-loss " + b.loss + ")";
      }
    }
    return null;
  }

  private static String firstNonFinite(String what, Params p) {
    for (String n : p.names()) {
      String where = nonFiniteElement(p.get(n));
      if (where != null) {
        return "the " + what + " '" + n + "' " + where;
      }
    }
    return null;
  }

  private static String firstNonFinite(String what, Map<String, Tensor> m) {
    for (Map.Entry<String, Tensor> e : m.entrySet()) {
      String where = nonFiniteElement(e.getValue());
      if (where != null) {
        return "the " + what + " '" + e.getKey() + "' " + where;
      }
    }
    return null;
  }

  private static String nonFiniteElement(Tensor t) {
    int i = t.firstNonFiniteIndex();
    return i < 0 ? null : "is " + t.reshape(-1).slice(0, i, i + 1).item() + " at element " + i;
  }

  private record Batch(List<Tensor> grads, double loss, double accuracy) {}

  /** The items of iteration {@code it} (1-based) of a meta-batch of {@code n}: {@code (it-1)*n .. it*n-1}. */
  public static long[] batchIndices(long it, int n) {
    long[] indices = new long[n];
    for (int b = 0; b < n; b++) {
      indices[b] = (it - 1) * n + b;
    }
    return indices;
  }

  private Batch metaBatch(Params params, long it) {
    int n = options.metaBatch();
    long[] indices = batchIndices(it, n);
    List<TaskGradient> results = gradients.compute(params, indices);
    if (results == null || results.size() != n) {
      throw new IllegalStateException("MetaTrainer: the gradient computation returned "
          + (results == null ? "null" : results.size() + " results") + " for " + n + " items of iteration " + it);
    }
    for (int b = 0; b < n; b++) {
      if (results.get(b).index() != indices[b] || results.get(b).grads().size() != params.size()) {
        throw new IllegalStateException("MetaTrainer: result " + b + " of iteration " + it + " is item "
            + results.get(b).index() + " with " + results.get(b).grads().size() + " gradients; expected item "
            + indices[b] + " with " + params.size());
      }
    }
    // Summation in task order, independent of which thread finished first: the bits do not depend on threads.
    List<Tensor> sum = new ArrayList<>(results.get(0).grads());
    double loss = results.get(0).loss();
    double acc = results.get(0).accuracy();
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      for (int b = 1; b < n; b++) {
        TaskGradient r = results.get(b);
        for (int i = 0; i < sum.size(); i++) {
          sum.set(i, sum.get(i).add(r.grads().get(i)));
        }
        loss += r.loss();
        acc += r.accuracy();
      }
      if (n > 1) {
        for (int i = 0; i < sum.size(); i++) {
          sum.set(i, sum.get(i).div((double) n));
        }
      }
    }
    return new Batch(sum, loss / n, acc / n);
  }

  /**
   * The one per-item gradient computation of meta-training: the gradient of {@code objective}'s loss of item
   * {@code index} with respect to every parameter (zero for a parameter the loss does not use), detached.
   * Local worker threads and distributed executors both call this, so their results are the same bits.
   *
   * @param objective the loss of one item
   * @param params the meta-parameters, requiring gradients
   * @param index the item
   * @return its gradients, loss and accuracy
   */
  public static TaskGradient taskGradient(Objective objective, Params params, long index) {
    MetaStep s = objective.loss(params, index);
    List<Tensor> g = Autograd.grad(s.loss(), params.values(), GradOptions.defaults().allowUnused(true));
    List<Tensor> detached = new ArrayList<>(g.size());
    for (Tensor t : g) {
      detached.add(t.detach());
    }
    // A non-finite loss or gradient is reported by the iteration's check, which names the iteration.
    return new TaskGradient(index, detached, s.lossValue(), s.accuracy());
  }

  private void save(String file, Params p, OptimizerState state, long it, double bestScore, long bestIt, long rows) {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put(META_ITERATION, Long.toString(it));
    meta.put(META_BEST_SCORE, Double.toString(bestScore));
    meta.put(META_BEST_ITERATION, Long.toString(bestIt));
    meta.put(META_METRICS_ROWS, Long.toString(rows));
    Path f = options.outDir().resolve(file);
    try {
      Checkpoints.save(f, p, null, state, meta);
    } catch (IOException e) {
      throw new UncheckedIOException("MetaTrainer: cannot write checkpoint " + f + ": " + e.getMessage(), e);
    }
  }

  private static long parseLong(Map<String, String> meta, String key, Path file) {
    String v = require(meta, key, file);
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new CheckpointException(file + ": metadata '" + key + "' is not an integer: '" + v + "'", null, e);
    }
  }

  private static double parseDouble(Map<String, String> meta, String key, Path file) {
    String v = require(meta, key, file);
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new CheckpointException(file + ": metadata '" + key + "' is not a number: '" + v + "'", null, e);
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
