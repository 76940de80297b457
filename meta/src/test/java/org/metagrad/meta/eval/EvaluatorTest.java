package org.metagrad.meta.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.FewShotLearner;
import org.metagrad.meta.algo.ProtoNet;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.meta.train.TaskSource;
import org.metagrad.nn.Backbones;
import org.metagrad.nn.BnMode;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;

class EvaluatorTest {

  @Test
  void ci95IsOnePointNineSixSigmaOverRootN() {
    EvalResult r = EvalResult.of(new double[] {0.9, 1.0, 0.8});
    double sigma = Math.sqrt((0.0 + 0.01 + 0.01) / 3);   // population standard deviation
    assertThat(r.mean()).isCloseTo(0.9, offset(1e-12));
    assertThat(r.std()).isCloseTo(sigma, offset(1e-12));
    assertThat(r.ci95()).isCloseTo(1.96 * sigma / Math.sqrt(3), offset(1e-12));
    assertThat(r.ci95()).isCloseTo(0.0923953, offset(1e-6));
    assertThat(EvalResult.ci95(0.05, 600)).isCloseTo(1.96 * 0.05 / Math.sqrt(600), offset(1e-15));
    assertThat(r.episodes()).isEqualTo(3);
    assertThat(r.toString()).isEqualTo("90.00% \u00b1 9.24% (3 episodes)");
  }

  @Test
  void constantAccuraciesHaveZeroWidthAndBadInputIsRejected() {
    EvalResult r = EvalResult.of(new double[] {1, 1, 1, 1});
    assertThat(r.mean()).isEqualTo(1.0);
    assertThat(r.ci95()).isEqualTo(0.0);
    assertThatThrownBy(() -> EvalResult.of(new double[0])).hasMessageContaining("no episodes");
    assertThatThrownBy(() -> EvalResult.of(new double[] {Double.NaN})).hasMessageContaining("not finite");
  }

  /** A learner that answers from the labels, right on every query whose index is not a multiple of 4. */
  private static final class Scripted implements FewShotLearner {
    @Override
    public Params adapt(Params params, FewShotTask task) {
      return params;
    }

    @Override
    public Tensor predict(Params adapted, Tensor x) {
      return Tensor.zeros(DType.FLOAT32, x.size(0), 2);
    }

    @Override
    public double evaluate(Params params, Task task) {
      return task.queryY()[0] == 0 ? 1.0 : 0.5;
    }
  }

  @Test
  void evaluatesEveryEpisodeInOrderWhateverTheThreadCount() {
    TaskSource tasks = i -> Task.of(new float[] {0, 1}, new int[] {2, 1}, new int[] {0, 1}, new float[] {0},
        new int[] {1, 1}, new int[] {(int) (i % 2)}, 2);
    EvalResult one = Evaluator.evaluate(new Scripted(), Params.empty(), tasks, 10, 1, null);
    EvalResult three = Evaluator.evaluate(new Scripted(), Params.empty(), tasks, 10, 3, null);
    assertThat(one.accuracies()).containsExactly(1, 0.5, 1, 0.5, 1, 0.5, 1, 0.5, 1, 0.5);
    assertThat(three.accuracies()).containsExactly(one.accuracies());
    assertThat(one.mean()).isCloseTo(0.75, offset(1e-12));
    assertThatThrownBy(() -> Evaluator.evaluate(new Scripted(), Params.empty(), tasks, 0, 1, null))
        .hasMessageContaining("episodes must be >= 1");
  }

  @Test
  void protoNetEvaluationIsDeterministicAcrossThreads() {
    Network net = Backbones.conv4(1, 4, 16, 0, BnMode.BATCH_STATS);
    Params p = net.init(new Rng(1), DType.FLOAT32);
    TaskSource tasks = i -> {
      Rng rng = new Rng(i);
      float[] s = new float[3 * 256];
      float[] q = new float[6 * 256];
      for (int j = 0; j < s.length; j++) {
        s[j] = (float) rng.nextDouble();
      }
      for (int j = 0; j < q.length; j++) {
        q[j] = s[(j / 512) * 256 + j % 256] + (float) (0.1 * rng.nextGaussian());
      }
      return Task.of(s, new int[] {3, 1, 16, 16}, new int[] {0, 1, 2}, q, new int[] {6, 1, 16, 16},
          new int[] {0, 0, 1, 1, 2, 2}, 3);
    };
    EvalResult a = Evaluator.evaluate(ProtoNet.euclidean(net), p, tasks, 6, 1, null);
    EvalResult b = Evaluator.evaluate(ProtoNet.euclidean(net), p, tasks, 6, 2, null);
    assertThat(b.accuracies()).containsExactly(a.accuracies());
    assertThat(a.mean()).isBetween(0.0, 1.0);
  }
}
