package org.metagrad.meta.train;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.TaskParallel;
import org.metagrad.meta.algo.Mann;
import org.metagrad.meta.data.ClassSplit;
import org.metagrad.meta.data.ImageClasses;
import org.metagrad.meta.data.MannEpisodes;
import org.metagrad.meta.data.OmniglotReader;
import org.metagrad.meta.eval.EvalResult;
import org.metagrad.meta.report.LinePlot;
import org.metagrad.nn.Params;
import org.metagrad.nn.io.AtomicFiles;
import org.metagrad.nn.optim.Adam;

/**
 * A MANN run on Omniglot ({@code train --algorithm mann}): episodes of N classes x {@code instances} images with
 * labels one step late ({@link MannEpisodes}), trained by {@link MetaTrainer} (each item of a step is a batch
 * of episodes; Adam, schedule, clipping, validation, atomic best/last checkpoints, exact resume and the
 * divergence stop are the trainer's), validated by the accuracy over all steps of the split's validation
 * episodes, and tested by the accuracy at each presentation of a class (1st, 2nd, ..., as Santoro et al.'s
 * Table 1) with 95% confidence intervals over test episodes. Writes {@code config.json}, {@code metrics.csv},
 * {@code metrics.json} (with {@code test_accuracy_by_instance}), {@code best.safetensors},
 * {@code last.safetensors}, {@code learning-curve.png}, {@code loss-curve.png} and {@code instance-accuracy.png}.
 *
 * <pre>{@code
 * MannExperiment.Outcome o = new MannExperiment(MannConfig.of(base), System.out, null).run(false, false);
 * o.byInstance()[9];   // accuracy at the 10th presentation, with its CI
 * }</pre>
 */
public final class MannExperiment {
  /** The files a MANN run writes into its folder. */
  public static final List<String> RUN_FILES = List.of(Experiment.CONFIG, MetaTrainer.METRICS_CSV,
      Experiment.METRICS_JSON, MetaTrainer.BEST, MetaTrainer.LAST, "learning-curve.png", "loss-curve.png",
      "instance-accuracy.png");

  private final MannConfig config;
  private final PrintStream out;
  private final PrintStream progress;

  /**
   * An experiment.
   *
   * @param config the run's settings
   * @param out where results are printed
   * @param progress where the progress bar is drawn, or null
   */
  public MannExperiment(MannConfig config, PrintStream out, PrintStream progress) {
    this.config = config;
    this.out = out;
    this.progress = progress;
  }

  /**
   * Accuracy by presentation over test episodes.
   *
   * @param byInstance {@code byInstance[k-1]}: the accuracy at the k-th presentation of a class (per episode,
   *     the fraction of its classes predicted right at their k-th image), k = 1..instances
   * @param overall the accuracy over all steps (per episode), with its CI
   */
  public record InstanceAccuracy(EvalResult[] byInstance, EvalResult overall) {}

  /**
   * The outcome of a run.
   *
   * @param training the trainer's result
   * @param test the test accuracies of the best parameters
   * @param seconds total wall time
   */
  public record Outcome(MetaTrainer.Result training, InstanceAccuracy test, double seconds) {}

  /** The initial parameters of a configuration (FLOAT32, from its seed). */
  public static Params initialParams(MannConfig c) {
    return new Mann(c.mann()).init(new Rng(c.base().seed()), DType.FLOAT32);
  }

