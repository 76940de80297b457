package org.metagrad.nn.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A failed write must leave the previous file byte-for-byte intact and no temporary file behind. */
class SafeTensorsAtomicWriteTest {
  @TempDir Path dir;
  private Path target;
  private byte[] original;

  private static final List<NamedArray> NEW_CONTENT =
      List.of(
          NamedArray.fromFloats("w", new long[] {1024}, new float[1024]),
          NamedArray.fromDoubles("b", new long[] {512}, new double[512]),
          NamedArray.fromLongs("step", new long[] {}, 7L));

  @BeforeEach
  void writeOriginal() throws IOException {
    target = dir.resolve("model.safetensors");
    SafeTensors.write(
        target, List.of(NamedArray.fromFloats("w", new long[] {2}, 1f, 2f)), Map.of("epoch", "1"));
    original = Files.readAllBytes(target);
  }

  private void assertOriginalIntactAndNoTemp() throws IOException {
    assertThat(Files.readAllBytes(target)).isEqualTo(original);
    assertThat(SafeTensors.read(target).metadata()).containsEntry("epoch", "1");
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("model.safetensors");
    }
  }

  @Test
  void ioFailureAfterTheFirstTensorLeavesOldFile() throws IOException {
    assertThatThrownBy(
            () ->
                SafeTensors.write(
                    target,
                    NEW_CONTENT,
                    Map.of("epoch", "2"),
                    i -> {
                      if (i == 1) {
                        throw new IOException("disk full (simulated)");
                      }
                    }))
        .isInstanceOf(IOException.class)
        .hasMessage("disk full (simulated)");
    assertOriginalIntactAndNoTemp();
  }

  @Test
  void uncheckedFailureMidWriteLeavesOldFile() throws IOException {
    assertThatThrownBy(
            () ->
                SafeTensors.write(
                    target,
                    NEW_CONTENT,
                    Map.of(),
                    i -> {
                      throw new UncheckedIOException(new IOException("device removed (simulated)"));
                    }))
        .isInstanceOf(UncheckedIOException.class);
    assertOriginalIntactAndNoTemp();
  }

  @Test
  void failedRenameLeavesNoTemporaryFile() throws IOException {
    // The rename onto a non-empty directory fails after all data was written and forced.
    Path blocker = dir.resolve("blocked.safetensors");
    Files.createDirectory(blocker);
    Files.writeString(blocker.resolve("keep.txt"), "x");
    assertThatThrownBy(() -> SafeTensors.write(blocker, NEW_CONTENT, Map.of()))
        .isInstanceOf(IOException.class);
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("model.safetensors", "blocked.safetensors");
    }
    assertThat(Files.readString(blocker.resolve("keep.txt"))).isEqualTo("x");
    assertThat(Files.readAllBytes(target)).isEqualTo(original);
  }

  @Test
  void missingDirectoryFailsWithoutCreatingAnything() {
    Path nowhere = dir.resolve("no/such/dir/model.safetensors");
    assertThatThrownBy(() -> SafeTensors.write(nowhere, NEW_CONTENT, Map.of()))
        .isInstanceOf(IOException.class);
    assertThat(dir.resolve("no")).doesNotExist();
  }

  @Test
  void invalidInputFailsBeforeTheDiskIsTouched() throws IOException {
    NamedArray a = NamedArray.fromFloats("a", new long[] {}, 1f);
    assertThatThrownBy(() -> SafeTensors.write(target, List.of(a, a), Map.of()))
        .isInstanceOf(IllegalArgumentException.class);
    assertOriginalIntactAndNoTemp();
  }

  @Test
  void successfulWriteReplacesTheFileAndLeavesNoTemporaryFile() throws IOException {
    SafeTensors.write(target, NEW_CONTENT, Map.of("epoch", "2"));
    Checkpoint c = SafeTensors.read(target);
    assertThat(c.tensors()).isEqualTo(NEW_CONTENT);
    assertThat(c.metadata()).containsExactlyEntriesOf(Map.of("epoch", "2"));
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("model.safetensors");
    }
  }

  @Test
  void relativePathIsResolvedAgainstTheWorkingDirectory() throws IOException {
    // A bare file name has no parent; the temporary file must still go next to the target.
    Path rel = Path.of("target", "safetensors-atomic-relative.safetensors");
    Files.createDirectories(rel.toAbsolutePath().getParent());
    try {
      SafeTensors.write(rel, NEW_CONTENT, Map.of());
      assertThat(SafeTensors.read(rel).tensors()).isEqualTo(NEW_CONTENT);
    } finally {
      Files.deleteIfExists(rel);
    }
  }
}
