package org.metagrad.meta.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** {@link Framing}: where the ink's bounding box ends up, and at what size, on a 105-pixel canvas. */
class FramingTest {

  private static final int S = OmniglotReader.SOURCE_SIDE;

  /** A canvas with ink (1.0) in the rectangle [x0, x0 + w) x [y0, y0 + h). */
  private static float[] box(int x0, int y0, int w, int h) {
    float[] img = new float[S * S];
    for (int y = y0; y < y0 + h; y++) {
      for (int x = x0; x < x0 + w; x++) {
        img[y * S + x] = 1f;
      }
    }
    return img;
  }

  /** {x0, y0, x1, y1} of the pixels above one half (inclusive), as Framing finds them. */
  private static int[] bounds(float[] img) {
    int[] b = {S, S, -1, -1};
    for (int y = 0; y < S; y++) {
      for (int x = 0; x < S; x++) {
        if (img[y * S + x] > 0.5f) {
          b[0] = Math.min(b[0], x);
          b[1] = Math.min(b[1], y);
          b[2] = Math.max(b[2], x);
          b[3] = Math.max(b[3], y);
        }
      }
    }
    return b;
  }

  private static double sum(float[] img) {
    double s = 0;
    for (float v : img) {
      s += v;
    }
    return s;
  }

  @Test
  void noneAndBlankDrawingsPassUnchanged() {
    float[] img = box(3, 4, 10, 20);
    assertThat(Framing.NONE.apply(img, S)).isSameAs(img);
    float[] blank = new float[S * S];
    assertThat(Framing.CENTER.apply(blank, S)).isSameAs(blank);
    assertThat(Framing.FIT.apply(blank, S)).isSameAs(blank);
    assertThat(Framing.MASS.apply(blank, S)).isSameAs(blank);
  }

  @Test
  void centerMovesTheBoxToTheMiddleWithoutResizingIt() {
    // a 3 x 5 box in the top-left corner: its centre (1.5, 2.5) goes to (52.5, 52.5), a whole-pixel move of
    // (51, 50), so the pixels are copied exactly
    float[] out = Framing.CENTER.apply(box(0, 0, 3, 5), S);
    assertThat(bounds(out)).containsExactly(51, 50, 53, 54);
    assertThat(sum(out)).isEqualTo(15.0);
    // an odd offset puts the centre between pixels: bilinear halves, the same mass
    float[] half = Framing.CENTER.apply(box(10, 10, 4, 4), S);
    assertThat(sum(half)).isCloseTo(16.0, within(1e-4));
    assertThat(half[52 * S + 52]).isEqualTo(1f);
  }

  @Test
  void fitScalesTheLongerSideToFourFifthsOfTheCanvasKeepingTheAspect() {
    // 10 wide, 20 tall, off-centre: the height becomes 0.8 * 105 = 84 pixels, the width 42
    float[] out = Framing.FIT.apply(box(70, 5, 10, 20), S);
    int[] b = bounds(out);
    assertThat(b[3] - b[1] + 1).isBetween(83, 85);
    assertThat(b[2] - b[0] + 1).isBetween(41, 43);
    assertThat((b[0] + b[2] + 1) / 2.0).isCloseTo(52.5, within(0.51));
    assertThat((b[1] + b[3] + 1) / 2.0).isCloseTo(52.5, within(0.51));
    // area scales by 4.2^2
    assertThat(sum(out)).isCloseTo(200 * 4.2 * 4.2, within(200 * 4.2 * 4.2 * 0.02));
    // a drawing larger than the target shrinks
    int[] big = bounds(Framing.FIT.apply(box(0, 0, 105, 50), S));
    assertThat(big[2] - big[0] + 1).isBetween(83, 85);
  }

  /** The ink's centre of mass {x, y}, in continuous coordinates (pixel i spans [i, i + 1]). */
  private static double[] massCentre(float[] img) {
    double m = 0;
    double mx = 0;
    double my = 0;
    for (int y = 0; y < S; y++) {
      for (int x = 0; x < S; x++) {
        m += img[y * S + x];
        mx += img[y * S + x] * (x + 0.5);
        my += img[y * S + x] * (y + 0.5);
      }
    }
    return new double[] {mx / m, my / m};
  }

  @Test
  void massScalesAsFitButCentresTheInksCentreOfMass() {
    // a 4 x 60 bar (240 pixels, centre x 12) with a 2 x 2 dot at x 31 beside its middle: the box is 22 x 60 with
    // its centre at x 21, the centre of mass at x (240 * 12 + 4 * 31) / 244 = 12.311, 8.689 left of the box's;
    // both framings scale by 84 / 60 = 1.4, nothing leaves the canvas
    float[] img = box(10, 20, 4, 60);
    for (int y = 49; y < 51; y++) {
      for (int x = 30; x < 32; x++) {
        img[y * S + x] = 1f;
      }
    }
    float[] fit = Framing.FIT.apply(img, S);
    float[] mass = Framing.MASS.apply(img, S);
    int[] bf = bounds(fit);
    int[] bm = bounds(mass);
    assertThat(bm[3] - bm[1] + 1).isBetween(83, 85);
    assertThat(bm[2] - bm[0] + 1).isCloseTo(bf[2] - bf[0] + 1, within(1));
    assertThat(sum(mass)).isCloseTo(sum(fit), within(sum(fit) * 0.01));   // bilinear at another phase
    // mass: the centre of mass at the canvas centre; fit: the box's centre there, the mass 1.4 x 8.689 left of it
    assertThat(massCentre(mass)[0]).isCloseTo(52.5, within(0.05));
    assertThat(massCentre(mass)[1]).isCloseTo(52.5, within(0.05));
    assertThat((bf[0] + bf[2] + 1) / 2.0).isCloseTo(52.5, within(0.51));
    assertThat(massCentre(fit)[0]).isCloseTo(52.5 - 1.4 * 8.689, within(0.05));
    assertThat(massCentre(fit)[1]).isCloseTo(52.5, within(0.05));
  }

  @Test
  void namesParseBackAndBadInputIsRefused() {
    for (Framing f : Framing.values()) {
      assertThat(Framing.parse(f.cliName())).isSameAs(f);
      assertThat(Framing.parse(" " + f.name() + " ")).isSameAs(f);
    }
    assertThatThrownBy(() -> Framing.parse("middle")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("middle").hasMessageContaining("none, center, fit, mass");
    assertThatThrownBy(() -> Framing.FIT.apply(new float[28 * 28], S))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("105x105");
  }
}
