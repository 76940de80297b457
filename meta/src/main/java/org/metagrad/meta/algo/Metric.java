package org.metagrad.meta.algo;

import java.util.Arrays;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/** Embedding and class-mean helpers shared by the metric-based learners. */
final class Metric {
  private Metric() {}

  /** Large negative logit bias that removes an entry from a softmax without producing infinities. */
  static final double MASKED = -1e30;

  /** The embedding of x flattened to {@code [n, D]}. */
  static Tensor embed(Module f, Params p, Tensor x, Mode mode) {
    Tensor z = f.apply(p, x, mode);
    if (z.rank() < 1 || z.size(0) != x.size(0)) {
      throw new IllegalArgumentException("embedding: output " + Arrays.toString(z.shape()) + " does not have "
          + x.size(0) + " rows for input " + Arrays.toString(x.shape()));
    }
    return z.rank() == 2 ? z : z.reshape(x.size(0), -1);
  }

  /** Class means {@code [ways, D]} of support embeddings {@code [S, D]}: {@code (Y^T Z) / counts}. */
  static Tensor classMeans(Tensor z, Task task) {
    Tensor oneHot = task.supportOneHot();
    Tensor counts = oneHot.sum(0, false).reshape(task.ways(), 1);
    return oneHot.mT().matmul(z).div(counts);
  }

  /** A bias {@code [ways, S]}: 0 where support example s belongs to class c, {@link #MASKED} elsewhere. */
  static Tensor classMask(Tensor supportOneHot) {
    return supportOneHot.mT().sub(1.0).mul(-MASKED);
  }

  /** The task as a classification task, or a clear error naming the learner. */
  static Task classification(String who, FewShotTask task) {
    if (task instanceof Task t) {
      return t;
    }
    throw new IllegalArgumentException(who + ": needs a classification Task with labels, got "
        + task.getClass().getSimpleName());
  }
}
