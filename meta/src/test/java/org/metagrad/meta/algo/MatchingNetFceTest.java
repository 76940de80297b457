package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.GradCheck;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

/** Matching Networks with full-context embeddings (bidirectional support LSTM, attention query LSTM). */
class MatchingNetFceTest {
  private static final DType D = DType.FLOAT64;
  private final Fixtures.Embed embed = new Fixtures.Embed(3, 4);

  private Task task(long seed) {
    return Fixtures.clusterTask(new Rng(seed), 3, 2, 2, new int[] {3}, D, 0.8);
  }

  private static Params init(MatchingNet mn, Fixtures.Embed e, long seed) {
    Rng rng = new Rng(seed);
    return mn.initMetaParams(e.init(rng, D), rng);
  }

  @Test
  void parametersShapesAndNormalisedLogProbabilities() {
    MatchingNet mn = new MatchingNet(embed, 2.0).withFce(4, 3);
    assertThat(mn.fce()).isTrue();
    assertThat(mn.fceSteps()).isEqualTo(3);
    Params p = init(mn, embed, 1);
    assertThat(p.names()).contains("features.weight", "fce.g.fwd.weight_ih", "fce.g.fwd.bias_hh",
        "fce.g.bwd.weight_hh", "fce.f.weight_ih", "fce.f.bias_ih");
    assertThat(p.get("fce.g.fwd.weight_ih").shape()).containsExactly(16, 4);
    assertThat(p.get("fce.f.weight_ih").shape()).containsExactly(16, 8);
    assertThat(p.get("fce.f.weight_hh").shape()).containsExactly(16, 4);
    assertThat(p.get("fce.f.weight_ih").dtype()).isEqualTo(D);
    Task t = task(2);
    Tensor z = embed.apply(p, t.supportX(), null);
    Tensor g = mn.contextSupport(p, z);
    assertThat(g.shape()).containsExactly(6, 4);
    Tensor f = mn.contextQuery(p, embed.apply(p, t.queryX(), null), g);
    assertThat(f.shape()).containsExactly(6, 4);
    Tensor logp = mn.predict(mn.adapt(p, t), t.queryX());
    assertThat(logp.shape()).containsExactly(6, 3);
    for (double s : logp.exp().sum(1, false).toDoubleArray()) {
      assertThat(s).isCloseTo(1.0, Offset.offset(1e-12));
    }
    // The meta-loss is the NLL of the same log-probabilities.
    double nll = 0;
    double[] lp = logp.toDoubleArray();
    for (int i = 0; i < 6; i++) {
      nll -= lp[i * 3 + t.queryY()[i]];
    }
    Params pg = p.requiresGrad(true);
    assertThat(mn.metaLoss(pg, t).lossValue()).isCloseTo(nll / 6, Offset.offset(1e-12));
    assertThat(mn.evaluate(pg, t)).isEqualTo(mn.metaLoss(pg, t).accuracy());
    assertThat(mn.toString()).contains("FCE").contains("3 read steps");
  }

  @Test
  void queriesAreEmbeddedIndependentlyButSupportOrderMatters() {
    MatchingNet mn = new MatchingNet(embed, 2.0).withFce(4, 2);
    Params p = init(mn, embed, 3);
    Task t = task(4);
    Params a = mn.adapt(p, t);
    Tensor all = mn.predict(a, t.queryX());
    Tensor one = mn.predict(a, t.queryX().slice(0, 2, 3));
    assertThat(Fixtures.maxAbsDiff(one, all.slice(0, 2, 3))).isLessThan(1e-12);
    // Reversing the support order changes the bidirectional-LSTM support embeddings.
    Tensor z = embed.apply(p, t.supportX(), null);
    int[] rev = {5, 4, 3, 2, 1, 0};
    List<Tensor> rows = new java.util.ArrayList<>();
    for (int i : rev) {
      rows.add(z.slice(0, i, i + 1));
    }
    Tensor gRev = mn.contextSupport(p, Tensor.concat(rows, 0));
    Tensor g = mn.contextSupport(p, z);
    assertThat(Fixtures.maxAbsDiff(gRev.slice(0, 0, 1), g.slice(0, 5, 6))).isGreaterThan(1e-6);
  }

