package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.nn.io.CheckpointException;
import picocli.CommandLine;

/** The CLI's single error path ({@link Main#report}) and the checks commands make before any work. */
class MainErrorPathTest {

  private record Report(int status, List<String> lines) {}

  private static Report report(Throwable e) {
    StringWriter sw = new StringWriter();
    CommandLine root = new CommandLine(new Main());
    CommandLine eval = root.getSubcommands().get("eval");
    eval.setErr(new PrintWriter(sw, true));
    int status = Main.report(e, eval);
    return new Report(status, sw.toString().lines().toList());
  }

  @Test
  void badInputIsOneLineAndStatus2() {
    for (Throwable e : new Throwable[] {new IllegalArgumentException("--ways must be >= 2, got 1"),
        new IllegalStateException("METAGRAD_DATA is not set"),
        new CheckpointException("/r/best.safetensors: header does not start with '{'"),
        new UncheckedIOException("cannot read /r/x", new java.io.IOException("disk"))}) {
      Report r = report(e);
      assertThat(r.status()).as(e.toString()).isEqualTo(Main.USAGE_ERROR);
      assertThat(r.lines()).containsExactly("metagrad eval: error: " + e.getMessage());
    }
  }

  @Test
  void multiLineMessagesAreFolded() {
    Report r = report(new IllegalArgumentException("--resume: the settings differ\n  then: a\n  now:  b"));
    assertThat(r.lines()).containsExactly("metagrad eval: error: --resume: the settings differ then: a now:  b");
  }

  @Test
  void wrappersFromWorkerThreadsAreTakenOff() {
    Report r = report(new ExecutionException(new IllegalArgumentException("image /d/x.png is 1x1 pixels")));
    assertThat(r.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(r.lines()).containsExactly("metagrad eval: error: image /d/x.png is 1x1 pixels");
  }

  @Test
  void fileSystemExceptionsSayWhatHappenedToWhichFile() {
    Report r = report(new NoSuchFileException("/r/config.json"));
    assertThat(r.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(r.lines()).containsExactly("metagrad eval: error: /r/config.json: no such file or folder");
    Report u = report(new UncheckedIOException(new NoSuchFileException("/r/metrics.csv")));
    assertThat(u.lines()).containsExactly("metagrad eval: error: /r/metrics.csv: no such file or folder");
  }

  @Test
  void outOfMemoryIsOneLineWithAHint() {
    Report r = report(new OutOfMemoryError("Java heap space"));
    assertThat(r.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(r.lines()).hasSize(1);
    assertThat(r.lines().get(0)).startsWith("metagrad eval: error: out of memory (Java heap space)").contains("-Xmx");
  }

  @Test
  void internalErrorsAreOneLineWithAHintAndStatus70() {
    NullPointerException npe = new NullPointerException("Cannot invoke \"Object.toString()\" because \"x\" is null");
    npe.setStackTrace(new StackTraceElement[] {new StackTraceElement("org.metagrad.X", "f", "X.java", 7)});
    Report r = report(npe);
    assertThat(r.status()).isEqualTo(Main.INTERNAL_ERROR);
    assertThat(r.lines()).hasSize(1);
    assertThat(r.lines().get(0)).startsWith("metagrad eval: error: internal error: java.lang.NullPointerException")
        .contains("X.java:7").contains("-Dmetagrad.stacktrace=true");
  }

  @Test
  void theStacktracePropertyAddsTheTrace() {
    System.setProperty(Main.STACKTRACE_PROPERTY, "true");
    try {
      Report r = report(new IllegalArgumentException("bad"));
      assertThat(r.status()).isEqualTo(Main.USAGE_ERROR);
      assertThat(r.lines().get(0)).isEqualTo("metagrad eval: error: bad");
      assertThat(r.lines().size()).isGreaterThan(1);
      assertThat(r.lines().get(1)).contains("IllegalArgumentException");
    } finally {
      System.clearProperty(Main.STACKTRACE_PROPERTY);
    }
  }

  @Test
  void parameterErrorsAreOneLine() {
    CliTest.Outcome o = CliTest.run("eval", "--episodes", "many");
    assertThat(o.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(o.err().lines().filter(l -> !l.isBlank()).toList()).hasSize(1);
    assertThat(o.err()).startsWith("metagrad eval: error: ").contains("--episodes").contains("many");
    CliTest.Outcome missing = CliTest.run("eval");
    assertThat(missing.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(missing.err().lines().filter(l -> !l.isBlank()).toList()).hasSize(1);
    assertThat(missing.err()).contains("--run");
  }

  @Test
  void sineChecksItsOptionsBeforeTraining(@TempDir Path tmp) {
    // before: 3000 iterations of training, then NaN and a NullPointerException (exit 1, stack trace)
    Path out = tmp.resolve("sine");
    CliTest.Outcome o = assertTimeoutPreemptively(Duration.ofSeconds(30),
        () -> CliTest.run("sine", "--eval-tasks", "0", "--out", out.toString()));
    assertThat(o.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(o.err().strip()).isEqualTo("metagrad sine: error: --eval-tasks must be >= 1, got 0");
    assertThat(o.out()).isEmpty();
    assertThat(out).doesNotExist();
  }

  @Test
  void sineChecksOutBeforeTraining(@TempDir Path tmp) throws Exception {
    Path file = Files.writeString(tmp.resolve("file"), "x");
    CliTest.Outcome o = assertTimeoutPreemptively(Duration.ofSeconds(30),
        () -> CliTest.run("sine", "--iterations", "100000", "--out", file.resolve("plots").toString()));
    assertThat(o.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(o.err()).contains(file.toString());
    assertThat(o.out()).isEmpty();
  }

  @Test
  void gradcheckChecksItsSizeBeforeBuildingTheModel() {
    // before: NegativeArraySizeException from the synthetic task (50000^2 overflows an int)
    CliTest.Outcome o = assertTimeoutPreemptively(Duration.ofSeconds(30),
        () -> CliTest.run("gradcheck", "--synthetic", "--side", "50000"));
    assertThat(o.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(o.err().lines().toList()).hasSize(1);
    assertThat(o.err()).contains("--side must be between 16 and 256");
    assertThat(o.out()).isEmpty();
  }
}
