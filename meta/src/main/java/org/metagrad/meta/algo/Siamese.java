package org.metagrad.meta.algo;

import org.metagrad.Autograd;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/**
 * Siamese networks for one-shot verification (Koch, Zemel and Salakhutdinov, ICML DL workshop 2015):
 * twin embeddings {@code h1 = f(x1)}, {@code h2 = f(x2)} with shared weights, a weighted L1 distance
 * {@code z = sum_j w_j |h1_j - h2_j| + b}, and {@code P(same) = sigmoid(z)}, trained with binary
 * cross-entropy. One-shot classification picks the support image with the highest same-probability
 * (for K &gt; 1 shots, a class scores the maximum over its support images).
 *
 * <p>The verification head is the meta-parameters {@value #WEIGHT} {@code [1, D]} and {@value #BIAS}
 * {@code [1]}, added by {@link #initMetaParams}. On a task, {@link #metaLoss} uses every (query, support)
 * pair, with positives and negatives weighted equally ({@code 0.5 mean_pos + 0.5 mean_neg}) so that the
 * 1-in-N positives do not vanish.
 *
 * <pre>{@code
 * Siamese s = new Siamese(body, 64);
 * Params p = s.initMetaParams(body.init(rng), rng).requiresGrad(true);
 * Tensor loss = s.pairLoss(p, xa, xb, same);
 * }</pre>
 */
public final class Siamese implements MetaLearner {
  /** Name of the L1-distance weights {@code [1, D]}. */
  public static final String WEIGHT = "siamese.weight";
  /** Name of the bias {@code [1]}. */
  public static final String BIAS = "siamese.bias";
  /** Name of the support embeddings in adapted parameters. */
  public static final String SUPPORT = "task.support";
  /** Name of the one-hot support labels in adapted parameters. */
  public static final String SUPPORT_ONE_HOT = "task.supportOneHot";

  private final Module embedding;
  private final int embeddingDim;
  private final Mode mode;

  /** A Siamese network on an embedding with {@code embeddingDim} features (after flattening). */
  public Siamese(Module embedding, int embeddingDim) {
    this(embedding, embeddingDim, Mode.train());
  }

  private Siamese(Module embedding, int embeddingDim, Mode mode) {
    if (embedding == null || mode == null) {
      throw new IllegalArgumentException("Siamese: embedding and mode must not be null");
    }
    if (embeddingDim < 1) {
      throw new IllegalArgumentException("Siamese: embedding dim must be >= 1, got " + embeddingDim);
    }
    this.embedding = embedding;
    this.embeddingDim = embeddingDim;
    this.mode = mode;
  }

  /** A copy running the embedding in {@code m}. */
  public Siamese withMode(Mode m) {
    return new Siamese(embedding, embeddingDim, m);
  }

  /** Adds the verification head: weights uniform in {@code +-1/sqrt(D)}, bias 0. */
  @Override
  public Params initMetaParams(Params modelParams, Rng rng) {
    var dtype = modelParams.size() == 0 ? org.metagrad.DType.FLOAT32 : modelParams.values().get(0).dtype();
    double bound = 1 / Math.sqrt(embeddingDim);
    return modelParams.with(WEIGHT, Tensor.uniform(rng, -bound, bound, dtype, 1, embeddingDim))
        .with(BIAS, Tensor.zeros(dtype, 1));
  }

  private static Params body(Params p) {
    return p.without("siamese.").without("task.");
  }

  private Tensor embed(Params p, Tensor x) {
    Tensor z = Metric.embed(embedding, body(p), x, mode);
    if (z.size(1) != embeddingDim) {
      throw new IllegalArgumentException("Siamese: embedding has " + z.size(1) + " features, configured "
          + embeddingDim);
    }
    return z;
  }

  /** Logits {@code [A, B]} of "same class" for every pair of embeddings a {@code [A, D]}, b {@code [B, D]}. */
  public Tensor pairLogitsOfEmbeddings(Params params, Tensor a, Tensor b) {
    Tensor d = a.unsqueeze(1).sub(b.unsqueeze(0)).abs();
    Tensor w = params.get(WEIGHT).reshape(1, 1, embeddingDim);
    return d.mul(w).sum(2, false).add(params.get(BIAS));
  }

  /** Logits {@code [n]} of "same class" for aligned pairs (xa[i], xb[i]). */
  public Tensor verifyLogits(Params params, Tensor xa, Tensor xb) {
    if (xa.size(0) != xb.size(0)) {
      throw new IllegalArgumentException("Siamese: " + xa.size(0) + " first and " + xb.size(0)
          + " second images of pairs");
    }
    Tensor d = embed(params, xa).sub(embed(params, xb)).abs();
    return d.matmul(params.get(WEIGHT).mT()).reshape(xa.size(0)).add(params.get(BIAS));
  }

