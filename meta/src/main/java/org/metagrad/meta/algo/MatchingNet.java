package org.metagrad.meta.algo;

import java.util.ArrayList;
import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.LstmCell;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/**
 * Matching Networks (Vinyals et al., NeurIPS 2016), optionally with full-context embeddings (FCE): a query x
 * attends to every support example, {@code a(x, x_i) = softmax_i(s * cos(f(x), g(x_i)))}, and predicts
 * {@code P(y = k | x) = sum_{i: y_i = k} a(x, x_i)} (attention-weighted one-hot labels); the loss is the
 * query negative log-likelihood.
 *
 * <p>The paper uses s = 1; a larger s (e.g. 10) sharpens the attention and usually trains faster. The
 * class log-probabilities are computed stably as {@code logsumexp} of the attention log-weights within
 * each class, and returned as logits (they are already normalised, so cross-entropy on them is the NLL).
 *
 * <p>Without FCE (the default), {@code f = g = f'}, the embedding network. With {@link #withFce} (paper,
 * appendix A.2), for embeddings {@code f'(x), g'(x_i)} of dimension D (one shared embedding network):
 * <ul>
 *   <li>{@code g(x_i) = g'(x_i) + h_fwd_i + h_bwd_i}, the hidden states of a bidirectional LSTM (hidden size
 *       D, zero initial states) run over the support embeddings in the episode's order (the sampler lists
 *       the support set class by class, in label order), forward and backward;</li>
 *   <li>{@code f(x) = h_K} of an attention LSTM that reads the support set K times:
 *       {@code hhat_k, c_k = LSTM(f'(x), [h_{k-1}, r_{k-1}], c_{k-1})}, {@code h_k = hhat_k + f'(x)},
 *       {@code r_k = sum_i softmax_i(h_k . g(x_i)) g(x_i)}. The LSTM's recurrent input {@code [h, r]}
 *       enters the gates linearly, so it is implemented as an {@link LstmCell} with input
 *       {@code [f'(x), r_{k-1}]} (2D) and hidden state {@code h_{k-1}} (D). The initial state is
 *       {@code h_0 = f'(x)} (i.e. {@code hhat_0 = 0}), {@code c_0 = 0}, and {@code r_0} the read-out of
 *       {@code h_0}, so every one of the K steps reads the support set. Each query is processed on its
 *       own (queries do not see each other).</li>
 * </ul>
 * The FCE parameters are meta-parameters, added by {@link #initMetaParams} under {@value #FCE_PREFIX}
 * ({@code fce.g.fwd.*}, {@code fce.g.bwd.*}, {@code fce.f.*}, each {@code weight_ih, weight_hh, bias_ih,
 * bias_hh}), trained and checkpointed with the embedding. Because the bidirectional LSTM reads the support
 * set as a sequence, the support embeddings and hence the predictions depend on the order of the support
 * examples (as in the paper); this class uses the order the task gives. Everything is built from core ops
 * without detaching, so the loss can be differentiated to second order.
 *
 * <pre>{@code
 * MetaLearner mn = new MatchingNet(body, 1.0);
 * MetaLearner fce = new MatchingNet(body, 1.0).withFce(64, MatchingNet.DEFAULT_FCE_STEPS);
 * }</pre>
 */
public final class MatchingNet implements MetaLearner {
  /** Name of the support embeddings in adapted parameters. */
  public static final String SUPPORT = "task.support";
  /** Name of the support labels as one-hot rows {@code [S, ways]} in adapted parameters. */
  public static final String SUPPORT_ONE_HOT = "task.supportOneHot";

  /** Prefix of the full-context-embedding LSTM parameters. */
  public static final String FCE_PREFIX = "fce.";
  /**
   * Default number K of attention-LSTM read steps. The paper does not state K for its Omniglot runs; 5 is
   * this project's choice (a few reads, each costing little next to the conv embedding).
   */
  public static final int DEFAULT_FCE_STEPS = 5;

  private static final String G_FWD = "fce.g.fwd";
  private static final String G_BWD = "fce.g.bwd";
  private static final String F_ATT = "fce.f";

  private final Module embedding;
  private final double scale;
  private final Mode mode;
  /** Embedding dimension D of the FCE LSTMs; 0 without FCE. */
  private final int fceDim;
  private final int fceSteps;

