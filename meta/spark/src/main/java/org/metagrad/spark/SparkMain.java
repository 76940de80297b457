package org.metagrad.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.metagrad.meta.cli.EvalCommand;
import org.metagrad.meta.cli.Main;
import org.metagrad.meta.cli.TrainCommand;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.Json;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.meta.train.TrainOption;
import org.metagrad.meta.train.TrainOptions;
import org.metagrad.nn.io.AtomicFiles;
import org.metagrad.nn.io.JsonDocuments;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The {@code metagrad-spark} command line: {@code train} and {@code eval} with exactly the options of
 * {@code metagrad train} and {@code metagrad eval} (the same picocli commands), their per-task work on a
 * Spark cluster ({@link SparkWorkers}), plus {@code sweep}, which trains and tests one run per point of a
 * grid of settings ({@code --grid inner-lr=0.1,0.4 --grid ways=5,20}; any option of the train table) into {@code --out/<point>/} and
 * gathers their {@code metrics.json} into {@code --out/sweep.csv} and {@code sweep.json}. Every command
 * adds {@code --partitions P} (partitions per meta-batch or evaluation; default: Spark's default
 * parallelism). The master comes from {@code spark-submit} ({@code spark.master}); without one it is
 * {@code local[*]}. Errors and exit statuses are {@code metagrad}'s ({@link Main}).
 *
 * <pre>{@code spark-submit --class org.metagrad.spark.SparkMain --master spark://host:7077 \
 *     meta/spark/target/metagrad-spark.jar train --algorithm maml --meta-batch 32 --out runs/maml}</pre>
 */
@Command(name = "metagrad-spark", mixinStandardHelpOptions = true, version = "metagrad-spark 0.1.0",
    description = {"Meta-training, evaluation and hyperparameter sweeps of metagrad on Apache Spark: the driver keeps"
        + " the parameters and the optimizer, executors compute the per-task meta-gradients and episode accuracies;"
        + " the results are bit-identical to 'metagrad train' / 'metagrad eval' with the same options.",
        "Run it with spark-submit (see the README); without a master it runs in local[*] mode."},
    subcommands = {CommandLine.HelpCommand.class})
public final class SparkMain implements Callable<Integer> {
  /** Settings a sweep cannot vary (they name the data and the folders, or are the command's own). */
  private static final List<String> NOT_GRIDDED = List.of("data", "out");

  /** The option a {@code --grid} key names: any {@link TrainOptions} entry by its flag without dashes. */
  static TrainOption<?> gridOption(String key) {
    for (TrainOption<?> o : TrainOptions.all()) {
      if (o.flag().equals("--" + key) && !NOT_GRIDDED.contains(o.key())) {
        return o;
      }
    }
    return null;
  }

  /** The keys {@code --grid} accepts, in the option table's order. */
  static List<String> gridKeys() {
    List<String> keys = new ArrayList<>();
    for (TrainOption<?> o : TrainOptions.all()) {
      if (!NOT_GRIDDED.contains(o.key())) {
        keys.add(o.flag().substring(2));
      }
    }
    return keys;
  }

  private SparkMain() {}

