package org.metagrad.meta.l2l;

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
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.meta.algo.Order;
import org.metagrad.meta.data.CharacterId;
import org.metagrad.meta.data.ImageClasses;
import org.metagrad.meta.data.OmniglotReader;
import org.metagrad.meta.data.OmniglotSet;
import org.metagrad.meta.report.LinePlot;
import org.metagrad.meta.train.Json;
import org.metagrad.nn.Params;
import org.metagrad.nn.io.AtomicFiles;
import org.metagrad.nn.io.Checkpoints;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.OptimizerState;

/**
 * A learned-optimizer experiment after Andrychowicz et al. (2016): meta-trains {@link LstmOptimizer}s (first
 * order as the paper, second order, or both with the same budget) on a family of problems, tunes the learning
 * rates of SGD, RMSprop and Adam on separate tuning problems, and compares all of them on held-out problems
 * over a horizon longer than the one trained on. Writes into the output folder {@code config.json},
 * {@code metrics.csv} (one row per meta-iteration), {@code metrics.json} (the comparison table),
 * {@code optimizer-<order>.safetensors}, {@code loss-curves.png} (mean held-out loss per step, log scale: the
 * paper's generalisation plot) and {@code training-curve.png}.
 *
 * <p>Problem families: {@code quadratic}, random {@code ||W theta - y||^2} in 10 dimensions
 * ({@link QuadraticFunctions}); {@code mlp}, a one-hidden-layer sigmoid MLP classifying the images of
 * {@code classes} random Omniglot characters ({@link MlpClassification}), drawn from 100 (seeded) characters of
 * images_background for meta-training and tuning and from 100 of images_evaluation for the held-out problems.
 *
 * <p>Baseline tuning: each hand-designed optimizer runs the {@code tune} problems for the trained horizon at
 * every learning rate of the grid, and the rate with the lowest mean final evaluation loss is kept (diverged
 * runs count as infinite).
 *
 * <pre>{@code
 * LearnToOptimize.Result r = new LearnToOptimize(LearnToOptimize.Config.quadratic(Path.of("runs/l2l"))).run(System.out);
 * }</pre>
 */
public final class LearnToOptimize {
  /** Characters drawn (seeded) from each of images_background and images_evaluation for the mlp problems. */
  static final int POOL = 100;

  private static final double[] LR_GRID = {1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3};

  /** The learning-rate grid of the baselines (half decades from 1e-4 to 3), a copy. */
  public static double[] lrGrid() {
    return LR_GRID.clone();
  }

