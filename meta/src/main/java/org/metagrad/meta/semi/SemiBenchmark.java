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
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.ProtoNet;
import org.metagrad.meta.data.EpisodeSampler;
import org.metagrad.meta.data.ImageClasses;
import org.metagrad.meta.data.OmniglotReader;
import org.metagrad.meta.data.OmniglotSet;
import org.metagrad.meta.data.RotationMode;
import org.metagrad.meta.data.TaskSpec;
import org.metagrad.meta.task.Task;
import org.metagrad.meta.train.Json;
import org.metagrad.meta.train.MetaTrainer;
import org.metagrad.meta.train.TaskSource;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;
import org.metagrad.nn.io.AtomicFiles;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.LrSchedule;

/**
 * The few-labels benchmark of {@code meta/RESULTS.md}: decodes the classes once, then for each label budget
 * runs each semi-supervised method (one run folder each), pre-trains SimCLR and BYOL once (labels are not
 * used) and probes / fine-tunes them at every budget, and meta-trains ProtoNets on {@code images_evaluation}
 * (other characters, all labelled: the few-shot family's labelled base classes) and classifies each test
 * drawing by the nearest prototype of the labelled drawings of all classes. Prints a Markdown table and writes
 * it to {@code <out>/summary.md}.
 *
 * <pre>
 * java ... org.metagrad.meta.semi.SemiBenchmark --data $METAGRAD_DATA --out runs/semi --classes 200 \
 *     --budgets 1,2,5 --methods supervised,pimodel,meanteacher,vat,pseudolabel,fixmatch,simclr,byol,protonet
 * </pre>
 *
 * <p>Options: {@code --data}, {@code --out}, {@code --budgets}, {@code --semi-budgets} (the budgets at which the
 * five semi-supervised methods run, default all), {@code --methods}, {@code --proto-iterations},
 * {@code --ssl-steps}, and any {@link SemiConfig} option ({@code --steps 300}, {@code --classes 200}, ...) applied
 * to every method.
 */
public final class SemiBenchmark {
  private SemiBenchmark() {}

