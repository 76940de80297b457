package org.metagrad.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.cli.Main;
import org.metagrad.nn.io.JsonDocuments;

/**
 * {@code metagrad-spark train|eval|sweep} against {@code metagrad train|eval} with the same options (in
 * {@code local[2,4]} mode: the master comes from the {@code spark.master} property, as spark-submit sets it).
 */
class SparkCliTest {
  @TempDir
  static Path tmp;
  private static Path data;
  private static String before;

  @BeforeAll
  static void setUp() {
    data = SparkFixtures.smallDataRoot(tmp.resolve("data"));
    before = System.getProperty("spark.master");
    System.setProperty("spark.master", "local[2,4]");
    System.setProperty("spark.ui.enabled", "false");
    System.setProperty("spark.driver.host", "127.0.0.1");
  }

  @AfterAll
  static void tearDown() {
    if (before == null) {
      System.clearProperty("spark.master");
    } else {
      System.setProperty("spark.master", before);
    }
    System.clearProperty("spark.ui.enabled");
    System.clearProperty("spark.driver.host");
  }

  private static String[] train(String command, Path out, String... extra) {
    List<String> a = new ArrayList<>(List.of(command, "--algorithm", "maml", "--data", data.toString(), "--split",
        "background", "--hidden", "4", "--ways", "5", "--shots", "1", "--queries", "2", "--test-ways", "5",
        "--test-shots", "1", "--test-queries", "2", "--iterations", "2", "--meta-batch", "3", "--inner-steps", "1",
        "--test-inner-steps", "1", "--val-every", "1", "--val-episodes", "3", "--test-episodes", "4",
        "--checkpoint-every", "1", "--threads", "2", "--seed", "3", "--no-progress", "--out", out.toString()));
    // An extra option given with a value replaces the default's value (picocli refuses repeated options).
    for (int i = 0; i < extra.length; i++) {
      boolean hasValue = i + 1 < extra.length && !extra[i + 1].startsWith("--");
      int at = a.indexOf(extra[i]);
      if (hasValue && at >= 0) {
        a.set(at + 1, extra[++i]);
      } else {
        a.add(extra[i]);
        if (hasValue) {
          a.add(extra[++i]);
        }
      }
    }
    return a.toArray(new String[0]);
  }

  @Test
  void trainEvalAndSweepGiveTheSingleProcessResults() throws Exception {
    Path local = tmp.resolve("local");
    Path spark = tmp.resolve("spark");
    assertThat(Main.run(train("train", local))).isZero();
    assertThat(SparkMain.run(train("train", spark, "--partitions", "2"))).isZero();
    assertThat(Files.readAllBytes(spark.resolve("last.safetensors")))
        .isEqualTo(Files.readAllBytes(local.resolve("last.safetensors")));
    for (String f : List.of("config.json", "metrics.csv", "metrics.json", "best.safetensors", "learning-curve.png",
        "loss-curve.png")) {
      assertThat(spark.resolve(f)).isRegularFile();
    }
    Map<String, Object> lm = JsonDocuments.object(Files.readString(local.resolve("metrics.json")), "local");
    Map<String, Object> sm = JsonDocuments.object(Files.readString(spark.resolve("metrics.json")), "spark");
    for (String k : List.of("best_val_accuracy", "best_iteration", "test_accuracy", "test_ci95")) {
      assertThat(sm.get(k)).as(k).isEqualTo(lm.get(k));
    }

    // eval: the same episode accuracies as metagrad eval, episode by episode
    Path le = tmp.resolve("eval-local.json");
    Path se = tmp.resolve("eval-spark.json");
    String[] eval = {"eval", "--run", spark.toString(), "--data", data.toString(), "--episodes", "9", "--no-progress"};
    assertThat(Main.run(concat(eval, "--out", le.toString()))).isZero();
    assertThat(SparkMain.run(concat(eval, "--out", se.toString(), "--partitions", "3"))).isZero();
    Object a = JsonDocuments.object(Files.readString(le), "le").get("episode_accuracies");
    Object b = JsonDocuments.object(Files.readString(se), "se").get("episode_accuracies");
    assertThat(b).isEqualTo(a);
    assertThat((List<?>) b).hasSize(9);
    assertThat(SparkMain.run(concat(eval, "--shift-ensemble", "1"))).isEqualTo(Main.USAGE_ERROR);

    // sweep: one run folder per point, gathered into sweep.csv; the point with the base settings is the run above
    Path sweep = tmp.resolve("sweep");
    assertThat(SparkMain.run(train("sweep", sweep, "--grid", "inner-lr=0.4,0.1"))).isZero();
    List<String> csv = Files.readAllLines(sweep.resolve("sweep.csv"));
    assertThat(csv).hasSize(3);
    assertThat(csv.get(0)).startsWith("point,inner-lr,best_val_accuracy,best_iteration,test_accuracy,test_ci95");
    assertThat(csv.get(1)).startsWith("p000_inner-lr=0.4,0.4,");
    assertThat(csv.get(2)).startsWith("p001_inner-lr=0.1,0.1,");
    assertThat(Files.readAllBytes(sweep.resolve("p000_inner-lr=0.4/last.safetensors")))
        .isEqualTo(Files.readAllBytes(local.resolve("last.safetensors")));
    assertThat(sweep.resolve("p001_inner-lr=0.1/metrics.json")).isRegularFile();
    assertThat(sweep.resolve("sweep.json")).isRegularFile();
    assertThat(SparkMain.run(train("sweep", tmp.resolve("bad"), "--grid", "colour=1,2"))).isEqualTo(Main.USAGE_ERROR);
  }