  /** Entry point; exits with the command's status. */
  public static void main(String[] args) {
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%6$s%n");
    }
    System.exit(run(args));
  }

  /** Runs the command line without exiting (tests) and returns the exit status. */
  public static int run(String... args) {
    CommandLine cl = new CommandLine(new SparkMain());
    CommandLine[] train = new CommandLine[1];
    train[0] = new CommandLine(new TrainCommand((c, e, resume, overwrite) -> {
      try (JavaSparkContext sc = context()) {
        SparkWorkers w = new SparkWorkers(sc, c, partitions(train[0], sc));
        e.withWorkers(w).run(resume, overwrite);
        System.out.println("spark: " + w.stats());
      }
    }));
    CommandLine[] eval = new CommandLine[1];
    Holder holder = new Holder();
    eval[0] = new CommandLine(new EvalCommand(c -> {
      holder.sc = context();
      return new SparkWorkers(holder.sc, c, partitions(eval[0], holder.sc));
    }));
    CommandLine[] sweep = new CommandLine[1];
    sweep[0] = new CommandLine(new TrainCommand((c, e, resume, overwrite) -> sweep(sweep[0], c, resume, overwrite)));
    sweep[0].getCommandSpec().name("sweep");
    addPartitions(train[0]);
    addPartitions(eval[0]);
    addPartitions(sweep[0]);
    sweep[0].getCommandSpec().addOption(OptionSpec.builder("--grid").paramLabel("KEY=V1,V2,...").type(List.class)
        .auxiliaryTypes(String.class).description("A setting and its values, e.g. inner-lr=0.1,0.4; repeat for a grid"
            + " (the cartesian product, the first key varying slowest). KEY is any option of 'metagrad train' but"
            + " --data and --out, without its dashes.").build());
    sweep[0].getCommandSpec().usageMessage().description("Train and test one run per point of a grid of settings"
        + " (--grid, repeated), each on the cluster like 'train', into --out/<point>/, and gather their metrics.json"
        + " into --out/sweep.csv and --out/sweep.json. With --resume, finished points are kept and an interrupted"
        + " one continues from its checkpoint. The other options are those of 'metagrad train' and set every point.");
    cl.addSubcommand("train", train[0]);
    cl.addSubcommand("eval", eval[0]);
    cl.addSubcommand("sweep", sweep[0]);
    try {
      return Main.execute(cl, args);
    } finally {
      if (holder.sc != null) {
        holder.sc.stop();
      }
    }
  }

  /** Without a subcommand: the usage. */
  @Override
  public Integer call() {
    CommandLine.usage(this, System.err);
    return Main.USAGE_ERROR;
  }

  private static final class Holder {
    JavaSparkContext sc;
  }

  private static void addPartitions(CommandLine cl) {
    cl.getCommandSpec().addOption(OptionSpec.builder("--partitions").paramLabel("P").type(int.class)
        .defaultValue("0").description("Spark partitions per meta-batch and per evaluation (at most one per task);"
            + " 0 = Spark's default parallelism (the executors' cores). Results do not depend on it.").build());
  }

  private static int partitions(CommandLine cl, JavaSparkContext sc) {
    int p = cl.getCommandSpec().findOption("--partitions").getValue();
    if (p < 0) {
      throw new IllegalArgumentException("--partitions must be >= 0, got " + p);
    }
    return p == 0 ? Math.max(1, sc.defaultParallelism()) : p;
  }

  /** The Spark context of spark-submit's configuration, or local[*] without a master. */
  static JavaSparkContext context() {
    SparkConf conf = new SparkConf().setAppName("metagrad-spark");
    if (!conf.contains("spark.master")) {
      conf.setMaster("local[*]");
    }
    return new JavaSparkContext(conf);
  }

  // ------------------------------------------------------------------ sweep

  /** One point of a grid: its settings in grid order. */
  record Point(Map<String, String> settings) {
    String folder(int number) {
      StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "p%03d", number));
      for (Map.Entry<String, String> e : settings.entrySet()) {
        b.append('_').append(e.getKey()).append('=').append(e.getValue());
      }
      return b.toString().replaceAll("[^A-Za-z0-9._=+-]", "_");
    }
  }

  /** The cartesian product of {@code --grid} entries, the first key varying slowest. */
  static List<Point> grid(List<String> entries) {
    if (entries == null || entries.isEmpty()) {
      throw new IllegalArgumentException("sweep: give at least one --grid KEY=V1,V2,... (keys: "
          + String.join(", ", gridKeys()) + ")");
    }
    List<Point> points = new ArrayList<>(List.of(new Point(new LinkedHashMap<>())));
    for (String entry : entries) {
      int eq = entry.indexOf('=');
      String key = eq < 0 ? entry : entry.substring(0, eq).strip();
      if (eq < 0 || gridOption(key) == null) {
        throw new IllegalArgumentException("--grid '" + entry + "': expected KEY=V1,V2,... with KEY one of "
            + String.join(", ", gridKeys()));
      }
      if (points.get(0).settings().containsKey(key)) {
        throw new IllegalArgumentException("--grid: key '" + key + "' is given twice");
      }
      List<String> values = new ArrayList<>();
      for (String v : entry.substring(eq + 1).split(",")) {
        if (!v.isBlank()) {
          values.add(v.strip());
        }
      }
      if (values.isEmpty()) {
        throw new IllegalArgumentException("--grid '" + entry + "': no values");
      }
      List<Point> next = new ArrayList<>();
      for (Point p : points) {
        for (String v : values) {
          Map<String, String> s = new LinkedHashMap<>(p.settings());
          s.put(key, v);
          next.add(new Point(s));
        }
      }
      points = next;
    }
    return points;
  }

  /** The configuration of a point: the base with the point's settings (parsed by the option table) in its folder. */
  static TrainConfig apply(TrainConfig base, Point p, Path out) {
    TrainConfig.Builder b = base.toBuilder().out(out);
    for (Map.Entry<String, String> e : p.settings().entrySet()) {
      b.parse(gridOption(e.getKey()), e.getValue());
    }
    return b.build();
  }

  private static void sweep(CommandLine cl, TrainConfig base, boolean resume, boolean overwrite) {
    List<String> entries = cl.getCommandSpec().findOption("--grid").getValue();
    List<Point> points = grid(entries);
    List<TrainConfig> configs = new ArrayList<>();
    for (int i = 0; i < points.size(); i++) {
      // Every point is checked before anything is trained.
      configs.add(apply(base, points.get(i), base.out().resolve(points.get(i).folder(i))));
    }
    boolean progress = !Boolean.TRUE.equals(cl.getCommandSpec().findOption("--no-progress").getValue());
    List<Map<String, Object>> rows = new ArrayList<>();
    try (JavaSparkContext sc = context()) {
      int parts = partitions(cl, sc);
      for (int i = 0; i < points.size(); i++) {
        TrainConfig c = configs.get(i);
        Path metrics = c.out().resolve(Experiment.METRICS_JSON);
        Map<String, Object> m;
        if (resume && Files.isRegularFile(metrics)) {
          System.out.println("sweep: point " + (i + 1) + "/" + points.size() + " " + c.out() + " is finished");
        } else {
          System.out.println("sweep: point " + (i + 1) + "/" + points.size() + " " + points.get(i).settings());
          boolean again = resume && Files.exists(c.out().resolve(org.metagrad.meta.train.MetaTrainer.LAST));
          try (SparkWorkers w = new SparkWorkers(sc, c, parts)) {
            new Experiment(c, System.out, progress ? System.err : null).withWorkers(w).run(again, overwrite);
          }
        }
        try {
          m = JsonDocuments.object(Files.readString(metrics), metrics.toString());
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read " + metrics + ": " + e.getMessage(), e);
        }
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("point", points.get(i).folder(i));
        row.putAll(points.get(i).settings());
        for (String k : List.of("best_val_accuracy", "best_iteration", "test_accuracy", "test_ci95", "test_episodes",
            "train_seconds_this_session")) {
          row.put(k, m.get(k));
        }
        rows.add(row);
        writeSweep(base.out(), rows);
      }
    }
    System.out.println("sweep: wrote " + base.out().resolve("sweep.csv") + " and sweep.json (" + rows.size()
        + " points)");
  }

  private static void writeSweep(Path dir, List<Map<String, Object>> rows) {
    StringBuilder csv = new StringBuilder(String.join(",", rows.get(0).keySet())).append('\n');
    for (Map<String, Object> r : rows) {
      List<String> cells = new ArrayList<>();
      for (Object v : r.values()) {
        cells.add(String.valueOf(v));
      }
      csv.append(String.join(",", cells)).append('\n');
    }
    StringBuilder json = new StringBuilder("[\n");
    for (int i = 0; i < rows.size(); i++) {
      json.append(Json.object(rows.get(i)).strip()).append(i + 1 < rows.size() ? ",\n" : "\n");
    }
    json.append("]\n");
    try {
      Files.createDirectories(dir);
      AtomicFiles.write(dir.resolve("sweep.csv"), csv.toString().getBytes(StandardCharsets.UTF_8));
      AtomicFiles.write(dir.resolve("sweep.json"), json.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the sweep's summary in " + dir + ": " + e.getMessage(), e);
    }
  }
}
