package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.RegressionTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

class ShiftEnsembleTest {
  private static final DType D = DType.FLOAT64;
  private static final int H = 4;
  private static final int W = 5;
  private final Fixtures.Embed embed = new Fixtures.Embed(H * W, 3);

  /** 3-way 2-shot 2-query task of 1 x 4 x 5 images. */
  private Task task(long seed) {
    return Fixtures.clusterTask(new Rng(seed), 3, 2, 2, new int[] {1, H, W}, D, 0.5);
  }

  /** The oracle shift, element by element: out[n, c, i, j] = x[n, c, i - dy, j - dx], 0 outside. */
  private static double[] shifted(double[] x, int n, int c, int h, int w, int dy, int dx) {
    double[] out = new double[x.length];
    for (int b = 0; b < n * c; b++) {
      for (int i = 0; i < h; i++) {
        for (int j = 0; j < w; j++) {
          int si = i - dy;
          int sj = j - dx;
          out[(b * h + i) * w + j] = si >= 0 && si < h && sj >= 0 && sj < w ? x[(b * h + si) * w + sj] : 0;
        }
      }
    }
    return out;
  }

  /** The offsets {dy, dx} in the order of {@link ShiftEnsemble#shiftedViews}: dy outer, dx inner. */
  private static java.util.List<int[]> offsets(int r) {
    java.util.List<int[]> out = new java.util.ArrayList<>();
    for (int dy = -r; dy <= r; dy++) {
      for (int dx = -r; dx <= r; dx++) {
        out.add(new int[] {dy, dx});
      }
    }
    return out;
  }

  @Test
  void shiftMovesTheDrawingAndFillsTheBorderWithZeros() {
    for (DType dt : DType.values()) {
      Tensor x = Tensor.randn(new Rng(1), dt, 2, 3, H, W);
      for (int r = 0; r <= 2; r++) {
        java.util.List<Tensor> views = ShiftEnsemble.of(ProtoNet.euclidean(embed), r).shiftedViews(x);
        java.util.List<int[]> offsets = offsets(r);
        assertThat(views).hasSize(ShiftEnsemble.views(r)).hasSize(offsets.size());
        for (int v = 0; v < views.size(); v++) {
          int dy = offsets.get(v)[0];
          int dx = offsets.get(v)[1];
          Tensor s = views.get(v);
          assertThat(s.shape()).containsExactly(2, 3, H, W);
          assertThat(s.dtype()).isEqualTo(dt);
          assertThat(s.toDoubleArray()).as("%s dy=%d dx=%d", dt, dy, dx)
              .containsExactly(shifted(x.toDoubleArray(), 2, 3, H, W, dy, dx));
        }
      }
    }
  }

  @Test
  void radiusZeroIsTheWrappedLearnerExactly() {
    ProtoNet pn = ProtoNet.euclidean(embed);
    ShiftEnsemble same = ShiftEnsemble.of(pn, 0);
    assertThat(same.views()).isEqualTo(1);
    Params p = embed.init(new Rng(2), D);
    Task t = task(3);
    assertThat(same.predict(same.adapt(p, t), t.queryX()).toDoubleArray())
        .containsExactly(pn.predict(pn.adapt(p, t), t.queryX()).toDoubleArray());
    assertThat(same.evaluate(p, t)).isEqualTo(pn.evaluate(p, t));
  }

  @Test
  void protoNetPrototypesAreMeansOverTheShiftedCopiesAndLogitsMeansOverTheQuerysViews() {
    ProtoNet pn = ProtoNet.euclidean(embed);
    ShiftEnsemble tta = ShiftEnsemble.of(pn, 1);
    assertThat(tta.views()).isEqualTo(9);
    Params p = embed.init(new Rng(4), D);
    Task t = task(5);
    Params adapted = tta.adapt(p, t);
    // Oracle: each support image's shifted copies embedded one at a time (the embedding has no batch
    // statistics), averaged per class over shots and views.
    double[] sx = t.supportX().toDoubleArray();
    int n = t.supportY().length;
    double[][] protos = new double[3][3];
    int[] count = new int[3];
    for (int[] o : offsets(1)) {
      double[] v = shifted(sx, n, 1, H, W, o[0], o[1]);
      double[] z = embed.apply(p, Tensor.of(v, D, n, 1, H, W), null).toDoubleArray();
      for (int i = 0; i < n; i++) {
        int k = t.supportY()[i];
        count[k]++;
        for (int d = 0; d < 3; d++) {
          protos[k][d] += z[i * 3 + d];
        }
      }
    }
    double[] got = adapted.get(ProtoNet.PROTOTYPES).toDoubleArray();
    for (int k = 0; k < 3; k++) {
      assertThat(count[k]).isEqualTo(2 * 9);
      for (int d = 0; d < 3; d++) {
        assertThat(got[k * 3 + d]).isCloseTo(protos[k][d] / count[k], org.assertj.core.data.Offset.offset(1e-12));
      }
    }
    // Logits: the mean over the 9 shifted copies of the queries of the ProtoNet's logits against those prototypes.
    double[] qx = t.queryX().toDoubleArray();
    int m = t.queryY().length;
    double[] mean = new double[m * 3];
    for (int[] o : offsets(1)) {
      double[] l = pn.predict(adapted, Tensor.of(shifted(qx, m, 1, H, W, o[0], o[1]), D, m, 1, H, W)).toDoubleArray();
      for (int i = 0; i < l.length; i++) {
        mean[i] += l[i] / 9;
      }
    }
    double[] logits = tta.predict(adapted, t.queryX()).toDoubleArray();
    for (int i = 0; i < logits.length; i++) {
      assertThat(logits[i]).isCloseTo(mean[i], org.assertj.core.data.Offset.offset(1e-12));
    }
    // It is a different classifier from the plain one (not a relabelled copy of it).
    assertThat(logits).isNotEqualTo(pn.predict(pn.adapt(p, t), t.queryX()).toDoubleArray());
  }

  @Test
  void badInputIsNamed() {
    ProtoNet pn = ProtoNet.euclidean(embed);
    assertThatThrownBy(() -> ShiftEnsemble.of(pn, -1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("radius must be >= 0, got -1");
    assertThatThrownBy(() -> ShiftEnsemble.of(null, 1)).hasMessageContaining("learner must not be null");
    Params p = embed.init(new Rng(6), D);
    assertThatThrownBy(() -> ShiftEnsemble.of(pn, 1).adapt(p, RegressionTask.sine(new Rng(1), 3, 3, D)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("image classification task")
        .hasMessageContaining("RegressionTask");
    Task flat = Fixtures.clusterTask(new Rng(7), 3, 2, 2, new int[] {H * W}, D, 0.5);
    assertThatThrownBy(() -> ShiftEnsemble.of(pn, 1).adapt(p, flat)).hasMessageContaining("support must be images")
        .hasMessageContaining("[6, 20]");
    assertThatThrownBy(() -> ShiftEnsemble.of(pn, 4).adapt(p, task(8))).hasMessageContaining("need images larger")
        .hasMessageContaining("4 x 5");
    Params adapted = pn.adapt(p, task(9));
    assertThatThrownBy(() -> ShiftEnsemble.of(pn, 1).predict(adapted, Tensor.zeros(D, 2, 20)))
        .hasMessageContaining("input must be images");
  }
}
