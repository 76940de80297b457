package org.metagrad.meta.oneshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.FewShotLearner;
import org.metagrad.meta.algo.ProtoNet;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.data.OneShotReader;
import org.metagrad.meta.data.OneShotRun;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Backbones;
import org.metagrad.nn.BnMode;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;

/** Needs METAGRAD_DATA (fails, does not skip, without it). */
class OneShotChallengeTest {

  private static List<OneShotRun> run01() {
    List<OneShotRun> runs = OneShotReader.readAll(DataPaths.omniglotOneShot(), 28);
    assertThat(runs).extracting(OneShotRun::name).contains("run01");
    return runs.stream().filter(r -> r.name().equals("run01")).toList();
  }

  @Test
  void protoNetEmbeddingAnswersRun01WithAPerRunReport() {
    Network net = Backbones.conv4(1, 16, 28, 0, BnMode.BATCH_STATS);
    Params p = net.init(new Rng(1), DType.FLOAT32);
    OneShotChallenge.Report r = OneShotChallenge.run(ProtoNet.euclidean(net), p, run01());
    assertThat(r.runs()).hasSize(1);
    OneShotChallenge.RunResult run = r.runs().get(0);
    assertThat(run.name()).isEqualTo("run01");
    assertThat(run.trials()).isEqualTo(20);
    assertThat(run.predicted()).hasSize(20);
    assertThat(java.util.Arrays.stream(run.predicted()).allMatch(i -> i >= 0 && i < 20)).isTrue();
    assertThat(r.trials()).isEqualTo(20);
    assertThat(r.accuracy()).isBetween(0.0, 1.0).isEqualTo(run.accuracy());
    assertThat(r.errorRatePercent()).isEqualTo(100 * (1 - r.accuracy()));
    assertThat(r.toString()).contains("run01").contains("/20").contains("overall");
  }

  @Test
  void theTaskLabelsTestDrawingsWithTheirAnswers() {
    OneShotRun run = run01().get(0);
    Task t = OneShotChallenge.task(run);
    assertThat(t.ways()).isEqualTo(20);
    assertThat(t.supportX().shape()).containsExactly(20, 1, 28, 28);
    assertThat(t.queryX().shape()).containsExactly(20, 1, 28, 28);
    assertThat(t.supportY()).containsExactly(java.util.stream.IntStream.range(0, 20).toArray());
    assertThat(t.queryY()).containsExactly(run.answers());
    // An oracle that scores the labelled training drawing highest gets 20/20; one shifted by 1 gets 0/20.
    assertThat(OneShotChallenge.run(oracle(run.answers(), 0), Params.empty(), List.of(run)).correct()).isEqualTo(20);
    assertThat(OneShotChallenge.run(oracle(run.answers(), 1), Params.empty(), List.of(run)).correct()).isZero();
    assertThatThrownBy(() -> OneShotChallenge.run(oracle(run.answers(), 0), Params.empty(), List.of()))
        .hasMessageContaining("no runs");
  }

  private static FewShotLearner oracle(int[] answers, int shift) {
    return new FewShotLearner() {
      @Override
      public Params adapt(Params params, FewShotTask task) {
        return params;
      }

      @Override
      public Tensor predict(Params adapted, Tensor x) {
        double[] v = new double[answers.length * 20];
        for (int i = 0; i < answers.length; i++) {
          v[i * 20 + (answers[i] + shift) % 20] = 1;
        }
        return Tensor.of(v, DType.FLOAT32, answers.length, 20);
      }
    };
  }
}
