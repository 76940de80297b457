package org.metagrad.meta.algo;

import java.util.ArrayList;
import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.F;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/**
 * Proto-MAML (Triantafillou et al., "Meta-Dataset", ICLR 2020): a linear head on the embedding
 * {@code f} is initialised from the support prototypes {@code c_k} as {@code W_k = 2 c_k},
 * {@code b_k = -|c_k|^2} (so its logits equal ProtoNet's {@code -|f(x) - c_k|^2} up to a per-query
 * constant), then the head (and, with {@link Scope#ALL}, the embedding) is fine-tuned by MAML on the
 * support set; the meta-loss is the query cross-entropy after fine-tuning.
 *
 * <p>The head initialisation is a differentiable function of the embedding parameters, so the
 * meta-gradient always flows through it; {@link Order#SECOND} also differentiates through the inner
 * gradients. The head is named {@value #HEAD_WEIGHT} / {@value #HEAD_BIAS} in adapted parameters.
 *
 * <pre>{@code MetaLearner pm = new ProtoMaml(body, 5, 0.1, Order.SECOND, ProtoMaml.Scope.ALL); }</pre>
 */
public final class ProtoMaml implements MetaLearner {
  /** Name of the prototype-initialised head's weight {@code [ways, D]}. */
  public static final String HEAD_WEIGHT = "task.head.weight";
  /** Name of the prototype-initialised head's bias {@code [ways]}. */
  public static final String HEAD_BIAS = "task.head.bias";

  /** Which parameters the inner loop fine-tunes. */
  public enum Scope {
    /** Only the prototype-initialised head. */
    HEAD,
    /** The head and every embedding parameter (as in Triantafillou et al.). */
    ALL
  }

  private final Module embedding;
  private final int innerSteps;
  private final double innerLr;
  private final Order order;
  private final Scope scope;
  private final int testInnerSteps;
  private final Mode mode;

  /** Proto-MAML with the same number of inner steps at training and test time. */
  public ProtoMaml(Module embedding, int innerSteps, double innerLr, Order order, Scope scope) {
    this(embedding, innerSteps, innerLr, order, scope, innerSteps, Mode.train());
  }

  private ProtoMaml(Module embedding, int innerSteps, double innerLr, Order order, Scope scope, int testInnerSteps,
                    Mode mode) {
    InnerLoop.checkSteps("Proto-MAML", innerSteps, innerLr);
    InnerLoop.checkSteps("Proto-MAML", testInnerSteps, innerLr);
    if (embedding == null || order == null || scope == null || mode == null) {
      throw new IllegalArgumentException("Proto-MAML: embedding, order, scope and mode must not be null");
    }
    this.embedding = embedding;
    this.innerSteps = innerSteps;
    this.innerLr = innerLr;
    this.order = order;
    this.scope = scope;
    this.testInnerSteps = testInnerSteps;
    this.mode = mode;
  }

  /** A copy taking {@code steps} inner steps at test time. */
  public ProtoMaml withTestInnerSteps(int steps) {
    return new ProtoMaml(embedding, innerSteps, innerLr, order, scope, steps, mode);
  }

  /** A copy running every forward pass in {@code m} (plus the step index). */
  public ProtoMaml withMode(Mode m) {
    return new ProtoMaml(embedding, innerSteps, innerLr, order, scope, testInnerSteps, m);
  }

  private static Params body(Params p) {
    return p.without("task.");
  }

  private Tensor forward(Params p, Tensor x, Mode m) {
    Tensor z = Metric.embed(embedding, body(p), x, m);
    return F.linear(z, p.get(HEAD_WEIGHT), p.get(HEAD_BIAS));
  }

  /**
   * The embedding parameters plus the head {@code W = 2 C}, {@code b = -|c_k|^2} from the support
   * prototypes C {@code [ways, D]} (computed with inner step 0), with the graph back to the embedding.
   */
  public Params initHead(Params params, Task task) {
    Tensor c = Metric.classMeans(Metric.embed(embedding, body(params), task.supportX(), mode.withStep(0)), task);
    return body(params).with(HEAD_WEIGHT, c.mul(2.0)).with(HEAD_BIAS, c.mul(c).sum(1, false).neg());
  }

  private List<String> adapted(Params withHead) {
    List<String> names = new ArrayList<>();
    if (scope == Scope.ALL) {
      names.addAll(body(withHead).names());
    }
    names.add(HEAD_WEIGHT);
    names.add(HEAD_BIAS);
    return names;
  }

  /** Fast weights after the meta-training inner loop, with the graph back to the embedding parameters. */
  public Params fastWeights(Params params, FewShotTask task) {
    Task t = Metric.classification("Proto-MAML", task);
    Params init = initHead(params, t);
    return InnerLoop.run("Proto-MAML", this::forward, init, adapted(init), (n, g) -> g.mul(innerLr), innerSteps,
        InnerLoop.graph(order), t, mode);
  }

  /** Query cross-entropy after fine-tuning the prototype-initialised head (and body). */
  @Override
  public MetaStep metaLoss(Params params, FewShotTask task) {
    Params fast = fastWeights(params, task);
    Tensor out = forward(fast, task.queryX(), mode.withStep(InnerLoop.lastStep(innerSteps)));
    return new MetaStep(task.queryLoss(out), task.queryAccuracy(out.detach()));
  }

  /** Embedding (fine-tuned for {@link Scope#ALL}) plus the fine-tuned head; detached. */
  @Override
  public Params adapt(Params params, FewShotTask task) {
    Task t = Metric.classification("Proto-MAML", task);
    Params init;
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      init = initHead(params.detach(), t);
    }
    return InnerLoop.run("Proto-MAML", this::forward, init, adapted(init), (n, g) -> g.mul(innerLr),
        testInnerSteps, InnerLoop.Graph.NONE, t, mode).detach();
  }

  /** Logits of the adapted head on the adapted embedding. */
  @Override
  public Tensor predict(Params adapted, Tensor x) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return forward(adapted, x, mode.withStep(InnerLoop.lastStep(testInnerSteps)));
    }
  }

  @Override
  public String toString() {
    return "Proto-MAML(steps " + innerSteps + ", lr " + innerLr + ", " + order + ", " + scope + ")";
  }
}
