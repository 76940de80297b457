package org.metagrad.meta.semi;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.metagrad.Rng;
import org.metagrad.meta.data.Distortion;

/**
 * Seeded image transforms for handwritten characters (strokes 1, background 0) and the policies the
 * semi- and self-supervised methods use.
 *
 * <ul>
 *   <li>{@link #affine}: Koch et al.'s random affine maps ({@link Distortion}, reused);</li>
 *   <li>{@link #shift}: an integer translation, zero fill;</li>
 *   <li>{@link #cropResize}: a random square crop of a random size, resized back bilinearly (SimCLR's crop);</li>
 *   <li>{@link #flipHorizontal}: a mirror image. Not in the policies: a mirrored character is in general
 *       another character (or none), so for handwriting a flip changes the label;</li>
 *   <li>{@link #dilate} / {@link #erode}: thicker or thinner strokes, a 3x3 cross-shaped max / min filter
 *       (max-pooling with stride 1);</li>
 *   <li>{@link #noise}: additive Gaussian noise, clamped to [0, 1];</li>
 *   <li>{@link #cutout}: a square set to background (DeVries and Taylor 2017, part of FixMatch's strong
 *       augmentation).</li>
 * </ul>
 *
 * <p>Policies: {@link #weak()} is a shift of up to 3 pixels (FixMatch's weak augmentation is a flip and a
 * translation of up to 12.5%; the flip is left out for handwriting, 3 of 28 pixels is about 12.5%).
 * {@link #strong()} is RandAugment-like as in FixMatch: two operations chosen uniformly from a list, then
 * cutout. {@link #contrastive()} is the SimCLR view: crop-and-resize, an affine map, a stroke-width change
 * with probability 0.5 and noise.
 *
 * <pre>{@code
 * Augment a = Augmentations.cropResize(0.6).then(Augmentations.dilate().withProbability(0.5));
 * float[] view = a.apply(img, 28, new Rng(3));
 * }</pre>
 */
public final class Augmentations {
  private Augmentations() {}

  /** The policy names {@link #policy} accepts. */
  public static final List<String> POLICIES = List.of("none", "weak", "strong", "contrastive");

  /**
   * A policy by name: {@code none}, {@code weak}, {@code strong} or {@code contrastive}.
   *
   * @param name the name (case-insensitive)
   * @return the policy
   * @throws IllegalArgumentException for another name, listing the known ones
   */
  public static Augment policy(String name) {
    String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
    return switch (n) {
      case "none" -> identity();
      case "weak" -> weak();
      case "strong" -> strong();
      case "contrastive" -> contrastive();
      default -> throw new IllegalArgumentException("unknown augmentation policy '" + name + "'; known: "
          + String.join(", ", POLICIES));
    };
  }

  /** The identity (a copy); draws nothing. @return the transform */
  public static Augment identity() {
    return (img, side, rng) -> check(img, side, "identity").clone();
  }

  /** FixMatch's weak augmentation for handwriting: a shift of up to 3 pixels each way. @return the policy */
  public static Augment weak() {
    return shift(3);
  }

  /**
   * RandAugment-like strong augmentation: two operations drawn uniformly (with replacement) from affine,
   * crop-and-resize (0.7), dilate, erode, noise (0.15) and shift (4), then a cutout of 10 pixels.
   *
   * @return the policy
   */
  public static Augment strong() {
    return randomOps(2, List.of(affine(Distortion.AFFINE), cropResize(0.7), dilate(), erode(), noise(0.15),
        shift(4))).then(cutout(10));
  }

  /**
   * The SimCLR view for handwriting: crop-and-resize (0.6), an affine map, then thicker or thinner strokes
   * with probability 0.5 (either equally likely) and Gaussian noise (0.1).
   *
   * @return the policy
   */
  public static Augment contrastive() {
    Augment width = (img, side, rng) -> (rng.nextDouble() < 0.5 ? dilate() : erode()).apply(img, side, rng);
    return cropResize(0.6).then(affine(Distortion.AFFINE)).then(width.withProbability(0.5)).then(noise(0.1));
  }

