package org.metagrad.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 28: exp, log, pow and tanh gave other bits once the JIT had compiled them (cpu-vector's lanewise
 * EXP: calls 1 to ~4,400 one result, later calls another: SVML stubs against the per-lane fallback). In a
 * fresh JVM (this one may have compiled the kernels already), every unary kernel on every CPU backend
 * must give the first call's bits on every later call, and the same bits under {@code -Xint}.
 */
class TranscendentalJitStabilityTest {

  private static List<String> runProbe(Path dir, List<String> extraArgs, String vectorCalls, String otherCalls)
      throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // This JVM's options (with or without the Vector API module, its vector width), agents left out.
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (!a.startsWith("-javaagent") && !a.startsWith("-agentlib")) {
        cmd.add(a);
      }
    }
    cmd.addAll(extraArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(UnaryBitsProbe.class.getName());
    cmd.add(vectorCalls);
    cmd.add(otherCalls);
    Path out = dir.resolve("out.txt");
    Path err = dir.resolve("err.txt");
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("probe " + extraArgs + " timed out");
    }
    String text = Files.readString(out, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + text + Files.readString(err, StandardCharsets.UTF_8))
        .isZero();
    return text.lines().collect(Collectors.toList());
  }

  @Test
  void everyCallGivesTheFirstCallsBitsAndTheInterpretersToo(@TempDir Path tmp) throws Exception {
    Files.createDirectories(tmp.resolve("jit"));
    Files.createDirectories(tmp.resolve("xint"));
    // Compiling in the foreground at a tenth of the usual thresholds moves the tier changes a normal JVM
    // makes after thousands of calls to the first hundred (the old lanewise EXP changed at call 32 to 75).
    List<String> jit = runProbe(tmp.resolve("jit"), List.of("-Xbatch", "-XX:CompileThresholdScaling=0.1"), "600",
        "200");
    List<String> xint = runProbe(tmp.resolve("xint"), List.of("-Xint"), "1", "1");
    assertThat(jit).hasSizeGreaterThanOrEqualTo(2 * 2 * 7 * 2);
    assertThat(jit).as("calls whose bits changed").noneMatch(l -> l.contains("DIFFERS"));
    // The interpreter's first call against the compiled run's first (and so every) call.
    assertThat(xint.stream().map(l -> l.replace(" stable", "")).collect(Collectors.toList()))
        .isEqualTo(jit.stream().map(l -> l.replace(" stable", "")).collect(Collectors.toList()));
  }
}
