package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

class MatchingNetTest {
  private static final DType D = DType.FLOAT64;
  private final Fixtures.Embed embed = new Fixtures.Embed(3, 4);

  private Task task(long seed) {
    return Fixtures.clusterTask(new Rng(seed), 3, 2, 2, new int[] {3}, D, 0.8);
  }

  @Test
  void classProbabilitiesAreAttentionWeightedLabels() {
    Params p = embed.init(new Rng(1), D);
    Task t = task(2);
    MatchingNet mn = new MatchingNet(embed, 2.0);
    Tensor z = embed.apply(p, t.supportX(), null);
    Tensor q = embed.apply(p, t.queryX(), null);
    Tensor logp = mn.classLogProbs(q, z, t.supportOneHot());
    Tensor attn = F.softmax(F.cosineSimilarity(q, z, 1e-8).mul(2.0), 1);
    Tensor expected = attn.matmul(t.supportOneHot());
    assertThat(Fixtures.maxAbsDiff(logp.exp(), expected)).isLessThan(1e-12);
    double[] rowSums = logp.exp().sum(1, false).toDoubleArray();
    for (double s : rowSums) {
      assertThat(s).isCloseTo(1.0, Offset.offset(1e-12));
    }
  }

  @Test
  void lossGradientMatchesFiniteDifferences() {
    MetaGradCheck.Report r = MetaGradCheck.verify(new MatchingNet(embed, 3.0), embed.init(new Rng(3), D), task(4),
        MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isTrue();
  }

  @Test
  void lossDecreasesAndEvaluationMatchesTraining() {
    MatchingNet mn = new MatchingNet(embed, 5.0);
    double[] ba = Fixtures.trainLoss(mn, embed.init(new Rng(5), D), List.of(task(6), task(7)), 10, 0.3);
    assertThat(ba[1]).isLessThan(ba[0]);
    Params p = embed.init(new Rng(5), D).requiresGrad(true);
    assertThat(mn.evaluate(p, task(6))).isEqualTo(mn.metaLoss(p, task(6)).accuracy());
  }

  @Test
  void badScaleIsRejected() {
    assertThatThrownBy(() -> new MatchingNet(embed, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
