package org.metagrad.meta.data;

/**
 * How a drawing is placed on its canvas before it is resized: the normalisation of position (and size) that
 * handwriting benchmarks such as MNIST apply to every digit (LeCun et al. 1998 centre each one in its field).
 *
 * <p>Omniglot's drawers put the same character at different places and sizes on the 105 x 105 canvas; Lake et
 * al.'s one-shot runs take all support drawings from one drawer and all test drawings from another, so a
 * drawer's habits are a systematic difference between the two sets. Framing acts on the full-resolution ink map
 * (before the area resize to the model's side), identically for training, validation and test images: it is
 * part of the input pipeline, recorded in a run's {@code config.json}, and an evaluation of the run applies it
 * again.
 *
 * <p>The ink's bounding box is the smallest rectangle of pixels with ink above one half (Omniglot's drawings are
 * black and white). A blank drawing passes unchanged. Resampling is bilinear, as {@link Distortion}'s.
 */
public enum Framing {
  /** The canvas as drawn (the papers' preprocessing). */
  NONE,
  /** The ink's bounding box moved to the centre of the canvas, its size unchanged (parts moved off it are lost). */
  CENTER,
  /**
   * The ink's bounding box moved to the centre and scaled, keeping its aspect ratio, so that its longer side
   * spans {@link #FIT_FRACTION} of the canvas. Strokes scale with it.
   */
  FIT,
  /**
   * Scaled as {@link #FIT}, but the ink's centre of mass (each pixel weighted by its ink), not its bounding box's
   * centre, moved to the centre of the canvas: the centring of MNIST's digits (LeCun et al. 1998), which a stray
   * stroke moves less than it moves the box. Parts moved off the canvas are lost.
   */
  MASS;

  /** The part of the canvas side that {@link #FIT} makes the bounding box's longer side span. */
  public static final double FIT_FRACTION = 0.8;

  /**
   * Returns the framing a name stands for: {@code none}, {@code center}, {@code fit} or {@code mass}
   * (case-insensitive).
   *
   * @param name the name
   * @return the framing
   * @throws IllegalArgumentException naming the known values when the name is none of them
   */
  public static Framing parse(String name) {
    for (Framing f : values()) {
      if (f.name().equalsIgnoreCase(name == null ? "" : name.strip())) {
        return f;
      }
    }
    throw new IllegalArgumentException("unknown framing '" + name + "'; known: none, center, fit, mass");
  }

  /**
   * Returns the lower-case name {@link #parse} reads back.
   *
   * @return {@code none}, {@code center}, {@code fit} or {@code mass}
   */
  public String cliName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /**
   * Frames one square ink map.
   *
   * @param ink {@code side * side} floats, row-major, ink near 1 and background near 0
   * @param side the canvas side
   * @return {@code ink} itself for {@link #NONE} or a blank drawing, else a new array of the same size
   * @throws IllegalArgumentException when {@code ink} does not hold {@code side * side} floats
   */
  public float[] apply(float[] ink, int side) {
    if (side < 1 || ink.length != side * side) {
      throw new IllegalArgumentException("Framing.apply: " + ink.length + " floats is not a " + side + "x" + side
          + " image");
    }
    if (this == NONE) {
      return ink;
    }
    int x0 = side;
    int y0 = side;
    int x1 = -1;
    int y1 = -1;
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        if (ink[y * side + x] > 0.5f) {
          x0 = Math.min(x0, x);
          x1 = Math.max(x1, x);
          y0 = Math.min(y0, y);
          y1 = Math.max(y1, y);
        }
      }
    }
    if (x1 < 0) {
      return ink;
    }
    // the box's (or the ink's mass's) centre in continuous coordinates (pixel i spans [i, i + 1]), moved to the
    // canvas centre
    double cx = (x0 + x1 + 1) / 2.0;
    double cy = (y0 + y1 + 1) / 2.0;
    if (this == MASS) {
      double m = 0;
      double mx = 0;
      double my = 0;
      for (int y = 0; y < side; y++) {
        for (int x = 0; x < side; x++) {
          double v = ink[y * side + x];
          m += v;
          mx += v * (x + 0.5);
          my += v * (y + 0.5);
        }
      }
      cx = mx / m;
      cy = my / m;
    }
    double centre = side / 2.0;
    double s = this == CENTER ? 1 : FIT_FRACTION * side / Math.max(x1 - x0 + 1, y1 - y0 + 1);
    double[] map = {s, 0, 0, s, -s * (cx - centre) / side, -s * (cy - centre) / side};
    float[] out = new float[ink.length];
    Distortion.warp(ink, 0, side, map, out, 0);
    return out;
  }
}
