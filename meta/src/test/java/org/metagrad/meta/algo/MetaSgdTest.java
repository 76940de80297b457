package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Params;

class MetaSgdTest {
  private static final DType D = DType.FLOAT64;
  private final Fixtures.Mlp mlp = new Fixtures.Mlp(3, 4, 2);

  private Task task(long seed) {
    return Fixtures.clusterTask(new Rng(seed), 2, 2, 2, new int[] {3}, D, 0.5);
  }

  @Test
  void initAddsAlphaOfSameShapes() {
    MetaSgd m = new MetaSgd(mlp, 1, 0.4, Order.SECOND);
    Params p = m.initMetaParams(mlp.init(new Rng(1), D), new Rng(2));
    assertThat(p.names()).containsExactly("body.weight", "body.bias", "head.weight", "head.bias",
        "alpha.body.weight", "alpha.body.bias", "alpha.head.weight", "alpha.head.bias");
    assertThat(p.get("alpha.head.weight").shape()).isEqualTo(p.get("head.weight").shape());
    assertThat(p.get("alpha.body.bias").toDoubleArray()).containsOnly(0.4);
  }

  @Test
  void secondOrderMatchesFiniteDifferencesInInitAndAlpha() {
    MetaSgd m = new MetaSgd(mlp, 2, 0.3, Order.SECOND);
    Params p = m.initMetaParams(mlp.init(new Rng(3), D), new Rng(4));
    // Distinct step sizes per element, so a mix-up of alpha tensors would show.
    p = p.map(t -> t).with("alpha.body.weight", Tensor.uniform(new Rng(5), 0.1, 0.6, D, 4, 3));
    MetaGradCheck.Report r = MetaGradCheck.verify(m, p, task(6), MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isTrue();
    assertThat(r.entries()).hasSize(8);
  }

  @Test
  void firstOrderStillLearnsAlpha() {
    MetaSgd m = new MetaSgd(mlp, 1, 0.3, Order.FIRST);
    Params p = m.initMetaParams(mlp.init(new Rng(3), D), new Rng(4)).requiresGrad(true);
    List<Tensor> g = m.metaGradient(p, task(6));
    int alphaIndex = p.names().indexOf("alpha.head.weight");
    assertThat(Fixtures.maxAbs(g.get(alphaIndex))).isGreaterThan(1e-6);
  }

  @Test
  void equalsMamlWhenAlphaIsConstant() {
    Params base = mlp.init(new Rng(7), D);
    MetaSgd m = new MetaSgd(mlp, 2, 0.5, Order.SECOND);
    Params p = m.initMetaParams(base, new Rng(8)).requiresGrad(true);
    Task t = task(9);
    double msgd = m.metaLoss(p, t).lossValue();
    double maml = new Maml(mlp, 2, 0.5, Order.SECOND).metaLoss(base.requiresGrad(true), t).lossValue();
    assertThat(msgd).isCloseTo(maml, org.assertj.core.data.Offset.offset(1e-12));
  }

  @Test
  void metaLossDecreasesAndAdaptWorks() {
    MetaSgd m = new MetaSgd(mlp, 1, 0.4, Order.SECOND);
    Params p = m.initMetaParams(mlp.init(new Rng(10), D), new Rng(11));
    double[] ba = Fixtures.trainLoss(m, p, List.of(task(12), task(13)), 8, 0.3);
    assertThat(ba[1]).isLessThan(ba[0] * 0.8);
    Params adapted = m.adapt(p, task(12));
    assertThat(adapted.names()).doesNotContain("alpha.head.weight");
    Tensor out = m.predict(adapted, task(12).queryX());
    assertThat(out.shape()).containsExactly(4, 2);
    assertThat(m.evaluate(p, task(12))).isBetween(0.0, 1.0);
    assertThat(mlp.apply(adapted, task(12).queryX(), Mode.train()).shape()).containsExactly(4, 2);
  }

  @Test
  void missingAlphaIsReported() {
    MetaSgd m = new MetaSgd(mlp, 1, 0.4, Order.SECOND);
    assertThatThrownBy(() -> m.metaLoss(mlp.init(new Rng(1), D).requiresGrad(true), task(2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alpha.body.weight");
  }
}
