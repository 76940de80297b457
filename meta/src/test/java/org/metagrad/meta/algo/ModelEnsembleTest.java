package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

class ModelEnsembleTest {
  private static final DType D = DType.FLOAT64;
  private static final int H = 4;
  private static final int W = 5;
  // Two members of different embedding widths: each can only run on its own parameters.
  private final Fixtures.Embed embedA = new Fixtures.Embed(H * W, 3);
  private final Fixtures.Embed embedB = new Fixtures.Embed(H * W, 5);
  private final ProtoNet pnA = ProtoNet.euclidean(embedA);
  private final ProtoNet pnB = ProtoNet.euclidean(embedB);

  private Task task(long seed) {
    return Fixtures.clusterTask(new Rng(seed), 3, 2, 2, new int[] {1, H, W}, D, 0.5);
  }

  /** log-softmax of each row of a [rows, cols] array, in double, by its definition. */
  private static double[] logSoftmaxRows(double[] x, int cols) {
    double[] out = new double[x.length];
    for (int r = 0; r < x.length / cols; r++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < cols; c++) {
        max = Math.max(max, x[r * cols + c]);
      }
      double sum = 0;
      for (int c = 0; c < cols; c++) {
        sum += Math.exp(x[r * cols + c] - max);
      }
      for (int c = 0; c < cols; c++) {
        out[r * cols + c] = x[r * cols + c] - max - Math.log(sum);
      }
    }
    return out;
  }

  private static double[] logits(FewShotLearner l, Params p, Task t) {
    return l.predict(l.adapt(p, t), t.queryX()).toDoubleArray();
  }

  @Test
  void outputIsTheMeanOfTheMembersLogProbabilitiesEachOnItsOwnParameters() {
    Params pa = embedA.init(new Rng(2), D);
    Params pb = embedB.init(new Rng(3), D);
    ModelEnsemble both = ModelEnsemble.of(List.of(pnA, pnB));
    Params joined = ModelEnsemble.params(List.of(pa, pb));
    assertThat(joined.names()).allMatch(n -> n.startsWith("m0.") || n.startsWith("m1."));
    assertThat(joined.size()).isEqualTo(pa.size() + pb.size());
    for (long seed = 4; seed < 8; seed++) {
      Task t = task(seed);
      double[] a = logSoftmaxRows(logits(pnA, pa, t), 3);
      double[] b = logSoftmaxRows(logits(pnB, pb, t), 3);
      double[] got = logits(both, joined, t);
      assertThat(got).hasSize(a.length);
      for (int i = 0; i < got.length; i++) {
        assertThat(got[i]).as("seed %d, element %d", seed, i).isCloseTo((a[i] + b[i]) / 2, Offset.offset(1e-12));
      }
      // Not either member alone.
      assertThat(got).isNotEqualTo(a).isNotEqualTo(b);
      // Accuracy is that of the combined output.
      double acc = t.queryAccuracy(Tensor.of(got, D, got.length / 3, 3));
      assertThat(both.evaluate(joined, t)).isEqualTo(acc);
    }
  }

  @Test
  void oneMemberClassifiesLikeThatMember() {
    Params pa = embedA.init(new Rng(9), D);
    ModelEnsemble one = ModelEnsemble.of(List.of(pnA));
    Params joined = ModelEnsemble.params(List.of(pa));
    for (long seed = 10; seed < 14; seed++) {
      Task t = task(seed);
      double[] want = logSoftmaxRows(logits(pnA, pa, t), 3);
      double[] got = logits(one, joined, t);
      for (int i = 0; i < got.length; i++) {
        assertThat(got[i]).isCloseTo(want[i], Offset.offset(1e-12));
      }
      assertThat(one.evaluate(joined, t)).isEqualTo(pnA.evaluate(pa, t));
    }
  }

  @Test
  void composesWithTheShiftEnsemble() {
    Params pa = embedA.init(new Rng(15), D);
    Params pb = embedB.init(new Rng(16), D);
    Params joined = ModelEnsemble.params(List.of(pa, pb));
    Task t = task(17);
    // A shift ensemble of radius 0 around the model ensemble is the model ensemble exactly.
    FewShotLearner both = ModelEnsemble.of(List.of(pnA, pnB));
    assertThat(logits(ShiftEnsemble.of(both, 0), joined, t)).containsExactly(logits(both, joined, t));
    // Members that are shift ensembles themselves: each member's output is its 9-view mean.
    ModelEnsemble shifted = ModelEnsemble.of(List.of(ShiftEnsemble.of(pnA, 1), ShiftEnsemble.of(pnB, 1)));
    double[] a = logSoftmaxRows(logits(ShiftEnsemble.of(pnA, 1), pa, t), 3);
    double[] b = logSoftmaxRows(logits(ShiftEnsemble.of(pnB, 1), pb, t), 3);
    double[] got = logits(shifted, joined, t);
    for (int i = 0; i < got.length; i++) {
      assertThat(got[i]).isCloseTo((a[i] + b[i]) / 2, Offset.offset(1e-12));
    }
  }

  @Test
  void badInputIsNamed() {
    assertThatThrownBy(() -> ModelEnsemble.of(List.of())).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one member");
    assertThatThrownBy(() -> ModelEnsemble.of(java.util.Arrays.asList(pnA, null)))
        .hasMessageContaining("member 1 is null");
    assertThatThrownBy(() -> ModelEnsemble.params(List.of())).hasMessageContaining("parameters of at least one");
    assertThatThrownBy(() -> ModelEnsemble.params(List.of(embedA.init(new Rng(1), D), Params.empty())))
        .hasMessageContaining("member 1 has no parameters");
    Params pa = embedA.init(new Rng(18), D);
    ModelEnsemble both = ModelEnsemble.of(List.of(pnA, pnB));
    // Parameters of one member only: the second's are missing and named.
    assertThatThrownBy(() -> both.adapt(ModelEnsemble.params(List.of(pa)), task(19)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no parameters under 'm1.'");
    // Raw (unprefixed) parameters are refused, not read as member 0's.
    assertThatThrownBy(() -> both.adapt(pa, task(19))).hasMessageContaining("no parameters under 'm0.'");
    assertThatThrownBy(() -> both.initMetaParams(pa, new Rng(1))).isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("test-time");
    // A member whose outputs are not [n, ways] class logits of the same shape as the others'.
    FewShotLearner wide = new FewShotLearner() {
      @Override
      public Params adapt(Params params, FewShotTask task) {
        return params;
      }

      @Override
      public Tensor predict(Params adapted, Tensor x) {
        return Tensor.zeros(D, x.size(0), 4);
      }
    };
    Params two = ModelEnsemble.params(List.of(pa, pa));
    Task t = task(20);
    ModelEnsemble mismatched = ModelEnsemble.of(List.of(pnA, wide));
    assertThatThrownBy(() -> mismatched.predict(mismatched.adapt(two, t), t.queryX()))
        .hasMessageContaining("member 1 gave logits of shape [6, 4], member 0 [6, 3]");
  }
}