  /** Same-class probabilities {@code sigmoid(z)} for aligned pairs. */
  public Tensor verify(Params params, Tensor xa, Tensor xb) {
    return verifyLogits(params, xa, xb).sigmoid();
  }

  /**
   * Mean binary cross-entropy of aligned pairs against {@code same} (1 same class, 0 different), from
   * logits: {@code max(z, 0) - z y + log(1 + exp(-|z|))}.
   */
  public Tensor pairLoss(Params params, Tensor xa, Tensor xb, int[] same) {
    Tensor z = verifyLogits(params, xa, xb);
    if (same.length != z.size(0)) {
      throw new IllegalArgumentException("Siamese: " + same.length + " targets for " + z.size(0) + " pairs");
    }
    double[] y = new double[same.length];
    for (int i = 0; i < y.length; i++) {
      if (same[i] != 0 && same[i] != 1) {
        throw new IllegalArgumentException("Siamese: target " + same[i] + " at " + i + " is not 0 or 1");
      }
      y[i] = same[i];
    }
    return bceWithLogits(z, Tensor.of(y, z.dtype(), y.length).to(z.device())).mean();
  }

  /**
   * Elementwise binary cross-entropy of logits z against targets y in [0, 1], stable for any z:
   * {@code max(z, 0) - z y + log(1 + exp(-|z|))}.
   */
  public static Tensor bceWithLogits(Tensor z, Tensor y) {
    return z.relu().sub(z.mul(y)).add(z.abs().neg().exp().add(1.0).log());
  }

  /** Class scores {@code [Q, ways]}: per class, the maximum same-logit over its support images. */
  public Tensor classScores(Params params, Tensor queryEmb, Tensor supportEmb, Tensor supportOneHot) {
    Tensor z = pairLogitsOfEmbeddings(params, queryEmb, supportEmb);
    return z.unsqueeze(1).add(Metric.classMask(supportOneHot).unsqueeze(0)).max(2, false);
  }

  /** Balanced BCE over all (query, support) pairs; accuracy of one-shot classification by maximum score. */
  @Override
  public MetaStep metaLoss(Params params, FewShotTask task) {
    Task t = Metric.classification("Siamese", task);
    Tensor zs = embed(params, t.supportX());
    Tensor zq = embed(params, t.queryX());
    Tensor logits = pairLogitsOfEmbeddings(params, zq, zs);
    int[] qy = t.queryY();
    int[] sy = t.supportY();
    int pos = 0;
    for (int a : qy) {
      for (int b : sy) {
        pos += a == b ? 1 : 0;
      }
    }
    int neg = qy.length * sy.length - pos;
    double[] y = new double[qy.length * sy.length];
    double[] w = new double[y.length];
    for (int i = 0; i < qy.length; i++) {
      for (int j = 0; j < sy.length; j++) {
        boolean same = qy[i] == sy[j];
        y[i * sy.length + j] = same ? 1 : 0;
        // Equal total weight for positives and negatives; all weight to one side if the other is empty.
        w[i * sy.length + j] = same ? (neg == 0 ? 1.0 / pos : 0.5 / pos) : (pos == 0 ? 1.0 / neg : 0.5 / neg);
      }
    }
    int[] shape = {qy.length, sy.length};
    Tensor yt = Tensor.of(y, logits.dtype(), shape).to(logits.device());
    Tensor wt = Tensor.of(w, logits.dtype(), shape).to(logits.device());
    Tensor loss = bceWithLogits(logits, yt).mul(wt).sum();
    Tensor scores = logits.detach().unsqueeze(1).add(Metric.classMask(t.supportOneHot()).unsqueeze(0)).max(2, false);
    return new MetaStep(loss, t.queryAccuracy(scores));
  }

  /** The parameters plus support embeddings and one-hot labels; detached. */
  @Override
  public Params adapt(Params params, FewShotTask task) {
    Task t = Metric.classification("Siamese", task);
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      Params p = params.detach();
      return p.with(SUPPORT, embed(p, t.supportX()).detach()).with(SUPPORT_ONE_HOT, t.supportOneHot());
    }
  }

  /** Class scores {@code [n, ways]} of inputs x against the stored support set (arg-max = prediction). */
  @Override
  public Tensor predict(Params adapted, Tensor x) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return classScores(adapted, embed(adapted, x), adapted.get(SUPPORT), adapted.get(SUPPORT_ONE_HOT));
    }
  }

  @Override
  public String toString() {
    return "Siamese(L1, D " + embeddingDim + ")";
  }
}
