package org.metagrad.meta.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader on small synthetic Omniglot folders written to a temp dir. */
class OmniglotReaderTest {

  @TempDir Path root;

  /** Writes images_background/<alphabet>/<character>/<n>.png, a filled square of size n+1. */
  private Path writeCharacter(String alphabet, String character, int images) {
    Path dir = root.resolve("images_background").resolve(alphabet).resolve(character);
    for (int i = 0; i < images; i++) {
      int size = 10 * (i + 1) + Math.floorMod(character.hashCode(), 7);
      TestImages.writeBinaryPng(dir.resolve(String.format("%04d_%02d.png", 1, i + 1)), 105, 105,
          (x, y) -> x >= 20 && x < 20 + size && y >= 30 && y < 30 + size);
    }
    return dir;
  }

  private void writeSmallSet() {
    writeCharacter("Beta", "character02", 3);
    writeCharacter("Beta", "character01", 3);
    writeCharacter("Alpha", "character01", 4);
  }

  @Test
  void listsAndDecodesInSortedOrder() throws IOException {
    writeSmallSet();
    Files.writeString(root.resolve("images_background/Alpha/character01/notes.txt"), "ignored");
    OmniglotReader reader = new OmniglotReader(root, 28, 2);
    List<CharacterId> ids = reader.characters(OmniglotSet.BACKGROUND);
    assertThat(ids).extracting(CharacterId::path).containsExactly(
        "images_background/Alpha/character01",
        "images_background/Beta/character01",
        "images_background/Beta/character02");
    ImageClasses set = reader.load(OmniglotSet.BACKGROUND);
    assertThat(set.size()).isEqualTo(3);
    assertThat(set.side()).isEqualTo(28);
    assertThat(set.imageCount(0)).isEqualTo(4);
    assertThat(set.minImageCount()).isEqualTo(3);
    assertThat(set.totalImages()).isEqualTo(10);
    assertThat(reader.load(OmniglotSet.BACKGROUND)).as("cached").isSameAs(set);
    for (int c = 0; c < set.size(); c++) {
      List<Path> files = reader.files(set.id(c));
      assertThat(files).hasSize(set.imageCount(c));
      for (int i = 0; i < set.imageCount(c); i++) {
        float[] img = set.image(c, i);
        assertThat(img).hasSize(28 * 28);
        for (float v : img) {
          assertThat(v).isBetween(0f, 1f);
        }
        // Area averaging preserves ink mass up to the 105->28 area ratio.
        double expected = TestImages.blackPixels(files.get(i)) * (28.0 * 28) / (105.0 * 105);
        assertThat(TestImages.sum(img)).isCloseTo(expected, within(1e-3));
      }
    }
  }

  @Test
  void decodeOrderDoesNotDependOnThreads() {
    writeSmallSet();
    ImageClasses one = new OmniglotReader(root, 28, 1).load(OmniglotSet.BACKGROUND);
    ImageClasses three = new OmniglotReader(root, 28, 3).load(OmniglotSet.BACKGROUND);
    assertThat(three.ids()).isEqualTo(one.ids());
    for (int c = 0; c < one.size(); c++) {
      for (int i = 0; i < one.imageCount(c); i++) {
        assertThat(three.image(c, i)).containsExactly(one.image(c, i));
      }
    }
  }

  @Test
  void configurableSide() {
    writeCharacter("Alpha", "character01", 1);
    ImageClasses set = new OmniglotReader(root, 35, 1).load(OmniglotSet.BACKGROUND);
    assertThat(set.side()).isEqualTo(35);
    assertThat(set.image(0, 0)).hasSize(35 * 35);
  }

  @Test
  void corruptPngNamesTheFile() throws IOException {
    writeSmallSet();
    Path bad = root.resolve("images_background/Beta/character01/0001_02.png");
    byte[] bytes = Files.readAllBytes(bad);
    Files.write(bad, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    OmniglotReader reader = new OmniglotReader(root, 28, 2);
    assertThatThrownBy(() -> reader.load(OmniglotSet.BACKGROUND))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining(bad.toString());
    Files.write(bad, new byte[] {1, 2, 3, 4});
    assertThatThrownBy(() -> reader.load(OmniglotSet.BACKGROUND))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining(bad.toString());
  }

  @Test
  void wrongSizeNamesTheFile() {
    writeSmallSet();
    Path odd = TestImages.writeBinaryPng(
        root.resolve("images_background/Alpha/character01/0001_09.png"), 28, 28, (x, y) -> x == y);
    OmniglotReader reader = new OmniglotReader(root, 28, 2);
    assertThatThrownBy(() -> reader.load(OmniglotSet.BACKGROUND))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(odd.toString())
        .hasMessageContaining("28x28 pixels, expected 105x105");
  }

  @Test
  void emptyClassFolderNamesTheFolder() throws IOException {
    writeSmallSet();
    Path empty = Files.createDirectories(root.resolve("images_background/Beta/character03"));
    OmniglotReader reader = new OmniglotReader(root, 28, 2);
    assertThatThrownBy(() -> reader.load(OmniglotSet.BACKGROUND))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(empty.toString())
        .hasMessageContaining("holds no .png image");
  }

  @Test
  void missingFoldersAreReported() throws IOException {
    OmniglotReader reader = new OmniglotReader(root, 28, 1);
    assertThatThrownBy(() -> reader.characters(OmniglotSet.EVALUATION))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(root.resolve("images_evaluation").toString())
        .hasMessageContaining("not found");
    Files.createDirectories(root.resolve("images_evaluation/Empty_Alphabet"));
    assertThatThrownBy(() -> reader.characters(OmniglotSet.EVALUATION))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Empty_Alphabet")
        .hasMessageContaining("holds no character folder");
    CharacterId ghost = new CharacterId(OmniglotSet.BACKGROUND, "Nope", "character01");
    assertThatThrownBy(() -> reader.files(ghost))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Nope");
  }

  @Test
  void selectSharesAndReorders() {
    writeSmallSet();
    OmniglotReader reader = new OmniglotReader(root, 28, 1);
    ImageClasses all = reader.load(OmniglotSet.BACKGROUND);
    List<CharacterId> wanted = List.of(all.id(2), all.id(0));
    ImageClasses sub = reader.load(wanted);
    assertThat(sub.ids()).containsExactlyElementsOf(wanted);
    assertThat(sub.image(0, 1)).containsExactly(all.image(2, 1));
    CharacterId ghost = new CharacterId(OmniglotSet.BACKGROUND, "Alpha", "character09");
    assertThatThrownBy(() -> all.select(List.of(ghost)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Alpha/character09");
  }
}