  /** Matching Networks with cosine attention sharpened by {@code scale} (1 in the paper), without FCE. */
  public MatchingNet(Module embedding, double scale) {
    this(embedding, scale, Mode.train(), 0, 0);
  }

  private MatchingNet(Module embedding, double scale, Mode mode, int fceDim, int fceSteps) {
    if (embedding == null || mode == null) {
      throw new IllegalArgumentException("MatchingNet: embedding and mode must not be null");
    }
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("MatchingNet: scale must be finite and > 0, got " + scale);
    }
    this.embedding = embedding;
    this.scale = scale;
    this.mode = mode;
    this.fceDim = fceDim;
    this.fceSteps = fceSteps;
  }

  /** A copy running the embedding in {@code m}. */
  public MatchingNet withMode(Mode m) {
    return new MatchingNet(embedding, scale, m, fceDim, fceSteps);
  }

  /**
   * A copy with full-context embeddings for an embedding of dimension {@code embeddingDim} (the flattened
   * output size of the embedding network) and {@code steps} attention-LSTM read steps K.
   *
   * @throws IllegalArgumentException if {@code embeddingDim < 1} or {@code steps < 1}
   */
  public MatchingNet withFce(int embeddingDim, int steps) {
    if (embeddingDim < 1) {
      throw new IllegalArgumentException("MatchingNet: FCE embedding dimension must be >= 1, got " + embeddingDim);
    }
    if (steps < 1) {
      throw new IllegalArgumentException("MatchingNet: FCE read steps (--fce-steps) must be >= 1, got " + steps);
    }
    return new MatchingNet(embedding, scale, mode, embeddingDim, steps);
  }

  /** Whether full-context embeddings are on. */
  public boolean fce() {
    return fceDim > 0;
  }

  /** The attention-LSTM read steps K (0 without FCE). */
  public int fceSteps() {
    return fceSteps;
  }

  private LstmCell supportCell() {
    return new LstmCell(fceDim, fceDim);
  }

  private LstmCell queryCell() {
    return new LstmCell(2 * fceDim, fceDim);
  }

  /**
   * The model's parameters plus, with FCE, the LSTMs' ({@code fce.g.fwd.*}, {@code fce.g.bwd.*},
   * {@code fce.f.*}, PyTorch's LSTM initialisation) in the dtype and on the device of the model's parameters.
   */
  @Override
  public Params initMetaParams(Params modelParams, Rng rng) {
    if (!fce()) {
      return modelParams;
    }
    for (String n : modelParams.names()) {
      if (n.startsWith(FCE_PREFIX)) {
        throw new IllegalArgumentException("MatchingNet: model parameter '" + n + "' uses the reserved prefix "
            + FCE_PREFIX);
      }
    }
    Tensor any = modelParams.size() == 0 ? null : modelParams.values().get(0);
    DType dtype = any == null ? DType.FLOAT32 : any.dtype();
    Params fceParams = supportCell().init(rng, dtype).prefixed(G_FWD)
        .merge(supportCell().init(rng, dtype).prefixed(G_BWD))
        .merge(queryCell().init(rng, dtype).prefixed(F_ATT));
    if (any != null) {
      fceParams = fceParams.to(any.device());
    }
    return modelParams.merge(fceParams);
  }

  private void checkFceInput(String who, Tensor e) {
    if (e.rank() != 2 || e.size(1) != fceDim) {
      throw new IllegalArgumentException("MatchingNet FCE: " + who + " embeddings have shape "
          + java.util.Arrays.toString(e.shape()) + ", expected [n, " + fceDim + "] (the FCE dimension must"
          + " equal the embedding's output size)");
    }
  }

  private static Params fceParams(Params p, String prefix) {
    Params sub = p.sub(prefix);
    if (sub.size() == 0) {
      throw new IllegalArgumentException("MatchingNet FCE: no parameters under '" + prefix + ".' (build them"
          + " with initMetaParams)");
    }
    return sub;
  }

  /**
   * The full-context support embeddings {@code g(x_i) = g'(x_i) + h_fwd_i + h_bwd_i} {@code [S, D]} of support
   * embeddings {@code [S, D]}, in their row order (a bidirectional LSTM over the rows).
   */
  public Tensor contextSupport(Params params, Tensor support) {
    checkFceInput("support", support);
    LstmCell cell = supportCell();
    Params pf = fceParams(params, G_FWD);
    Params pb = fceParams(params, G_BWD);
    int n = support.size(0);
    List<Tensor> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      rows.add(support.slice(0, i, i + 1));
    }
    Tensor[] fwd = new Tensor[n];
    Tensor[] bwd = new Tensor[n];
    LstmCell.State s = cell.zeroState(rows.get(0));
    for (int i = 0; i < n; i++) {
      s = cell.step(pf, rows.get(i), s);
      fwd[i] = s.h();
    }
    s = cell.zeroState(rows.get(0));
    for (int i = n - 1; i >= 0; i--) {
      s = cell.step(pb, rows.get(i), s);
      bwd[i] = s.h();
    }
    return support.add(Tensor.concat(List.of(fwd), 0)).add(Tensor.concat(List.of(bwd), 0));
  }

  /** {@code sum_i softmax_i(h . g_i) g_i} for h {@code [Q, D]} and g {@code [S, D]}. */
  private static Tensor readOut(Tensor h, Tensor g) {
    return F.softmax(h.matmul(g.mT()), 1).matmul(g);
  }

  /**
   * The full-context query embeddings {@code f(x) = h_K} {@code [Q, D]} of query embeddings {@code f'(x)}
   * {@code [Q, D]} attending over full-context support embeddings {@code g} {@code [S, D]} for K steps.
   */
  public Tensor contextQuery(Params params, Tensor query, Tensor g) {
    checkFceInput("query", query);
    checkFceInput("support", g);
    LstmCell cell = queryCell();
    Params pa = fceParams(params, F_ATT);
    Tensor h = query;
    Tensor c = Tensor.zeros(query.dtype(), query.size(0), fceDim).to(query.device());
    Tensor r = readOut(h, g);
    for (int k = 1; k <= fceSteps; k++) {
      LstmCell.State s = cell.step(pa, Tensor.concat(List.of(query, r), 1), new LstmCell.State(h, c));
      h = s.h().add(query);
      c = s.c();
      if (k < fceSteps) {
        r = readOut(h, g);
      }
    }
    return h;
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

  /** The embedding's parameters: without the task entries and, with FCE, without the LSTMs'. */
  private Params body(Params p) {
    Params b = p.without("task.");
    return fce() ? b.without(FCE_PREFIX) : b;
  }

  /** Query NLL of the attention classifier, differentiable with respect to the embedding. */
  @Override
  public MetaStep metaLoss(Params params, FewShotTask task) {
    Task t = Metric.classification("MatchingNet", task);
    Tensor z = Metric.embed(embedding, body(params), t.supportX(), mode);
    Tensor q = Metric.embed(embedding, body(params), t.queryX(), mode);
    if (fce()) {
      z = contextSupport(params, z);
      q = contextQuery(params, q, z);
    }
    Tensor logp = classLogProbs(q, z, t.supportOneHot());
    return new MetaStep(t.queryLoss(logp), t.queryAccuracy(logp.detach()));
  }

  /**
   * The parameters plus the support embeddings (with FCE, the full-context ones {@code g(x_i)}) and one-hot
   * labels; detached.
   */
  @Override
  public Params adapt(Params params, FewShotTask task) {
    Task t = Metric.classification("MatchingNet", task);
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      Params p = params.detach();
      Tensor z = Metric.embed(embedding, body(p), t.supportX(), mode);
      if (fce()) {
        z = contextSupport(p, z);
      }
      return p.with(SUPPORT, z.detach()).with(SUPPORT_ONE_HOT, t.supportOneHot());
    }
  }

  /** Class log-probabilities of inputs x against the stored support set. */
  @Override
  public Tensor predict(Params adapted, Tensor x) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      Tensor q = Metric.embed(embedding, body(adapted), x, mode);
      if (fce()) {
        q = contextQuery(adapted, q, adapted.get(SUPPORT));
      }
      return classLogProbs(q, adapted.get(SUPPORT), adapted.get(SUPPORT_ONE_HOT));
    }
  }

  @Override
  public String toString() {
    return "MatchingNet(cosine attention, scale " + scale + (fce() ? ", FCE: bidirectional LSTM + attention LSTM, "
        + fceSteps + " read steps, dim " + fceDim + ")" : ", no FCE)");
  }
}
