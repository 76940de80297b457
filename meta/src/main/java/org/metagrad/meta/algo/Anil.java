package org.metagrad.meta.algo;

import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/**
 * Almost No Inner Loop (Raghu, Raghu, Bengio and Vinyals, ICLR 2020): MAML whose inner loop adapts only
 * the head (parameters whose name starts with {@code head.}); the body is meta-learned through the adapted
 * head. With {@link Order#SECOND} the body's meta-gradient includes the path through the head's inner
 * gradients (which depend on the body's features); with {@link Order#FIRST} only the direct path through
 * the query features.
 *
 * <pre>{@code MetaLearner anil = new Anil(conv4, 5, 0.4, Order.SECOND); }</pre>
 */
public final class Anil implements MetaLearner {
  private final Maml maml;
  private final String headPrefix;
  private final Mode mode;

  /** ANIL adapting the parameters named {@code head.*}. */
  public Anil(Module model, int innerSteps, double innerLr, Order order) {
    this(model, innerSteps, innerLr, order, innerSteps, Mode.train(), "head.");
  }

  private Anil(Module model, int innerSteps, double innerLr, Order order, int testSteps, Mode mode, String prefix) {
    if (prefix == null || prefix.isEmpty()) {
      throw new IllegalArgumentException("ANIL: empty head prefix");
    }
    this.headPrefix = prefix;
    this.mode = mode;
    this.maml = new Maml(model, innerSteps, innerLr, order, testSteps, mode, n -> n.startsWith(prefix),
        "ANIL (head prefix '" + prefix + "')");
  }

  /** A copy adapting the parameters whose names start with {@code prefix} (e.g. {@code "classifier."}). */
  public Anil withHeadPrefix(String prefix) {
    return new Anil(maml.model(), maml.innerSteps(), maml.innerLr(), maml.order(), maml.testInnerSteps(),
        mode, prefix);
  }

  /** A copy taking {@code steps} inner steps at test time. */
  public Anil withTestInnerSteps(int steps) {
    return new Anil(maml.model(), maml.innerSteps(), maml.innerLr(), maml.order(), steps, mode, headPrefix);
  }

  /** A copy running every forward pass in {@code m} (plus the step index). */
  public Anil withMode(Mode m) {
    return new Anil(maml.model(), maml.innerSteps(), maml.innerLr(), maml.order(), maml.testInnerSteps(), m,
        headPrefix);
  }

  /** The fast weights after the meta-training inner loop (only the head differs from {@code params}). */
  public Params fastWeights(Params params, FewShotTask task) {
    return maml.fastWeights(params, task);
  }

  /** {@code L_query(body, head_k)} with the graph back to body and head. */
  @Override
  public MetaStep metaLoss(Params params, FewShotTask task) {
    return maml.metaLoss(params, task);
  }

  /** Body unchanged, head after the test-time inner steps; detached. */
  @Override
  public Params adapt(Params params, FewShotTask task) {
    return maml.adapt(params, task);
  }

  /** The model's outputs with adapted parameters. */
  @Override
  public Tensor predict(Params adapted, Tensor x) {
    return maml.predict(adapted, x);
  }

  @Override
  public String toString() {
    return maml.toString();
  }
}
