package org.metagrad.meta.algo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.metagrad.Autograd;
import org.metagrad.F;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.nn.Init;
import org.metagrad.nn.LstmCell;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/**
 * The meta-learner LSTM of Ravi and Larochelle (ICLR 2017, "Optimization as a Model for Few-Shot Learning"):
 * the learner's parameters are the cell state of an LSTM whose input gate is a learned step size and whose
 * forget gate is a learned decay. With all learner parameters flattened into one column {@code c} of
 * {@code n} coordinates, inner step t computes on the support set the loss {@code L_t} and gradient
 * {@code g_t = dL_t/dc_{t-1}} and then, for every coordinate with the same (shared) weights,
 *
 * <pre>
 * x_t   = [pre(g_t), pre(L_t)]                                       [n, 4]   (log/sign preprocessing, p = 10)
 * h_t   = LSTM_1(x_t, h_{t-1})                                        [n, H]   (an ordinary LSTM cell, H = 20)
 * f_t   = sigmoid(W_F [h_t, c_{t-1}, f_{t-1}] + b_F)                  [n, 1]   learned decay
 * i_t   = sigmoid(W_I [h_t, c_{t-1}, i_{t-1}] + b_I)                  [n, 1]   learned step size
 * c_t   = f_t * c_{t-1} + i_t * (-g_t)
 * </pre>
 *
 * with {@code c_0} the learner's initial parameters (meta-learned, they are the model's entries of the
 * meta-parameters) and {@code i_0 = f_0 = 0}. This is the paper's two-layer design (section 3.4: a normal LSTM
 * first layer on the preprocessed gradient and loss, then the cell-state update), with coordinate-wise
 * parameter sharing. The meta-loss is the query loss of the learner at {@code c_T}.
 *
 * <p><b>Order.</b> The paper ignores the second derivatives: {@link Order#FIRST} feeds {@code g_t} and
 * {@code L_t} in as constants (detached), so the meta-gradient flows through {@code c_t}, the gates and the
 * learner's forward pass but not through the inner gradients. {@link Order#SECOND} records the inner
 * gradients ({@code createGraph}) and differentiates through them, preprocessing included.
 *
 * <p><b>Initialisation</b> (paper, section 3.4 and its code): {@code W_F, W_I ~ U(-0.01, 0.01)}, the
 * forget-gate bias {@code b_F ~ U(4, 6)} (so {@code f ~ 1}, no decay at first) and a small input-gate bias.
 * The paper draws {@code b_I ~ U(-5, -4)} (step size about 0.01, {@link #PAPER_STEP_SIZE}); here the input
 * gate starts at a chosen step size {@code s}: {@code b_I ~ U(logit(s) - 0.5, logit(s) + 0.5)}, which is the
 * paper's draw for {@code s = sigmoid(-4.5)}. The first LSTM layer has {@link LstmCell}'s initialisation.
 *
 * <p><b>BatchNorm</b> as in the paper: the learner always uses the statistics of the current batch
 * ({@link Mode#train()}), also at test time, never running averages; its BN scale and shift are ordinary
 * learner parameters updated by the meta-learner.
 *
 * <p>Meta-parameters: the model's own (that is {@code c_0}) plus {@code metalstm.lstm.*} (the first layer),
 * {@code metalstm.forget.weight [1, H+2]}, {@code metalstm.forget.bias [1]}, {@code metalstm.input.weight
 * [1, H+2]}, {@code metalstm.input.bias [1]}; {@link #initMetaParams} adds them.
 *
 * <pre>{@code
 * MetaLstm m = new MetaLstm(model, 5, 0.1, Order.FIRST);
 * Params p = m.initMetaParams(model.init(rng), rng).requiresGrad(true);
 * MetaStep step = m.metaLoss(p, task);
 * }</pre>
 */
public final class MetaLstm implements MetaLearner {
  /** Prefix of the meta-learner's own parameters. */
  public static final String PREFIX = "metalstm.";
  /** The paper's initial input gate, {@code sigmoid(-4.5)}, the centre of its {@code b_I ~ U(-5, -4)}. */
  public static final double PAPER_STEP_SIZE = 1 / (1 + StrictMath.exp(4.5));
  /** Hidden units of the first LSTM layer in the paper. */
  public static final int PAPER_HIDDEN = 20;

  private final Module model;
  private final int innerSteps;
  private final double stepSize;
  private final Order order;
  private final int testInnerSteps;
  private final int hidden;
  private final Mode mode;
  private final LstmCell lstm;

  /**
   * The meta-learner LSTM with the paper's 20 hidden units, batch statistics and {@code innerSteps} steps at
   * meta-training and test time.
   *
   * @param innerSteps learner updates per task (T, >= 0)
   * @param stepSize the initial input gate {@code sigmoid(b_I)} (in (0, 1); {@link #PAPER_STEP_SIZE} is the
   *     paper's)
   */
  public MetaLstm(Module model, int innerSteps, double stepSize, Order order) {
    this(model, innerSteps, stepSize, order, innerSteps, PAPER_HIDDEN, Mode.train());
  }

