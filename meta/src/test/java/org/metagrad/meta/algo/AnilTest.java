package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

class AnilTest {
  private static final DType D = DType.FLOAT64;
  private final Fixtures.Mlp mlp = new Fixtures.Mlp(3, 4, 2);

  private Task task(long seed) {
    return Fixtures.clusterTask(new Rng(seed), 2, 2, 2, new int[] {3}, D, 0.5);
  }

  @Test
  void onlyTheHeadIsAdapted() {
    Anil anil = new Anil(mlp, 2, 0.5, Order.SECOND);
    Params p = mlp.init(new Rng(1), D).requiresGrad(true);
    Params fast = anil.fastWeights(p, task(2));
    assertThat(fast.get("body.weight")).isSameAs(p.get("body.weight"));
    assertThat(Fixtures.maxAbsDiff(fast.get("head.weight"), p.get("head.weight"))).isGreaterThan(1e-6);
  }

  @Test
  void secondOrderMatchesFiniteDifferences() {
    Anil anil = new Anil(mlp, 2, 0.5, Order.SECOND);
    MetaGradCheck.Report r = MetaGradCheck.verify(anil, mlp.init(new Rng(3), D), task(4),
        MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isTrue();
  }

  @Test
  void firstOrderBodyGradientMissesThePathThroughTheHeadUpdate() {
    Params p = mlp.init(new Rng(5), D).requiresGrad(true);
    Task t = task(6);
    List<Tensor> g2 = new Anil(mlp, 2, 0.5, Order.SECOND).metaGradient(p, t);
    List<Tensor> g1 = new Anil(mlp, 2, 0.5, Order.FIRST).metaGradient(p, t);
    assertThat(Fixtures.maxAbsDiff(g1.get(0), g2.get(0))).isGreaterThan(1e-5);
    assertThat(Fixtures.maxAbs(g1.get(0))).isGreaterThan(1e-5);
  }

  @Test
  void metaLossDecreases() {
    Anil anil = new Anil(mlp, 2, 0.5, Order.SECOND);
    double[] ba = Fixtures.trainLoss(anil, mlp.init(new Rng(7), D), List.of(task(8), task(9)), 8, 0.3);
    assertThat(ba[1]).isLessThan(ba[0] * 0.8);
    assertThat(anil.evaluate(mlp.init(new Rng(7), D), task(8))).isBetween(0.0, 1.0);
  }

  @Test
  void missingHeadIsReported() {
    Anil anil = new Anil(mlp, 1, 0.5, Order.SECOND).withHeadPrefix("classifier.");
    assertThatThrownBy(() -> anil.metaLoss(mlp.init(new Rng(1), D).requiresGrad(true), task(2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("classifier.");
  }
}
