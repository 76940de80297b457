package org.metagrad.meta.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.MetaLstm;
import org.metagrad.meta.algo.MetaStep;
import org.metagrad.meta.algo.Order;
import org.metagrad.meta.data.CharacterId;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.data.EpisodeSampler;
import org.metagrad.meta.data.ImageClasses;
import org.metagrad.meta.data.OmniglotReader;
import org.metagrad.meta.data.OmniglotSet;
import org.metagrad.meta.data.RotationMode;
import org.metagrad.meta.data.TaskSpec;
import org.metagrad.meta.eval.EvalResult;
import org.metagrad.meta.eval.Evaluator;
import org.metagrad.nn.Backbones;
import org.metagrad.nn.BnMode;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.OptimizerState;
import org.metagrad.nn.optim.Step;

/**
 * A short real-Omniglot meta-training run of the meta-learner LSTM (Ravi and Larochelle 2017, first order as the
 * paper): the strided conv4 learner with 16 channels, 3 learner updates per task, 5-way 1-shot. Trained on 120
 * background characters, tested on 60 evaluation characters (unseen alphabets), so that the images load in a few
 * seconds. It must reach 45% on 5-way 1-shot test episodes (chance 20%) and beat the untrained meta-learner (the
 * same initial weights and gates) on the same episodes by 5 points. Needs METAGRAD_DATA; fails (does not skip)
 * without it.
 */
class MetaLstmOmniglotTrainingTest {

  private static List<CharacterId> pick(List<CharacterId> all, int n, long seed) {
    int[] order = new int[all.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    new Rng(seed).shuffle(order);
    List<CharacterId> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(all.get(order[i]));
    }
    return out;
  }

  @Test
  void metaLstmLearnsOmniglot5Way1ShotInAShortRun() {
    long t0 = System.nanoTime();
    OmniglotReader reader = new OmniglotReader(DataPaths.omniglot(), 28, 2);
    ImageClasses train = reader.load(pick(reader.characters(OmniglotSet.BACKGROUND), 120, 1));
    ImageClasses test = reader.load(pick(reader.characters(OmniglotSet.EVALUATION), 60, 2));
    Network net = Backbones.conv4Strided(1, 16, 28, 5, BnMode.BATCH_STATS);
    MetaLstm learner = new MetaLstm(net, 3, 0.1, Order.FIRST);
    Rng rng = new Rng(3);
    Params p = learner.initMetaParams(net.init(rng, DType.FLOAT32), rng);
    TaskSource trainTasks = TaskSource.of(new EpisodeSampler(train, TaskSpec.of(5, 1, 5), RotationMode.NONE, 4));
    TaskSource testTasks = TaskSource.of(new EpisodeSampler(test, TaskSpec.of(5, 1, 15), RotationMode.NONE, 5));
    int episodes = 100;
    EvalResult before = Evaluator.evaluate(learner, p, testTasks, episodes, 2, null);
    Adam adam = Adam.of(3e-3);
    OptimizerState st = adam.init(p);
    int iterations = 40;
    double firstLoss = Double.NaN;
    double lastLoss = Double.NaN;
    for (int it = 0; it < iterations; it++) {
      Params leaves = p.requiresGrad(true);
      MetaStep m = learner.metaLoss(leaves, trainTasks.task(it));
      List<Tensor> g = Autograd.grad(m.loss(), leaves.values(), GradOptions.defaults().allowUnused(true));
      Step s = adam.step(leaves.detach(), leaves.zip(g, (a, b) -> b), st);
      p = s.params();
      st = s.state();
      firstLoss = it == 0 ? m.lossValue() : firstLoss;
      lastLoss = m.lossValue();
      assertThat(lastLoss).isFinite();
    }
    EvalResult after = Evaluator.evaluate(learner, p, testTasks, episodes, 2, null);
    System.out.printf(Locale.ROOT, "MetaLstm CI run: %d tasks, query loss %.3f -> %.3f; 5-way 1-shot test accuracy %s"
        + " untrained, %s trained (%.1f s with data loading)%n", iterations, firstLoss, lastLoss, before, after,
        (System.nanoTime() - t0) / 1e9);
    assertThat(after.mean()).as("5-way 1-shot test accuracy").isGreaterThanOrEqualTo(0.45);
    assertThat(after.mean()).as("gain over the untrained meta-learner").isGreaterThanOrEqualTo(before.mean() + 0.05);
  }
}
