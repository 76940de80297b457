package org.metagrad.nn.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.nn.Backbones;
import org.metagrad.nn.BnMode;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;
import org.metagrad.nn.State;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.LrSchedule;
import org.junit.jupiter.api.Test;

class TrainerTest {
  private static final int SIZE = 28;

  /**
   * One noisy 28x28 image of class c: horizontal stripes, vertical stripes, a centred square or a
   * diagonal band, each at a random phase or offset so the classes are not single templates.
   */
  private static double[] image(int c, Rng rng) {
    double[] v = new double[SIZE * SIZE];
    int phase = rng.nextInt(4);
    int off = rng.nextInt(7) - 3;
    for (int i = 0; i < SIZE; i++) {
      for (int j = 0; j < SIZE; j++) {
        boolean on = switch (c) {
          case 0 -> (i + phase) % 4 < 2;
          case 1 -> (j + phase) % 4 < 2;
          case 2 -> Math.abs(i - 14 - off) < 6 && Math.abs(j - 14 + off) < 6;
          default -> Math.abs(i - j - off) < 3;
        };
        v[i * SIZE + j] = (on ? 1 : 0) + 0.4 * rng.nextGaussian();
      }
    }
    return v;
  }

  private static List<Batch> dataset(int batches, int batchSize, Rng rng) {
    List<Batch> out = new ArrayList<>();
    for (int b = 0; b < batches; b++) {
      double[] x = new double[batchSize * SIZE * SIZE];
      int[] y = new int[batchSize];
      for (int i = 0; i < batchSize; i++) {
        y[i] = rng.nextInt(4);
        System.arraycopy(image(y[i], rng), 0, x, i * SIZE * SIZE, SIZE * SIZE);
      }
      out.add(new Batch(Tensor.of(x, DType.FLOAT32, batchSize, 1, SIZE, SIZE), y));
    }
    return out;
  }

  @Test
  void conv4LearnsSyntheticPatternsAndUpdatesRunningStats() {
    Rng rng = new Rng(11);
    Network net = Backbones.conv4(1, 8, SIZE, 4, BnMode.RUNNING_STATS);
    Params p0 = net.init(rng);
    State state = net.newState(DType.FLOAT32);
    List<Batch> train = dataset(6, 16, rng);
    List<Batch> test = dataset(4, 16, rng);
    Trainer t = new Trainer(net, Adam.of(0.01)).withSchedule(LrSchedule.cosine(0.01, 0.001, 30, 3))
        .withClipNorm(10);

    long start = System.nanoTime();
    Trainer.Result r = t.fit(p0, state, 5, train::iterator, rng);
    double seconds = (System.nanoTime() - start) / 1e9;

    assertThat(r.history()).hasSize(5);
    assertThat(r.history().get(4).loss()).isLessThan(r.history().get(0).loss());
    assertThat(r.optimizerState().step()).isEqualTo(30);
    assertThat(state.get("features.1.num_batches_tracked").item()).isEqualTo(30.0);
    assertThat(state.get("features.1.running_var").toDoubleArray()).isNotEqualTo(new double[8]);
    EpochStats eval = t.evaluate(r.params(), state, test.iterator());
    assertThat(eval.accuracy()).as("held-out accuracy after %.1fs of training, history %s", seconds, r.history())
        .isGreaterThanOrEqualTo(0.9);
    assertThat(eval.samples()).isEqualTo(64);
  }

  @Test
  void countCorrectUsesArgMaxAndRejectsMismatch() {
    Tensor logits = Tensor.of(new double[] {1, 3, 2, 5, 0, 0}, 3, 2);
    // Row 2 ties; the first maximum (class 0) wins, as torch.argmax.
    assertThat(Trainer.countCorrect(logits, new int[] {1, 1, 1})).isEqualTo(2);
    assertThatThrownBy(() -> Trainer.countCorrect(logits, new int[] {1})).hasMessageContaining("[3, 2]");
  }

  @Test
  void batchChecksSizes() {
    assertThatThrownBy(() -> new Batch(Tensor.zeros(3, 2), new int[] {0, 1}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[3, 2]").hasMessageContaining("2 labels");
  }

  @Test
  void emptyEpochDataGivesNaNStats() {
    Network net = Backbones.mlp(2, new int[] {3}, 2);
    Params p = net.init(new Rng(1));
    Trainer.Result r = new Trainer(net, Adam.of(0.1)).fit(p, null, 1, () -> List.<Batch>of().iterator(), null);
    assertThat(r.history().get(0).loss()).isNaN();
    assertThat(r.params().get("head.weight").toDoubleArray()).containsExactly(p.get("head.weight").toDoubleArray());
    Iterator<Batch> none = List.<Batch>of().iterator();
    assertThat(new Trainer(net, Adam.of(0.1)).evaluate(p, null, none).samples()).isZero();
  }
}
