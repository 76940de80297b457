package org.metagrad.meta.semi;

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
import org.metagrad.Rng;
import org.metagrad.meta.data.CharacterId;
import org.metagrad.meta.data.ImageClasses;
import org.metagrad.meta.data.OmniglotReader;
import org.metagrad.meta.data.OmniglotSet;
import org.metagrad.meta.report.LinePlot;
import org.metagrad.meta.train.Json;
import org.metagrad.meta.train.MetaTrainer;
import org.metagrad.nn.Params;
import org.metagrad.nn.io.AtomicFiles;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.LrSchedule;

/**
 * One semi- or self-supervised run into a run folder, with the guarantees of the meta-learners' runs: the
 * folder must be new or empty (or {@code overwrite}), {@code config.json} first, then {@link MetaTrainer}'s
 * {@code metrics.csv}, {@code best.safetensors} and {@code last.safetensors} (each written atomically, in that
 * order; training stops with {@link org.metagrad.meta.train.TrainingDivergedException} at the first non-finite
 * loss, gradient or parameter), and at the end {@code metrics.json}, {@code learning-curve.png} and
 * {@code loss-curve.png}.
 *
 * <p>Validation happens once, after the last step (so best = last: with one labelled drawing per class there is
 * no labelled validation set to choose by, as Oliver et al. 2018 point out); its score is the accuracy on the
 * labelled training drawings (semi-supervised) or of a linear probe fitted on them (self-supervised). The test
 * accuracy is measured on the split's held-out drawings, one per class.
 *
 * <pre>{@code
 * SemiRun.Outcome o = SemiRun.run(SemiConfig.defaults(SemiMethod.FIXMATCH), split, Path.of("runs/fm"), false,
 *     System.out);
 * }</pre>
 */
public final class SemiRun {
  private SemiRun() {}

  /** The files a run writes. */
  public static final List<String> RUN_FILES = List.of("config.json", MetaTrainer.METRICS_CSV, "metrics.json",
      MetaTrainer.BEST, MetaTrainer.LAST, "learning-curve.png", "loss-curve.png");

  /**
   * The outcome of a run.
   *
   * @param config the settings
   * @param testAccuracy the classifier's test accuracy (semi-supervised), NaN for self-supervised runs
   * @param probeAccuracy the linear probe's test accuracy (self-supervised), else NaN
   * @param finetuneAccuracy the fine-tuned classifier's test accuracy (self-supervised), else NaN
   * @param testImages the number of test drawings
   * @param trainSeconds wall time of the training loop
   * @param totalSeconds wall time of the whole run (training, probe, fine-tuning, evaluation)
   * @param last the final parameters
   */
  public record Outcome(SemiConfig config, double testAccuracy, double probeAccuracy, double finetuneAccuracy,
                        int testImages, double trainSeconds, double totalSeconds, Params last) {}

