package org.metagrad.meta.semi;

import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * A random transform of one square grey image (row-major {@code float[side * side]}, strokes 1, background
 * 0), drawing its randomness from the caller's {@link Rng}: the same generator state gives the same bits.
 * Transforms compose with {@link #then}; {@link #applyBatch} maps a batch {@code [B, 1, side, side]} with one
 * generator per image seeded from {@code (seed, image index)}, so a batch's augmentation is a pure function of
 * the batch and the seed (threads and earlier draws do not matter).
 *
 * <pre>{@code
 * Augment strong = Augmentations.strong();
 * Tensor views = strong.applyBatch(x, 7);   // x [B, 1, 28, 28] FLOAT32
 * }</pre>
 *
 * <p>The transforms are applied to the data, outside the autograd graph (no gradient flows through the choice
 * of a crop or rotation); the one augmentation that must be differentiated, VAT's adversarial perturbation, is
 * a tensor op on the network's input (see {@link SemiLosses#vatPerturbation}).
 */
@FunctionalInterface
public interface Augment {

  /**
   * Transforms one image; never modifies {@code img}.
   *
   * @param img {@code side * side} floats, row-major
   * @param side the image side
   * @param rng the generator the random choices are drawn from
   * @return a new array of {@code side * side} floats
   */
  float[] apply(float[] img, int side, Rng rng);

  /**
   * This transform, then {@code next} on its output (same generator, drawn in that order).
   *
   * @param next the transform applied second
   * @return the composition
   */
  default Augment then(Augment next) {
    if (next == null) {
      throw new IllegalArgumentException("Augment.then: next must not be null");
    }
    Augment self = this;
    return (img, side, rng) -> next.apply(self.apply(img, side, rng), side, rng);
  }

  /**
   * This transform with probability {@code p}, else the identity; one uniform number is drawn first either way,
   * and the transform's own numbers only when it is applied.
   *
   * @param p the probability, in [0, 1]
   * @return the random transform
   * @throws IllegalArgumentException when {@code p} is outside [0, 1]
   */
  default Augment withProbability(double p) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException("Augment.withProbability: p must be in [0, 1], got " + p);
    }
    Augment self = this;
    return (img, side, rng) -> rng.nextDouble() < p ? self.apply(img, side, rng) : img.clone();
  }

  /**
   * Augments a batch {@code x [B, 1, side, side]} (or {@code [B, side, side]}): image {@code j} is transformed
   * with a generator seeded from {@code (seed, j)}. Returns FLOAT32 of the same shape.
   *
   * @param x the images, values in [0, 1]
   * @param seed the batch's seed
   * @return the augmented images
   * @throws IllegalArgumentException when the trailing two dimensions are not a square image
   */
  default Tensor applyBatch(Tensor x, long seed) {
    int r = x.rank();
    if (r < 3 || x.size(r - 1) != x.size(r - 2) || (r == 4 && x.size(1) != 1) || r > 4) {
      throw new IllegalArgumentException("Augment.applyBatch: expected [B, 1, S, S] or [B, S, S] grey images, got "
          + java.util.Arrays.toString(x.shape()));
    }
    int side = x.size(r - 1);
    int b = x.size(0);
    int p = side * side;
    float[] in = x.toFloatArray();
    float[] out = new float[in.length];
    float[] img = new float[p];
    for (int j = 0; j < b; j++) {
      System.arraycopy(in, j * p, img, 0, p);
      float[] t = apply(img, side, imageRng(seed, j));
      if (t.length != p) {
        throw new IllegalStateException("Augment.applyBatch: a transform returned " + t.length + " floats for a "
            + side + "x" + side + " image");
      }
      System.arraycopy(t, 0, out, j * p, p);
    }
    return Tensor.of(toDouble(out), DType.FLOAT32, x.shape());
  }

  /**
   * The generator of image {@code j} of a batch seeded {@code seed} (SplitMix64 finaliser of both).
   *
   * @param seed the batch seed
   * @param j the image index
   * @return a fresh generator
   */
  static Rng imageRng(long seed, long j) {
    return new Rng(Augmentations.mix64(seed ^ Augmentations.mix64(j * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L)));
  }

  private static double[] toDouble(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }
}
