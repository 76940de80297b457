package org.metagrad.meta.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.metagrad.nn.io.Checkpoints;
import org.metagrad.nn.io.CrashPoints;

/**
 * Issue 28: a kill at every point of the checkpoint sequence leaves a run folder that is consistent (the log is
 * never behind the checkpoint) and that {@code resume} continues, in a fresh JVM, to the same bits as an
 * uninterrupted run. Each case halts a forked JVM ({@link Runtime#halt}, like {@code kill -9}) at one
 * {@link CrashPoints} point during the second checkpoint (iteration 4 of 8), checks the folder, resumes in a
 * second fresh JVM and compares with a reference run made the same way.
 */
class CheckpointCrashTest {
  private static final int ITERATIONS = 8;

  @TempDir static Path shared;
  private static Path reference;

  @BeforeAll
  static void referenceRun() throws Exception {
    reference = shared.resolve("reference");
    assertThat(fork(reference, "fresh", null)).as("reference run's exit status").isZero();
  }

  /** Runs {@link LinearTasks#main} in a fresh JVM with the test's class path; returns its exit status. */
  private static int fork(Path dir, String mode, String haltAt) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-modules") || a.startsWith("-Dmetagrad.backend")) {
        cmd.add(a);
      }
    }
    if (haltAt != null) {
      cmd.add("-D" + CrashPoints.PROPERTY + "=" + haltAt);
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), LinearTasks.class.getName(), dir.toString(),
        Integer.toString(ITERATIONS), mode));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("forked JVM did not finish: " + cmd);
    }
    int status = p.exitValue();
    if (status != 0 && status != CrashPoints.HALT_STATUS) {
      throw new AssertionError("forked JVM failed with status " + status + ":\n" + new String(out,
          StandardCharsets.UTF_8));
    }
    return status;
  }

  private static List<String> tempFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
    }
  }

  private static long iterationOf(Path checkpoint) throws IOException {
    return Long.parseLong(Checkpoints.load(checkpoint).metadata().get("iteration"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"checkpoint:start", "metrics.csv:temp-written", "metrics.csv:temp-synced",
      "metrics.csv:renamed", "checkpoint:metrics-written", "best.safetensors:temp-written",
      "best.safetensors:temp-synced", "best.safetensors:renamed", "checkpoint:best-written",
      "last.safetensors:temp-written", "last.safetensors:temp-synced", "last.safetensors:renamed",
      "checkpoint:last-written"})
  void aKillAtAnyPointOfTheSecondCheckpointResumesToTheSameBits(String point, @TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    assertThat(fork(dir, "fresh", point + "@2")).as("status of the run halted at " + point)
        .isEqualTo(CrashPoints.HALT_STATUS);

    // Right after the kill: the checkpoint on disk is the first or the second, and its log rows are all there.
    long at = iterationOf(dir.resolve(MetaTrainer.LAST));
    assertThat(at).isIn(2L, 4L);
    List<MetaTrainer.Row> rows = MetricsFiles.readCsv(dir.resolve(MetaTrainer.METRICS_CSV), Long.MAX_VALUE);
    assertThat(rows.size()).as("metrics rows after a kill at " + point).isGreaterThanOrEqualTo((int) at);
    if (point.endsWith("temp-written") || point.endsWith("temp-synced")) {
      assertThat(tempFiles(dir)).as("the interrupted write's temporary file").hasSize(1);
    }

    assertThat(fork(dir, "resume", null)).isZero();

    assertThat(tempFiles(dir)).as("temporary files after resuming").isEmpty();
    assertThat(iterationOf(dir.resolve(MetaTrainer.LAST))).isEqualTo(ITERATIONS);
    List<MetaTrainer.Row> after = MetricsFiles.readCsv(dir.resolve(MetaTrainer.METRICS_CSV), Long.MAX_VALUE);
    List<MetaTrainer.Row> want = MetricsFiles.readCsv(reference.resolve(MetaTrainer.METRICS_CSV), Long.MAX_VALUE);
    assertThat(after).extracting(MetaTrainer.Row::iteration).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
    assertThat(after).extracting(MetaTrainer.Row::loss)
        .containsExactlyElementsOf(want.stream().map(MetaTrainer.Row::loss).toList());
    assertThat(after).extracting(MetaTrainer.Row::valAccuracy)
        .containsExactlyElementsOf(want.stream().map(MetaTrainer.Row::valAccuracy).toList());
    // The best file exists and is the recorded best iteration's.
    Map<String, String> last = Checkpoints.load(dir.resolve(MetaTrainer.LAST)).metadata();
    assertThat(dir.resolve(MetaTrainer.BEST)).isRegularFile();
    assertThat(Checkpoints.load(dir.resolve(MetaTrainer.BEST)).metadata())
        .containsEntry("iteration", last.get("best_iteration"));
    // Same final bits as the uninterrupted run, for the last and the best parameters and the optimizer state.
    for (String f : new String[] {MetaTrainer.LAST, MetaTrainer.BEST}) {
      Checkpoints.Loaded got = Checkpoints.load(dir.resolve(f));
      Checkpoints.Loaded exp = Checkpoints.load(reference.resolve(f));
      assertThat(got.metadata()).as(f).isEqualTo(exp.metadata());
      for (String n : exp.params().names()) {
        assertThat(bits(got.params().get(n).toFloatArray())).as(f + " " + n)
            .containsExactly(bits(exp.params().get(n).toFloatArray()));
      }
      if (exp.optimizer() != null) {
        for (String n : exp.optimizer().buffers().keySet()) {
          assertThat(bits(got.optimizer().get(n).toFloatArray())).as(f + " " + n)
              .containsExactly(bits(exp.optimizer().get(n).toFloatArray()));
        }
      }
    }
  }

  private static int[] bits(float[] v) {
    int[] b = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = Float.floatToRawIntBits(v[i]);
    }
    return b;
  }
}