  /**
   * The classes of a run: all of {@code images_background} ({@code classes == 0}) or the first {@code classes}
   * characters of a shuffle seeded by {@code seed} (then decoded alone, in that order).
   *
   * @param reader the Omniglot reader
   * @param classes how many characters, 0 for all 964
   * @param seed the shuffle's seed
   * @return the decoded classes
   * @throws IllegalArgumentException when more characters are asked for than there are
   */
  public static ImageClasses load(OmniglotReader reader, int classes, long seed) {
    List<CharacterId> ids = reader.characters(OmniglotSet.BACKGROUND);
    if (classes == 0) {
      return reader.load(OmniglotSet.BACKGROUND);
    }
    if (classes > ids.size()) {
      throw new IllegalArgumentException("--classes " + classes + ": images_background has only " + ids.size()
          + " characters");
    }
    int[] order = new int[ids.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    new Rng(seed * 0x9E3779B97F4A7C15L + 17).shuffle(order);
    List<CharacterId> chosen = new ArrayList<>();
    for (int i = 0; i < classes; i++) {
      chosen.add(ids.get(order[i]));
    }
    return reader.decode(chosen);
  }

  /**
   * Runs one configuration on a split into {@code out}.
   *
   * @param c the settings
   * @param split the data (its label budget should be {@code c.labelsPerClass()})
   * @param out the run folder
   * @param overwrite replace the run files of an earlier run in a non-empty folder
   * @param log where to print progress, or null
   * @return the outcome
   * @throws IllegalArgumentException for a non-empty folder without {@code overwrite}, or a split whose budget
   *     differs from the settings'
   * @throws UncheckedIOException when a file cannot be written
   */
  public static Outcome run(SemiConfig c, SemiSplit split, Path out, boolean overwrite, PrintStream log) {
    return run(c, split, out, overwrite, log, null);
  }

  /**
   * Runs a {@code metagrad train} configuration of a few-labels algorithm on a split into its output folder;
   * {@code config.json} is the configuration's own (the shared {@link org.metagrad.meta.train.TrainOptions} keys).
   *
   * @param tc the run's configuration
   * @param split the data (its label budget should be the configuration's)
   * @param overwrite replace the run files of an earlier run in a non-empty folder
   * @param log where to print progress, or null
   * @return the outcome
   */
  public static Outcome run(org.metagrad.meta.train.TrainConfig tc, SemiSplit split, boolean overwrite,
      PrintStream log) {
    return run(SemiConfig.of(tc), split, tc.out(), overwrite, log, tc.toJson());
  }

  private static Outcome run(SemiConfig c, SemiSplit split, Path out, boolean overwrite, PrintStream log,
      String configJson) {
    if (split.labelsPerClass() != c.labelsPerClass()) {
      throw new IllegalArgumentException("SemiRun: the split has " + split.labelsPerClass() + " labels per class,"
          + " the settings " + c.labelsPerClass());
    }
    long t0 = System.nanoTime();
    claim(out, overwrite);
    Map<String, Object> cfg = new LinkedHashMap<>();
    c.toMap().forEach((k, v) -> cfg.put(k, v instanceof SemiMethod m ? m.cliName() : v));
    cfg.put("data", "omniglot images_background, " + split.classes() + " classes, " + split.labelled().size()
        + " labelled / " + split.unlabelled().size() + " unlabelled / " + split.test().size() + " test drawings");
    write(out.resolve("config.json"), configJson != null ? configJson : Json.object(cfg));
    int side = split.labelled().side();
    Params init = SemiTraining.init(c, side, split.classes());
    MetaTrainer.Options opt = MetaTrainer.Options.of(c.steps(), 1).threads(1).validateEvery(0)
        .checkpointEvery(Math.max(1, c.steps() / 5)).outDir(out);
    MetaTrainer trainer = new MetaTrainer(SemiTraining.objective(c, split), Adam.of(c.lr()),
        LrSchedule.cosine(c.lr(), 0, c.steps(), 0), opt);
    MetaTrainer.Validator val = c.method().selfSupervised()
        ? p -> SemiTraining.linearProbe(c, p, asTest(split))
        : p -> SemiTraining.accuracy(SemiTraining.network(c, side, split.classes()), p, split.labelled());
    long every = Math.max(1, c.steps() / 10);
    MetaTrainer.Result r = trainer.train(init, val, null, log == null ? null : (row, o) -> {
      if (row.iteration() % every == 0 || row.iteration() == o.iterations()) {
        log.printf(Locale.ROOT, "%s step %d/%d: loss %.4f, batch accuracy %.3f, %.1f s%n", c.method().cliName(),
            row.iteration(), o.iterations(), row.loss(), row.accuracy(), row.seconds());
      }
    });
    Params last = r.last();
    double test = Double.NaN;
    double probe = Double.NaN;
    double fine = Double.NaN;
    if (c.method().selfSupervised()) {
      probe = SemiTraining.linearProbe(c, last, split);
      Params ft = SemiTraining.fineTune(c, last, split);
      fine = SemiTraining.accuracy(SemiTraining.network(c, side, split.classes()), ft, split.test());
    } else {
      test = SemiTraining.accuracy(SemiTraining.network(c, side, split.classes()), last, split.test());
    }
    double total = (System.nanoTime() - t0) / 1e9;
    int n = split.test().size();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("method", c.method().cliName());
    m.put("labels_per_class", c.labelsPerClass());
    m.put("classes", split.classes());
    m.put("steps", c.steps());
    m.put("test_images", n);
    if (c.method().selfSupervised()) {
      m.put("probe_test_accuracy", probe);
      m.put("probe_test_ci95", SemiTraining.ci95(probe, n));
      m.put("finetune_test_accuracy", fine);
      m.put("finetune_test_ci95", SemiTraining.ci95(fine, n));
    } else {
      m.put("test_accuracy", test);
      m.put("test_ci95", SemiTraining.ci95(test, n));
    }
    m.put("final_validation_score", r.bestScore());
    m.put("train_seconds", r.seconds());
    m.put("total_seconds", total);
    m.put("java", System.getProperty("java.version"));
    m.put("cpus", Runtime.getRuntime().availableProcessors());
    write(out.resolve("metrics.json"), Json.object(m));
    curves(out, r.history(), c.method().cliName());
    if (log != null) {
      log.printf(Locale.ROOT, "%s, %d labels/class: %s in %.1f s%n", c.method().cliName(), c.labelsPerClass(),
          c.method().selfSupervised() ? String.format(Locale.ROOT, "probe %.2f%%, fine-tuned %.2f%%", 100 * probe,
              100 * fine) : String.format(Locale.ROOT, "test %.2f%% +- %.2f%%", 100 * test,
              100 * SemiTraining.ci95(test, n)), total);
    }
    return new Outcome(c, test, probe, fine, n, r.seconds(), total, last);
  }

  /** The split whose test part is its labelled part (the probe's score on the drawings it was fitted to). */
  private static SemiSplit asTest(SemiSplit s) {
    return s.withTest(s.labelled());
  }

  private static void claim(Path dir, boolean overwrite) {
    try {
      if (Files.exists(dir) && !Files.isDirectory(dir)) {
        throw new IllegalArgumentException("--out " + dir + " exists and is not a folder");
      }
      if (Files.isDirectory(dir)) {
        boolean empty;
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
          empty = s.findAny().isEmpty();
        }
        if (!empty && !overwrite) {
          throw new IllegalArgumentException("--out " + dir + " is not empty; a run folder holds one run: pass"
              + " --overwrite to replace it or choose another --out");
        }
        for (String f : RUN_FILES) {
          Files.deleteIfExists(dir.resolve(f));
          AtomicFiles.deleteTempFiles(dir.resolve(f));
        }
      }
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot use output folder " + dir + ": " + e.getMessage(), e);
    }
  }

