package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Backbones;
import org.metagrad.nn.BnMode;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;
import org.metagrad.nn.State;

/** The learners on the nn library's conv4 backbone (tiny: 4 channels, 16x16 images). */
class NnIntegrationTest {
  private static final DType D = DType.FLOAT64;

  private static Task task(long seed) {
    return Fixtures.clusterTask(new Rng(seed), 2, 1, 2, new int[] {1, 16, 16}, D, 0.5);
  }

  @Test
  void secondOrderMamlOnConv4MatchesFiniteDifferences() {
    Network net = Backbones.conv4(1, 3, 16, 2, BnMode.BATCH_STATS);
    Maml maml = new Maml(net, 1, 0.2, Order.SECOND);
    MetaGradCheck.Report r = MetaGradCheck.verify(maml, net.init(new Rng(1), D), task(2),
        MetaGradCheck.Options.defaults().maxElementsPerTensor(3).tolerance(1e-4));
    assertThat(r.passed()).as(r.toString()).isTrue();
    assertThat(r.entries().size()).isEqualTo(net.init(new Rng(1), D).size());
  }

  @Test
  void perStepBatchNormKeepsOneStatisticsSetPerInnerStep() {
    Network net = Backbones.conv4(1, 3, 16, 2, BnMode.PER_STEP);
    State state = net.newState(D);
    Anil anil = new Anil(net, 2, 0.2, Order.SECOND).withMode(Mode.train().withState(state));
    MetaStep s = anil.metaLoss(net.init(new Rng(3), D).requiresGrad(true), task(4));
    assertThat(s.lossValue()).isFinite();
    assertThat(state.snapshot().keySet()).anyMatch(k -> k.contains("step1"));
  }

  @Test
  void metricLearnersRunOnTheHeadlessBackbone() {
    Network body = Backbones.conv4(1, 3, 16, 0, BnMode.BATCH_STATS);
    Params p = body.init(new Rng(5), D);
    List<MetaLearner> learners = List.of(ProtoNet.euclidean(body), new MatchingNet(body, 5),
        new ProtoMaml(body, 1, 0.1, Order.SECOND, ProtoMaml.Scope.HEAD), new Siamese(body, body.featureDim()));
    for (MetaLearner l : learners) {
      Params mp = l.initMetaParams(p, new Rng(6));
      double[] ba = Fixtures.trainLoss(l, mp, List.of(task(7)), 3, 0.05);
      assertThat(ba[1]).as(l.toString()).isLessThan(ba[0]);
      assertThat(l.evaluate(mp, task(7))).as(l.toString()).isBetween(0.0, 1.0);
    }
  }
}
