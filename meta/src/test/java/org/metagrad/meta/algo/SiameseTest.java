package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.GradCheck;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

class SiameseTest {
  private static final DType D = DType.FLOAT64;
  private final Fixtures.Embed embed = new Fixtures.Embed(3, 4);

  private Task task(long seed) {
    return Fixtures.clusterTask(new Rng(seed), 3, 1, 2, new int[] {3}, D, 0.5);
  }

  @Test
  void bceWithLogitsIsStableAndCorrect() {
    Tensor z = Tensor.of(new double[] {-800, -2, 0, 0.5, 800}, 5);
    Tensor y = Tensor.of(new double[] {0, 1, 1, 0, 1}, 5);
    double[] got = Siamese.bceWithLogits(z, y).toDoubleArray();
    double[] zs = {-800, -2, 0, 0.5, 800};
    double[] ys = {0, 1, 1, 0, 1};
    for (int i = 1; i < 4; i++) {
      double p = 1 / (1 + Math.exp(-zs[i]));
      double naive = -(ys[i] * Math.log(p) + (1 - ys[i]) * Math.log(1 - p));
      assertThat(got[i]).isCloseTo(naive, Offset.offset(1e-12));
    }
    assertThat(got[0]).isEqualTo(0.0);
    assertThat(got[4]).isEqualTo(0.0);
    Tensor zBad = Tensor.of(new double[] {-800, 800}, 2);
    Tensor yBad = Tensor.of(new double[] {1, 0}, 2);
    assertThat(Siamese.bceWithLogits(zBad, yBad).toDoubleArray()).containsExactly(800, 800);
    GradCheck.Report r = GradCheck.check(xs -> Siamese.bceWithLogits(xs.get(0), Tensor.of(new double[] {0, 1, 0.3}, 3)),
        List.of(Tensor.of(new double[] {-1.3, 0.7, 2.1}, 3)), 2);
    assertThat(r.passed()).as(r.toString()).isTrue();
  }

  @Test
  void pairLossGradientMatchesGradCheck() {
    Siamese s = new Siamese(embed, 4);
    Params p = s.initMetaParams(embed.init(new Rng(1), D), new Rng(2));
    Tensor xa = Tensor.randn(new Rng(3), D, 4, 3);
    Tensor xb = Tensor.randn(new Rng(4), D, 4, 3);
    int[] same = {1, 0, 0, 1};
    List<String> names = p.names();
    GradCheck.Report r = GradCheck.check(xs -> {
      Params q = Params.empty();
      for (int i = 0; i < names.size(); i++) {
        q = q.with(names.get(i), xs.get(i));
      }
      return s.pairLoss(q, xa, xb, same);
    }, p.values(), 1);
    assertThat(r.passed()).as(r.toString()).isTrue();
    Tensor prob = s.verify(p, xa, xb);
    assertThat(prob.shape()).containsExactly(4);
    for (double v : prob.toDoubleArray()) {
      assertThat(v).isBetween(0.0, 1.0);
    }
  }

  @Test
  void taskLossGradientMatchesFiniteDifferences() {
    Siamese s = new Siamese(embed, 4);
    Params p = s.initMetaParams(embed.init(new Rng(5), D), new Rng(6));
    MetaGradCheck.Report r = MetaGradCheck.verify(s, p, task(7), MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isTrue();
    assertThat(r.entries()).extracting(MetaGradCheck.Entry::name).contains(Siamese.WEIGHT, Siamese.BIAS);
  }

  @Test
  void oneShotClassificationPicksTheMostSimilarSupportImage() {
    Siamese s = new Siamese(embed, 4);
    Params p = s.initMetaParams(embed.init(new Rng(8), D), new Rng(9));
    // Negative weights: the logit falls with the L1 distance, so the nearest support image wins.
    p = p.with(Siamese.WEIGHT, Tensor.full(-1, D, 1, 4));
    Task t = task(10);
    Params adapted = s.adapt(p, t);
    Tensor scores = s.predict(adapted, t.queryX());
    Tensor zq = embed.apply(p, t.queryX(), null);
    Tensor zs = embed.apply(p, t.supportX(), null);
    double[] sc = scores.toDoubleArray();
    for (int i = 0; i < t.querySize(); i++) {
      int nearest = 0;
      double best = Double.MAX_VALUE;
      for (int j = 0; j < t.supportSize(); j++) {
        double d = zq.select(0, i).sub(zs.select(0, j)).abs().sum().item();
        if (d < best) {
          best = d;
          nearest = j;
        }
      }
      int arg = 0;
      for (int c = 1; c < 3; c++) {
        if (sc[i * 3 + c] > sc[i * 3 + arg]) {
          arg = c;
        }
      }
      assertThat(arg).isEqualTo(t.supportY()[nearest]);
    }
  }

  @Test
  void lossDecreases() {
    Siamese s = new Siamese(embed, 4);
    Params p = s.initMetaParams(embed.init(new Rng(11), D), new Rng(12));
    double[] ba = Fixtures.trainLoss(s, p, List.of(task(13), task(14)), 10, 0.5);
    assertThat(ba[1]).isLessThan(ba[0]);
    assertThat(s.evaluate(p, task(13))).isBetween(0.0, 1.0);
  }

  @Test
  void badTargetsAreRejected() {
    Siamese s = new Siamese(embed, 4);
    Params p = s.initMetaParams(embed.init(new Rng(1), D), new Rng(2));
    Tensor x = Tensor.randn(new Rng(3), D, 2, 3);
    assertThatThrownBy(() -> s.pairLoss(p, x, x, new int[] {2, 0})).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Siamese(embed, 5).metaLoss(p.requiresGrad(true), task(1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("features");
    assertThat(Autograd.isEnabled()).isTrue();
  }
}