  /**
   * Accuracy by instance of a network over episodes {@code 0 .. episodes-1} of a source (batches of
   * {@code batch} episodes side by side in {@code threads} workers; no gradients recorded).
   */
  public static InstanceAccuracy evaluate(Mann mann, Params params, MannEpisodes source, int episodes, int batch,
                                          int threads) {
    if (episodes < 1 || batch < 1) {
      throw new IllegalArgumentException("MannExperiment: episodes and batch must be >= 1, got " + episodes + " and "
          + batch);
    }
    int k = source.instances();
    int n = source.classes();
    Params p = params.detach();
    List<Integer> batches = new ArrayList<>();
    for (int i = 0; i * batch < episodes; i++) {
      batches.add(i);
    }
    List<double[][]> parts = TaskParallel.map(threads, batches, bi -> {
      int size = Math.min(batch, episodes - bi * batch);
      // Episodes bi*batch .. : index the source by single episodes so any batch size sees the same episodes.
      double[][] acc = new double[size][k + 1];
      try (Autograd.NoGrad g = Autograd.noGrad()) {
        Mann.Batch b = concat(source, (long) bi * batch, size);
        Mann.Run r = mann.run(p, b);
        for (int e = 0; e < size; e++) {
          int right = 0;
          for (int s = 0; s < b.steps(); s++) {
            if (r.correct()[e][s]) {
              acc[e][b.instance()[e][s] - 1] += 1.0 / n;
              right++;
            }
          }
          acc[e][k] = (double) right / b.steps();
        }
      }
      return acc;
    });
    double[][] per = new double[k + 1][episodes];
    int e = 0;
    for (double[][] part : parts) {
      for (double[] row : part) {
        for (int j = 0; j <= k; j++) {
          per[j][e] = row[j];
        }
        e++;
      }
    }
    EvalResult[] by = new EvalResult[k];
    for (int j = 0; j < k; j++) {
      by[j] = EvalResult.of(per[j]);
    }
    return new InstanceAccuracy(by, EvalResult.of(per[k]));
  }

  /** Episodes {@code first .. first+size-1} of a source as one batch (single-episode batches, concatenated). */
  private static Mann.Batch concat(MannEpisodes source, long first, int size) {
    List<Mann.Batch> parts = new ArrayList<>(size);
    for (int e = 0; e < size; e++) {
      parts.add(source.batch(first + e, 1, DType.FLOAT32));
    }
    List<org.metagrad.Tensor> xs = new ArrayList<>(size);
    int[][] labels = new int[size][];
    int[][] codes = new int[size][];
    int[][] inst = new int[size][];
    for (int e = 0; e < size; e++) {
      Mann.Batch b = parts.get(e);
      xs.add(b.x());
      labels[e] = b.labels()[0];
      codes[e] = b.codes()[0];
      inst[e] = b.instance()[0];
    }
    return new Mann.Batch(org.metagrad.Tensor.concat(xs, 1), labels, codes, inst);
  }

  /**
   * Runs (or resumes) the experiment.
   *
   * @param resume continue from {@code out/last.safetensors} with the same settings
   * @param overwrite replace the run files in a non-empty folder
   * @throws IllegalArgumentException for a bad folder, missing data or a mismatched resume
   * @throws UncheckedIOException when an output cannot be written
   * @throws TrainingDivergedException when a step's loss, gradient or parameters are not finite
   */
  public Outcome run(boolean resume, boolean overwrite) {
    long t0 = System.nanoTime();
    MannConfig mc = config;
    TrainConfig c = mc.base();
    Path dir = c.out();
    Path resumeFrom = Experiment.openRunFolder(c, resume, overwrite, RUN_FILES, false);
    Experiment.Pools pools = Experiment.loadRun(c, out);
    ImageClasses train = pools.train();
    ImageClasses val = pools.val();
    ImageClasses test = pools.test();

    Mann mann = new Mann(mc.mann());
    Params init = initialParams(mc);
    MannEpisodes trainEpisodes = new MannEpisodes(train, c.ways(), mc.instances(), c.rotation(), mc.labels(),
        c.seed()).withDistortion(c.distortion());
    MannEpisodes valEpisodes = new MannEpisodes(val, c.ways(), mc.instances(), c.rotation(), mc.labels(),
        Experiment.valSeed(c));
    MannEpisodes testEpisodes = new MannEpisodes(test, c.ways(), mc.instances(), c.rotation(), mc.labels(),
        Experiment.testSeed(c));
    MetaTrainer.Objective objective = (p, i) -> mann.loss(p, trainEpisodes.batch(i, mc.episodes(), DType.FLOAT32));
    out.printf(Locale.ROOT, "model: %s, %d parameters%n", mann, init.numel());
    out.println("training: " + mc);
    MetaTrainer.Options opt = MetaTrainer.Options.of(c.iterations(), c.metaBatch()).threads(c.threads())
        .validateEvery(c.valEvery()).checkpointEvery(c.checkpointEvery()).clipNorm(c.clipNorm()).outDir(dir);
    MetaTrainer trainer = new MetaTrainer(objective, Adam.of(c.outerLr()), Experiment.schedule(c), opt);
    Experiment.ProgressListener listener = new Experiment.ProgressListener(progress, c.iterations(), out);
    int evalBatch = Math.max(1, mc.episodes());
    MetaTrainer.Result r = trainer.train(init,
        p -> evaluate(mann, p, valEpisodes, c.valEpisodes(), evalBatch, c.threads()).overall().mean(), resumeFrom,
        listener);
    listener.finish();
    out.printf(Locale.ROOT, "trained %d iterations in %.1f s; best validation accuracy %.2f%% at iteration %d%n",
        c.iterations(), r.seconds(), 100 * r.bestScore(), r.bestIteration());
    InstanceAccuracy acc = evaluate(mann, r.best(), testEpisodes, c.testEpisodes(), evalBatch, c.threads());
    out.println("test accuracy by instance (" + c.testEpisodes() + " episodes of " + c.ways() + " classes):");
    for (int k = 0; k < acc.byInstance().length; k++) {
      out.printf(Locale.ROOT, "  instance %2d: %s%n", k + 1, acc.byInstance()[k]);
    }
    out.printf(Locale.ROOT, "  all steps:   %s%n", acc.overall());
    double seconds = (System.nanoTime() - t0) / 1e9;
    writeOutputs(mc, r, acc, seconds);
    out.println("wrote " + dir.toAbsolutePath() + "/{config.json, metrics.csv, metrics.json, best.safetensors,"
        + " last.safetensors, learning-curve.png, loss-curve.png, instance-accuracy.png}");
    return new Outcome(r, acc, seconds);
  }

