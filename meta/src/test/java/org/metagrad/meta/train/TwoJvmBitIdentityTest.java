package org.metagrad.meta.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.cli.Main;
import org.metagrad.meta.data.DataPaths;

/**
 * Reproducible bits across processes (issue 28): the same short training in fresh JVMs gives the same
 * bits, whatever the JIT has compiled by then. Before the transcendental kernels were made deterministic,
 * a JVM whose C2 had compiled the Vector API's exp/log (SVML stubs) computed softmax an ulp away from
 * one still interpreting them, and identical runs diverged.
 */
class TwoJvmBitIdentityTest {

  /** Runs {@code mainClass} in a fresh JVM with the test class path; returns stdout, failing on exit != 0. */
  static String runJvm(Path workDir, List<String> jvmArgs, String mainClass, String... args)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--add-modules");
    cmd.add("jdk.incubator.vector");
    cmd.add("-Dmetagrad.backend=cpu-vector");
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    Files.createDirectories(workDir);
    long t0 = System.nanoTime();
    Path out = workDir.resolve("stdout.txt");
    Path err = workDir.resolve("stderr.txt");
    Process p = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectOutput(out.toFile())
        .redirectError(err.toFile()).start();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("child JVM " + String.join(" ", jvmArgs) + " " + mainClass + " timed out");
    }
    System.out.printf("child JVM %s %s %s: %.1f s%n", jvmArgs, mainClass, args.length > 0 ? args[0] : "",
        (System.nanoTime() - t0) / 1e9);
    String stdout = Files.readString(out, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as("exit of " + jvmArgs + " " + mainClass + ":\n" + stdout
        + Files.readString(err, StandardCharsets.UTF_8)).isZero();
    return stdout;
  }

  @Test
  void warmInterpretedAndColdJvmsTrainToTheSameBits(@TempDir Path tmp) throws Exception {
    String main = BitIdentityRun.class.getName();
    // Warm: C2 has compiled the kernels before training starts, as in a long run (a tenth of the usual
    // compile thresholds, so that 800 warm-up calls do what some 8,000 do in a default JVM).
    String warm = runJvm(tmp.resolve("warm"), List.of("-XX:CompileThresholdScaling=0.1"), main, "1,3", "800");
    String cold = runJvm(tmp.resolve("cold"), List.of(), main, "1,3", "0");
    assertThat(warm).contains("protonet@3 param").contains("maml2@3 param").contains("maml2@3 iteration 3");
    assertThat(cold).as("a cold JVM against a warm one").isEqualTo(warm);
    // The interpreter only (the Vector API's per-lane Java fallbacks, no intrinsic at all): one ProtoNet
    // iteration, as -Xint is some 50 times slower.
    String interpreted = runJvm(tmp.resolve("xint"), List.of("-Xint"), main, "1", "0", "protonet");
    assertThat(interpreted).as("-Xint against a warm JVM").contains("protonet@1 param")
        .isEqualTo(lines(warm, "protonet@1 "));
  }

  private static String lines(String text, String prefix) {
    return text.lines().filter(l -> l.startsWith(prefix)).map(l -> l + System.lineSeparator())
        .collect(Collectors.joining());
  }

  @Test
  void theTrainCommandWritesTheSameCheckpointAndMetricsInTwoJvms(@TempDir Path tmp) throws Exception {
    // Real Omniglot under METAGRAD_DATA; fails (does not skip) without it, like the other real-data tests.
    String data = DataPaths.omniglot().getParent().toString();
    List<Path> runs = new ArrayList<>();
    for (String name : List.of("a", "b")) {
      Path dir = tmp.resolve(name);
      runJvm(tmp.resolve(name + "-cwd"), List.of(), Main.class.getName(), "train", "--algorithm", "protonet",
          "--data", data, "--split", "background", "--side", "16", "--hidden", "4", "--ways", "5", "--shots", "1",
          "--queries", "5", "--test-ways", "5", "--test-shots", "1", "--test-queries", "2", "--iterations", "6",
          "--val-every", "3", "--val-episodes", "2", "--test-episodes", "2", "--checkpoint-every", "3",
          "--threads", "2", "--no-progress", "--out", dir.toString());
      runs.add(dir);
    }
    for (String f : List.of("last.safetensors", "best.safetensors")) {
      assertThat(Files.readAllBytes(runs.get(1).resolve(f))).as(f).isEqualTo(Files.readAllBytes(runs.get(0).resolve(f)));
    }
    assertThat(withoutSeconds(runs.get(1).resolve("metrics.csv"))).isEqualTo(withoutSeconds(runs.get(0).resolve("metrics.csv")));
  }

  /** metrics.csv without its last column (wall-clock seconds). */
  private static List<String> withoutSeconds(Path csv) throws IOException {
    List<String> rows = Files.readAllLines(csv).stream().map(l -> l.substring(0, l.lastIndexOf(',')))
        .collect(Collectors.toList());
    assertThat(rows).hasSizeGreaterThan(6);
    return rows;
  }
}
