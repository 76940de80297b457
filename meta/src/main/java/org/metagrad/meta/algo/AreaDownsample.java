package org.metagrad.meta.algo;

import java.util.Arrays;
import org.metagrad.Autograd;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

/**
 * A {@link FewShotLearner} of small images fed larger ones: every image (support and query) is shrunk by an integer
 * {@code factor} per axis, each output pixel the mean of a {@code factor x factor} block, before the wrapped learner
 * sees it. Omniglot images are made by exact area averaging of the 105-pixel drawings
 * ({@code OmniglotReader}), and area averaging composes exactly over whole blocks, so a 56-pixel image shrunk by 2
 * is the 28-pixel image of the same drawing (to float rounding): a model trained at 28 pixels can then join an
 * ensemble whose episodes are drawn at 56.
 *
 * <pre>{@code
 * FewShotLearner at56 = AreaDownsample.of(protoNetAt28, 2);
 * double acc = at56.evaluate(params, taskOf56PixelImages);
 * }</pre>
 */
public final class AreaDownsample implements FewShotLearner {
  private final FewShotLearner inner;
  private final int factor;

  private AreaDownsample(FewShotLearner inner, int factor) {
    this.inner = inner;
    this.factor = factor;
  }

  /**
   * The learner fed images shrunk by {@code factor}; a factor of 1 returns {@code inner} itself.
   *
   * @throws IllegalArgumentException for a null learner or a factor below 1
   */
  public static FewShotLearner of(FewShotLearner inner, int factor) {
    if (inner == null) {
      throw new IllegalArgumentException("AreaDownsample: learner must not be null");
    }
    if (factor < 1) {
      throw new IllegalArgumentException("AreaDownsample: factor must be >= 1, got " + factor);
    }
    return factor == 1 ? inner : new AreaDownsample(inner, factor);
  }

  /** The wrapped learner. */
  public FewShotLearner inner() {
    return inner;
  }

  /** The shrink factor per axis. */
  public int factor() {
    return factor;
  }

  @Override
  public Params initMetaParams(Params modelParams, org.metagrad.Rng rng) {
    return inner.initMetaParams(modelParams, rng);
  }

  @Override
  public Params adapt(Params params, FewShotTask task) {
    if (!(task instanceof Task t)) {
      throw new IllegalArgumentException("AreaDownsample: needs an image classification task, got "
          + (task == null ? "null" : task.getClass().getSimpleName()));
    }
    return inner.adapt(params, new Task(shrink("support", t.supportX()), t.supportY(), shrink("query", t.queryX()),
        t.queryY(), t.ways()));
  }

  @Override
  public Tensor predict(Params adapted, Tensor x) {
    return inner.predict(adapted, shrink("input", x));
  }

  /** {@code [n, c, h * f, w * f] -> [n, c, h, w]}, each output the mean of its f x f block. */
  Tensor shrink(String which, Tensor x) {
    int[] s = x.shape();
    if (s.length != 4 || s[2] % factor != 0 || s[3] % factor != 0) {
      throw new IllegalArgumentException("AreaDownsample: " + which + " must be images [n, c, h, w] with h and w"
          + " multiples of " + factor + ", got shape " + Arrays.toString(s));
    }
    int h = s[2] / factor;
    int w = s[3] / factor;
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return x.reshape(s[0], s[1], h, factor, w, factor).mean(new int[] {3, 5}, false);
    }
  }

  @Override
  public String toString() {
    return "AreaDownsample(" + inner + ", factor " + factor + ")";
  }
}