  private static void write(Path f, String text) {
    try {
      AtomicFiles.write(f, text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + f + ": " + e.getMessage(), e);
    }
  }

  /** learning-curve.png (batch accuracy, EMA 0.95) and loss-curve.png (training loss, EMA 0.95). */
  static void curves(Path dir, List<MetaTrainer.Row> h, String name) {
    if (h.isEmpty()) {
      return;
    }
    double[] x = h.stream().mapToDouble(MetaTrainer.Row::iteration).toArray();
    double[] loss = new double[h.size()];
    double[] acc = new double[h.size()];
    double el = Double.NaN;
    double ea = Double.NaN;
    boolean anyAcc = false;
    for (int i = 0; i < loss.length; i++) {
      double l = h.get(i).loss();
      double a = h.get(i).accuracy();
      el = Double.isNaN(el) ? l : 0.95 * el + 0.05 * l;
      ea = Double.isNaN(a) ? ea : Double.isNaN(ea) ? a : 0.95 * ea + 0.05 * a;
      anyAcc |= !Double.isNaN(a);
      loss[i] = el;
      acc[i] = ea;
    }
    new LinePlot(name + ": training loss", "step", "loss").line("loss (EMA)", x, loss)
        .write(dir.resolve("loss-curve.png"));
    LinePlot lp = new LinePlot(name + ": accuracy", "step", "accuracy");
    if (anyAcc) {
      lp.line(name.equals("simclr") ? "contrastive top-1 (EMA)" : "labelled batch accuracy (EMA)", x, acc);
    }
    double[] vx = h.stream().filter(r -> !Double.isNaN(r.valAccuracy())).mapToDouble(MetaTrainer.Row::iteration)
        .toArray();
    double[] vy = h.stream().filter(r -> !Double.isNaN(r.valAccuracy())).mapToDouble(MetaTrainer.Row::valAccuracy)
        .toArray();
    if (vx.length > 0) {
      lp.points("score on labelled drawings", vx, vy);
    }
    if (anyAcc || vx.length > 0) {
      lp.write(dir.resolve("learning-curve.png"));
    }
  }
}