  /**
   * Runs the benchmark.
   *
   * @param args the options
   */
  public static void main(String[] args) {
    Path data = null;
    Path out = Path.of("runs", "semi");
    List<Integer> budgets = List.of(1, 2, 5);
    List<Integer> semiBudgets = null;
    List<String> methods = List.of("supervised", "pimodel", "meanteacher", "vat", "pseudolabel", "fixmatch",
        "simclr", "byol", "protonet");
    int protoIterations = 300;
    int sslSteps = -1;
    Map<String, String> common = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("SemiBenchmark: expected --option value, got '" + a + "'");
      }
      String v = args[++i];
      switch (a.substring(2)) {
        case "data" -> data = Path.of(v);
        case "out" -> out = Path.of(v);
        case "budgets" -> budgets = java.util.Arrays.stream(v.split(",")).map(String::strip).map(Integer::parseInt)
            .toList();
        case "semi-budgets" -> semiBudgets = java.util.Arrays.stream(v.split(",")).map(String::strip)
            .map(Integer::parseInt).toList();
        case "methods" -> methods = List.of(v.split(","));
        case "proto-iterations" -> protoIterations = Integer.parseInt(v);
        case "ssl-steps" -> sslSteps = Integer.parseInt(v);
        default -> common.put(a.substring(2), v);
      }
    }
    if (data == null) {
      throw new IllegalArgumentException("SemiBenchmark: --data (the folder holding omniglot/) is required");
    }
    PrintStream log = System.out;
    OmniglotReader reader = new OmniglotReader(data.resolve("omniglot"), 28,
        Math.max(1, Runtime.getRuntime().availableProcessors()));
    SemiConfig base = apply(SemiConfig.defaults(SemiMethod.SUPERVISED), common);
    long tl = System.nanoTime();
    ImageClasses pool = SemiRun.load(reader, base.classes(), base.splitSeed());
    log.printf(Locale.ROOT, "decoded %d classes x %d drawings in %.1f s%n", pool.size(), pool.minImageCount(),
        (System.nanoTime() - tl) / 1e9);
    Map<String, Map<Integer, String>> table = new LinkedHashMap<>();
    Map<String, Double> seconds = new LinkedHashMap<>();
    List<SemiSplit> splits = new ArrayList<>();
    for (int l : budgets) {
      splits.add(SemiSplit.of(pool, l, base.splitSeed()));
    }
    for (String name : methods) {
      long t0 = System.nanoTime();
      if (name.equals("protonet")) {
        Params p = protoNet(reader, base, protoIterations, out.resolve("protonet"), log);
        for (SemiSplit s : splits) {
          double acc = nearestPrototype(base, p, s);
          cell(table, "protonet (meta-trained on images_evaluation) + nearest prototype", s, acc);
          log.printf(Locale.ROOT, "protonet, %d labels/class: %.2f%%%n", s.labelsPerClass(), 100 * acc);
        }
        seconds.put("protonet", (System.nanoTime() - t0) / 1e9);
        continue;
      }
      SemiMethod m = SemiMethod.parse(name);
      SemiConfig c = apply(SemiConfig.defaults(m), common);
      if (m.selfSupervised()) {
        if (sslSteps > 0) {
          c = c.with("steps", Integer.toString(sslSteps));
        }
        SemiConfig c1 = c.with("labels", Integer.toString(splits.get(0).labelsPerClass()));
        SemiRun.Outcome o = SemiRun.run(c1, splits.get(0), out.resolve(name), true, log);
        cell(table, name + " + linear probe", splits.get(0), o.probeAccuracy());
        cell(table, name + " + fine-tuning", splits.get(0), o.finetuneAccuracy());
        for (SemiSplit s : splits.subList(1, splits.size())) {
          SemiConfig cs = c.with("labels", Integer.toString(s.labelsPerClass()));
          double probe = SemiTraining.linearProbe(cs, o.last(), s);
          Params ft = SemiTraining.fineTune(cs, o.last(), s);
          double fine = SemiTraining.accuracy(SemiTraining.network(cs, 28, s.classes()), ft, s.test());
          cell(table, name + " + linear probe", s, probe);
          cell(table, name + " + fine-tuning", s, fine);
          log.printf(Locale.ROOT, "%s, %d labels/class: probe %.2f%%, fine-tuned %.2f%%%n", name,
              s.labelsPerClass(), 100 * probe, 100 * fine);
        }
      } else {
        for (SemiSplit s : splits) {
          if (m != SemiMethod.SUPERVISED && semiBudgets != null && !semiBudgets.contains(s.labelsPerClass())) {
            continue;
          }
          SemiConfig cs = c.with("labels", Integer.toString(s.labelsPerClass()));
          SemiRun.Outcome o = SemiRun.run(cs, s, out.resolve(name + "-" + s.labelsPerClass()), true, log);
          cell(table, name, s, o.testAccuracy());
        }
      }
      seconds.put(name, (System.nanoTime() - t0) / 1e9);
    }
    StringBuilder md = new StringBuilder("| method |");
    for (SemiSplit s : splits) {
      md.append(' ').append(s.labelsPerClass()).append(" label").append(s.labelsPerClass() == 1 ? "" : "s")
          .append("/class |");
    }
    md.append("\n|---|");
    md.append("---|".repeat(splits.size())).append('\n');
    table.forEach((k, row) -> {
      md.append("| ").append(k).append(" |");
      for (SemiSplit s : splits) {
        md.append(' ').append(row.getOrDefault(s.labelsPerClass(), "-")).append(" |");
      }
      md.append('\n');
    });
    md.append("\nwall seconds per method (all budgets): ").append(seconds).append('\n');
    log.println(md);
    try {
      Files.createDirectories(out);
      AtomicFiles.write(out.resolve("summary.md"), md.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static SemiConfig apply(SemiConfig c, Map<String, String> opts) {
    for (Map.Entry<String, String> e : opts.entrySet()) {
      // a setting common to the table applies to the methods that use it (--mu is FixMatch's, not SimCLR's)
      if (c.uses(e.getKey())) {
        c = c.with(e.getKey(), e.getValue());
      }
    }
    return c;
  }

  private static void cell(Map<String, Map<Integer, String>> t, String row, SemiSplit s, double acc) {
    t.computeIfAbsent(row, k -> new LinkedHashMap<>()).put(s.labelsPerClass(), String.format(Locale.ROOT,
        "%.1f ± %.1f", 100 * acc, 100 * SemiTraining.ci95(acc, s.test().size())));
  }

  /**
   * ProtoNets meta-trained on {@code images_evaluation} (20-way 1-shot 5-query episodes, Adam on a cosine
   * schedule at the settings' lr, the settings' conv4 without head), into a run folder; returns the embedding.
   *
   * @param reader the Omniglot reader
   * @param c the settings (hidden, lr, seed)
   * @param iterations meta-training iterations (meta-batch 1)
   * @param out the run folder
   * @param log progress, or null
   * @return the embedding parameters
   */
  public static Params protoNet(OmniglotReader reader, SemiConfig c, int iterations, Path out, PrintStream log) {
    ImageClasses eval = reader.load(OmniglotSet.EVALUATION);
    Network enc = SemiTraining.network(c, eval.side(), 0);
    ProtoNet pn = ProtoNet.euclidean(enc);
    TaskSource tasks = TaskSource.of(new EpisodeSampler(eval, TaskSpec.of(20, 1, 5), RotationMode.NONE, c.seed()));
    try {
      Files.createDirectories(out);
      Map<String, Object> cfg = new LinkedHashMap<>();
      cfg.put("algorithm", "protonet");
      cfg.put("train", "images_evaluation, 20-way 1-shot 5-query, rotation none");
      cfg.put("iterations", iterations);
      cfg.put("hidden", c.hidden());
      cfg.put("lr", c.lr());
      cfg.put("seed", c.seed());
      AtomicFiles.write(out.resolve("config.json"), Json.object(cfg).getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    MetaTrainer t = new MetaTrainer(MetaTrainer.Objective.of(pn, tasks), Adam.of(c.lr()),
        LrSchedule.cosine(c.lr(), 0, iterations, 0), MetaTrainer.Options.of(iterations, 1).threads(1)
        .checkpointEvery(Math.max(1, iterations / 5)).outDir(out));
    long every = Math.max(1, iterations / 10);
    MetaTrainer.Result r = t.train(enc.init(new Rng(c.seed()), DType.FLOAT32), null, null, log == null ? null
        : (row, o) -> {
          if (row.iteration() % every == 0) {
            log.printf(Locale.ROOT, "protonet iteration %d: loss %.3f, query accuracy %.3f, %.1f s%n",
                row.iteration(), row.loss(), row.accuracy(), row.seconds());
          }
        });
    SemiRun.curves(out, r.history(), "protonet");
    return r.last();
  }

  /**
   * Nearest-prototype classification of the split's test drawings: each class's prototype is the mean
   * embedding of its labelled drawings; a test drawing gets the class of the nearest prototype (squared
   * Euclidean distance), over all the split's classes.
   *
   * @param c the settings (hidden)
   * @param embedding the embedding's parameters
   * @param s the split
   * @return the test accuracy
   */
  public static double nearestPrototype(SemiConfig c, Params embedding, SemiSplit s) {
    Network enc = SemiTraining.network(c, s.labelled().side(), 0);
    Tensor zl = SemiTraining.outputs(enc, embedding, s.labelled());
    Tensor zt = SemiTraining.outputs(enc, embedding, s.test());
    int k = s.classes();
    int d = zl.size(1);
    double[] sums = new double[k * d];
    int[] counts = new int[k];
    double[] z = zl.toDoubleArray();
    int[] y = s.labelled().labels();
    for (int i = 0; i < y.length; i++) {
      counts[y[i]]++;
      for (int j = 0; j < d; j++) {
        sums[y[i] * d + j] += z[i * d + j];
      }
    }
    for (int cl = 0; cl < k; cl++) {
      for (int j = 0; j < d; j++) {
        sums[cl * d + j] /= Math.max(1, counts[cl]);
      }
    }
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      Tensor protos = Tensor.of(sums, DType.FLOAT32, k, d);
      return Task.accuracy(F.squaredDistances(zt, protos).neg(), s.test().labels());
    }
  }
}