  /**
   * {@code n} operations each drawn uniformly from {@code ops} (with replacement) and applied in turn.
   *
   * @param n how many, at least 1
   * @param ops the choices, at least one
   * @return the transform
   * @throws IllegalArgumentException for {@code n < 1} or no operations
   */
  public static Augment randomOps(int n, List<Augment> ops) {
    if (n < 1 || ops == null || ops.isEmpty()) {
      throw new IllegalArgumentException("randomOps: need n >= 1 and at least one operation, got n = " + n
          + " and " + (ops == null ? "null" : ops.size() + " operations"));
    }
    List<Augment> list = List.copyOf(ops);
    return (img, side, rng) -> {
      float[] x = check(img, side, "randomOps");
      for (int i = 0; i < n; i++) {
        x = list.get(rng.nextInt(list.size())).apply(x, side, rng);
      }
      return x == img ? x.clone() : x;
    };
  }

  /**
   * A random affine map of {@link Distortion} (the generator of the map is seeded with one draw from
   * {@code rng}).
   *
   * @param d the ranges, e.g. {@link Distortion#AFFINE}
   * @return the transform
   */
  public static Augment affine(Distortion d) {
    if (d == null) {
      throw new IllegalArgumentException("affine: distortion must not be null");
    }
    return (img, side, rng) -> {
      float[] x = check(img, side, "affine").clone();
      d.apply(x, 0, side, new SplittableRandom(rng.nextLong()), new float[side * side]);
      return x;
    };
  }

  /**
   * An integer translation by {@code (dx, dy)}, each uniform in {@code [-max, max]}; what moves in is
   * background.
   *
   * @param max the largest shift in pixels, >= 0
   * @return the transform
   * @throws IllegalArgumentException for a negative {@code max}
   */
  public static Augment shift(int max) {
    if (max < 0) {
      throw new IllegalArgumentException("shift: max must be >= 0, got " + max);
    }
    return (img, side, rng) -> {
      check(img, side, "shift");
      int dx = rng.nextInt(2 * max + 1) - max;
      int dy = rng.nextInt(2 * max + 1) - max;
      return translate(img, side, dx, dy);
    };
  }

  /** Translates by whole pixels: {@code out[y][x] = img[y - dy][x - dx]}, 0 outside. */
  static float[] translate(float[] img, int side, int dx, int dy) {
    float[] out = new float[side * side];
    for (int y = 0; y < side; y++) {
      int sy = y - dy;
      if (sy < 0 || sy >= side) {
        continue;
      }
      for (int x = 0; x < side; x++) {
        int sx = x - dx;
        if (sx >= 0 && sx < side) {
          out[y * side + x] = img[sy * side + sx];
        }
      }
    }
    return out;
  }

  /**
   * A random square crop resized back to the full side bilinearly: the crop's side is {@code u * side} with
   * {@code u} uniform in {@code [minFraction, 1]}, its corner uniform over the positions inside the image.
   *
   * @param minFraction the smallest crop side as a fraction of the image side, in (0, 1]
   * @return the transform
   * @throws IllegalArgumentException when {@code minFraction} is outside (0, 1]
   */
  public static Augment cropResize(double minFraction) {
    if (!(minFraction > 0 && minFraction <= 1)) {
      throw new IllegalArgumentException("cropResize: minFraction must be in (0, 1], got " + minFraction);
    }
    return (img, side, rng) -> {
      check(img, side, "cropResize");
      double c = side * (minFraction + rng.nextDouble() * (1 - minFraction));
      double x0 = rng.nextDouble() * (side - c);
      double y0 = rng.nextDouble() * (side - c);
      return resample(img, side, x0, y0, c);
    };
  }

  /** Output pixel centre (x + 0.5) / side of the crop {@code [x0, x0 + c)^2}, read bilinearly. */
  static float[] resample(float[] img, int side, double x0, double y0, double c) {
    float[] out = new float[side * side];
    double s = c / side;
    for (int y = 0; y < side; y++) {
      double sy = y0 + (y + 0.5) * s - 0.5;
      for (int x = 0; x < side; x++) {
        double sx = x0 + (x + 0.5) * s - 0.5;
        out[y * side + x] = bilinear(img, side, sx, sy);
      }
    }
    return out;
  }

  private static float bilinear(float[] img, int side, double sx, double sy) {
    int x0 = (int) Math.floor(sx);
    int y0 = (int) Math.floor(sy);
    double fx = sx - x0;
    double fy = sy - y0;
    double v00 = pixel(img, side, x0, y0);
    double v01 = pixel(img, side, x0 + 1, y0);
    double v10 = pixel(img, side, x0, y0 + 1);
    double v11 = pixel(img, side, x0 + 1, y0 + 1);
    return (float) ((v00 * (1 - fx) + v01 * fx) * (1 - fy) + (v10 * (1 - fx) + v11 * fx) * fy);
  }

