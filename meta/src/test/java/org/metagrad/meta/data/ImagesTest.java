package org.metagrad.meta.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagesTest {

  @Test
  void resizeAreaHandComputed() {
    // 4x4 -> 2x2 averages 2x2 blocks.
    float[] src = {
      1, 2, 3, 4,
      5, 6, 7, 8,
      9, 10, 11, 12,
      13, 14, 15, 16};
    assertThat(Images.resizeArea(src, 4, 4, 2, 2)).containsExactly(3.5f, 5.5f, 11.5f, 13.5f);
    // 3 -> 2 in one dimension: footprints [0,1.5) and [1.5,3).
    float[] row = {3, 6, 9};
    float[] out = Images.resizeArea(row, 1, 3, 1, 2);
    assertThat(out[0]).isCloseTo((3 * 1 + 6 * 0.5f) / 1.5f, within(1e-6f));
    assertThat(out[1]).isCloseTo((6 * 0.5f + 9 * 1) / 1.5f, within(1e-6f));
  }

  @Test
  void resizeAreaMatchesDirectFormulaAndPreservesMass() {
    SplittableRandom r = new SplittableRandom(3);
    int[][] sizes = {{105, 28}, {105, 14}, {13, 7}, {7, 13}, {8, 8}, {1, 3}};
    for (int[] sz : sizes) {
      float[] src = new float[sz[0] * sz[0]];
      for (int i = 0; i < src.length; i++) {
        src[i] = (float) r.nextDouble();
      }
      float[] dst = Images.resizeArea(src, sz[0], sz[0], sz[1], sz[1]);
      double expectedMass = TestImages.sum(src) * sz[1] * sz[1] / ((double) sz[0] * sz[0]);
      assertThat(TestImages.sum(dst)).as("mass %s", java.util.Arrays.toString(sz))
          .isCloseTo(expectedMass, within(1e-3));
      for (int y = 0; y < sz[1]; y++) {
        for (int x = 0; x < sz[1]; x++) {
          assertThat((double) dst[y * sz[1] + x])
              .isCloseTo(TestImages.directAreaPixel(src, sz[0], sz[1], y, x), within(1e-5));
        }
      }
    }
  }

  @Test
  void resizeAreaRejectsBadSizes() {
    assertThatThrownBy(() -> Images.resizeArea(new float[5], 2, 2, 1, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected 2*2");
    assertThatThrownBy(() -> Images.resizeArea(new float[4], 2, 2, 0, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive");
  }

  @Test
  void rotateIsCounterClockwiseLikeNumpyRot90() {
    float[] img = {
      1, 2,
      3, 4};
    // numpy.rot90([[1,2],[3,4]]) == [[2,4],[1,3]]
    assertThat(Images.rotate(img, 2, 1)).containsExactly(2, 4, 1, 3);
    assertThat(Images.rotate(img, 2, 2)).containsExactly(4, 3, 2, 1);
    assertThat(Images.rotate(img, 2, 3)).containsExactly(3, 1, 4, 2);
    assertThat(Images.rotate(img, 2, -1)).containsExactly(3, 1, 4, 2);
    float[] big = new float[9 * 9];
    for (int i = 0; i < big.length; i++) {
      big[i] = i;
    }
    assertThat(Images.rotate(Images.rotate(big, 9, 1), 9, 3)).containsExactly(big);
    assertThat(Images.rotate(big, 9, 4)).containsExactly(big);
  }

  @Test
  void readInkInvertsOneBitPng(@TempDir Path tmp) {
    Path png = TestImages.writeBinaryPng(tmp.resolve("a.png"), 5, 3, (x, y) -> x == y);
    float[] ink = Images.readInk(png, 5, 3);
    assertThat(ink).containsExactly(
        1, 0, 0, 0, 0,
        0, 1, 0, 0, 0,
        0, 0, 1, 0, 0);
    assertThatThrownBy(() -> Images.readInk(png, 3, 5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(png.toString())
        .hasMessageContaining("is 5x3 pixels, expected 3x5");
  }
}
