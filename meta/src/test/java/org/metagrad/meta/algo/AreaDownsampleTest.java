package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.data.OmniglotReader;
import org.metagrad.meta.task.RegressionTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

class AreaDownsampleTest {
  private static final int H = 3;
  private static final int W = 4;
  private final Fixtures.Embed embed = new Fixtures.Embed(H * W, 3);

  /** The oracle: out[n, c, i, j] = mean of x[n, c, f i .. f i + f - 1, f j .. f j + f - 1]. */
  private static double[] blockMeans(double[] x, int nc, int h, int w, int f) {
    double[] out = new double[nc * h * w];
    for (int b = 0; b < nc; b++) {
      for (int i = 0; i < h; i++) {
        for (int j = 0; j < w; j++) {
          double s = 0;
          for (int di = 0; di < f; di++) {
            for (int dj = 0; dj < f; dj++) {
              s += x[(b * h * f + i * f + di) * w * f + j * f + dj];
            }
          }
          out[(b * h + i) * w + j] = s / (f * f);
        }
      }
    }
    return out;
  }

  @Test
  void shrinkAveragesEachBlock() {
    for (DType dt : DType.values()) {
      for (int f = 1; f <= 3; f++) {
        Tensor x = Tensor.randn(new Rng(f), dt, 2, 3, H * f, W * f);
        AreaDownsample d = f == 1 ? null : by(f);
        Tensor y = f == 1 ? x : d.shrink("input", x);
        assertThat(y.shape()).containsExactly(2, 3, H, W);
        assertThat(y.dtype()).isEqualTo(dt);
        double[] want = blockMeans(x.toDoubleArray(), 6, H, W, f);
        double[] got = y.toDoubleArray();
        for (int i = 0; i < want.length; i++) {
          assertThat(got[i]).as(dt + " f=" + f + " at " + i).isCloseTo(want[i], within(dt == DType.FLOAT64 ? 1e-15
              : 1e-6));
        }
      }
    }
  }

  /** The decorator around a ProtoNet for a factor above 1 (for 1, {@code of} returns the learner itself). */
  private AreaDownsample by(int f) {
    return (AreaDownsample) AreaDownsample.of(ProtoNet.euclidean(embed), f);
  }

  @Test
  void halvingA56PixelOmniglotImageGivesThe28PixelImage() throws Exception {
    // the reader area-averages the 105-pixel drawing; averaging 2 x 2 blocks of the 56-pixel image covers exactly
    // one 28-pixel footprint, so the two agree to float rounding
    Path eval = DataPaths.root().resolve("omniglot").resolve("images_evaluation");
    List<Path> pngs;
    try (Stream<Path> s = Files.walk(eval)) {
      pngs = s.filter(p -> p.toString().endsWith(".png")).sorted().limit(40).toList();
    }
    assertThat(pngs).hasSize(40);
    AreaDownsample d = by(2);
    for (Path png : pngs) {
      float[] big = OmniglotReader.preprocess(png, 56);
      float[] small = OmniglotReader.preprocess(png, 28);
      double[] got = d.shrink("input", Tensor.of(big, 1, 1, 56, 56)).toDoubleArray();
      for (int i = 0; i < small.length; i++) {
        assertThat(got[i]).as(png + " at " + i).isCloseTo(small[i], within(2e-6));
      }
    }
  }

  @Test
  void theWrappedLearnerSeesTheShrunkTask() {
    Params p = ProtoNet.euclidean(embed).initMetaParams(embed.init(new Rng(5), DType.FLOAT64), new Rng(6));
    Task big = Fixtures.clusterTask(new Rng(7), 3, 2, 4, new int[] {1, 2 * H, 2 * W}, DType.FLOAT64, 0.5);
    AreaDownsample d = by(2);
    Task small = new Task(d.shrink("support", big.supportX()), big.supportY(), d.shrink("query", big.queryX()),
        big.queryY(), big.ways());
    FewShotLearner inner = ProtoNet.euclidean(embed);
    Tensor want = inner.predict(inner.adapt(p, small), small.queryX());
    Tensor got = d.predict(d.adapt(p, big), big.queryX());
    assertThat(got.toDoubleArray()).containsExactly(want.toDoubleArray());
    assertThat(d.evaluate(p, big)).isEqualTo(inner.evaluate(p, small));
    assertThat(d.inner()).isNotNull();
    assertThat(d.factor()).isEqualTo(2);
    assertThat(d.toString()).contains("factor 2");
  }

  @Test
  void badArgumentsAreNamed() {
    FewShotLearner pn = ProtoNet.euclidean(embed);
    assertThat(AreaDownsample.of(pn, 1)).isSameAs(pn);
    assertThatThrownBy(() -> AreaDownsample.of(null, 2)).hasMessageContaining("learner must not be null");
    assertThatThrownBy(() -> AreaDownsample.of(pn, 0)).hasMessageContaining("factor must be >= 1, got 0");
    AreaDownsample d = by(2);
    assertThatThrownBy(() -> d.shrink("input", Tensor.zeros(2, 1, 5, 8)))
        .hasMessage("AreaDownsample: input must be images [n, c, h, w] with h and w multiples of 2, got shape"
            + " [2, 1, 5, 8]");
    assertThatThrownBy(() -> d.adapt(Params.of(java.util.Map.of()), new RegressionTask(Tensor.zeros(2, 1), Tensor.zeros(2, 1),
        Tensor.zeros(2, 1), Tensor.zeros(2, 1)))).hasMessageContaining("needs an image classification task");
  }
}
