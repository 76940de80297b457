package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.GradCheck;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.nn.Params;

class MannTest {
  private static final DType D = DType.FLOAT64;

  /** A tiny episode batch: T = 6 steps of 2 episodes, 3 classes, 4-pixel "images". */
  private static Mann.Batch tinyBatch(Mann.Labels labels) {
    Rng rng = new Rng(17);
    int[][] ys = {{0, 1, 0, 2, 1, 0}, {2, 2, 1, 0, 1, 2}};
    int[][] codes = labels == Mann.Labels.ONE_HOT ? new int[][] {{0, 1, 2}, {0, 1, 2}}
        : new int[][] {{7, 1201, 3124}, {0, 55, 2000}};
    int[][] inst = new int[2][6];
    for (int e = 0; e < 2; e++) {
      int[] seen = new int[3];
      for (int s = 0; s < 6; s++) {
        inst[e][s] = ++seen[ys[e][s]];
      }
    }
    return new Mann.Batch(Tensor.randn(rng, D, 6, 2, 4), ys, codes, inst);
  }

  private static Mann tiny(Mann.Controller c, Mann.Labels labels) {
    return new Mann(new Mann.Config(c, labels, 4, 3, 3, 5, 2, 2, 0.9));
  }

  private static Tensor lossAt(Mann m, Params p0, List<Tensor> values, Mann.Batch b) {
    Params p = p0;
    List<String> names = p0.names();
    for (int i = 0; i < names.size(); i++) {
      p = p.with(names.get(i), values.get(i));
    }
    return m.run(p, b).loss();
  }

  @Test
  void mannEpisodeLossGradcheckOrders1And2() {
    Mann m = tiny(Mann.Controller.MANN, Mann.Labels.ONE_HOT);
    Params p0 = m.init(new Rng(3), D);
    assertThat(p0.names()).contains("controller.layer0.weight_ih", "keys.weight", "gate.bias", "strength.weight",
        "out.weight");
    Mann.Batch b = tinyBatch(Mann.Labels.ONE_HOT);
    // Every parameter of the controller, the memory heads and the output: the full meta-gradient, and its
    // Hessian-vector products (the engine differentiates the unrolled recurrence twice).
    GradCheck.assertOrders12(v -> lossAt(m, p0, v, b), p0.values());
  }

  @Test
  void stringLabelsAndBaselinesGradcheckOrder1() {
    for (Mann.Controller c : Mann.Controller.values()) {
      for (Mann.Labels l : Mann.Labels.values()) {
        if (c == Mann.Controller.MANN && l == Mann.Labels.ONE_HOT) {
          continue;   // checked at orders 1 and 2 above
        }
        Mann m = tiny(c, l);
        Params p0 = m.init(new Rng(5), D);
        Mann.Batch b = tinyBatch(l);
        GradCheck.Report r = GradCheck.check(v -> lossAt(m, p0, v, b), p0.values(), 1);
        assertThat(r.passed()).as(c + " " + l + ": " + r).isTrue();
      }
    }
  }

  @Test
  void labelsArePresentedOneStepLate() {
    // The prediction at step t may depend on the labels of steps < t only: the logits' gradient with respect to a
    // parameter does not change when the label of the last step changes, but the loss does.
    Mann m = tiny(Mann.Controller.MANN, Mann.Labels.ONE_HOT);
    Params p = m.init(new Rng(4), D);
    Mann.Batch b = tinyBatch(Mann.Labels.ONE_HOT);
    int[][] ys2 = {b.labels()[0].clone(), b.labels()[1].clone()};
    ys2[0][5] = 1;   // episode 0, last step: class 0 -> 1
    int[][] inst2 = {b.instance()[0].clone(), b.instance()[1].clone()};
    Mann.Batch b2 = new Mann.Batch(b.x(), ys2, b.codes(), inst2);
    Mann.Run r1 = m.run(p, b);
    Mann.Run r2 = m.run(p, b2);
    assertThat(r2.loss().item()).isNotEqualTo(r1.loss().item());
    // Steps 0..5 see the same inputs, so the same predictions; only the target of step 5 changed.
    for (int s = 0; s < 5; s++) {
      assertThat(r2.correct()[0][s]).isEqualTo(r1.correct()[0][s]);
    }
    // Changing the label of step 2 changes what later steps see.
    int[][] ys3 = {b.labels()[0].clone(), b.labels()[1].clone()};
    ys3[1][2] = 2;
    Mann.Run r3 = m.run(p, new Mann.Batch(b.x(), ys3, b.codes(), inst2));
    assertThat(r3.loss().item()).isNotEqualTo(r1.loss().item());
  }