  @Test
  void fceOffIsTheOriginalMatchingNet() {
    MatchingNet off = new MatchingNet(embed, 3.0);
    assertThat(off.fce()).isFalse();
    Params modelParams = embed.init(new Rng(5), D);
    Params p = off.initMetaParams(modelParams, new Rng(6));
    assertThat(p.names()).isEqualTo(modelParams.names());
    Task t = task(7);
    // Hand-written original: softmax(s cos(f(x), f(x_i))) @ one-hot, NLL.
    Tensor z = embed.apply(p, t.supportX(), null);
    Tensor q = embed.apply(p, t.queryX(), null);
    double[] probs = F.softmax(F.cosineSimilarity(q, z, 1e-8).mul(3.0), 1).matmul(t.supportOneHot())
        .toDoubleArray();
    double nll = 0;
    for (int i = 0; i < 6; i++) {
      nll -= Math.log(probs[i * 3 + t.queryY()[i]]);
    }
    assertThat(off.metaLoss(p.requiresGrad(true), t).lossValue()).isCloseTo(nll / 6, Offset.offset(1e-12));
    assertThat(off.toString()).contains("no FCE");
    // The same configuration built twice gives bit-identical losses (nothing random at loss time).
    assertThat(new MatchingNet(embed, 3.0).metaLoss(p.requiresGrad(true), t).lossValue())
        .isEqualTo(off.metaLoss(p.requiresGrad(true), t).lossValue());
  }

  @Test
  void metaGradientOfAllParametersMatchesFiniteDifferences() {
    MatchingNet mn = new MatchingNet(embed, 3.0).withFce(4, 2);
    MetaGradCheck.Report r = MetaGradCheck.verify(mn, init(mn, embed, 8), task(9),
        MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isTrue();
  }

  @Test
  void lossGradcheckOrders1And2OnATinySetting() {
    Fixtures.Embed small = new Fixtures.Embed(3, 2);
    MatchingNet mn = new MatchingNet(small, 2.0).withFce(2, 2);
    Params p0 = init(mn, small, 10);
    List<String> names = p0.names();
    Task t = Fixtures.clusterTask(new Rng(11), 2, 2, 1, new int[] {3}, D, 0.8);
    GradCheck.assertOrders12(in -> {
      Params p = p0;
      for (int i = 0; i < names.size(); i++) {
        p = p.with(names.get(i), in.get(i));
      }
      return mn.metaLoss(p, t).loss();
    }, p0.values());
  }

  @Test
  void lossFallsWhenTraining() {
    MatchingNet mn = new MatchingNet(embed, 5.0).withFce(4, 2);
    double[] ba = Fixtures.trainLoss(mn, init(mn, embed, 12), List.of(task(13), task(14)), 15, 0.3);
    assertThat(ba[1]).isLessThan(0.8 * ba[0]);
  }

  @Test
  void badConfigurationsAreRejectedClearly() {
    MatchingNet mn = new MatchingNet(embed, 1.0);
    assertThatThrownBy(() -> mn.withFce(4, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("read steps").hasMessageContaining(">= 1");
    assertThatThrownBy(() -> mn.withFce(0, 3)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dimension");
    MatchingNet fce = mn.withFce(4, 3);
    Params noFce = embed.init(new Rng(1), D).requiresGrad(true);
    assertThatThrownBy(() -> fce.metaLoss(noFce, task(2))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("initMetaParams");
    MatchingNet wrongDim = mn.withFce(5, 3);
    assertThatThrownBy(() -> wrongDim.metaLoss(init(wrongDim, embed, 1).requiresGrad(true), task(2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected [n, 5]");
    assertThatThrownBy(() -> fce.initMetaParams(Params.of("fce.x", Tensor.zeros(D, 1)), new Rng(1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
  }
}
