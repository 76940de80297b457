package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.GradCheck;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

/** The meta-learner LSTM (Ravi and Larochelle 2017): meta-gradients against finite differences, init, training. */
class MetaLstmTest {
  private static final DType D = DType.FLOAT64;
  private final Fixtures.Mlp mlp = new Fixtures.Mlp(3, 3, 2);

  private Task task(long seed) {
    return Fixtures.clusterTask(new Rng(seed), 2, 2, 2, new int[] {3}, D, 0.5);
  }

  /** A small meta-learner (3 hidden units in the first layer) with a large step size so the updates matter. */
  private MetaLstm small(int steps, Order order) {
    return new MetaLstm(mlp, steps, 0.3, order).withHidden(3);
  }

  private Params init(MetaLstm m, long seed) {
    Rng rng = new Rng(seed);
    return m.initMetaParams(mlp.init(rng, D), rng);
  }

  @Test
  void secondOrderMetaGradientMatchesFiniteDifferences() {
    MetaLstm m = small(3, Order.SECOND);
    MetaGradCheck.Report r = MetaGradCheck.verify(m, init(m, 1), task(2), MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isTrue();
    // Every meta-learner tensor is checked, not only the learner's initial weights.
    assertThat(r.entries()).extracting(MetaGradCheck.Entry::name).contains("metalstm.lstm.weight_ih",
        "metalstm.forget.bias", "metalstm.input.weight", "head.weight");
  }

  @Test
  void secondOrderThroughConvBatchNormMatchesFiniteDifferences() {
    Fixtures.TinyConv net = new Fixtures.TinyConv(2);
    Task t = Fixtures.clusterTask(new Rng(5), 2, 2, 2, new int[] {1, 4, 4}, D, 0.7);
    MetaLstm m = new MetaLstm(net, 2, 0.3, Order.SECOND).withHidden(2);
    Rng rng = new Rng(6);
    Params p = m.initMetaParams(net.init(rng, D), rng);
    MetaGradCheck.Report r = MetaGradCheck.verify(m, p, t, MetaGradCheck.Options.defaults().tolerance(1e-4));
    assertThat(r.passed()).as(r.toString()).isTrue();
    assertThat(r.relError("features.bn.weight")).isLessThan(1e-4);
  }

  @Test
  void secondOrderMetaLossPassesGradcheckAtOrdersOneAndTwo() {
    MetaLstm m = small(2, Order.SECOND);
    Params p = init(m, 3);
    Task t = task(4);
    List<String> names = p.names();
    Function<List<Tensor>, Tensor> f = xs -> m.metaLoss(params(names, xs), t).loss();
    GradCheck.Report r1 = GradCheck.check(f, p.values(), 1);
    assertThat(r1.passed()).as(r1.toString()).isTrue();
    GradCheck.Report r2 = GradCheck.check(f, p.values(), 2);
    assertThat(r2.passed()).as(r2.toString()).isTrue();
  }

  /**
   * The paper's first-order meta-gradient is the exact gradient of the meta-loss with the inner gradients and
   * losses held at their values: recorded once, then fed in as constants, the meta-loss is an ordinary function
   * of the meta-parameters, checked at orders 1 and 2, and the first-order meta-gradient must equal its gradient.
   */
  @Test
  void firstOrderIsTheExactGradientWithInnerGradientsHeldConstant() {
    MetaLstm first = small(3, Order.FIRST);
    Params p = init(first, 7).requiresGrad(true);
    Task t = task(8);
    List<Tensor[]> recorded = new ArrayList<>();
    MetaStep base = first.metaLoss(p, t, (s, g, l) -> {
      recorded.add(new Tensor[] {g.detach(), l.detach()});
      return new Tensor[] {g, l};
    });
    assertThat(recorded).hasSize(3);
    MetaLstm.Inputs frozen = (s, g, l) -> recorded.get(s);
    List<String> names = p.names();
    Function<List<Tensor>, Tensor> f = xs -> first.metaLoss(params(names, xs), t, frozen).loss();
    assertThat(f.apply(p.values()).item()).isEqualTo(base.lossValue());
    GradCheck.Report r1 = GradCheck.check(f, p.values(), 1);
    assertThat(r1.passed()).as(r1.toString()).isTrue();
    GradCheck.Report r2 = GradCheck.check(f, p.values(), 2);
    assertThat(r2.passed()).as(r2.toString()).isTrue();

    List<Tensor> g1 = first.metaGradient(p, t);
    List<Tensor> gFrozen = Autograd.grad(f.apply(p.values()), p.values(), GradOptions.defaults().allowUnused(true));
    for (int i = 0; i < g1.size(); i++) {
      assertThat(Fixtures.maxAbsDiff(g1.get(i), gFrozen.get(i))).as(names.get(i)).isLessThan(1e-12);
    }
    // ... and differs from the exact (second-order) one, which the finite differences of the true meta-loss reject.
    List<Tensor> g2 = first.withOrder(Order.SECOND).metaGradient(p, t);
    double diff = 0;
    for (int i = 0; i < g1.size(); i++) {
      diff = Math.max(diff, Fixtures.maxAbsDiff(g1.get(i), g2.get(i)));
    }
    assertThat(diff).isGreaterThan(1e-6);
    MetaGradCheck.Report r = MetaGradCheck.verify(first, p, t, MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isFalse();
  }

  @Test
  void initialisationFollowsThePaper() {
    MetaLstm m = new MetaLstm(mlp, 5, MetaLstm.PAPER_STEP_SIZE, Order.FIRST);
    Rng rng = new Rng(11);
    Params model = mlp.init(rng, D);
    Params p = m.initMetaParams(model, new Rng(12));
    // c_0 is the learner's own initialisation.
    for (String n : model.names()) {
      assertThat(Fixtures.maxAbsDiff(p.get(n), model.get(n))).isZero();
    }
    double bf = p.get("metalstm.forget.bias").item();
    double bi = p.get("metalstm.input.bias").item();
    assertThat(bf).isBetween(4.0, 6.0);
    assertThat(bi).isBetween(-5.0, -4.0);
    assertThat(Fixtures.maxAbs(p.get("metalstm.forget.weight"))).isLessThanOrEqualTo(0.01);
    assertThat(Fixtures.maxAbs(p.get("metalstm.input.weight"))).isLessThanOrEqualTo(0.01);
    assertThat(p.get("metalstm.forget.weight").shape()).containsExactly(1, MetaLstm.PAPER_HIDDEN + 2);
    assertThat(p.get("metalstm.lstm.weight_ih").shape()).containsExactly(4 * MetaLstm.PAPER_HIDDEN, 4);
  }

  @Test
  void oneUpdateIsForgetTimesThetaMinusInputTimesGradient() {
    // With zero gate weights the gates are the sigmoid of their biases, so one update is
    // c_1 = sigmoid(b_F) c_0 - sigmoid(b_I) grad, coordinate by coordinate.
    MetaLstm m = small(1, Order.SECOND);
    Params p = init(m, 13);
    Map<String, Tensor> e = new LinkedHashMap<>(p.asMap());
    e.put("metalstm.forget.weight", Tensor.zeros(D, 1, 5));
    e.put("metalstm.input.weight", Tensor.zeros(D, 1, 5));
    e.put("metalstm.forget.bias", Tensor.full(1.5, D, 1));
    e.put("metalstm.input.bias", Tensor.full(-0.5, D, 1));
    p = Params.of(e).requiresGrad(true);
    Task t = task(14);
    Params fast = m.fastWeights(p, t);
    Params model = MetaLstm.modelParams(p);
    List<Tensor> g = Autograd.grad(t.supportLoss(mlp.apply(model, t.supportX(), org.metagrad.nn.Mode.train())),
        model.values());
    double f = 1 / (1 + StrictMath.exp(-1.5));
    double i = 1 / (1 + StrictMath.exp(0.5));
    for (int k = 0; k < g.size(); k++) {
      Tensor expect = model.values().get(k).mul(f).sub(g.get(k).mul(i));
      assertThat(Fixtures.maxAbsDiff(fast.values().get(k), expect)).isLessThan(1e-12);
    }
  }

  @Test
  void metaTrainingLowersTheQueryLossAndAdaptationHelps() {
    MetaLstm m = small(3, Order.FIRST);
    Params p0 = init(m, 15);
    double[] ba = Fixtures.trainLoss(m, p0, List.of(task(16), task(17)), 10, 0.3);
    assertThat(ba[1]).isLessThan(ba[0]);
    // Test-time adaptation changes only the learner's weights and lowers the support loss.
    Task t = task(18);
    Params adapted = m.adapt(p0, t);
    assertThat(adapted.names()).isEqualTo(MetaLstm.modelParams(p0).names());
    double before = t.supportLoss(mlp.apply(MetaLstm.modelParams(p0), t.supportX(), org.metagrad.nn.Mode.train()))
        .item();
    double after = t.supportLoss(m.predict(adapted, t.supportX())).item();
    assertThat(after).isLessThan(before);
    assertThat(m.evaluate(p0, t)).isBetween(0.0, 1.0);
  }

  @Test
  void secondOrderIsDeterministicAndFinite() {
    MetaLstm m = small(2, Order.SECOND);
    Params p = init(m, 19).requiresGrad(true);
    List<Tensor> a = m.metaGradient(p, task(20));
    List<Tensor> b = m.metaGradient(p, task(20));
    for (int i = 0; i < a.size(); i++) {
      assertThat(a.get(i).firstNonFiniteIndex()).isNegative();
      assertThat(a.get(i).toDoubleArray()).isEqualTo(b.get(i).toDoubleArray());
    }
  }

  @Test
  void badSettingsAreRejectedClearly() {
    assertThatThrownBy(() -> new MetaLstm(mlp, 2, 0, Order.FIRST))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("step size");
    assertThatThrownBy(() -> new MetaLstm(mlp, 2, 1.5, Order.FIRST))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(0, 1)");
    assertThatThrownBy(() -> new MetaLstm(mlp, -1, 0.1, Order.FIRST))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("inner steps");
    MetaLstm m = small(1, Order.FIRST);
    Params noMeta = mlp.init(new Rng(1), D).requiresGrad(true);
    assertThatThrownBy(() -> m.metaLoss(noMeta, task(2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("initMetaParams");
    Params noGrad = init(m, 3);
    assertThatThrownBy(() -> m.metaLoss(noGrad, task(2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not require grad");
  }

  @Test
  void preprocessingMatchesThePaperAndPropagatesNaN() {
    Tensor x = Tensor.of(new double[] {2.0, -1e-3, 1e-6, -1e-6, 0.0, Double.NaN}, D, 6, 1);
    double[] y = GradientPreprocessing.logSign(x, 10).toDoubleArray();
    double e = StrictMath.exp(10);
    double[] expect = {StrictMath.log(2) / 10, 1, StrictMath.log(1e-3) / 10, -1, -1, 1e-6 * e, -1, -1e-6 * e, -1, 0};
    for (int i = 0; i < expect.length; i++) {
      assertThat(y[i]).as("element " + i).isCloseTo(expect[i], org.assertj.core.data.Offset.offset(1e-12));
    }
    assertThat(y[10]).isNaN();
    assertThat(y[11]).isNaN();
    // Differentiable twice at 0 and across the threshold without NaN.
    GradCheck.assertOrders12(xs -> GradientPreprocessing.logSign(xs.get(0), 10).square().sum(),
        List.of(Tensor.of(new double[] {0.5, -2e-5, 3e-5, 0.0}, D, 4, 1)));
  }

  private static Params params(List<String> names, List<Tensor> xs) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      m.put(names.get(i), xs.get(i));
    }
    return Params.of(m);
  }
}