  private MetaLstm(Module model, int innerSteps, double stepSize, Order order, int testInnerSteps, int hidden,
                   Mode mode) {
    InnerLoop.checkSteps("MetaLstm", innerSteps, 0);
    InnerLoop.checkSteps("MetaLstm", testInnerSteps, 0);
    if (!(stepSize > 0 && stepSize < 1)) {
      throw new IllegalArgumentException("MetaLstm: the initial step size sigmoid(b_I) must be in (0, 1), got "
          + stepSize);
    }
    if (model == null || order == null || mode == null) {
      throw new IllegalArgumentException("MetaLstm: model, order and mode must not be null");
    }
    if (hidden < 1) {
      throw new IllegalArgumentException("MetaLstm: hidden units must be >= 1, got " + hidden);
    }
    this.model = model;
    this.innerSteps = innerSteps;
    this.stepSize = stepSize;
    this.order = order;
    this.testInnerSteps = testInnerSteps;
    this.hidden = hidden;
    this.mode = mode;
    this.lstm = new LstmCell(4, hidden);
  }

  /** A copy taking {@code steps} learner updates at test time. */
  public MetaLstm withTestInnerSteps(int steps) {
    return new MetaLstm(model, innerSteps, stepSize, order, steps, hidden, mode);
  }

  /** A copy with another differentiation order. */
  public MetaLstm withOrder(Order o) {
    return new MetaLstm(model, innerSteps, stepSize, o, testInnerSteps, hidden, mode);
  }

  /** A copy whose first LSTM layer has {@code h} hidden units (the paper: 20). */
  public MetaLstm withHidden(int h) {
    return new MetaLstm(model, innerSteps, stepSize, order, testInnerSteps, h, mode);
  }

  /** Differentiation order. */
  public Order order() {
    return order;
  }

  /** Learner updates during meta-training. */
  public int innerSteps() {
    return innerSteps;
  }

  /** Learner updates at test time. */
  public int testInnerSteps() {
    return testInnerSteps;
  }

