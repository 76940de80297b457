package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.data.CharacterId;
import org.metagrad.meta.data.Episode;
import org.metagrad.meta.data.OmniglotSet;
import org.metagrad.meta.data.TaskSpec;
import org.metagrad.meta.task.RegressionTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

class TaskTest {
  @Test
  void validatesLabelsAndSizes() {
    Tensor x2 = Tensor.zeros(DType.FLOAT32, 2, 3);
    assertThatThrownBy(() -> new Task(x2, new int[] {0, 2}, x2, new int[] {0, 1}, 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside [0, 2)");
    assertThatThrownBy(() -> new Task(Tensor.zeros(DType.FLOAT32, 0, 3), new int[0], x2, new int[] {0, 1}, 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty support");
    assertThatThrownBy(() -> new Task(x2, new int[] {0, 0}, x2, new int[] {0, 1}, 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no support example");
    assertThatThrownBy(() -> new Task(x2, new int[] {0}, x2, new int[] {0, 1}, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("labels");
    assertThatThrownBy(() -> new Task(x2, new int[] {0, 1}, Tensor.zeros(DType.FLOAT32, 2, 4), new int[] {0, 1}, 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("different shapes");
  }

  @Test
  void labelsAreCopiedAndAccuracyCounts() {
    int[] y = {0, 1};
    Task t = new Task(Tensor.zeros(DType.FLOAT32, 2, 3), y, Tensor.zeros(DType.FLOAT32, 2, 3), y, 2);
    y[0] = 1;
    assertThat(t.supportY()).containsExactly(0, 1);
    Tensor logits = Tensor.of(new double[] {2, 1, 3, 0}, 2, 2);
    assertThat(t.queryAccuracy(logits.to(DType.FLOAT32))).isEqualTo(0.5);
    assertThat(t.to(DType.FLOAT64).supportX().dtype()).isEqualTo(DType.FLOAT64);
  }

  @Test
  void fromEpisodeBuildsImageTensors() {
    TaskSpec spec = new TaskSpec(2, 1, 1);
    float[] sx = new float[2 * 4];
    float[] qx = new float[2 * 4];
    Episode e = new Episode(0, spec, 2, sx, new int[] {0, 1}, qx, new int[] {1, 0}, new int[] {5, 7},
        List.of(new CharacterId(OmniglotSet.BACKGROUND, "A", "c1"),
            new CharacterId(OmniglotSet.BACKGROUND, "B", "c2")), new int[] {0, 0});
    Task t = Task.fromEpisode(e);
    assertThat(t.supportX().shape()).containsExactly(2, 1, 2, 2);
    assertThat(t.queryY()).containsExactly(1, 0);
    assertThat(t.ways()).isEqualTo(2);
  }

  @Test
  void sineTasksFollowOneCurve() {
    RegressionTask r = RegressionTask.sine(new Rng(1), 4, 6, DType.FLOAT64);
    assertThat(r.supportX().shape()).containsExactly(4, 1);
    assertThat(r.queryY().shape()).containsExactly(6, 1);
    assertThat(r.queryAccuracy(r.queryY())).isNaN();
    assertThat(r.queryLoss(r.queryY()).item()).isZero();
  }

  @Test
  void prefixedModuleReadsItsSubtree() {
    Fixtures.Embed e = new Fixtures.Embed(3, 2);
    Prefixed m = new Prefixed("net", e);
    Params p = m.init(new Rng(1), DType.FLOAT64);
    assertThat(p.names()).containsExactly("net.features.weight", "net.features.bias");
    Tensor x = Tensor.randn(new Rng(2), DType.FLOAT64, 2, 3);
    Params extra = p.with("head.weight", Tensor.zeros(DType.FLOAT64, 1));
    assertThat(Fixtures.maxAbsDiff(m.apply(extra, x, org.metagrad.nn.Mode.train()),
        e.apply(p.sub("net"), x, org.metagrad.nn.Mode.train()))).isZero();
    assertThatThrownBy(() -> new Prefixed("net.", e)).isInstanceOf(IllegalArgumentException.class);
  }
}
