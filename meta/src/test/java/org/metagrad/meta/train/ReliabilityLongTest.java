package org.metagrad.meta.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.Rng;
import org.metagrad.meta.cli.Main;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.nn.io.Checkpoints;

/**
 * The long part of the reliability suite (issue 28), excluded from CI's run: real {@code kill -9} at random
 * moments of a real Omniglot training, and identical bits from two fresh JVMs over a run long enough for the
 * ulp differences of the old transcendental kernels to show (they surfaced at iteration 204 of 300). Run with
 * {@code mvn -B -ntp -Preliability-long test -pl kernels/cpu,meta} after {@code mvn install} (README,
 * "Reliability"); these two tests took 114 s on 2 cores.
 */
@Tag("long")
class ReliabilityLongTest {
  private static final int ITERATIONS = 100;
  private static final int KILLS = 12;

  private static String[] trainArgs(Path out, int iterations) {
    String data = DataPaths.omniglot().getParent().toString();
    return new String[] {"train", "--algorithm", "protonet", "--data", data, "--split", "background", "--side", "28",
        "--hidden", "8", "--ways", "5", "--shots", "1", "--queries", "5", "--test-ways", "5", "--test-shots", "1",
        "--test-queries", "2", "--iterations", Integer.toString(iterations), "--val-every", "5",
        "--val-episodes", "4", "--test-episodes", "4", "--checkpoint-every", "2", "--threads", "2", "--no-progress",
        "--out", out.toString()};
  }

  private static List<String> java(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "-Dmetagrad.backend=cpu-vector", "-cp",
        System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(List.of(args));
    return cmd;
  }

  private static String[] with(String[] a, String... more) {
    List<String> l = new ArrayList<>(List.of(a));
    l.addAll(List.of(more));
    return l.toArray(String[]::new);
  }

  /**
   * Trains with {@code kill -9} (SIGKILL: no shutdown hook, no finally block) at seeded random moments, each time
   * resuming (or, killed before the first checkpoint, starting over with --overwrite), until a run finishes; the
   * folder must then hold exactly what an uninterrupted run writes: the same checkpoints' bits, the same metrics.
   */
  @Test
  void killNineAtRandomMomentsOfARealTrainingResumesToTheSameBits(@TempDir Path tmp) throws Exception {
    Path ref = tmp.resolve("reference");
    long t0 = System.nanoTime();
    Process p0 = new ProcessBuilder(java(trainArgs(ref, ITERATIONS))).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("reference.log").toFile()).start();
    assertThat(p0.waitFor(10, TimeUnit.MINUTES)).isTrue();
    assertThat(p0.exitValue()).as(Files.readString(tmp.resolve("reference.log"))).isZero();
    long runMillis = (System.nanoTime() - t0) / 1_000_000;

    Path dir = tmp.resolve("killed");
    Rng rng = new Rng(2026);
    int kills = 0;
    int attempts = 0;
    boolean started = false;
    while (true) {
      attempts++;
      assertThat(attempts).as("attempts").isLessThan(60);
      String[] args = !started ? trainArgs(dir, ITERATIONS)
          : Files.exists(dir.resolve(MetaTrainer.LAST)) ? with(trainArgs(dir, ITERATIONS), "--resume")
          : with(trainArgs(dir, ITERATIONS), "--overwrite");
      started = true;
      Path log = tmp.resolve("attempt" + attempts + ".log");
      int rowsBefore = rows(dir);
      Process p = new ProcessBuilder(java(args)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (kills < KILLS) {
        // Kill while it trains: once the log has grown by 1 to 6 rows (a checkpoint every 2 iterations, so
        // the kill falls anywhere in or between checkpoint writes), after another 0-400 ms.
        int target = rowsBefore + 1 + rng.nextInt(6);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (p.isAlive() && rows(dir) < target && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        Thread.sleep(rng.nextInt(400));
        if (p.isAlive()) {
          p.destroyForcibly();   // SIGKILL: no shutdown hook, no finally block runs
          p.waitFor();
          kills++;
          assertConsistent(dir);
          continue;
        }
      }
      assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
      assertThat(p.exitValue()).as("attempt %d: %s", attempts, Files.readString(log)).isZero();
      break;
    }
    System.out.printf("%d kills, %d attempts, reference run %.1f s%n", kills, attempts, runMillis / 1e3);
    assertThat(kills).as("kills that landed before the run could finish").isGreaterThanOrEqualTo(KILLS - 2);
    for (String f : List.of(MetaTrainer.LAST, MetaTrainer.BEST)) {
      assertThat(Files.readAllBytes(dir.resolve(f))).as(f).isEqualTo(Files.readAllBytes(ref.resolve(f)));
    }
    assertThat(withoutSeconds(dir.resolve(MetaTrainer.METRICS_CSV)))
        .isEqualTo(withoutSeconds(ref.resolve(MetaTrainer.METRICS_CSV)));
    assertThat(tempFiles(dir)).isEmpty();
  }

  /** Rows of the run's metrics.csv so far (0 before it exists). */
  private static int rows(Path dir) {
    try {
      Path csv = dir.resolve(MetaTrainer.METRICS_CSV);
      return Files.exists(csv) ? (int) Math.max(0, Files.readAllLines(csv).size() - 1) : 0;
    } catch (IOException e) {
      return 0;   // replaced while read (an atomic rename): ask again
    }
  }

  /** After a kill: the checkpoint on disk never runs ahead of the metrics log (the log may run ahead of it). */
  private static void assertConsistent(Path dir) throws IOException {
    Path last = dir.resolve(MetaTrainer.LAST);
    if (!Files.exists(last)) {
      return;
    }
    long at = Long.parseLong(Checkpoints.load(last).metadata().get("iteration"));
    List<MetaTrainer.Row> rows = MetricsFiles.readCsv(dir.resolve(MetaTrainer.METRICS_CSV), Long.MAX_VALUE);
    assertThat(rows.size()).as("metrics rows behind the checkpoint of iteration " + at).isGreaterThanOrEqualTo((int) at);
  }

  /** Two fresh JVMs, 300 iterations (the old kernels' runs diverged from iteration 204): the same files. */
  @Test
  void threeHundredIterationsInTwoJvmsWriteTheSameBits(@TempDir Path tmp) throws Exception {
    List<Path> runs = new ArrayList<>();
    for (String name : List.of("a", "b")) {
      Path dir = tmp.resolve(name);
      String[] a = trainArgs(dir, 300);
      a[java.util.Arrays.asList(a).indexOf("--side") + 1] = "16";
      a[java.util.Arrays.asList(a).indexOf("--val-every") + 1] = "50";
      TwoJvmBitIdentityTest.runJvm(tmp.resolve(name + "-cwd"), List.of(), Main.class.getName(), a);
      runs.add(dir);
    }
    for (String f : List.of(MetaTrainer.LAST, MetaTrainer.BEST)) {
      assertThat(Files.readAllBytes(runs.get(1).resolve(f))).as(f).isEqualTo(Files.readAllBytes(runs.get(0).resolve(f)));
    }
    assertThat(withoutSeconds(runs.get(1).resolve(MetaTrainer.METRICS_CSV)))
        .isEqualTo(withoutSeconds(runs.get(0).resolve(MetaTrainer.METRICS_CSV)));
  }

  private static List<String> withoutSeconds(Path csv) throws IOException {
    return Files.readAllLines(csv).stream().map(l -> l.substring(0, l.lastIndexOf(','))).collect(Collectors.toList());
  }

  private static List<String> tempFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
    }
  }
}
