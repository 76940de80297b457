package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

class ProtoMamlTest {
  private static final DType D = DType.FLOAT64;
  private final Fixtures.Embed embed = new Fixtures.Embed(3, 4);

  private Task task(long seed) {
    return Fixtures.clusterTask(new Rng(seed), 2, 2, 2, new int[] {3}, D, 0.8);
  }

  @Test
  void withoutInnerStepsItIsAPrototypicalNetwork() {
    Params p = embed.init(new Rng(1), D).requiresGrad(true);
    Task t = task(2);
    ProtoMaml pm = new ProtoMaml(embed, 0, 0.1, Order.SECOND, ProtoMaml.Scope.ALL);
    double a = pm.metaLoss(p, t).lossValue();
    double b = ProtoNet.euclidean(embed).metaLoss(p, t).lossValue();
    assertThat(a).isCloseTo(b, Offset.offset(1e-12));
    Params init = pm.initHead(p, t);
    Tensor c = ProtoNet.euclidean(embed).prototypes(p, t);
    assertThat(Fixtures.maxAbsDiff(init.get(ProtoMaml.HEAD_WEIGHT), c.mul(2))).isLessThan(1e-15);
  }

  @Test
  void secondOrderHeadOnlyMatchesFiniteDifferences() {
    ProtoMaml pm = new ProtoMaml(embed, 2, 0.5, Order.SECOND, ProtoMaml.Scope.HEAD);
    MetaGradCheck.Report r = MetaGradCheck.verify(pm, embed.init(new Rng(3), D), task(4),
        MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isTrue();
  }

  @Test
  void secondOrderAllParametersMatchesFiniteDifferences() {
    ProtoMaml pm = new ProtoMaml(embed, 2, 0.5, Order.SECOND, ProtoMaml.Scope.ALL);
    MetaGradCheck.Report r = MetaGradCheck.verify(pm, embed.init(new Rng(5), D), task(6),
        MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isTrue();
  }

  @Test
  void firstOrderDiffersButKeepsThePrototypePath() {
    Params p = embed.init(new Rng(7), D).requiresGrad(true);
    Task t = task(8);
    List<Tensor> g2 = new ProtoMaml(embed, 2, 0.5, Order.SECOND, ProtoMaml.Scope.HEAD).metaGradient(p, t);
    List<Tensor> g1 = new ProtoMaml(embed, 2, 0.5, Order.FIRST, ProtoMaml.Scope.HEAD).metaGradient(p, t);
    assertThat(Fixtures.maxAbsDiff(g1.get(0), g2.get(0))).isGreaterThan(1e-6);
    assertThat(Fixtures.maxAbs(g1.get(0))).isGreaterThan(1e-6);
  }

  @Test
  void metaLossDecreasesAndEvaluates() {
    ProtoMaml pm = new ProtoMaml(embed, 1, 0.3, Order.SECOND, ProtoMaml.Scope.ALL);
    double[] ba = Fixtures.trainLoss(pm, embed.init(new Rng(9), D), List.of(task(10), task(11)), 8, 0.2);
    assertThat(ba[1]).isLessThan(ba[0]);
    Params adapted = pm.adapt(embed.init(new Rng(9), D), task(10));
    assertThat(adapted.get(ProtoMaml.HEAD_WEIGHT).shape()).containsExactly(2, 4);
    assertThat(pm.evaluate(embed.init(new Rng(9), D), task(10))).isBetween(0.0, 1.0);
  }
}
