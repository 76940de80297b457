package org.metagrad.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.TrainConfig;

/** Shared set-up of the Spark tests: a small Omniglot data root, tiny configurations, Spark contexts. */
final class SparkFixtures {
  private SparkFixtures() {}

  /** Background alphabets copied for training (14 + 14 characters) and validation (Hebrew, 22). */
  private static final List<String> BACKGROUND = List.of("Blackfoot_(Canadian_Aboriginal_Syllabics)",
      "Ojibwe_(Canadian_Aboriginal_Syllabics)", "Hebrew");
  /** An evaluation alphabet for the test pool (20 characters). */
  private static final List<String> EVALUATION = List.of("Angelic");

  /**
   * A data root holding a few alphabets of the real Omniglot (under METAGRAD_DATA; fails, does not skip,
   * without it), so that each run decodes about 1,400 images instead of 32,000.
   */
  static Path smallDataRoot(Path dir) {
    Path src = DataPaths.omniglot();
    try {
      for (String a : BACKGROUND) {
        copyTree(src.resolve("images_background").resolve(a), dir.resolve("omniglot/images_background").resolve(a));
      }
      for (String a : EVALUATION) {
        copyTree(src.resolve("images_evaluation").resolve(a), dir.resolve("omniglot/images_evaluation").resolve(a));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path q = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(q);
        } else {
          Files.copy(p, q);
        }
      }
    }
  }

  /** A finished run: its outcome and its checkpoints' bytes. */
  record Run(Experiment.Outcome outcome, byte[] last, byte[] best) {}

  private static final Map<String, Run> REFERENCES = new ConcurrentHashMap<>();

  /**
   * The single-process run of a configuration, computed once per test JVM (both Spark modes compare with it).
   *
   * @param key names the configuration
   * @param config the configuration for a data root and an output folder
   */
  static synchronized Run reference(String key, java.util.function.BiFunction<Path, Path, TrainConfig> config) {
    Run r = REFERENCES.get(key);
    if (r == null) {
      try {
        Path base = Files.createTempDirectory("metagrad-spark-reference");
        Path dir = base.resolve("run");
        Experiment.Outcome o = run(config.apply(smallDataRoot(base.resolve("data")), dir), null);
        r = new Run(o, Files.readAllBytes(dir.resolve("last.safetensors")),
            Files.readAllBytes(dir.resolve("best.safetensors")));
        deleteTree(base);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      REFERENCES.put(key, r);
    }
    return r;
  }

  private static void deleteTree(Path p) throws IOException {
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }

  /** Runs an experiment quietly, on Spark workers or (null) this process's threads. */
  static Experiment.Outcome run(TrainConfig c, SparkWorkers w) {
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    Experiment e = new Experiment(c, quiet, null);
    return (w == null ? e : e.withWorkers(w)).run(false);
  }

  /** A tiny run: conv4 with 4 channels, 5-way 1-shot 2-query tasks, meta-batch 4, 2 iterations, validated after each. */
  static TrainConfig.Builder tiny(Algorithm a, Path data, Path out) {
    return TrainConfig.builder().algorithm(a).data(data).split("background").hidden(4).ways(5).shots(1).queries(2)
        .testWays(5).testShots(1).testQueries(2).iterations(2).metaBatch(4).outerLr(3e-3).innerSteps(1)
        .testInnerSteps(1).innerLr(0.4).valEvery(1).valEpisodes(3).testEpisodes(4).checkpointEvery(1).threads(2)
        .seed(7).out(out);
  }

  /**
   * A Spark context for tests: no UI, loopback only, the test classpath for executors (local-cluster mode
   * launches them as separate JVMs through Spark's launcher, see the pom's SPARK_HOME and
   * SPARK_SCALA_VERSION), up to 4 attempts per task.
   */
  static JavaSparkContext context(String master) {
    String home = System.getenv("SPARK_HOME");
    if (home != null) {
      try {
        Files.createDirectories(Path.of(home, "jars"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    String cp = System.getProperty("java.class.path");
    SparkConf conf = new SparkConf().setMaster(master).setAppName("metagrad-spark-test")
        .set("spark.ui.enabled", "false")
        .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.task.maxFailures", "4")
        .set("spark.executor.extraClassPath", cp)
        .set("spark.executor.memory", "900m")
        .set("spark.executor.extraJavaOptions", "-Xss1m");
    return new JavaSparkContext(conf);
  }
}
