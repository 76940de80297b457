package org.metagrad.meta.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OneShotReaderTest {

  private static final List<String> TRAIN = List.of("class01.png", "class02.png");
  private static final List<String> TEST = List.of("item01.png", "item02.png");
  private static final Path FILE = Path.of("run07", "class_labels.txt");

  @Test
  void readsRun01FromTheRealData() throws IOException {
    List<OneShotRun> runs = OneShotReader.readAll(DataPaths.omniglotOneShot(), 28);
    assertThat(runs).hasSize(1);
    OneShotRun run = runs.get(0);
    assertThat(run.name()).isEqualTo("run01");
    assertThat(run.trainingFiles()).hasSize(20).startsWith("class01.png").endsWith("class20.png");
    assertThat(run.testFiles()).hasSize(20).startsWith("item01.png").endsWith("item20.png");
    assertThat(run.training()).hasSize(20 * 784);
    assertThat(run.test()).hasSize(20 * 784);
    // Each of the 20 classes is the answer of exactly one item; item01 -> class08 in the file.
    assertThat(run.answers()).containsExactlyInAnyOrder(
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19);
    assertThat(run.answers()[0]).isEqualTo(7);
    assertThat(run.answers()[19]).isEqualTo(15);
    Path item01 = DataPaths.omniglotOneShot().resolve("run01/test/item01.png");
    assertThat(TestImages.sum(run.testImage(0)))
        .isCloseTo(TestImages.blackPixels(item01) * 784.0 / 11025.0, within(1e-3));
    assertThat(run.testImage(0)).containsExactly(OmniglotReader.preprocess(item01, 28));
  }

  @Test
  void parsesWithAndWithoutRunPrefix() {
    int[] a = OneShotReader.parseLabels(
        List.of("run07/test/item01.png run07/training/class02.png", "", "test/item02.png\ttraining/class01.png"),
        "run07", TRAIN, TEST, FILE);
    assertThat(a).containsExactly(1, 0);
  }

  @Test
  void malformedLabelsNameFileAndLine() {
    assertThatThrownBy(() -> parse("test/item01.png training/class01.png extra"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(FILE + " line 1")
        .hasMessageContaining("expected two paths");
    assertThatThrownBy(() -> parse("test/item01.png test/item02.png"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("line 1")
        .hasMessageContaining("training/<file>.png");
    assertThatThrownBy(() -> parse("test/item01.png training/class01.png", "test/item09.png training/class01.png"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("line 2")
        .hasMessageContaining("item09.png does not exist");
    assertThatThrownBy(() -> parse("test/item01.png training/class01.png", "test/item01.png training/class02.png"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("labelled twice");
    assertThatThrownBy(() -> parse("test/item01.png training/class01.png"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no label for test image item02.png");
    assertThatThrownBy(() -> parse("test/item01.png training/class03.png"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("class03.png does not exist");
  }

  @Test
  void syntheticRunAndMissingParts(@TempDir Path tmp) throws IOException {
    Path run = tmp.resolve("run02");
    for (String f : TRAIN) {
      TestImages.writeBinaryPng(run.resolve("training").resolve(f), 105, 105, (x, y) -> x < 10);
    }
    for (String f : TEST) {
      TestImages.writeBinaryPng(run.resolve("test").resolve(f), 105, 105, (x, y) -> y < 10);
    }
    assertThatThrownBy(() -> OneShotReader.readRun(run, 28))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("has no class_labels.txt");
    Files.writeString(run.resolve("class_labels.txt"),
        "run02/test/item01.png run02/training/class02.png\nrun02/test/item02.png run02/training/class01.png\n");
    OneShotRun r = OneShotReader.readRun(run, 14);
    assertThat(r.answers()).containsExactly(1, 0);
    assertThat(r.side()).isEqualTo(14);
    assertThat(TestImages.sum(r.trainingImage(0))).isCloseTo(10 * 105 * 196.0 / 11025.0, within(1e-3));
    assertThatThrownBy(() -> OneShotReader.readAll(run.resolve("training"), 28))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("holds no run* folder");
  }

  private static int[] parse(String... lines) {
    return OneShotReader.parseLabels(List.of(lines), "run07", TRAIN, TEST, FILE);
  }
}
