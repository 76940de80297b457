package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.Tensor;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.nn.io.Checkpoints;

/**
 * Issue 28 through {@code metagrad train}: divergence is a named failure with exit status 3, a run folder
 * holds one run, and bad settings or special files are refused before any image is loaded. The runs need
 * METAGRAD_DATA and fail (do not skip) without it.
 */
class TrainRunFolderCliTest {

  private static String[] tiny(Path out, String... extra) {
    List<String> a = new ArrayList<>(List.of("train", "--algorithm", "protonet", "--data",
        DataPaths.root().toString(), "--split", "background", "--hidden", "4", "--ways", "5", "--shots", "1",
        "--queries", "2", "--test-ways", "5", "--test-shots", "1", "--test-queries", "2", "--iterations", "4",
        "--val-every", "2", "--val-episodes", "2", "--test-episodes", "3", "--checkpoint-every", "1", "--threads", "2",
        "--no-progress", "--out", out.toString()));
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

  private static void assertFinite(Path checkpoint) throws Exception {
    Checkpoints.Loaded c = Checkpoints.load(checkpoint, Checkpoints.LoadOptions.allowingNonFinite());
    for (Tensor t : c.params().values()) {
      for (double v : t.toDoubleArray()) {
        assertThat(Double.isFinite(v)).as(checkpoint + " holds a non-finite parameter").isTrue();
      }
    }
  }

  @Test
  void aDivergingRunExitsWithStatus3NamingTheIterationAndKeepsItsLastGoodCheckpoint(@TempDir Path tmp)
      throws Exception {
    // From iteration 3 the step schedule multiplies the learning rate by 1e43: Adam's update overflows
    // float32 whether or not the ops propagate NaN, so the divergence shows in the loss, a gradient or the
    // updated parameters.
    Path dir = tmp.resolve("diverge");
    CliTest.Outcome o = CliTest.run(tiny(dir, "--schedule", "step", "--lr-step", "2", "--lr-gamma", "1e43"));
    assertThat(o.status()).as(o.out() + o.err()).isEqualTo(Main.DIVERGED);
    assertThat(o.err()).contains("training diverged at iteration 3").contains("last.safetensors")
        .contains("iteration 2");
    assertThat(o.err().strip().lines().count()).as(o.err()).isEqualTo(1);
    assertThat(Checkpoints.load(dir.resolve("last.safetensors")).metadata()).containsEntry("iteration", "2");
    assertFinite(dir.resolve("last.safetensors"));
    assertFinite(dir.resolve("best.safetensors"));
    assertThat(Files.readAllLines(dir.resolve("metrics.csv"))).hasSize(3);   // header + iterations 1 and 2
    assertThat(dir.resolve("metrics.json")).doesNotExist();

    // A checkpoint with a NaN weight is refused by eval, naming file and tensor, unless --allow-non-finite.
    Checkpoints.Loaded good = Checkpoints.load(dir.resolve("last.safetensors"));
    String name = good.params().names().get(0);
    float[] w = good.params().get(name).toFloatArray();
    w[1] = Float.NaN;
    Path nan = tmp.resolve("nan.safetensors");
    Checkpoints.save(nan, good.params().with(name, Tensor.of(w, good.params().get(name).shape())), null, null,
        good.metadata());
    String[] eval = {"eval", "--run", dir.toString(), "--checkpoint", nan.toString(), "--data",
        DataPaths.root().toString(), "--episodes", "2", "--no-progress", "--out", tmp.resolve("e.json").toString()};
    CliTest.Outcome refused = CliTest.run(eval);
    assertThat(refused.status()).isNotZero();
    assertThat(refused.err()).contains(nan.toString()).contains("'" + name + "'").contains("NaN")
        .contains("index 1");
    String[] allowed = Arrays.copyOf(eval, eval.length + 1);
    allowed[eval.length] = "--allow-non-finite";
    CliTest.Outcome loaded = CliTest.run(allowed);
    assertThat(loaded.status()).as(loaded.out() + loaded.err()).isZero();
  }

  @Test
  void aRunFolderHoldsOneRun(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    CliTest.Outcome first = CliTest.run(tiny(dir, "--seed", "1"));
    assertThat(first.status()).as(first.out() + first.err()).isZero();
    byte[] firstLast = Files.readAllBytes(dir.resolve("last.safetensors"));

    // Another run into the same folder would splice two runs: refused, naming the folder, nothing changed.
    CliTest.Outcome second = CliTest.run(tiny(dir, "--seed", "2"));
    assertThat(second.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(second.err()).contains(dir.toString()).contains("not empty").contains("--resume")
        .contains("--overwrite");
    assertThat(Files.readAllBytes(dir.resolve("last.safetensors"))).isEqualTo(firstLast);
    assertThat(Files.readString(dir.resolve("config.json"))).contains("\"seed\": 1");

    // --resume with other settings than config.json's is refused; --resume and --overwrite together too.
    CliTest.Outcome otherSeed = CliTest.run(tiny(dir, "--seed", "2", "--resume"));
    assertThat(otherSeed.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(otherSeed.err()).contains("settings differ");
    CliTest.Outcome both = CliTest.run(tiny(dir, "--resume", "--overwrite"));
    assertThat(both.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(both.err()).contains("--resume").contains("--overwrite");

    // --overwrite replaces the run's files and leaves other files alone.
    Files.writeString(dir.resolve("notes.txt"), "mine");
    Files.writeString(dir.resolve("metrics.json"), "stale");
    CliTest.Outcome over = CliTest.run(tiny(dir, "--seed", "2", "--overwrite"));
    assertThat(over.status()).as(over.out() + over.err()).isZero();
    assertThat(Files.readString(dir.resolve("config.json"))).contains("\"seed\": 2");
    assertThat(Files.readString(dir.resolve("notes.txt"))).isEqualTo("mine");
    assertThat(Files.readString(dir.resolve("metrics.json"))).contains("test_accuracy");
    assertThat(Files.readAllLines(dir.resolve("metrics.csv"))).hasSize(5);

    // A folder holding anything is not a fresh run's.
    Path user = tmp.resolve("user");
    Files.createDirectories(user);
    Files.writeString(user.resolve("data.bin"), "x");
    CliTest.Outcome into = CliTest.run(tiny(user));
    assertThat(into.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(into.err()).contains(user.toString()).contains("data.bin");
  }

  @Test
  void badSettingsAreRefusedBeforeAnyImageIsLoaded(@TempDir Path tmp) {
    String[][] cases = {
        {"--side", "50000"}, {"--outer-lr", "Infinity"}, {"--outer-lr", "NaN"}, {"--inner-lr", "Infinity"},
        {"--lr-gamma", "Infinity"}, {"--clip", "Infinity"}, {"--test-ways", "2000"}, {"--ways", "5000"},
        {"--iterations", "0"}, {"--side", "0"}};
    String[] expect = {"side must be <= 105", "finite", "learning rates", "finite", "finite", "finite",
        "--test-ways 2000", "--ways 5000", "iterations must be >= 1", "side must be >= 1"};
    for (int i = 0; i < cases.length; i++) {
      Path out = tmp.resolve("c" + i);
      long t0 = System.nanoTime();
      CliTest.Outcome o = CliTest.run(tiny(out, cases[i]));
      double s = (System.nanoTime() - t0) / 1e9;
      assertThat(o.status()).as(String.join(" ", cases[i]) + ": " + o.err()).isEqualTo(Main.USAGE_ERROR);
      assertThat(o.err()).as(String.join(" ", cases[i])).contains(expect[i]);
      // Nothing was decoded ("data: ..." is printed after loading) and nothing written.
      assertThat(o.out()).as(String.join(" ", cases[i])).doesNotContain("data:");
      assertThat(out).as(String.join(" ", cases[i])).doesNotExist();
      assertThat(s).as(String.join(" ", cases[i]) + " took seconds").isLessThan(20);
    }
  }

  @Test
  void specialFilesInARunFolderAreRefusedInsteadOfHanging(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    CliTest.Outcome first = CliTest.run(tiny(dir, "--iterations", "2"));
    assertThat(first.status()).as(first.out() + first.err()).isZero();
    for (String f : new String[] {"metrics.csv", "config.json"}) {
      Path saved = tmp.resolve(f + ".saved");
      Files.move(dir.resolve(f), saved);
      assertThat(new ProcessBuilder("mkfifo", dir.resolve(f).toString()).start().waitFor()).isZero();
      CliTest.Outcome o = Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60),
          () -> CliTest.run(tiny(dir, "--iterations", "2", "--resume")));
      assertThat(o.status()).as(o.err()).isEqualTo(Main.USAGE_ERROR);
      assertThat(o.err()).contains(dir.resolve(f).toString()).contains("not a regular file");
      Files.delete(dir.resolve(f));
      Files.move(saved, dir.resolve(f));
    }
  }
}
