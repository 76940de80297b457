package org.metagrad.meta.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DistortionTest {

  private static final int SIDE = 9;

  /** A blob of strokes away from the border, values in [0, 1]. */
  private static float[] image() {
    float[] a = new float[SIDE * SIDE];
    SplittableRandom r = new SplittableRandom(5);
    for (int y = 2; y < SIDE - 2; y++) {
      for (int x = 2; x < SIDE - 2; x++) {
        a[y * SIDE + x] = (float) r.nextDouble();
      }
    }
    return a;
  }

  @Test
  void theIdentityMapCopiesExactly() {
    float[] src = image();
    float[] dst = new float[SIDE * SIDE];
    Distortion.warp(src, 0, SIDE, new double[] {1, 0, 0, 1, 0, 0}, dst, 0);
    assertThat(dst).containsExactly(src);
  }

  @Test
  void aOnePixelShiftMovesEveryPixelOneColumnRight() {
    float[] src = image();
    src[0] = 1; // a corner pixel falls off the left edge ... and column 0 becomes background
    float[] dst = new float[SIDE * SIDE];
    Distortion.warp(src, 0, SIDE, new double[] {1, 0, 0, 1, 1.0 / SIDE, 0}, dst, 0);
    for (int y = 0; y < SIDE; y++) {
      assertThat(dst[y * SIDE]).isEqualTo(0f);
      for (int x = 1; x < SIDE; x++) {
        assertThat(dst[y * SIDE + x]).as("(%d, %d)", x, y).isCloseTo(src[y * SIDE + x - 1], within(1e-6f));
      }
    }
  }

  @Test
  void aQuarterTurnEqualsTheExactRotationOfImages() {
    // With y pointing down, the map x' = -y, y' = x turns the picture clockwise: three counter-clockwise turns.
    float[] src = image();
    float[] dst = new float[SIDE * SIDE];
    Distortion.warp(src, 0, SIDE, new double[] {0, -1, 1, 0, 0, 0}, dst, 0);
    float[] rot = new float[SIDE * SIDE];
    Images.copyRotated(src, 0, SIDE, 3, rot, 0);
    for (int i = 0; i < rot.length; i++) {
      assertThat(dst[i]).as("pixel %d", i).isCloseTo(rot[i], within(1e-6f));
    }
  }

  @Test
  void scalingByTwoAboutTheCentreMagnifiesTheMiddle() {
    // Even side: the centre is a pixel corner; dst pixel centre c + 2d reads source pixel centre c + d.
    int side = 8;
    float[] src = new float[side * side];
    for (int i = 0; i < src.length; i++) {
      src[i] = i;
    }
    float[] dst = new float[side * side];
    Distortion.warp(src, 0, side, new double[] {2, 0, 0, 2, 0, 0}, dst, 0);
    // dst (x=5, y=5): centre 5.5 -> 4 + 1.5/2 = 4.75 -> source coordinate 4.25: (1-0.25)*4 + 0.25*5 per axis.
    double expect = (0.75 * (4 * side + 4) + 0.25 * (4 * side + 5)) * 0.75
        + (0.75 * (5 * side + 4) + 0.25 * (5 * side + 5)) * 0.25;
    assertThat(dst[5 * side + 5]).isCloseTo((float) expect, within(1e-4f));
  }

  @Test
  void samplesStayInTheirRangesAndAlwaysDrawFourteenNumbers() {
    Distortion all = new Distortion(10, 0.3, 0.8, 1.2, 0.05, 1.0);
    SplittableRandom rng = new SplittableRandom(11);
    for (int t = 0; t < 200; t++) {
      double[] m = all.sample(rng);
      double det = m[0] * m[3] - m[1] * m[2];
      // det = sx * sy * (1 - rhoX * rhoY) within [0.64 * 0.91, 1.44 * 1.09]
      assertThat(det).isBetween(0.64 * 0.91 - 1e-12, 1.44 * 1.09 + 1e-12);
      assertThat(Math.abs(m[4])).isLessThanOrEqualTo(0.05);
      assertThat(Math.abs(m[5])).isLessThanOrEqualTo(0.05);
    }
    SplittableRandom a = new SplittableRandom(3);
    SplittableRandom b = new SplittableRandom(3);
    Distortion.AFFINE.sample(a);
    for (int i = 0; i < 14; i++) {
      b.nextDouble();
    }
    assertThat(a.nextLong()).isEqualTo(b.nextLong());
    // Probability 0: the identity, still 14 draws.
    Distortion never = new Distortion(10, 0.3, 0.8, 1.2, 0.05, 0);
    SplittableRandom c = new SplittableRandom(3);
    assertThat(never.sample(c)).containsExactly(1, 0, 0, 1, 0, 0);
    SplittableRandom d = new SplittableRandom(3);
    for (int i = 0; i < 14; i++) {
      d.nextDouble();
    }
    assertThat(c.nextLong()).isEqualTo(d.nextLong());
  }

  @Test
  void applyDistortsInPlaceDeterministicallyAndKeepsValuesInRange() {
    float[] a = image();
    float[] b = image();
    float[] scratch = new float[SIDE * SIDE];
    Distortion strong = new Distortion(10, 0.3, 0.8, 1.2, 0.1, 1.0);
    strong.apply(a, 0, SIDE, new SplittableRandom(1), scratch);
    strong.apply(b, 0, SIDE, new SplittableRandom(1), scratch);
    assertThat(a).containsExactly(b);
    assertThat(a).isNotEqualTo(image());
    for (float v : a) {
      assertThat(v).isBetween(0f, 1f);
    }
    // NONE changes nothing and draws nothing.
    float[] c = image();
    SplittableRandom rng = new SplittableRandom(4);
    Distortion.NONE.apply(c, 0, SIDE, rng, scratch);
    assertThat(c).containsExactly(image());
    assertThat(rng.nextLong()).isEqualTo(new SplittableRandom(4).nextLong());
    // An image at an offset, the rest untouched.
    float[] two = new float[2 * SIDE * SIDE];
    System.arraycopy(image(), 0, two, SIDE * SIDE, SIDE * SIDE);
    strong.apply(two, SIDE * SIDE, SIDE, new SplittableRandom(1), scratch);
    assertThat(java.util.Arrays.copyOfRange(two, SIDE * SIDE, two.length)).containsExactly(a);
    assertThat(java.util.Arrays.copyOf(two, SIDE * SIDE)).containsOnly(0f);
  }

  @Test
  void badRangesNamesAndSizesAreRefusedWithTheirName() {
    assertThatThrownBy(() -> new Distortion(-1, 0, 1, 1, 0, 0.5)).hasMessageContaining("maxRotationDegrees");
    assertThatThrownBy(() -> new Distortion(0, 1, 1, 1, 0, 0.5)).hasMessageContaining("maxShear");
    assertThatThrownBy(() -> new Distortion(0, 0, 1.2, 0.8, 0, 0.5)).hasMessageContaining("minScale <= maxScale");
    assertThatThrownBy(() -> new Distortion(0, 0, 0, 1, 0, 0.5)).hasMessageContaining("0 < minScale");
    assertThatThrownBy(() -> new Distortion(0, 0, 1, 1, 0.5, 0.5)).hasMessageContaining("maxShift");
    assertThatThrownBy(() -> new Distortion(0, 0, 1, 1, 0, Double.NaN)).hasMessageContaining("componentProbability");
    assertThatThrownBy(() -> new Distortion(0, 0, 1, 1, 0, 1.5)).hasMessageContaining("componentProbability");
    assertThat(Distortion.parse("AFFINE")).isEqualTo(Distortion.AFFINE);
    assertThat(Distortion.parse("none")).isSameAs(Distortion.NONE);
    assertThat(Distortion.AFFINE.name()).isEqualTo("affine");
    assertThat(Distortion.NONE.isIdentity()).isTrue();
    assertThat(Distortion.AFFINE.isIdentity()).isFalse();
    assertThatThrownBy(() -> Distortion.parse("elastic")).hasMessageContaining("unknown distortion 'elastic'")
        .hasMessageContaining("none, affine");
    assertThatThrownBy(() -> Distortion.AFFINE.apply(new float[10], 0, SIDE, new SplittableRandom(1), new float[81]))
        .hasMessageContaining("does not fit");
    assertThatThrownBy(() -> Distortion.warp(image(), 0, SIDE, new double[] {1, 1, 1, 1, 0, 0}, new float[81], 0))
        .hasMessageContaining("singular");
  }
}
