package org.metagrad.meta.semi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.data.Distortion;

class AugmentationsTest {
  /** A 7x7 image: a vertical stroke in column 3, rows 1..5, and one pixel at (1, 5). */
  private static float[] stroke() {
    float[] img = new float[49];
    for (int y = 1; y <= 5; y++) {
      img[y * 7 + 3] = 1f;
    }
    img[5 * 7 + 1] = 0.5f;
    return img;
  }

  private static Tensor batch(int n, int side, long seed) {
    Rng r = new Rng(seed);
    double[] v = new double[n * side * side];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.nextDouble() < 0.2 ? 1 : 0;
    }
    return Tensor.of(v, DType.FLOAT32, n, 1, side, side);
  }

  @Test
  void everyPolicyIsAPureFunctionOfTheSeed() {
    Tensor x = batch(6, 28, 1);
    for (String name : Augmentations.POLICIES) {
      Augment a = Augmentations.policy(name);
      float[] first = a.applyBatch(x, 42).toFloatArray();
      assertThat(a.applyBatch(x, 42).toFloatArray()).as(name).containsExactly(first);
      // a policy built again gives the same bits too (no hidden state)
      assertThat(Augmentations.policy(name).applyBatch(x, 42).toFloatArray()).as(name).containsExactly(first);
      if (!name.equals("none")) {
        assertThat(a.applyBatch(x, 43).toFloatArray()).as(name).isNotEqualTo(first);
        assertThat(first).as(name).isNotEqualTo(x.toFloatArray());
      } else {
        assertThat(first).containsExactly(x.toFloatArray());
      }
      for (float f : first) {
        assertThat(f).as(name).isBetween(0f, 1f);
      }
    }
    // image j depends on (seed, j) only: the first 3 images of a batch are those of its 3-image prefix
    Augment s = Augmentations.strong();
    float[] whole = s.applyBatch(x, 9).toFloatArray();
    float[] prefix = s.applyBatch(x.slice(0, 0, 3), 9).toFloatArray();
    assertThat(Arrays.copyOf(whole, prefix.length)).containsExactly(prefix);
    assertThat(s.applyBatch(x, 9).shape()).containsExactly(6, 1, 28, 28);
  }

  @Test
  void shiftMovesByWholePixelsWithBackgroundFill() {
    float[] img = stroke();
    float[] t = Augmentations.translate(img, 7, 2, -1);
    for (int y = 0; y < 7; y++) {
      for (int x = 0; x < 7; x++) {
        int sx = x - 2;
        int sy = y + 1;
        float want = sx < 0 || sy >= 7 ? 0f : img[sy * 7 + sx];
        assertThat(t[y * 7 + x]).as("(%d, %d)", x, y).isEqualTo(want);
      }
    }
    // shift(0) is the identity
    assertThat(Augmentations.shift(0).apply(img, 7, new Rng(1))).containsExactly(img);
  }

  @Test
  void dilateAndErodeAreCrossShapedMaxAndMinFilters() {
    float[] img = stroke();
    float[] d = Augmentations.dilate().apply(img, 7, new Rng(0));
    // the stroke widens to columns 2..4 on rows 1..5 and grows to rows 0 and 6 in column 3
    assertThat(d[3 * 7 + 2]).isEqualTo(1f);
    assertThat(d[3 * 7 + 4]).isEqualTo(1f);
    assertThat(d[0 * 7 + 3]).isEqualTo(1f);
    assertThat(d[6 * 7 + 3]).isEqualTo(1f);
    assertThat(d[0 * 7 + 2]).isEqualTo(0f);   // diagonal neighbours are not in the cross
    assertThat(d[5 * 7 + 0]).isEqualTo(0.5f);
    float[] e = Augmentations.erode().apply(img, 7, new Rng(0));
    // a 1-pixel-wide stroke disappears under erosion; the dilated one shrinks back to column 3
    float sum = 0;
    for (float f : e) {
      sum += f;
    }
    assertThat(sum).isZero();
    float[] de = Augmentations.erode().apply(d, 7, new Rng(0));
    assertThat(de[3 * 7 + 3]).isEqualTo(1f);
    assertThat(de[3 * 7 + 2]).isEqualTo(0f);
    // NaN propagates through both filters
    float[] nan = stroke();
    nan[0] = Float.NaN;
    assertThat(Augmentations.dilate().apply(nan, 7, new Rng(0))[1]).isNaN();
    assertThat(Augmentations.erode().apply(nan, 7, new Rng(0))[7]).isNaN();
  }

  @Test
  void flipCutoutNoiseAndCrop() {
    float[] img = stroke();
    float[] f = Augmentations.flipHorizontal().apply(img, 7, new Rng(0));
    assertThat(f[5 * 7 + 5]).isEqualTo(0.5f);
    assertThat(Augmentations.flipHorizontal().apply(f, 7, new Rng(0))).containsExactly(img);
    float[] ones = new float[49];
    Arrays.fill(ones, 1f);
    float[] c = Augmentations.cutout(3).apply(ones, 7, new Rng(4));
    int zeros = 0;
    for (float v : c) {
      zeros += v == 0 ? 1 : 0;
    }
    assertThat(zeros).isBetween(4, 9);   // a 3x3 square, clipped at the border when its centre is on it
    float[] n = Augmentations.noise(0.5).apply(img, 7, new Rng(2));
    for (float v : n) {
      assertThat(v).isBetween(0f, 1f);
    }
    assertThat(n).isNotEqualTo(img);
    assertThat(Augmentations.noise(0).apply(img, 7, new Rng(2))).containsExactly(img);
    // a crop of the full image resamples it exactly; a crop of size 1 keeps no more ink than the image has
    assertThat(Augmentations.cropResize(1.0).apply(img, 7, new Rng(3))).containsExactly(img);
    assertThat(Augmentations.resample(img, 7, 0, 0, 7)).containsExactly(img);
    // the affine transform is Distortion's: identity ranges give the image back
    assertThat(Augmentations.affine(Distortion.NONE).apply(img, 7, new Rng(3))).containsExactly(img);
    // the input is never modified
    assertThat(img).containsExactly(stroke());
    Augmentations.strong().apply(img, 7, new Rng(11));
    assertThat(img).containsExactly(stroke());
  }

  @Test
  void withProbabilityAndRandomOps() {
    float[] img = stroke();
    Augment always = Augmentations.dilate().withProbability(1);
    Augment never = Augmentations.dilate().withProbability(0);
    assertThat(always.apply(img, 7, new Rng(1))).containsExactly(Augmentations.dilate().apply(img, 7, null));
    assertThat(never.apply(img, 7, new Rng(1))).containsExactly(img);
    Augment one = Augmentations.randomOps(3, java.util.List.of(Augmentations.dilate()));
    float[] three = Augmentations.dilate().then(Augmentations.dilate()).then(Augmentations.dilate())
        .apply(img, 7, new Rng(0));
    assertThat(one.apply(img, 7, new Rng(5))).containsExactly(three);
  }

  @Test
  void badArgumentsAreNamed() {
    assertThatThrownBy(() -> Augmentations.policy("heavy")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("weak, strong");
    assertThatThrownBy(() -> Augmentations.cropResize(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("minFraction");
    assertThatThrownBy(() -> Augmentations.shift(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Augmentations.noise(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Augmentations.cutout(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Augmentations.dilate().withProbability(2)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Augmentations.dilate().apply(new float[10], 7, new Rng(0)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("7x7");
    assertThatThrownBy(() -> Augmentations.weak().applyBatch(Tensor.zeros(DType.FLOAT32, 2, 3, 7, 7), 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[B, 1, S, S]");
  }
}
