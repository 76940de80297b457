package org.metagrad.meta.algo;

import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

/**
 * What the test-time view ensembles ({@link ShiftEnsemble}, {@link AffineEnsemble}) share: every support image
 * enters the wrapped learner's support set once per view (labels repeated), and a query's output is the mean of
 * the wrapped learner's outputs over the query's views. A subclass says what the views are.
 */
abstract class ViewEnsemble implements FewShotLearner {
  private final FewShotLearner inner;

  ViewEnsemble(FewShotLearner inner) {
    this.inner = inner;
  }

  /** The wrapped learner. */
  public FewShotLearner inner() {
    return inner;
  }

  /** Number of views; 1 means the wrapped learner exactly. */
  public abstract int views();

  /**
   * The views of x in a fixed order, after checking that x is a batch of images this ensemble can transform.
   *
   * @param which how an error names x ("support", "input")
   * @param x the images
   * @return {@link #views()} tensors of x's shape
   * @throws IllegalArgumentException naming {@code which} when x does not fit
   */
  abstract List<Tensor> viewsOf(String which, Tensor x);

  @Override
  public Params initMetaParams(Params modelParams, org.metagrad.Rng rng) {
    return inner.initMetaParams(modelParams, rng);
  }

  /** Adapts the wrapped learner to the support set with every view of each support image. */
  @Override
  public Params adapt(Params params, FewShotTask task) {
    if (views() == 1) {
      return inner.adapt(params, task);
    }
    if (!(task instanceof Task t)) {
      throw new IllegalArgumentException(getClass().getSimpleName() + ": needs an image classification task, got "
          + (task == null ? "null" : task.getClass().getSimpleName()));
    }
    List<Tensor> copies = viewsOf("support", t.supportX());
    int[] y = t.supportY();
    int[] ys = new int[y.length * copies.size()];
    for (int v = 0; v < copies.size(); v++) {
      System.arraycopy(y, 0, ys, v * y.length, y.length);
    }
    Tensor sx;
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      sx = Tensor.concat(copies, 0);
    }
    return inner.adapt(params, new Task(sx, ys, t.queryX(), t.queryY(), t.ways()));
  }

  /** The mean of the wrapped learner's outputs over the views of x. */
  @Override
  public Tensor predict(Params adapted, Tensor x) {
    if (views() == 1) {
      return inner.predict(adapted, x);
    }
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      Tensor sum = null;
      for (Tensor view : viewsOf("input", x)) {
        Tensor out = inner.predict(adapted, view);
        sum = sum == null ? out : sum.add(out);
      }
      return sum.div(views());
    }
  }
}