  /**
   * Settings.
   *
   * @param task {@code quadratic} or {@code mlp}
   * @param orders which variants to train: {@code [FIRST]}, {@code [SECOND]} or both
   * @param iterations meta-training iterations per variant (each optimises one batch of problems over the horizon)
   * @param functions problems per meta-training batch
   * @param horizon optimisation steps per problem in training (the paper: 100)
   * @param unroll truncation length of backpropagation through time (the paper: 20)
   * @param evalHorizon steps in the held-out comparison (>= horizon)
   * @param evalFunctions held-out problems
   * @param tuneFunctions problems for tuning the baselines' learning rates
   * @param hidden LSTM units per layer (the paper: 20)
   * @param scale output scale of the LSTM
   * @param lr Adam learning rate of phi
   * @param clip global-norm clip of the meta-gradient (0 = off)
   * @param seed seed of everything
   * @param data data root holding {@code omniglot/} (mlp only)
   * @param side image side for mlp (14 = 196 inputs)
   * @param classes classes per mlp problem
   * @param mlpHidden hidden sigmoid units of the mlp (the paper: 20)
   * @param batch minibatch size of the mlp
   * @param out output folder
   */
  public record Config(String task, List<Order> orders, int iterations, int functions, int horizon, int unroll,
                       int evalHorizon, int evalFunctions, int tuneFunctions, int hidden, double scale, double lr,
                       double clip, long seed, Path data, int side, int classes, int mlpHidden, int batch, Path out) {
    /** Validates every setting (before any data is read). */
    public Config {
      if (!task.equals("quadratic") && !task.equals("mlp")) {
        throw new IllegalArgumentException("--task must be quadratic or mlp, got '" + task + "'");
      }
      if (orders == null || orders.isEmpty()) {
        throw new IllegalArgumentException("--order: give first, second or both");
      }
      orders = List.copyOf(orders);
      check("--iterations", iterations, 1);
      check("--functions", functions, 1);
      check("--horizon", horizon, 1);
      check("--unroll", unroll, 1);
      check("--eval-functions", evalFunctions, 2);
      check("--tune-functions", tuneFunctions, 1);
      check("--hidden", hidden, 1);
      check("--side", side, 4);
      check("--classes", classes, 2);
      check("--mlp-hidden", mlpHidden, 1);
      check("--batch", batch, 1);
      if (evalHorizon < horizon) {
        throw new IllegalArgumentException("--eval-horizon " + evalHorizon + " must be >= --horizon " + horizon);
      }
      if (!(lr > 0) || Double.isInfinite(lr) || !(scale > 0) || Double.isInfinite(scale) || !(clip >= 0)
          || Double.isInfinite(clip)) {
        throw new IllegalArgumentException("--lr and --scale must be finite and > 0, --clip finite and >= 0; got lr "
            + lr + ", scale " + scale + ", clip " + clip);
      }
      if (out == null) {
        throw new IllegalArgumentException("--out is required");
      }
      if (task.equals("mlp") && data == null) {
        throw new IllegalArgumentException("--task mlp needs the data root (--data or METAGRAD_DATA)");
      }
    }

    private static void check(String option, int v, int min) {
      if (v < min) {
        throw new IllegalArgumentException(option + " must be >= " + min + ", got " + v);
      }
    }

    /** The paper's quadratic setting at a CPU budget: 10-d, horizon 100, unroll 20, 200-step evaluation. */
    public static Config quadratic(Path out) {
      return new Config("quadratic", List.of(Order.FIRST), 100, 64, 100, 20, 200, 100, 32, 20, 0.1, 3e-3, 1, 1,
          null, 14, 10, 20, 64, out);
    }

    Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("task", task);
      m.put("orders", orders.stream().map(o -> o.name().toLowerCase(Locale.ROOT)).toList().toString());
      m.put("iterations", iterations);
      m.put("functions", functions);
      m.put("horizon", horizon);
      m.put("unroll", unroll);
      m.put("eval_horizon", evalHorizon);
      m.put("eval_functions", evalFunctions);
      m.put("tune_functions", tuneFunctions);
      m.put("hidden", hidden);
      m.put("scale", scale);
      m.put("lr", lr);
      m.put("clip", clip);
      m.put("seed", seed);
      if (task.equals("mlp")) {
        m.put("side", side);
        m.put("classes", classes);
        m.put("mlp_hidden", mlpHidden);
        m.put("batch", batch);
      }
      return m;
    }
  }

  /**
   * One optimizer's held-out result.
   *
   * @param name e.g. {@code LSTM (first order)} or {@code Adam (lr 0.1)}
   * @param lr the tuned learning rate (NaN for the learned optimizers)
   * @param curve mean evaluation loss per step, {@code [evalHorizon + 1]}
   * @param atHorizon per-problem loss at the trained horizon
   * @param atEnd per-problem loss at the evaluation horizon
   * @param trainSeconds meta-training wall time (0 for the baselines)
   */
  public record Entry(String name, double lr, double[] curve, double[] atHorizon, double[] atEnd, double trainSeconds) {
    /** Mean and 95% CI half-width ({@code 1.96 s / sqrt(n)}) of a per-problem column. */
    public static double[] meanCi(double[] v) {
      double s = 0;
      for (double x : v) {
        s += x;
      }
      double mean = s / v.length;
      double ss = 0;
      for (double x : v) {
        ss += (x - mean) * (x - mean);
      }
      double sd = Math.sqrt(ss / (v.length - 1));
      return new double[] {mean, 1.96 * sd / Math.sqrt(v.length)};
    }
  }

  /** All entries, in the table's order (learned optimizers first). */
  public record Result(List<Entry> entries) {}

  private final Config c;

  /** An experiment with these settings. */
  public LearnToOptimize(Config c) {
    this.c = c;
  }

  /** Problem sources: meta-training, tuning and held-out. */
  private interface Family {
    Optimizee sample(Rng rng, int b);
  }

  /**
   * Runs the whole experiment into {@code c.out()} (which must be absent or empty) and returns the table.
   *
   * @throws IllegalArgumentException for a non-empty output folder or missing data
   * @throws UncheckedIOException when an output cannot be written
   */
  public Result run(PrintStream log) {
    Path dir = c.out();
    try {
      if (Files.exists(dir) && (!Files.isDirectory(dir) || Files.list(dir).findAny().isPresent())) {
        throw new IllegalArgumentException("--out " + dir + " exists and is not an empty folder");
      }
      Files.createDirectories(dir);
      AtomicFiles.write(dir.resolve("config.json"), Json.object(c.toMap()).getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot use output folder " + dir + ": " + e.getMessage(), e);
    }
    DType dt = DType.FLOAT32;
    Family train;
    Family heldOut;
    if (c.task().equals("quadratic")) {
      train = (rng, b) -> QuadraticFunctions.sample(rng, b, 10, dt);
      heldOut = train;
    } else {
      Path omni = c.data().resolve("omniglot");
      if (!Files.isDirectory(omni)) {
        throw new IllegalArgumentException("Omniglot data folder not found: " + omni.toAbsolutePath()
            + " (set METAGRAD_DATA or pass --data to the folder holding omniglot/)");
      }
      OmniglotReader reader = new OmniglotReader(omni, c.side(), 2);
      long t0 = System.nanoTime();
      ImageClasses bg = reader.load(subset(reader.characters(OmniglotSet.BACKGROUND), POOL, c.seed()));
      ImageClasses ev = reader.load(subset(reader.characters(OmniglotSet.EVALUATION), POOL, c.seed() + 1));
      log.printf(Locale.ROOT, "data: %d background + %d evaluation characters at %dx%d, loaded in %.1f s%n", POOL,
          POOL, c.side(), c.side(), (System.nanoTime() - t0) / 1e9);
      train = (rng, b) -> MlpClassification.sample(bg, rng, b, c.classes(), c.mlpHidden(), c.batch(), dt);
      heldOut = (rng, b) -> MlpClassification.sample(ev, rng, b, c.classes(), c.mlpHidden(), c.batch(), dt);
    }
    Optimizee held = heldOut.sample(new Rng(c.seed() * 31 + 7), c.evalFunctions());
    Optimizee tune = train.sample(new Rng(c.seed() * 31 + 5), c.tuneFunctions());
    List<Entry> entries = new ArrayList<>();
    List<double[]> trainRows = new ArrayList<>();
    LinePlot trainPlot = new LinePlot("learned optimizer: meta-training (" + c.task() + ")", "meta-iteration",
        "mean loss over the horizon").logY();
    for (Order order : c.orders()) {
      String ord = order.name().toLowerCase(Locale.ROOT);
      LstmOptimizer opt = new LstmOptimizer(c.hidden(), c.scale());
      Params phi = opt.init(new Rng(c.seed()), dt);
      Adam adam = Adam.of(c.lr());
      OptimizerState st = adam.init(phi);
      Rng rng = new Rng(c.seed() * 1_000_003L + 1);
      long t0 = System.nanoTime();
      double[] xs = new double[c.iterations()];
      double[] ys = new double[c.iterations()];
      for (int it = 0; it < c.iterations(); it++) {
        LstmOptimizer.IterationResult r = opt.trainIteration(phi, adam, st, train.sample(rng, c.functions()),
            c.horizon(), c.unroll(), order, c.clip());
        phi = r.phi();
        st = r.adam();
        double sec = (System.nanoTime() - t0) / 1e9;
        xs[it] = it + 1;
        ys[it] = r.meanLoss();
        trainRows.add(new double[] {order == Order.FIRST ? 1 : 2, it + 1, r.meanLoss(), r.gradNorm(), sec});
        if ((it + 1) % Math.max(1, c.iterations() / 10) == 0 || it == 0) {
          log.printf(Locale.ROOT, "%s order: iteration %d/%d, mean loss %.4g, |grad| %.3g, %.1f s%n", ord, it + 1,
              c.iterations(), r.meanLoss(), r.gradNorm(), sec);
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      trainPlot.line("LSTM, " + ord + " order", xs, ys);
      try {
        Checkpoints.save(dir.resolve("optimizer-" + ord + ".safetensors"), phi, null, st,
            Map.of("metagrad.l2l", opt.toString() + ", " + ord + " order"));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write the checkpoint: " + e.getMessage(), e);
      }
      entries.add(entry("LSTM (" + ord + " order)", Double.NaN, opt.trajectory(phi, held, c.evalHorizon()), seconds));
    }
    for (HandOptimizer h : HandOptimizer.values()) {
      double best = Double.NaN;
      double bestLoss = Double.POSITIVE_INFINITY;
      StringBuilder grid = new StringBuilder();
      for (double lr : LR_GRID) {
        double[][] tr = h.trajectory(tune, lr, c.horizon());
        double m = Entry.meanCi(tr[c.horizon()])[0];
        grid.append(String.format(Locale.ROOT, " %g:%.3g", lr, m));
        if (m < bestLoss) {
          bestLoss = m;
          best = lr;
        }
      }
      log.printf(Locale.ROOT, "%s tuning (lr: mean loss at step %d on %d tuning problems):%s -> lr %g%n", h.label(),
          c.horizon(), c.tuneFunctions(), grid, best);
      entries.add(entry(h.label() + " (lr " + best + ")", best, h.trajectory(held, best, c.evalHorizon()), 0));
    }
    writeOutputs(entries, trainRows, trainPlot, log);
    return new Result(List.copyOf(entries));
  }

  private Entry entry(String name, double lr, double[][] traj, double seconds) {
    double[] curve = new double[traj.length];
    for (int t = 0; t < traj.length; t++) {
      curve[t] = Entry.meanCi(traj[t])[0];
    }
    return new Entry(name, lr, curve, traj[c.horizon()], traj[c.evalHorizon()], seconds);
  }

  /** Mean and 95% CI of {@code log10(b_i / a_i)} over problems, and on how many {@code b_i < a_i}. */
  static double[] pairedLogRatio(double[] a, double[] b) {
    double[] d = new double[a.length];
    int lower = 0;
    for (int i = 0; i < a.length; i++) {
      d[i] = StrictMath.log10(b[i] / a[i]);
      lower += b[i] < a[i] ? 1 : 0;
    }
    double[] mc = Entry.meanCi(d);
    return new double[] {mc[0], mc[1], lower};
  }

  private static List<CharacterId> subset(List<CharacterId> all, int n, long seed) {
    int[] order = new int[all.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    new Rng(seed).shuffle(order);
    List<CharacterId> out = new ArrayList<>();
    for (int i = 0; i < Math.min(n, order.length); i++) {
      out.add(all.get(order[i]));
    }
    return out;
  }

  private void writeOutputs(List<Entry> entries, List<double[]> trainRows, LinePlot trainPlot, PrintStream log) {
    Path dir = c.out();
    StringBuilder csv = new StringBuilder("order,iteration,mean_loss,grad_norm,seconds\n");
    for (double[] r : trainRows) {
      csv.append(String.format(Locale.ROOT, "%d,%d,%.8g,%.6g,%.3f%n", (int) r[0], (int) r[1], r[2], r[3], r[4]));
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("task", c.task());
    m.put("held_out_functions", c.evalFunctions());
    m.put("horizon", c.horizon());
    m.put("eval_horizon", c.evalHorizon());
    Map<String, Object> rows = new LinkedHashMap<>();
    log.printf(Locale.ROOT, "held-out %s problems (%d), mean loss +- 95%% CI:%n", c.task(), c.evalFunctions());
    LinePlot plot = new LinePlot("held-out " + c.task() + " problems: mean loss (" + c.evalFunctions()
        + " problems; trained on " + c.horizon() + " steps)", "step", "loss").logY();
    double[] steps = new double[c.evalHorizon() + 1];
    for (int i = 0; i < steps.length; i++) {
      steps[i] = i;
    }
    for (Entry e : entries) {
      double[] a = Entry.meanCi(e.atHorizon());
      double[] b = Entry.meanCi(e.atEnd());
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("lr", e.lr());
      r.put("loss_at_horizon_mean", a[0]);
      r.put("loss_at_horizon_ci95", a[1]);
      r.put("loss_at_eval_horizon_mean", b[0]);
      r.put("loss_at_eval_horizon_ci95", b[1]);
      r.put("train_seconds", e.trainSeconds());
      r.put("curve", e.curve());
      r.put("per_problem_at_horizon", e.atHorizon());
      r.put("per_problem_at_eval_horizon", e.atEnd());
      rows.put(e.name(), r);
      log.printf(Locale.ROOT, "  %-28s step %d: %.4g +- %.2g   step %d: %.4g +- %.2g%n", e.name(), c.horizon(), a[0],
          a[1], c.evalHorizon(), b[0], b[1]);
      plot.line(e.name(), steps, e.curve());
    }
    m.put("optimizers", rows);
    if (entries.size() > 1 && entries.get(1).name().startsWith("LSTM")) {
      // Both orders on the same held-out problems: the paired per-problem log10 ratio second / first.
      Map<String, Object> paired = new LinkedHashMap<>();
      for (int k = 0; k < (c.evalHorizon() > c.horizon() ? 2 : 1); k++) {
        double[] f = k == 0 ? entries.get(0).atHorizon() : entries.get(0).atEnd();
        double[] s2 = k == 0 ? entries.get(1).atHorizon() : entries.get(1).atEnd();
        double[] d = pairedLogRatio(f, s2);
        String at = k == 0 ? "horizon" : "eval_horizon";
        paired.put("log10_ratio_at_" + at + "_mean", d[0]);
        paired.put("log10_ratio_at_" + at + "_ci95", d[1]);
        paired.put("second_lower_at_" + at, d[2]);
        log.printf(Locale.ROOT, "  second vs first order, step %d: mean log10(second/first) %.3f +- %.3f, second lower"
            + " on %d of %d problems%n", k == 0 ? c.horizon() : c.evalHorizon(), d[0], d[1], (int) d[2], f.length);
      }
      m.put("second_vs_first_order", paired);
    }
    m.put("java", System.getProperty("java.version"));
    try {
      AtomicFiles.write(dir.resolve("metrics.csv"), csv.toString().getBytes(StandardCharsets.UTF_8));
      AtomicFiles.write(dir.resolve("metrics.json"), Json.object(m).getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write metrics into " + dir + ": " + e.getMessage(), e);
    }
    plot.write(dir.resolve("loss-curves.png"));
    trainPlot.write(dir.resolve("training-curve.png"));
    log.println("wrote " + dir.toAbsolutePath() + "/{config.json, metrics.csv, metrics.json, optimizer-*.safetensors,"
        + " loss-curves.png, training-curve.png}");
  }
}
