package org.metagrad.meta.algo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.metagrad.Autograd;
import org.metagrad.Tensor;
import org.metagrad.meta.data.Distortion;

/**
 * Test-time ensemble over small rotations and scalings around any {@link FewShotLearner} of square images, the
 * counterpart of {@link ShiftEnsemble} for the other components of Koch et al.'s affine training distortions: every
 * support image also enters the support set rotated by each angle of {@code {-d, 0, +d}} degrees and scaled by each
 * factor of {@code {1 - s, 1, 1 + s}} about the image centre (a ProtoNet prototype becomes the mean embedding over
 * the copies), and a query's logits are the mean of the learner's logits over the same copies of the query. Each
 * copy is resampled bilinearly ({@link Distortion#warp}) in double precision and stored in the input's dtype, 0
 * outside the image. A component at 0 adds no views, so
 * the ensemble has 9 views with both components, 3 with one, and is the wrapped learner exactly with neither.
 *
 * <p>Like the shift ensemble it changes neither training nor the parameters, and costs as many times the learner's
 * test-time work as it has views. It is best paired with a model trained with {@code --distort affine}, whose
 * training drawings were rotated by up to 10 degrees and scaled by 0.8-1.2.
 *
 * <pre>{@code
 * FewShotLearner tta = AffineEnsemble.of(protoNet, 5, 0.1);  // 9 views: -5, 0, +5 degrees x 0.9, 1, 1.1
 * }</pre>
 */
public final class AffineEnsemble extends ViewEnsemble {
  private final double degrees;
  private final double scale;
  private final List<double[]> maps;

  private AffineEnsemble(FewShotLearner inner, double degrees, double scale) {
    super(inner);
    this.degrees = degrees;
    this.scale = scale;
    this.maps = maps(degrees, scale);
  }

  /**
   * The learner with rotations by {@code -degrees, 0, +degrees} and scalings by {@code 1 - scale, 1, 1 + scale}.
   *
   * @param inner the wrapped learner
   * @param degrees the rotation, in [0, 90)
   * @param scale the relative scaling, in [0, 1)
   * @return the ensemble
   * @throws IllegalArgumentException for a null learner or a component outside its range
   */
  public static AffineEnsemble of(FewShotLearner inner, double degrees, double scale) {
    if (inner == null) {
      throw new IllegalArgumentException("AffineEnsemble: learner must not be null");
    }
    check(degrees, scale);
    return new AffineEnsemble(inner, degrees, scale);
  }

  /**
   * Checks the two components.
   *
   * @param degrees the rotation, in [0, 90)
   * @param scale the relative scaling, in [0, 1)
   * @throws IllegalArgumentException for a component outside its range
   */
  public static void check(double degrees, double scale) {
    if (!(degrees >= 0 && degrees < 90)) {
      throw new IllegalArgumentException("AffineEnsemble: the rotation must be in [0, 90) degrees, got " + degrees);
    }
    if (!(scale >= 0 && scale < 1)) {
      throw new IllegalArgumentException("AffineEnsemble: the relative scaling must be in [0, 1), got " + scale);
    }
  }

  /**
   * Parses {@code "DEG,SCALE"} (for example {@code "5,0.1"}) into the two components.
   *
   * @param spec the option's value
   * @return {@code {degrees, scale}}
   * @throws IllegalArgumentException for anything else, naming the value
   */
  public static double[] parse(String spec) {
    String[] parts = spec == null ? new String[0] : spec.split(",", -1);
    if (parts.length != 2) {
      throw new IllegalArgumentException("affine ensemble: expected DEGREES,SCALE (e.g. 5,0.1), got '" + spec + "'");
    }
    try {
      return new double[] {Double.parseDouble(parts[0].trim()), Double.parseDouble(parts[1].trim())};
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("affine ensemble: expected DEGREES,SCALE (e.g. 5,0.1), got '" + spec + "'");
    }
  }

  /** The rotation in degrees. */
  public double degrees() {
    return degrees;
  }

  /** The relative scaling. */
  public double scale() {
    return scale;
  }

  /** Number of views (1, 3 or 9). */
  @Override
  public int views() {
    return maps.size();
  }

  /** The forward maps {@code {a, b, c, d, 0, 0}} of the views, rotation outer and scale inner; null is the identity. */
  static List<double[]> maps(double degrees, double scale) {
    double[] angles = degrees == 0 ? new double[] {0} : new double[] {-degrees, 0, degrees};
    double[] scales = scale == 0 ? new double[] {1} : new double[] {1 - scale, 1, 1 + scale};
    List<double[]> out = new ArrayList<>();
    for (double a : angles) {
      for (double s : scales) {
        if (a == 0 && s == 1) {
          out.add(null);
          continue;
        }
        double t = Math.toRadians(a);
        double cos = StrictMath.cos(t);
        double sin = StrictMath.sin(t);
        out.add(new double[] {s * cos, -s * sin, s * sin, s * cos, 0, 0});
      }
    }
    return out;
  }

  /** Every view of x, in the order of {@link #maps}: the identity is x itself, the others resampled copies. */
  @Override
  List<Tensor> viewsOf(String which, Tensor x) {
    int[] s = x.shape();
    if (s.length != 4 || s[2] != s[3]) {
      throw new IllegalArgumentException("AffineEnsemble: " + which + " must be square images [n, c, h, h], got shape "
          + Arrays.toString(s));
    }
    int side = s[2];
    int plane = side * side;
    double[] src = x.toDoubleArray();
    List<Tensor> out = new ArrayList<>(maps.size());
    for (double[] m : maps) {
      if (m == null) {
        out.add(x);
        continue;
      }
      double[] dst = new double[src.length];
      for (int off = 0; off < src.length; off += plane) {
        Distortion.warp(src, off, side, m, dst, off);
      }
      try (Autograd.NoGrad g = Autograd.noGrad()) {
        out.add(Tensor.of(dst, x.dtype(), s).to(x.device()));
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "AffineEnsemble(%s, rotation %s deg, scale %s, %d views)", inner(), degrees, scale,
        views());
  }
}