  private void writeOutputs(MannConfig mc, MetaTrainer.Result r, InstanceAccuracy acc, double seconds) {
    TrainConfig c = mc.base();
    Path dir = c.out();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("algorithm", c.algorithm().cliName());
    m.put("controller", mc.controller().cliName());
    m.put("labels", mc.labels().cliName());
    m.put("train_task", c.ways() + " classes x " + mc.instances() + " instances, " + mc.episodes() + " x "
        + c.metaBatch() + " episodes per step");
    m.put("iterations", c.iterations());
    m.put("train_seconds_this_session", r.seconds());
    m.put("total_seconds_this_session", seconds);
    m.put("best_val_accuracy", r.bestScore());
    m.put("best_iteration", r.bestIteration());
    m.put("test_accuracy", acc.overall().mean());
    m.put("test_ci95", acc.overall().ci95());
    m.put("test_episodes", acc.overall().episodes());
    double[] means = new double[acc.byInstance().length];
    double[] cis = new double[means.length];
    for (int k = 0; k < means.length; k++) {
      means[k] = acc.byInstance()[k].mean();
      cis[k] = acc.byInstance()[k].ci95();
    }
    m.put("test_accuracy_by_instance", means);
    m.put("test_ci95_by_instance", cis);
    List<MetaTrainer.Row> h = r.history();
    if (!h.isEmpty()) {
      m.put("final_train_loss", Experiment.smoothed(h, false)[h.size() - 1]);
      m.put("final_train_accuracy", Experiment.smoothed(h, true)[h.size() - 1]);
    }
    m.put("java", System.getProperty("java.version"));
    m.put("cpus", Runtime.getRuntime().availableProcessors());
    try {
      AtomicFiles.write(dir.resolve(Experiment.METRICS_JSON), Json.object(m).getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir.resolve(Experiment.METRICS_JSON) + ": " + e.getMessage(),
          e);
    }
    Experiment.writeCurves(dir, h, "mann (" + mc.controller().cliName() + ")");
    double[] x = new double[means.length];
    double[] lo = new double[means.length];
    double[] hi = new double[means.length];
    for (int k = 0; k < means.length; k++) {
      x[k] = k + 1;
      lo[k] = means[k] - cis[k];
      hi[k] = means[k] + cis[k];
    }
    new LinePlot("mann (" + mc.controller().cliName() + "): test accuracy by instance", "presentation of the class",
        "accuracy").line("accuracy", x, means).points("95% CI low", x, lo).points("95% CI high", x, hi)
        .write(dir.resolve("instance-accuracy.png"));
  }
}
