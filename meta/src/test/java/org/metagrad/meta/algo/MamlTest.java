package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.RegressionTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Params;

class MamlTest {
  private static final DType D = DType.FLOAT64;
  private final Fixtures.Mlp mlp = new Fixtures.Mlp(3, 4, 2);

  private Task task(long seed) {
    return Fixtures.clusterTask(new Rng(seed), 2, 2, 2, new int[] {3}, D, 0.5);
  }

  @Test
  void secondOrderOneStepMatchesFiniteDifferences() {
    Maml maml = new Maml(mlp, 1, 0.5, Order.SECOND);
    MetaGradCheck.Report r = MetaGradCheck.verify(maml, mlp.init(new Rng(1), D), task(2),
        MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isTrue();
    assertThat(r.entries()).hasSize(4);
  }

  @Test
  void secondOrderThreeStepsMatchesFiniteDifferences() {
    Maml maml = new Maml(mlp, 3, 0.5, Order.SECOND);
    MetaGradCheck.Report r = MetaGradCheck.verify(maml, mlp.init(new Rng(3), D), task(4),
        MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isTrue();
  }

  @Test
  void convBatchNormMaxPoolSecondOrderMatchesFiniteDifferences() {
    Fixtures.TinyConv net = new Fixtures.TinyConv(2);
    Task t = Fixtures.clusterTask(new Rng(5), 2, 2, 2, new int[] {1, 4, 4}, D, 0.7);
    Maml maml = new Maml(net, 2, 0.3, Order.SECOND);
    MetaGradCheck.Report r = MetaGradCheck.verify(maml, net.init(new Rng(6), D), t,
        MetaGradCheck.Options.defaults().tolerance(1e-4));
    assertThat(r.passed()).as(r.toString()).isTrue();
    assertThat(r.relError("features.bn.weight")).isLessThan(1e-4);
  }

  @Test
  void firstOrderDiffersFromSecondAndEqualsGradientAtAdaptedWeights() {
    Params p = mlp.init(new Rng(7), D).requiresGrad(true);
    Task t = task(8);
    Maml second = new Maml(mlp, 2, 0.8, Order.SECOND);
    Maml first = second.withOrder(Order.FIRST);
    List<Tensor> g2 = second.metaGradient(p, t);
    List<Tensor> g1 = first.metaGradient(p, t);
    double diff = 0;
    for (int i = 0; i < g1.size(); i++) {
      diff = Math.max(diff, Fixtures.maxAbsDiff(g1.get(i), g2.get(i)));
    }
    // A silently detached inner graph would make both the same.
    assertThat(diff).isGreaterThan(1e-4);

    // The same values as the second-order fast weights (the forward pass does not depend on the order).
    Params adapted = first.fastWeights(p, t).detach().requiresGrad(true);
    Params adapted2 = second.fastWeights(p, t);
    for (String n : adapted.names()) {
      assertThat(Fixtures.maxAbsDiff(adapted.get(n), adapted2.get(n))).isLessThan(1e-12);
    }
    Tensor queryLoss = t.queryLoss(mlp.apply(adapted, t.queryX(), Mode.train().withStep(1)));
    List<Tensor> atAdapted = Autograd.grad(queryLoss, adapted.values());
    for (int i = 0; i < g1.size(); i++) {
      assertThat(Fixtures.maxAbsDiff(g1.get(i), atAdapted.get(i))).isLessThan(1e-12);
    }
    // And a first-order meta-gradient fails the finite-difference check.
    MetaGradCheck.Report r = MetaGradCheck.verify(first, p, t, MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isFalse();
  }

  @Test
  void hessianVectorProductThroughMamlMatchesFiniteDifferencesOfMetaGradient() {
    Maml maml = new Maml(mlp, 1, 0.5, Order.SECOND);
    Task t = task(9);
    Params p = mlp.init(new Rng(10), D).requiresGrad(true);
    Rng r = new Rng(11);
    List<Tensor> v = new ArrayList<>();
    for (Tensor x : p.values()) {
      v.add(Tensor.randn(r, D, x.shape()));
    }
    List<Tensor> g = Autograd.grad(maml.metaLoss(p, t).loss(), p.values(), GradOptions.createGraph(true));
    Tensor gv = null;
    for (int i = 0; i < g.size(); i++) {
      Tensor term = g.get(i).mul(v.get(i)).sum();
      gv = gv == null ? term : gv.add(term);
    }
    List<Tensor> hv = Autograd.grad(gv, p.values());
    double eps = 1e-5;
    List<Tensor> gPlus = maml.metaGradient(shift(p, v, eps), t);
    List<Tensor> gMinus = maml.metaGradient(shift(p, v, -eps), t);
    for (int i = 0; i < hv.size(); i++) {
      Tensor fd = gPlus.get(i).sub(gMinus.get(i)).div(2 * eps);
      double scale = Math.max(1, Fixtures.maxAbs(fd));
      assertThat(Fixtures.maxAbsDiff(hv.get(i), fd) / scale).as(p.names().get(i)).isLessThan(1e-6);
    }
  }

  private static Params shift(Params p, List<Tensor> v, double eps) {
    return p.zip(v, (a, b) -> a.detach().add(b.mul(eps)).requiresGrad(true));
  }

  @Test
  void metaLossDecreasesOnFixedTasks() {
    Maml maml = new Maml(mlp, 2, 0.5, Order.SECOND);
    double[] ba = Fixtures.trainLoss(maml, mlp.init(new Rng(12), D), List.of(task(13), task(14)), 8, 0.3);
    assertThat(ba[1]).isLessThan(ba[0] * 0.8);
  }

  @Test
  void firstOrderMetaLossAlsoDecreases() {
    Maml maml = new Maml(mlp, 2, 0.5, Order.FIRST);
    double[] ba = Fixtures.trainLoss(maml, mlp.init(new Rng(12), DType.FLOAT32),
        List.of(task(13).to(DType.FLOAT32), task(14).to(DType.FLOAT32)), 8, 0.3);
    assertThat(ba[1]).isLessThan(ba[0] * 0.9);
  }

  @Test
  void adaptationReducesSupportLossAndEvaluates() {
    Maml maml = new Maml(mlp, 1, 0.5, Order.SECOND).withTestInnerSteps(10);
    Params p = mlp.init(new Rng(15), D);
    Task t = task(16);
    double before = t.supportLoss(mlp.apply(p, t.supportX(), Mode.train())).item();
    Params a = maml.adapt(p, t);
    double after = t.supportLoss(mlp.apply(a, t.supportX(), Mode.train())).item();
    assertThat(after).isLessThan(before);
    assertThat(a.values()).allMatch(x -> !x.requiresGrad() && x.isLeaf());
    double acc = maml.evaluate(p, t);
    assertThat(acc).isBetween(0.0, 1.0);
  }

  @Test
  void sineRegressionMetaGradientAndTraining() {
    Fixtures.Mlp net = new Fixtures.Mlp(1, 6, 1);
    Maml maml = new Maml(net, 2, 0.05, Order.SECOND);
    RegressionTask t = RegressionTask.sine(new Rng(17), 5, 5, D);
    MetaGradCheck.Report r = MetaGradCheck.verify(maml, net.init(new Rng(18), D), t,
        MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isTrue();
    MetaStep s = maml.metaLoss(net.init(new Rng(18), D).requiresGrad(true), t);
    assertThat(s.accuracy()).isNaN();
    double[] ba = Fixtures.trainLoss(maml, net.init(new Rng(18), D), List.of(t), 10, 0.02);
    assertThat(ba[1]).isLessThan(ba[0]);
    assertThat(maml.evaluateLoss(net.init(new Rng(18), D), t)).isFinite();
  }

  @Test
  void parametersWithoutGradAreRejectedClearly() {
    Maml maml = new Maml(mlp, 1, 0.5, Order.SECOND);
    assertThatThrownBy(() -> maml.metaLoss(mlp.init(new Rng(1), D), task(2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("requiresGrad(true)");
    assertThatThrownBy(() -> new Maml(mlp, -1, 0.5, Order.SECOND)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Maml(mlp, 1, Double.NaN, Order.SECOND))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void stepIndexReachesTheModelPerInnerStep() {
    List<Integer> seen = new ArrayList<>();
    org.metagrad.nn.Module spy = new org.metagrad.nn.Module() {
      @Override
      public Params init(Rng rng, DType dtype) {
        return mlp.init(rng, dtype);
      }

      @Override
      public Tensor apply(Params p, Tensor x, Mode mode) {
        seen.add(mode.step());
        return mlp.apply(p, x, mode);
      }
    };
    new Maml(spy, 3, 0.1, Order.FIRST).metaLoss(mlp.init(new Rng(1), D).requiresGrad(true), task(2));
    assertThat(seen).containsExactly(0, 1, 2, 2);
  }
}
