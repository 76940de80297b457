package org.metagrad.meta.algo;

import org.metagrad.Autograd;
import org.metagrad.F;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/**
 * Matching Networks (Vinyals et al., NeurIPS 2016) without full-context embeddings: a query x attends to
 * every support example, {@code a(x, x_i) = softmax_i(s * cos(f(x), f(x_i)))}, and predicts
 * {@code P(y = k | x) = sum_{i: y_i = k} a(x, x_i)} (attention-weighted one-hot labels); the loss is the
 * query negative log-likelihood.
 *
 * <p>The paper uses s = 1; a larger s (e.g. 10) sharpens the attention and usually trains faster. The
 * class log-probabilities are computed stably as {@code logsumexp} of the attention log-weights within
 * each class, and returned as logits (they are already normalised, so cross-entropy on them is the NLL).
 * The full-context embeddings (bidirectional LSTM over the support set, attention LSTM for queries) of the
 * paper are not implemented.
 *
 * <pre>{@code MetaLearner mn = new MatchingNet(body, 1.0); }</pre>
 */
public final class MatchingNet implements MetaLearner {
  /** Name of the support embeddings in adapted parameters. */
  public static final String SUPPORT = "task.support";
  /** Name of the support labels as one-hot rows {@code [S, ways]} in adapted parameters. */
  public static final String SUPPORT_ONE_HOT = "task.supportOneHot";

  private final Module embedding;
  private final double scale;
  private final Mode mode;

  /** Matching Networks with cosine attention sharpened by {@code scale} (1 in the paper). */
  public MatchingNet(Module embedding, double scale) {
    this(embedding, scale, Mode.train());
  }

  private MatchingNet(Module embedding, double scale, Mode mode) {
    if (embedding == null || mode == null) {
      throw new IllegalArgumentException("MatchingNet: embedding and mode must not be null");
    }
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("MatchingNet: scale must be finite and > 0, got " + scale);
    }
    this.embedding = embedding;
    this.scale = scale;
    this.mode = mode;
  }

  /** A copy running the embedding in {@code m}. */
  public MatchingNet withMode(Mode m) {
    return new MatchingNet(embedding, scale, m);
  }

  /**
   * Class log-probabilities {@code [Q, ways]}: {@code log sum_{i: y_i = k} softmax_i(s cos(q, z_i))} for
   * query embeddings q {@code [Q, D]}, support embeddings z {@code [S, D]} and one-hot labels {@code [S, ways]}.
   */
  public Tensor classLogProbs(Tensor q, Tensor support, Tensor supportOneHot) {
    Tensor logAttn = F.logSoftmax(F.cosineSimilarity(q, support, 1e-8).mul(scale), 1);
    Tensor masked = logAttn.unsqueeze(1).add(Metric.classMask(supportOneHot).unsqueeze(0));
    return F.logSumExp(masked, 2, false);
  }

  private static Params body(Params p) {
    return p.without("task.");
  }

  /** Query NLL of the attention classifier, differentiable with respect to the embedding. */
  @Override
  public MetaStep metaLoss(Params params, FewShotTask task) {
    Task t = Metric.classification("MatchingNet", task);
    Tensor z = Metric.embed(embedding, body(params), t.supportX(), mode);
    Tensor q = Metric.embed(embedding, body(params), t.queryX(), mode);
    Tensor logp = classLogProbs(q, z, t.supportOneHot());
    return new MetaStep(t.queryLoss(logp), t.queryAccuracy(logp.detach()));
  }

  /** The parameters plus the support embeddings and one-hot labels; detached. */
  @Override
  public Params adapt(Params params, FewShotTask task) {
    Task t = Metric.classification("MatchingNet", task);
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      Params p = params.detach();
      return p.with(SUPPORT, Metric.embed(embedding, body(p), t.supportX(), mode).detach())
          .with(SUPPORT_ONE_HOT, t.supportOneHot());
    }
  }

  /** Class log-probabilities of inputs x against the stored support set. */
  @Override
  public Tensor predict(Params adapted, Tensor x) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      Tensor q = Metric.embed(embedding, body(adapted), x, mode);
      return classLogProbs(q, adapted.get(SUPPORT), adapted.get(SUPPORT_ONE_HOT));
    }
  }

  @Override
  public String toString() {
    return "MatchingNet(cosine attention, scale " + scale + ", no FCE)";
  }
}
