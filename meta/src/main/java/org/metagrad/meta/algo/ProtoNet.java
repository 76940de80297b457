package org.metagrad.meta.algo;

import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/**
 * Prototypical Networks (Snell, Swersky and Zemel, NeurIPS 2017): embed support and query with
 * {@code f}, take each class's prototype {@code c_k = mean_{i: y_i = k} f(x_i)}, and classify a query by
 * {@code logits_k = -|f(x) - c_k|^2} ({@link Distance#SQUARED_EUCLIDEAN}, the paper's choice) or
 * {@code logits_k = s * cos(f(x), c_k)} ({@link Distance#COSINE}, with a fixed or learned scale s);
 * the loss is the query cross-entropy.
 *
 * <p>The embedding module's output is flattened to {@code [n, D]}; it must not contain a classifier head.
 * The learned cosine scale is the meta-parameter {@code proto.scale} (shape {@code [1]}).
 *
 * <pre>{@code
 * ProtoNet pn = ProtoNet.euclidean(body);
 * MetaStep s = pn.metaLoss(params.requiresGrad(true), task);
 * }</pre>
 */
public final class ProtoNet implements MetaLearner {
  /** Name of the learned cosine scale. */
  public static final String SCALE = "proto.scale";
  /** Name of the prototypes in adapted parameters. */
  public static final String PROTOTYPES = "task.prototypes";

  /** How queries are compared with prototypes. */
  public enum Distance {
    /** {@code -|q - c|^2}, a linear model in the embedding (Snell et al. sec. 2.4). */
    SQUARED_EUCLIDEAN,
    /** {@code s * cos(q, c)}. */
    COSINE
  }

  /** Whether the cosine scale is a constant or a meta-parameter. */
  public enum Scale {
    /** A constant. */
    FIXED,
    /** The meta-parameter {@value #SCALE}, initialised to the given value. */
    LEARNED
  }

  private final Module embedding;
  private final Distance distance;
  private final double scale;
  private final Scale scaleKind;
  private final Mode mode;
  private final boolean centered;

  private ProtoNet(Module embedding, Distance distance, double scale, Scale scaleKind, Mode mode) {
    this(embedding, distance, scale, scaleKind, mode, false);
  }

  private ProtoNet(Module embedding, Distance distance, double scale, Scale scaleKind, Mode mode, boolean centered) {
    if (embedding == null || mode == null) {
      throw new IllegalArgumentException("ProtoNet: embedding and mode must not be null");
    }
    if (!Double.isFinite(scale)) {
      throw new IllegalArgumentException("ProtoNet: scale must be finite, got " + scale);
    }
    this.embedding = embedding;
    this.distance = distance;
    this.scale = scale;
    this.scaleKind = scaleKind;
    this.mode = mode;
    this.centered = centered;
  }

  /** The original Prototypical Network: negative squared Euclidean distances. */
  public static ProtoNet euclidean(Module embedding) {
    return new ProtoNet(embedding, Distance.SQUARED_EUCLIDEAN, 1, Scale.FIXED, Mode.train());
  }

  /** Cosine similarity times a scale, fixed or learned from {@code initialScale} (e.g. 10). */
  public static ProtoNet cosine(Module embedding, double initialScale, Scale kind) {
    return new ProtoNet(embedding, Distance.COSINE, initialScale, kind, Mode.train());
  }

  /** A copy running the embedding in {@code m} (default {@link Mode#train()}: batch statistics). */
  public ProtoNet withMode(Mode m) {
    return new ProtoNet(embedding, distance, scale, scaleKind, m, centered);
  }

  /**
   * A copy that, at test time ({@link #adapt} and {@link #predict}; training's {@link #metaLoss} is unchanged),
   * centres each set on its own mean embedding before comparing: the prototypes on their mean, and the inputs of
   * one {@link #predict} call on theirs. Where the support set and the queries differ by a shift of the whole
   * set, e.g. Lake et al.'s runs, whose training drawings are all by one person and test drawings all by another,
   * this aligns the two sets' means. It is transductive, as BatchNorm with batch statistics already is: a query's
   * logits depend on the other queries of its batch, and {@link #predict} refuses a batch of one (centring would
   * erase it).
   *
   * @param on whether to centre
   * @return the copy
   */
  public ProtoNet centered(boolean on) {
    return new ProtoNet(embedding, distance, scale, scaleKind, mode, on);
  }

