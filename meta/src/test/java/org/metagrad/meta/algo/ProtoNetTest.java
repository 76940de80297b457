package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.RegressionTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

class ProtoNetTest {
  private static final DType D = DType.FLOAT64;
  private final Fixtures.Embed embed = new Fixtures.Embed(3, 4);

  private Task task(long seed) {
    return Fixtures.clusterTask(new Rng(seed), 3, 2, 2, new int[] {3}, D, 0.8);
  }

  @Test
  void prototypesAreClassMeans() {
    Params p = embed.init(new Rng(1), D);
    Task t = task(2);
    Tensor z = embed.apply(p, t.supportX(), null);
    Tensor c = ProtoNet.euclidean(embed).prototypes(p, t);
    // Two shots per class, class-major: rows 2k and 2k+1 belong to class k.
    for (int k = 0; k < 3; k++) {
      for (int d = 0; d < 4; d++) {
        assertThat(c.get(k, d)).isCloseTo((z.get(2 * k, d) + z.get(2 * k + 1, d)) / 2,
            org.assertj.core.data.Offset.offset(1e-12));
      }
    }
  }

  @Test
  void euclideanLossGradientMatchesFiniteDifferences() {
    MetaGradCheck.Report r = MetaGradCheck.verify(ProtoNet.euclidean(embed), embed.init(new Rng(3), D), task(4),
        MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isTrue();
  }

  @Test
  void cosineWithLearnedScaleMatchesFiniteDifferences() {
    ProtoNet pn = ProtoNet.cosine(embed, 5, ProtoNet.Scale.LEARNED);
    Params p = pn.initMetaParams(embed.init(new Rng(5), D), new Rng(6));
    assertThat(p.get(ProtoNet.SCALE).toDoubleArray()).containsExactly(5.0);
    MetaGradCheck.Report r = MetaGradCheck.verify(pn, p, task(7), MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isTrue();
    assertThat(r.relError(ProtoNet.SCALE)).isLessThan(1e-5);
  }

  @Test
  void lossDecreasesAndEvaluationMatchesTraining() {
    ProtoNet pn = ProtoNet.euclidean(embed);
    List<Task> tasks = List.of(task(8), task(9));
    double[] ba = Fixtures.trainLoss(pn, embed.init(new Rng(10), D), tasks, 10, 0.2);
    assertThat(ba[1]).isLessThan(ba[0]);
    Params p = embed.init(new Rng(10), D).requiresGrad(true);
    Task t = task(8);
    MetaStep s = pn.metaLoss(p, t);
    assertThat(pn.evaluate(p, t)).isEqualTo(s.accuracy());
    Params adapted = pn.adapt(p, t);
    assertThat(adapted.get(ProtoNet.PROTOTYPES).shape()).containsExactly(3, 4);
    assertThat(t.queryLoss(pn.predict(adapted, t.queryX())).item())
        .isCloseTo(s.lossValue(), org.assertj.core.data.Offset.offset(1e-12));
  }

  /** Centred: logits are -|(q - mean q) - (c - mean c)|^2, computed here by hand; training is unchanged. */
  @Test
  void centredSetsCompareMeanFreeEmbeddings() {
    Params p = embed.init(new Rng(11), D);
    Task t = task(12);
    ProtoNet plain = ProtoNet.euclidean(embed);
    ProtoNet centred = plain.centered(true);
    assertThat(centred.isCentered()).isTrue();
    assertThat(plain.isCentered()).isFalse();
    assertThat(centred.toString()).contains("centred");
    Tensor c = plain.prototypes(p, t);
    Tensor z = embed.apply(p, t.queryX(), null);
    int n = z.size(0);
    double[] cm = new double[4];
    double[] zm = new double[4];
    for (int d = 0; d < 4; d++) {
      for (int k = 0; k < 3; k++) {
        cm[d] += c.get(k, d) / 3;
      }
      for (int i = 0; i < n; i++) {
        zm[d] += z.get(i, d) / n;
      }
    }
    Tensor logits = centred.predict(centred.adapt(p, t), t.queryX());
    assertThat(logits.shape()).containsExactly(n, 3);
    boolean differs = false;
    Tensor plainLogits = plain.predict(plain.adapt(p, t), t.queryX());
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < 3; k++) {
        double sq = 0;
        for (int d = 0; d < 4; d++) {
          double diff = (z.get(i, d) - zm[d]) - (c.get(k, d) - cm[d]);
          sq += diff * diff;
        }
        assertThat(logits.get(i, k)).isCloseTo(-sq, org.assertj.core.data.Offset.offset(1e-10));
        differs |= Math.abs(logits.get(i, k) - plainLogits.get(i, k)) > 1e-6;
      }
    }
    assertThat(differs).isTrue();
    // training's loss does not centre
    Params g = p.requiresGrad(true);
    assertThat(centred.metaLoss(g, t).lossValue()).isEqualTo(plain.metaLoss(g, t).lossValue());
    // one input alone would be erased by centring
    assertThatThrownBy(() -> centred.predict(centred.adapt(p, t), t.queryX().slice(0, 0, 1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 2 inputs");
  }

  @Test
  void regressionTasksAreRejected() {
    RegressionTask r = RegressionTask.sine(new Rng(1), 3, 3, D);
    assertThatThrownBy(() -> ProtoNet.euclidean(new Fixtures.Embed(1, 2)).metaLoss(
        new Fixtures.Embed(1, 2).init(new Rng(1), D).requiresGrad(true), r))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("classification");
  }
}
