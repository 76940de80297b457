package org.metagrad.meta.algo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.Tensor;

/**
 * Test-time shift ensemble around any {@link FewShotLearner} of images: every support image also enters the
 * support set shifted by each whole-pixel offset {@code (dy, dx)} in {@code [-r, r]^2} (so a ProtoNet
 * prototype becomes the mean embedding over the shifted copies, a Matching Network attends over all of them,
 * MAML fine-tunes on them), and a query's logits are the mean of the learner's logits over the same shifted
 * copies of the query. Shifts move the drawing and fill the uncovered border with 0 (the background of
 * Omniglot images, whose strokes are 1). With {@code r = 0} it is the wrapped learner exactly.
 *
 * <p>It is an evaluation device (the same idea as the random shifts of Koch et al.'s training distortions, moved
 * to test time): it changes neither training nor the parameters, and costs {@code (2r + 1)^2} times the
 * learner's test-time work.
 *
 * <pre>{@code
 * FewShotLearner tta = ShiftEnsemble.of(protoNet, 1);   // 9 views: shifts of -1, 0, +1 pixel per axis
 * double acc = tta.evaluate(params, task);
 * }</pre>
 */
public final class ShiftEnsemble extends ViewEnsemble {
  private final int radius;

  private ShiftEnsemble(FewShotLearner inner, int radius) {
    super(inner);
    this.radius = radius;
  }

  /**
   * The learner with shifts up to {@code radius} pixels along each axis ({@code (2 radius + 1)^2} views).
   *
   * @throws IllegalArgumentException for a null learner or a negative radius
   */
  public static ShiftEnsemble of(FewShotLearner inner, int radius) {
    if (inner == null) {
      throw new IllegalArgumentException("ShiftEnsemble: learner must not be null");
    }
    if (radius < 0) {
      throw new IllegalArgumentException("ShiftEnsemble: radius must be >= 0, got " + radius);
    }
    return new ShiftEnsemble(inner, radius);
  }

  /** The largest shift, in pixels per axis. */
  public int radius() {
    return radius;
  }

  /** Number of views, {@code (2 radius + 1)^2}. */
  @Override
  public int views() {
    return views(radius);
  }

  /** Number of views of a shift ensemble of the given radius, {@code (2 radius + 1)^2}. */
  public static int views(int radius) {
    return (2 * radius + 1) * (2 * radius + 1);
  }

  @Override
  List<Tensor> viewsOf(String which, Tensor x) {
    checkImages(which, x);
    return shiftedViews(x);
  }

  /**
   * Every shifted copy of x, {@code dy} outer and {@code dx} inner from {@code -radius} to {@code radius}:
   * x is zero-padded once and each copy is a window of the padded tensor (a view, no copy).
   */
  List<Tensor> shiftedViews(Tensor x) {
    int h = x.size(2);
    int w = x.size(3);
    List<Tensor> out = new ArrayList<>(views());
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      Tensor padded = x.pad(new int[] {0, 0, radius, radius}, new int[] {0, 0, radius, radius});
      for (int dy = -radius; dy <= radius; dy++) {
        for (int dx = -radius; dx <= radius; dx++) {
          out.add(window(padded, dy, dx, h, w));
        }
      }
    }
    return out;
  }

  /** out[i, j] = x[i - dy, j - dx] = padded[i - dy + radius, j - dx + radius]: a view of the padded tensor. */
  private Tensor window(Tensor padded, int dy, int dx, int h, int w) {
    return padded.slice(2, radius - dy, radius - dy + h).slice(3, radius - dx, radius - dx + w);
  }

  private void checkImages(String which, Tensor x) {
    int[] s = x.shape();
    if (s.length != 4) {
      throw new IllegalArgumentException("ShiftEnsemble: " + which + " must be images [n, c, h, w], got shape "
          + Arrays.toString(s));
    }
    if (s[2] <= radius || s[3] <= radius) {
      throw new IllegalArgumentException("ShiftEnsemble: shifts of up to " + radius + " pixels need images larger"
          + " than that, got " + s[2] + " x " + s[3]);
    }
  }

  @Override
  public String toString() {
    return "ShiftEnsemble(" + inner() + ", radius " + radius + ", " + views() + " views)";
  }
}