  /** Whether {@link #adapt} and {@link #predict} centre each set on its mean (see {@link #centered(boolean)}). */
  public boolean isCentered() {
    return centered;
  }

  /** Adds {@value #SCALE} for a learned cosine scale; otherwise the model's parameters as they are. */
  @Override
  public Params initMetaParams(Params modelParams, Rng rng) {
    if (distance == Distance.COSINE && scaleKind == Scale.LEARNED) {
      Tensor any = modelParams.values().isEmpty() ? null : modelParams.values().get(0);
      Tensor s = any == null ? Tensor.full(scale, DType.FLOAT32, 1) : Tensor.full(scale, any.dtype(), 1).to(any.device());
      return modelParams.with(SCALE, s);
    }
    return modelParams;
  }

  private Params embeddingParams(Params p) {
    return p.without("proto.").without("task.");
  }

  /** Prototypes {@code [ways, D]}: class means of the support embeddings. */
  public Tensor prototypes(Params params, Task task) {
    return Metric.classMeans(Metric.embed(embedding, embeddingParams(params), task.supportX(), mode), task);
  }

  /** Logits {@code [n, ways]} of inputs x against prototypes {@code [ways, D]}. */
  public Tensor logits(Params params, Tensor prototypes, Tensor x) {
    return compare(params, prototypes, Metric.embed(embedding, embeddingParams(params), x, mode));
  }

  /** Logits {@code [n, ways]} of embeddings q {@code [n, D]} against prototypes {@code [ways, D]}. */
  private Tensor compare(Params params, Tensor prototypes, Tensor q) {
    if (distance == Distance.SQUARED_EUCLIDEAN) {
      return F.squaredDistances(q, prototypes).neg();
    }
    Tensor cos = F.cosineSimilarity(q, prototypes, 1e-8);
    return scaleKind == Scale.LEARNED ? cos.mul(params.get(SCALE)) : cos.mul(scale);
  }

  /** Query cross-entropy of the prototype logits, differentiable with respect to the embedding (and scale). */
  @Override
  public MetaStep metaLoss(Params params, FewShotTask task) {
    Task t = Metric.classification("ProtoNet", task);
    Tensor logits = logits(params, prototypes(params, t), t.queryX());
    return new MetaStep(t.queryLoss(logits), t.queryAccuracy(logits.detach()));
  }

  /** The parameters plus the task's prototypes under {@value #PROTOTYPES}; detached. */
  @Override
  public Params adapt(Params params, FewShotTask task) {
    Task t = Metric.classification("ProtoNet", task);
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      Params p = params.detach();
      Tensor protos = prototypes(p, t).detach();
      return p.with(PROTOTYPES, centered ? protos.sub(protos.mean(0, true)) : protos);
    }
  }

  /** Logits against the stored prototypes; centred on the batch's mean embedding when {@link #isCentered()}. */
  @Override
  public Tensor predict(Params adapted, Tensor x) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      if (!centered) {
        return logits(adapted, adapted.get(PROTOTYPES), x);
      }
      if (x.size(0) < 2) {
        throw new IllegalArgumentException("ProtoNet (centred): needs at least 2 inputs per call, centring one"
            + " input on its own mean erases it; got " + x.size(0));
      }
      Tensor q = Metric.embed(embedding, embeddingParams(adapted), x, mode);
      return compare(adapted, adapted.get(PROTOTYPES), q.sub(q.mean(0, true)));
    }
  }

  @Override
  public String toString() {
    return "ProtoNet(" + distance + (distance == Distance.COSINE ? ", scale " + scale + " " + scaleKind : "")
        + (centered ? ", centred" : "") + ")";
  }
}