  private static double pixel(float[] img, int side, int x, int y) {
    return x < 0 || y < 0 || x >= side || y >= side ? 0 : img[y * side + x];
  }

  /**
   * A mirror image (left-right); draws nothing. Changes the identity of most characters: not in the policies.
   *
   * @return the transform
   */
  public static Augment flipHorizontal() {
    return (img, side, rng) -> {
      check(img, side, "flipHorizontal");
      float[] out = new float[side * side];
      for (int y = 0; y < side; y++) {
        for (int x = 0; x < side; x++) {
          out[y * side + x] = img[y * side + side - 1 - x];
        }
      }
      return out;
    };
  }

  /**
   * Thicker strokes: each pixel becomes the maximum over itself and its 4 neighbours (a cross-shaped 3x3
   * max-pool with stride 1; outside is background); draws nothing.
   *
   * @return the transform
   */
  public static Augment dilate() {
    return (img, side, rng) -> crossFilter(check(img, side, "dilate"), side, true);
  }

  /**
   * Thinner strokes: each pixel becomes the minimum over itself and its 4 neighbours (outside counts as
   * background); draws nothing.
   *
   * @return the transform
   */
  public static Augment erode() {
    return (img, side, rng) -> crossFilter(check(img, side, "erode"), side, false);
  }

  static float[] crossFilter(float[] img, int side, boolean max) {
    float[] out = new float[side * side];
    int[][] nb = {{0, 0}, {1, 0}, {-1, 0}, {0, 1}, {0, -1}};
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        float v = img[y * side + x];
        for (int[] d : nb) {
          int xx = x + d[0];
          int yy = y + d[1];
          float w = xx < 0 || yy < 0 || xx >= side || yy >= side ? 0f : img[yy * side + xx];
          // NaN propagates: a comparison with NaN is false, so test it explicitly
          v = Float.isNaN(w) || Float.isNaN(v) ? Float.NaN : max ? Math.max(v, w) : Math.min(v, w);
        }
        out[y * side + x] = v;
      }
    }
    return out;
  }

  /**
   * Additive Gaussian noise of standard deviation {@code sigma} per pixel, then clamped to [0, 1] (NaN stays
   * NaN); draws {@code side * side} normal numbers.
   *
   * @param sigma the standard deviation, >= 0 and finite
   * @return the transform
   * @throws IllegalArgumentException for a negative or non-finite {@code sigma}
   */
  public static Augment noise(double sigma) {
    if (!(sigma >= 0) || Double.isInfinite(sigma)) {
      throw new IllegalArgumentException("noise: sigma must be finite and >= 0, got " + sigma);
    }
    return (img, side, rng) -> {
      float[] out = check(img, side, "noise").clone();
      for (int i = 0; i < out.length; i++) {
        double v = out[i] + sigma * rng.nextGaussian();
        out[i] = Double.isNaN(v) ? Float.NaN : (float) Math.min(1, Math.max(0, v));
      }
      return out;
    };
  }

  /**
   * A {@code size x size} square set to background, its centre uniform over the image (it may stick out).
   *
   * @param size the square's side in pixels, >= 1
   * @return the transform
   * @throws IllegalArgumentException for {@code size < 1}
   */
  public static Augment cutout(int size) {
    if (size < 1) {
      throw new IllegalArgumentException("cutout: size must be >= 1, got " + size);
    }
    return (img, side, rng) -> {
      float[] out = check(img, side, "cutout").clone();
      int cx = rng.nextInt(side);
      int cy = rng.nextInt(side);
      int x0 = cx - size / 2;
      int y0 = cy - size / 2;
      for (int y = Math.max(0, y0); y < Math.min(side, y0 + size); y++) {
        for (int x = Math.max(0, x0); x < Math.min(side, x0 + size); x++) {
          out[y * side + x] = 0f;
        }
      }
      return out;
    };
  }

  private static float[] check(float[] img, int side, String op) {
    if (img == null || side < 1 || img.length != side * side) {
      throw new IllegalArgumentException(op + ": expected a " + side + "x" + side + " image (" + (long) side * side
          + " floats), got " + (img == null ? "null" : img.length + " floats"));
    }
    return img;
  }

  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