  @Test
  void leastUsedSlotsAreTheSmallestUsagesWithLowestIndexTies() {
    double[] v = {9, 0.5, 0.5, 3, Double.NaN, 0.1, 7, 7};
    assertThat(Mann.smallest(v, 0, 8, 3)).containsExactly(5, 1, 2);
    assertThat(Mann.smallest(v, 4, 4, 2)).containsExactly(1, 2);   // NaN sorts last
    assertThat(Mann.smallest(new double[4], 0, 4, 2)).containsExactly(0, 1);
  }

  @Test
  void gradientReachesEveryParameterAndTheTrainingModeIsDeterministic() {
    Mann m = new Mann(Mann.Config.paper(4, 3).hidden(6).memory(8, 3, 2));
    Params p = m.init(new Rng(8), DType.FLOAT32).requiresGrad(true);
    Mann.Batch b = tinyBatch(Mann.Labels.ONE_HOT);
    MetaStep s = m.loss(p, b);
    List<Tensor> g = Autograd.grad(s.loss(), p.values(), GradOptions.defaults());
    List<String> zero = new ArrayList<>();
    for (int i = 0; i < g.size(); i++) {
      if (g.get(i).abs().sum().item() == 0) {
        zero.add(p.names().get(i));
      }
    }
    assertThat(zero).as("parameters without gradient").isEmpty();
    assertThat(m.loss(p, b).lossValue()).isEqualTo(s.lossValue());
    assertThat(s.accuracy()).isBetween(0.0, 1.0);
  }

  @Test
  void badConfigurationsAndBatchesAreReportedClearly() {
    assertThatThrownBy(() -> Mann.Config.paper(400, 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("classes per episode");
    assertThatThrownBy(() -> Mann.Config.paper(400, 5).memory(2, 40, 4))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4 read heads");
    assertThatThrownBy(() -> Mann.Config.paper(400, 5).gamma(1.5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gamma");
    assertThatThrownBy(() -> Mann.Controller.parse("gru")).hasMessageContaining("known: mann, lstm");
    assertThat(Mann.Controller.parse("lstm-only")).isEqualTo(Mann.Controller.LSTM);
    assertThat(Mann.Labels.parse("one-hot")).isEqualTo(Mann.Labels.ONE_HOT);
    Mann m = tiny(Mann.Controller.MANN, Mann.Labels.ONE_HOT);
    Params p = m.init(new Rng(1), D);
    Mann.Batch b = tinyBatch(Mann.Labels.ONE_HOT);
    assertThatThrownBy(() -> m.run(p, new Mann.Batch(Tensor.zeros(D, 6, 2, 5), b.labels(), b.codes(),
        b.instance()))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("5 features");
    int[][] bad = {{0, 1, 0, 3, 1, 0}, b.labels()[1]};
    assertThatThrownBy(() -> m.run(p, new Mann.Batch(b.x(), bad, b.codes(), b.instance())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("label 3 at step 3");
    assertThatThrownBy(() -> new Mann.Batch(b.x(), new int[][] {b.labels()[0]}, b.codes(), b.instance()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 episodes");
  }
}
