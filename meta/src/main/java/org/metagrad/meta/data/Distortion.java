package org.metagrad.meta.data;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Random affine distortions of training drawings, the augmentation Koch et al. (2015, "Siamese Neural
 * Networks for One-shot Image Recognition", section 4.2) train their one-shot Siamese nets with.
 *
 * <p>A distortion is the affine map {@code x -> R(theta) Sh(rho_x, rho_y) S(s_x, s_y) x + t} about the image
 * centre, where {@code R} is a rotation, {@code Sh = [[1, rho_x], [rho_y, 1]]} a shear and {@code S} a
 * scaling. Each of the seven components is drawn uniformly from its range ({@code theta} in
 * {@code [-maxRotationDegrees, maxRotationDegrees]}, each {@code rho} in {@code [-maxShear, maxShear]}, each
 * {@code s} in {@code [minScale, maxScale]}, each {@code t} in {@code [-maxShift, maxShift] * side}) and
 * then kept with probability {@code componentProbability}, otherwise left at the identity. The image is
 * resampled bilinearly; what falls outside the original is background (0: strokes are 1).
 *
 * <p>{@link #AFFINE} holds Koch et al.'s ranges: theta in [-10, 10] degrees, rho in [-0.3, 0.3], s in
 * [0.8, 1.2], t in [-2, 2] pixels of their 105-pixel images (here a fraction, 2/105 of the side), each
 * component with probability 0.5. The random numbers come from the caller's generator and their count does
 * not depend on the outcome (14 per image), so a distortion is a pure function of the generator's state.
 *
 * <pre>{@code
 * SplittableRandom rng = new SplittableRandom(7);
 * Distortion.AFFINE.apply(pixels, offset, 28, rng, new float[28 * 28]);   // in place
 * }</pre>
 *
 * @param maxRotationDegrees largest rotation either way, in [0, 180]
 * @param maxShear largest shear either way, in [0, 1)
 * @param minScale smallest scale factor per axis, > 0
 * @param maxScale largest scale factor per axis, >= minScale
 * @param maxShift largest translation either way per axis, as a fraction of the side, in [0, 0.5)
 * @param componentProbability the probability that each component is applied, in [0, 1]
 */
public record Distortion(double maxRotationDegrees, double maxShear, double minScale, double maxScale,
                         double maxShift, double componentProbability) {

  /** No distortion: images pass unchanged and no random number is drawn. */
  public static final Distortion NONE = new Distortion(0, 0, 1, 1, 0, 0);

  /** Koch et al. (2015)'s ranges, see the class comment. */
  public static final Distortion AFFINE = new Distortion(10, 0.3, 0.8, 1.2, 2.0 / 105, 0.5);

  /** The names {@link #parse} accepts. */
  public static final java.util.List<String> NAMES = java.util.List.of("none", "affine");

  /**
   * Validates the ranges.
   *
   * @throws IllegalArgumentException naming the first value out of its range
   */
  public Distortion {
    check("maxRotationDegrees", maxRotationDegrees, 0, 180, true);
    check("maxShear", maxShear, 0, 1, false);
    if (!(minScale > 0) || !Double.isFinite(minScale) || !(maxScale >= minScale) || !Double.isFinite(maxScale)) {
      throw new IllegalArgumentException("Distortion: need 0 < minScale <= maxScale (finite), got " + minScale
          + " and " + maxScale);
    }
    check("maxShift", maxShift, 0, 0.5, false);
    check("componentProbability", componentProbability, 0, 1, true);
  }

  private static void check(String name, double v, double lo, double hi, boolean hiIncluded) {
    if (!(v >= lo) || (hiIncluded ? !(v <= hi) : !(v < hi))) {
      throw new IllegalArgumentException(String.format(Locale.ROOT, "Distortion: %s must be in [%s, %s%s, got %s",
          name, lo, hi, hiIncluded ? "]" : ")", v));
    }
  }

  /**
   * Returns the distortion a name stands for: {@code none} or {@code affine} (case-insensitive).
   *
   * @param name the name
   * @return {@link #NONE} or {@link #AFFINE}
   * @throws IllegalArgumentException for any other name, listing the known ones
   */
  public static Distortion parse(String name) {
    if (name != null) {
      switch (name.toLowerCase(Locale.ROOT)) {
        case "none":
          return NONE;
        case "affine":
          return AFFINE;
        default:
          break;
      }
    }
    throw new IllegalArgumentException("unknown distortion '" + name + "'; known: none, affine (Koch et al. 2015's"
        + " random affine maps)");
  }

  /**
   * Returns the name of {@link #NONE} or {@link #AFFINE}, or a description of custom ranges.
   *
   * @return {@code none}, {@code affine} or the ranges
   */
  public String name() {
    if (equals(NONE)) {
      return "none";
    }
    if (equals(AFFINE)) {
      return "affine";
    }
    return String.format(Locale.ROOT, "affine(rot %s deg, shear %s, scale %s..%s, shift %s, p %s)",
        maxRotationDegrees, maxShear, minScale, maxScale, maxShift, componentProbability);
  }

  /**
   * Returns whether every image passes unchanged (probability 0 or all ranges at the identity).
   *
   * @return true for a no-op
   */
  public boolean isIdentity() {
    return componentProbability == 0
        || (maxRotationDegrees == 0 && maxShear == 0 && minScale == 1 && maxScale == 1 && maxShift == 0);
  }

  /**
   * Draws one distortion: the forward map as {@code {a, b, c, d, tx, ty}}, meaning
   * {@code x' = a x + b y + tx, y' = c x + d y + ty} in centred coordinates with the translation as a
   * fraction of the side. Always draws 14 numbers from {@code rng}.
   *
   * @param rng the generator
   * @return the six coefficients
   */
  public double[] sample(SplittableRandom rng) {
    double theta = component(rng, Math.toRadians(maxRotationDegrees), 0);
    double rhoX = component(rng, maxShear, 0);
    double rhoY = component(rng, maxShear, 0);
    double sX = scale(rng);
    double sY = scale(rng);
    double tX = component(rng, maxShift, 0);
    double tY = component(rng, maxShift, 0);
    double cos = StrictMath.cos(theta);
    double sin = StrictMath.sin(theta);
    // R * Sh * S with Sh = [[1, rhoX], [rhoY, 1]] and S = diag(sX, sY).
    double sh00 = sX;
    double sh01 = rhoX * sY;
    double sh10 = rhoY * sX;
    double sh11 = sY;
    return new double[] {
        cos * sh00 - sin * sh10, cos * sh01 - sin * sh11,
        sin * sh00 + cos * sh10, sin * sh01 + cos * sh11,
        tX, tY};
  }

  /** Uniform in [-max, max], kept with the component probability; two draws either way. */
  private double component(SplittableRandom rng, double max, double identity) {
    boolean use = rng.nextDouble() < componentProbability;
    double v = (2 * rng.nextDouble() - 1) * max;
    return use ? v : identity;
  }

  private double scale(SplittableRandom rng) {
    boolean use = rng.nextDouble() < componentProbability;
    double v = minScale + rng.nextDouble() * (maxScale - minScale);
    return use ? v : 1;
  }

  /**
   * Distorts one {@code side x side} image in place with a freshly drawn map; does nothing (and draws
   * nothing) when {@link #isIdentity()}.
   *
   * @param img the pixels, row-major, from {@code offset}
   * @param offset where the image starts
   * @param side the image side
   * @param rng the generator
   * @param scratch at least {@code side * side} floats of work space
   * @throws IllegalArgumentException when the image or the scratch space does not fit
   */
  public void apply(float[] img, int offset, int side, SplittableRandom rng, float[] scratch) {
    if (side < 1 || offset < 0 || offset + side * side > img.length || scratch.length < side * side) {
      throw new IllegalArgumentException("Distortion.apply: a " + side + "x" + side + " image at offset " + offset
          + " does not fit in " + img.length + " floats with " + scratch.length + " floats of scratch");
    }
    if (isIdentity()) {
      return;
    }
    warp(img, offset, side, sample(rng), scratch, 0);
    System.arraycopy(scratch, 0, img, offset, side * side);
  }

  /**
   * Resamples {@code src} under a forward map {@code m = {a, b, c, d, tx, ty}} (see {@link #sample}) into
   * {@code dst}: each destination pixel centre is mapped back through the inverse and read bilinearly, 0
   * outside the source. The arithmetic is in double precision, rounded to float once per pixel.
   *
   * @param src the source pixels from {@code so}
   * @param so the source offset
   * @param side the image side
   * @param m the forward map
   * @param dst the destination from {@code dOff}
   * @param dOff the destination offset
   * @throws IllegalArgumentException when the map is singular
   */
  public static void warp(float[] src, int so, int side, double[] m, float[] dst, int dOff) {
    int plane = side * side;
    double[] in = new double[plane];
    for (int i = 0; i < plane; i++) {
      in[i] = src[so + i];
    }
    double[] out = new double[plane];
    warp(in, 0, side, m, out, 0);
    for (int i = 0; i < plane; i++) {
      dst[dOff + i] = (float) out[i];
    }
  }

  /**
   * {@link #warp(float[], int, int, double[], float[], int)} in double precision throughout.
   *
   * @param src the source pixels from {@code so}
   * @param so the source offset
   * @param side the image side
   * @param m the forward map
   * @param dst the destination from {@code dOff}
   * @param dOff the destination offset
   * @throws IllegalArgumentException when the map is singular
   */
  public static void warp(double[] src, int so, int side, double[] m, double[] dst, int dOff) {
    double det = m[0] * m[3] - m[1] * m[2];
    if (!(Math.abs(det) > 1e-9)) {
      throw new IllegalArgumentException("Distortion: singular map (determinant " + det + ")");
    }
    double i00 = m[3] / det;
    double i01 = -m[1] / det;
    double i10 = -m[2] / det;
    double i11 = m[0] / det;
    double centre = side / 2.0;
    double tx = m[4] * side;
    double ty = m[5] * side;
    for (int y = 0; y < side; y++) {
      double v = y + 0.5 - centre - ty;
      for (int x = 0; x < side; x++) {
        double u = x + 0.5 - centre - tx;
        double sx = i00 * u + i01 * v + centre - 0.5;
        double sy = i10 * u + i11 * v + centre - 0.5;
        dst[dOff + y * side + x] = bilinear(src, so, side, sx, sy);
      }
    }
  }

  private static double bilinear(double[] src, int so, int side, double sx, double sy) {
    int x0 = (int) Math.floor(sx);
    int y0 = (int) Math.floor(sy);
    double fx = sx - x0;
    double fy = sy - y0;
    double v00 = pixel(src, so, side, x0, y0);
    double v01 = pixel(src, so, side, x0 + 1, y0);
    double v10 = pixel(src, so, side, x0, y0 + 1);
    double v11 = pixel(src, so, side, x0 + 1, y0 + 1);
    return (v00 * (1 - fx) + v01 * fx) * (1 - fy) + (v10 * (1 - fx) + v11 * fx) * fy;
  }

  private static double pixel(double[] src, int so, int side, int x, int y) {
    return x < 0 || y < 0 || x >= side || y >= side ? 0 : src[so + y * side + x];
  }
}