  /**
   * A real kill: the driver JVM is SIGKILLed after a checkpoint and the run resumed (about 30 s more, so in
   * the long suite; the default suite's {@code SparkLocalTest} stops the driver by an exception instead).
   */
  @Test
  @org.junit.jupiter.api.Tag("long")
  void aKilledDriverResumesToTheSingleProcessRunsBits() throws Exception {
    Path local = tmp.resolve("kill-local");
    Path spark = tmp.resolve("kill-spark");
    String[] opts = {"--iterations", "8", "--val-every", "4"};
    assertThat(Main.run(train("train", local, opts))).isZero();
    // The driver in its own JVM (Spark's flags from this JVM's), SIGKILLed once a checkpoint after iteration 2 exists.
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.addAll(List.of("-Dspark.master=local[2,4]", "-Dspark.ui.enabled=false", "-Dspark.driver.host=127.0.0.1",
        "-cp", System.getProperty("java.class.path"), SparkMain.class.getName()));
    cmd.addAll(List.of(train("train", spark, opts)));
    Path log = tmp.resolve("driver.log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long killedAt = -1;
    long deadline = System.nanoTime() + 240_000_000_000L;
    while (p.isAlive() && System.nanoTime() < deadline) {
      long it = checkpointIteration(spark.resolve("last.safetensors"));
      if (it >= 2) {
        p.destroyForcibly();   // SIGKILL: no shutdown hook, no finally block runs
        killedAt = it;
        break;
      }
      Thread.sleep(10);
    }
    p.waitFor();
    assertThat(killedAt).as("killed after a checkpoint, before the end\n" + Files.readString(log)).isBetween(2L, 7L);
    assertThat(SparkMain.run(train("train", spark, concat(opts, "--resume")))).isZero();
    assertThat(Files.readAllBytes(spark.resolve("last.safetensors")))
        .isEqualTo(Files.readAllBytes(local.resolve("last.safetensors")));
    assertThat(Files.readAllBytes(spark.resolve("best.safetensors")))
        .isEqualTo(Files.readAllBytes(local.resolve("best.safetensors")));
    assertThat(withoutSeconds(spark.resolve("metrics.csv"))).isEqualTo(withoutSeconds(local.resolve("metrics.csv")));
  }

  private static long checkpointIteration(Path f) {
    try {
      return Long.parseLong(org.metagrad.nn.io.Checkpoints.load(f).metadata().get("iteration"));
    } catch (Exception e) {
      return -1;   // not written yet, or being replaced
    }
  }

  /** The metrics rows without their last column (wall seconds). */
  private static List<String> withoutSeconds(Path csv) throws java.io.IOException {
    return Files.readAllLines(csv).stream().map(l -> l.substring(0, l.lastIndexOf(','))).toList();
  }

  private static String[] concat(String[] a, String... b) {
    List<String> l = new ArrayList<>(List.of(a));
    l.addAll(List.of(b));
    return l.toArray(new String[0]);
  }
}