  /**
   * The model's parameters followed by the meta-learner's, drawn as described in the class comment
   * (same dtype and device as the model's first parameter).
   *
   * @throws IllegalArgumentException if the model has no parameters or one already uses the prefix
   */
  @Override
  public Params initMetaParams(Params modelParams, Rng rng) {
    if (modelParams.size() == 0) {
      throw new IllegalArgumentException("MetaLstm: the model has no parameters to learn");
    }
    for (String n : modelParams.names()) {
      if (n.startsWith(PREFIX)) {
        throw new IllegalArgumentException("MetaLstm: model parameter '" + n + "' uses the reserved prefix " + PREFIX);
      }
    }
    Tensor like = modelParams.values().get(0);
    org.metagrad.DType dt = like.dtype();
    double logit = StrictMath.log(stepSize / (1 - stepSize));
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : lstm.init(rng, dt).asMap().entrySet()) {
      m.put(PREFIX + "lstm." + e.getKey(), e.getValue());
    }
    m.put(PREFIX + "forget.weight", Init.uniform(rng, dt, -0.01, 0.01, 1, hidden + 2));
    m.put(PREFIX + "forget.bias", Init.uniform(rng, dt, 4, 6, 1));
    m.put(PREFIX + "input.weight", Init.uniform(rng, dt, -0.01, 0.01, 1, hidden + 2));
    m.put(PREFIX + "input.bias", Init.uniform(rng, dt, logit - 0.5, logit + 0.5, 1));
    Params own = Params.of(m).map(t -> t.to(like.device()));
    return modelParams.merge(own);
  }

  /** The learner's parameters: the meta-parameters without the meta-learner's own. */
  public static Params modelParams(Params metaParams) {
    return metaParams.without(PREFIX);
  }

  /** Inputs the inner loop uses in place of the gradients and losses it would compute (tests of order 1). */
  interface Inputs {
    /** The gradient column {@code [n, 1]} and the loss of step t, given what the loop computed. */
    Tensor[] at(int t, Tensor grad, Tensor loss);
  }

  /**
   * The learner's parameters {@code c_T} after {@code steps} updates on the support set, with the graph back to
   * the meta-parameters that the order prescribes ({@code graph} false: detached leaves, for test time).
   */
  Params unroll(Params params, FewShotTask task, int steps, Order ord, boolean graph, Inputs override) {
    Params meta = graph ? params : params.detach();
    Params own = meta.sub(PREFIX.substring(0, PREFIX.length() - 1));
    Params learner = modelParams(meta);
    List<String> names = learner.names();
    if (names.isEmpty()) {
      throw new IllegalArgumentException("MetaLstm: no learner parameters (only " + PREFIX + "* entries)");
    }
    Params cell = own.sub("lstm");
    Tensor wf = need(own, "forget.weight");
    Tensor bf = need(own, "forget.bias");
    Tensor wi = need(own, "input.weight");
    Tensor bi = need(own, "input.bias");
    if (graph) {
      for (String n : names) {
        if (!learner.get(n).requiresGrad()) {
          throw new IllegalArgumentException("MetaLstm: parameter '" + n + "' does not require grad; pass "
              + "params.requiresGrad(true) to get meta-gradients");
        }
      }
    }
    int[][] shapes = new int[names.size()][];
    int[] sizes = new int[names.size()];
    List<Tensor> cols = new ArrayList<>();
    for (int k = 0; k < names.size(); k++) {
      Tensor t = learner.get(names.get(k));
      shapes[k] = t.shape();
      sizes[k] = t.numel();
      cols.add(t.reshape(-1, 1));
    }
    Tensor c = Tensor.concat(cols, 0);
    if (!graph) {
      c = c.detach().requiresGrad(true);
    }
    int n = c.size(0);
    LstmCell.State s1 = lstm.zeroState(c);
    Tensor fPrev = Tensor.zeros(c.dtype(), n, 1).to(c.device());
    Tensor iPrev = fPrev;
    Params current = split(c, names, shapes, sizes);
    boolean second = graph && ord == Order.SECOND;
    for (int t = 0; t < steps; t++) {
      Tensor loss = task.supportLoss(model.apply(current, task.supportX(), mode.withStep(t)));
      List<Tensor> g = Autograd.grad(loss, current.values(), GradOptions.createGraph(second).allowUnused(true));
      List<Tensor> gc = new ArrayList<>(g.size());
      for (Tensor gi : g) {
        gc.add(gi.reshape(-1, 1));
      }
      Tensor grad = Tensor.concat(gc, 0);
      if (!second) {
        grad = grad.detach();
        loss = loss.detach();
      }
      if (override != null) {
        Tensor[] o = override.at(t, grad, loss);
        grad = o[0];
        loss = o[1];
      }
      Tensor x = Tensor.concat(List.of(GradientPreprocessing.logSign(grad, GradientPreprocessing.P),
          GradientPreprocessing.logSign(loss.reshape(1, 1), GradientPreprocessing.P).expand(n, 2)), 1);
      s1 = lstm.step(cell, x, s1);
      Tensor f = F.linear(Tensor.concat(List.of(s1.h(), c, fPrev), 1), wf, bf).sigmoid();
      Tensor i = F.linear(Tensor.concat(List.of(s1.h(), c, iPrev), 1), wi, bi).sigmoid();
      c = f.mul(c).sub(i.mul(grad));
      fPrev = f;
      iPrev = i;
      if (!graph) {
        // Test time: a fresh graph per step (only the next support gradient is needed).
        c = c.detach().requiresGrad(true);
        s1 = new LstmCell.State(s1.h().detach(), s1.c().detach());
        fPrev = fPrev.detach();
        iPrev = iPrev.detach();
      }
      current = split(c, names, shapes, sizes);
    }
    return current;
  }

  private static Tensor need(Params own, String name) {
    if (!own.contains(name)) {
      throw new IllegalArgumentException("MetaLstm: missing meta-parameter '" + PREFIX + name
          + "' (use initMetaParams)");
    }
    return own.get(name);
  }

  private static Params split(Tensor c, List<String> names, int[][] shapes, int[] sizes) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    int off = 0;
    for (int k = 0; k < names.size(); k++) {
      m.put(names.get(k), c.slice(0, off, off + sizes[k]).reshape(shapes[k]));
      off += sizes[k];
    }
    return Params.of(m);
  }

  /** The learner's parameters after the meta-training updates, with the graph back to the meta-parameters. */
  public Params fastWeights(Params params, FewShotTask task) {
    return unroll(params, task, innerSteps, order, true, null);
  }

  /** {@code L_query(c_T)} with the graph back to the meta-parameters, and the query accuracy. */
  @Override
  public MetaStep metaLoss(Params params, FewShotTask task) {
    return metaLoss(params, task, null);
  }

  MetaStep metaLoss(Params params, FewShotTask task, Inputs override) {
    Params fast = unroll(params, task, innerSteps, order, true, override);
    Tensor out = model.apply(fast, task.queryX(), mode.withStep(InnerLoop.lastStep(innerSteps)));
    return new MetaStep(task.queryLoss(out), task.queryAccuracy(out.detach()));
  }

  /** The learner's parameters after the test-time updates, detached (no meta-learner entries). */
  @Override
  public Params adapt(Params params, FewShotTask task) {
    return unroll(params, task, testInnerSteps, order, false, null).detach();
  }

  /** The learner's outputs with adapted parameters (batch statistics, as in the paper). */
  @Override
  public Tensor predict(Params adapted, Tensor x) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return model.apply(modelParams(adapted), x, mode.withStep(InnerLoop.lastStep(testInnerSteps)));
    }
  }

  @Override
  public String toString() {
    return "MetaLstm(steps " + innerSteps + ", step size0 " + (float) stepSize + ", hidden " + hidden + ", " + order
        + ", test steps " + testInnerSteps + ")";
  }
}
