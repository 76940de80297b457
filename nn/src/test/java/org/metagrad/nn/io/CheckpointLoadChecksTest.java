package org.metagrad.nn.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.Tensor;
import org.metagrad.nn.Params;

/** Issue 28: loading checks finiteness and dtypes, refuses special files, and cleans interrupted writes. */
class CheckpointLoadChecksTest {

  private static Params template() {
    return Params.of(Map.of("w", Tensor.of(new float[] {1, 2, 3}, 3)));
  }

  @Test
  void nonFiniteValuesAreRefusedNamingFileTensorAndIndexUnlessAllowed(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("nan.safetensors");
    SafeTensors.write(file, List.of(NamedArray.fromFloats("w", new long[] {3}, 1f, Float.NaN, 3f),
        NamedArray.fromDoubles("v", new long[] {2}, 0.0, Double.NEGATIVE_INFINITY)), Map.of());
    assertThatThrownBy(() -> Checkpoints.load(file)).isInstanceOf(CheckpointException.class)
        .hasMessageContaining(file.toString()).hasMessageContaining("'w'").hasMessageContaining("NaN")
        .hasMessageContaining("index 1");
    Checkpoints.Loaded c = Checkpoints.load(file, Checkpoints.LoadOptions.allowingNonFinite());
    assertThat(c.params().get("w").toFloatArray()[1]).isNaN();
    assertThat(c.params().get("v").toDoubleArray()[1]).isEqualTo(Double.NEGATIVE_INFINITY);

    Path inf = dir.resolve("inf.safetensors");
    SafeTensors.write(inf, List.of(NamedArray.fromDoubles("v", new long[] {2}, 0.0, Double.POSITIVE_INFINITY)),
        Map.of());
    assertThatThrownBy(() -> Checkpoints.load(inf)).isInstanceOf(CheckpointException.class)
        .hasMessageContaining("'v'").hasMessageContaining("Infinity").hasMessageContaining("index 1");
  }

  @Test
  void anIntegerTensorOverAFloatParameterIsADtypeError(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("i32.safetensors");
    SafeTensors.write(file, List.of(NamedArray.fromInts("w", new long[] {3}, 1065353216, 2, 3)), Map.of());
    assertThatThrownBy(() -> Checkpoints.load(file).paramsLike(template())).isInstanceOf(CheckpointException.class)
        .hasMessageContaining(file.toString()).hasMessageContaining("'w'").hasMessageContaining("I32")
        .hasMessageContaining("FLOAT32");
    Path f64 = dir.resolve("f64.safetensors");
    SafeTensors.write(f64, List.of(NamedArray.fromDoubles("w", new long[] {3}, 1, 2, 3)), Map.of());
    assertThatThrownBy(() -> Checkpoints.load(f64).paramsLike(template())).isInstanceOf(CheckpointException.class)
        .hasMessageContaining("F64").hasMessageContaining("FLOAT32");
    // The model's own dtype loads.
    Path f32 = dir.resolve("f32.safetensors");
    SafeTensors.write(f32, List.of(NamedArray.fromFloats("w", new long[] {3}, 4, 5, 6)), Map.of());
    assertThat(Checkpoints.load(f32).paramsLike(template()).get("w").toFloatArray()).containsExactly(4, 5, 6);
  }

  @Test
  void mismatchMessagesNameTheFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("other.safetensors");
    SafeTensors.write(file, List.of(NamedArray.fromFloats("w", new long[] {2}, 4, 5)), Map.of());
    assertThatThrownBy(() -> Checkpoints.load(file).paramsLike(template())).hasMessageContaining(file.toString())
        .hasMessageContaining("shape [2]");
  }

  @Test
  void aFifoIsRefusedInsteadOfBlocking(@TempDir Path dir) throws Exception {
    Path fifo = dir.resolve("fifo.safetensors");
    Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertThat(p.waitFor()).isZero();
    Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
      assertThatThrownBy(() -> Checkpoints.load(fifo)).isInstanceOf(CheckpointException.class)
          .hasMessageContaining(fifo.toString()).hasMessageContaining("not a regular file");
    });
  }

  @Test
  void leftoversOfInterruptedWritesAreDeletedAndNothingElse(@TempDir Path dir) throws Exception {
    Path target = dir.resolve("last.safetensors");
    // A finished process's pid: its temporary file is a leftover.
    Process done = new ProcessBuilder("true").start();
    done.waitFor();
    long dead = done.pid();
    Path leftover = Files.createFile(dir.resolve(".last.safetensors." + dead + "-3-1a2b3c.tmp"));
    Path own = Files.createFile(dir.resolve(".last.safetensors." + ProcessHandle.current().pid() + "-1-ff.tmp"));
    // A live process's temporary file (it may be writing it), another target's, and unrelated files stay.
    Path live = Files.createFile(dir.resolve(".last.safetensors." + ProcessHandle.current().parent()
        .map(ProcessHandle::pid).orElse(1L) + "-1-ff.tmp"));
    Path otherTarget = Files.createFile(dir.resolve(".best.safetensors." + dead + "-1-ff.tmp"));
    Path notOurs = Files.createFile(dir.resolve(".last.safetensors.tmp"));
    Path user = Files.createFile(dir.resolve("notes.txt"));
    Files.writeString(target, "x");

    List<Path> deleted = AtomicFiles.deleteTempFiles(target);

    assertThat(deleted).containsExactlyInAnyOrder(leftover.toAbsolutePath(), own.toAbsolutePath());
    assertThat(leftover).doesNotExist();
    assertThat(own).doesNotExist();
    assertThat(live).exists();
    assertThat(otherTarget).exists();
    assertThat(notOurs).exists();
    assertThat(user).exists();
    assertThat(target).exists();
  }

  @Test
  void atomicWritesReplaceAFifoWithoutOpeningIt(@TempDir Path dir) throws Exception {
    Path fifo = dir.resolve("metrics.csv");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10),
        () -> AtomicFiles.write(fifo, "a,b\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    assertThat(fifo).isRegularFile().hasContent("a,b");
  }
}
