package org.metagrad.meta.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The reader on the real Omniglot under METAGRAD_DATA; fails when the data is missing. */
class OmniglotRealDataTest {

  @Test
  void characterAndImageCounts() {
    OmniglotReader reader = TestImages.sharedReader();
    List<CharacterId> bg = reader.characters(OmniglotSet.BACKGROUND);
    List<CharacterId> ev = reader.characters(OmniglotSet.EVALUATION);
    assertThat(bg).hasSize(964);
    assertThat(ev).hasSize(659);
    assertThat(bg.stream().map(CharacterId::alphabet).distinct()).hasSize(30);
    assertThat(ev.stream().map(CharacterId::alphabet).distinct()).hasSize(20);
    for (CharacterId id : reader.allCharacters()) {
      assertThat(reader.files(id)).as(id.path()).hasSize(20);
    }
  }

  @Test
  void decodesBothSetsWithKnownPixelSum() throws Exception {
    OmniglotReader reader = TestImages.sharedReader();
    long t0 = System.nanoTime();
    ImageClasses bg = reader.load(OmniglotSet.BACKGROUND);
    ImageClasses ev = reader.load(OmniglotSet.EVALUATION);
    System.out.printf("Omniglot decode of %d images: %.1f s%n",
        bg.totalImages() + ev.totalImages(), (System.nanoTime() - t0) / 1e9);
    assertThat(bg.size()).isEqualTo(964);
    assertThat(ev.size()).isEqualTo(659);
    assertThat(bg.minImageCount()).isEqualTo(20);
    assertThat(ev.minImageCount()).isEqualTo(20);
    assertThat(bg.totalImages() + ev.totalImages()).isEqualTo(32_460);

    CharacterId magi1 = new CharacterId(OmniglotSet.BACKGROUND, "Alphabet_of_the_Magi", "character01");
    int c = bg.indexOf(magi1);
    assertThat(c).isZero();
    Path png = reader.files(magi1).get(0);
    assertThat(png.getFileName().toString()).isEqualTo("0709_01.png");
    float[] img = bg.image(c, 0);
    // 0709_01.png has 905 black pixels; area averaging maps them to 905 * 28^2 / 105^2 units of ink.
    int black = TestImages.blackPixels(png);
    assertThat(black).isEqualTo(905);
    assertThat(TestImages.sum(img)).isCloseTo(905 * 784.0 / 11025.0, within(1e-3));
    // A few pixels against the direct 2-D overlap formula on the raw ink map.
    float[] raw = Images.readInk(png, 105, 105);
    for (int[] yx : new int[][] {{0, 0}, {13, 13}, {10, 17}, {20, 5}, {27, 27}}) {
      assertThat((double) img[yx[0] * 28 + yx[1]])
          .isCloseTo(TestImages.directAreaPixel(raw, 105, 28, yx[0], yx[1]), within(1e-5));
    }
    for (float v : img) {
      assertThat(v).isBetween(0f, 1f);
    }
    // Braille character01 images 03 and 19 are byte-identical in the original data.
    int braille = bg.indexOf(new CharacterId(OmniglotSet.BACKGROUND, "Braille", "character01"));
    assertThat(bg.image(braille, 2)).containsExactly(bg.image(braille, 18));
  }
}
