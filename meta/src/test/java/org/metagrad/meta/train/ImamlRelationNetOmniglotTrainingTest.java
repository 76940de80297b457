package org.metagrad.meta.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.meta.algo.Imaml;
import org.metagrad.meta.algo.MetaLearner;
import org.metagrad.meta.algo.RelationNet;
import org.metagrad.meta.data.CharacterId;
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
import org.metagrad.nn.optim.LrSchedule;

/**
 * Short real-Omniglot training runs of iMAML and Relation Networks: meta-trained on 5-way 1-shot episodes of
 * the first 300 characters of images_background (no rotations), tested on 5-way 1-shot episodes of the first
 * 100 characters of images_evaluation (unseen alphabets). Relation nets must clear a stated accuracy far
 * above the 20% of chance; iMAML, whose untrained inner loop alone already reaches about 50%, a stated gain
 * over its untrained start. Needs METAGRAD_DATA; fails (does not skip) without it. Only 6,000 + 2,000 images are decoded,
 * to keep the CI time small; the full runs are in meta/RESULTS.md.
 */
class ImamlRelationNetOmniglotTrainingTest {
  private static ImageClasses train;
  private static ImageClasses test;

  @BeforeAll
  static void load() {
    OmniglotReader reader = OmniglotReader.fromEnvironment();
    List<CharacterId> bg = reader.characters(OmniglotSet.BACKGROUND);
    List<CharacterId> ev = reader.characters(OmniglotSet.EVALUATION);
    train = reader.load(bg.subList(0, 300));
    test = reader.load(ev.subList(0, 100));
  }

  private static EvalResult trainAndTest(MetaLearner learner, Params init, int iterations, int metaBatch,
                                         double lr, String name) {
    TaskSource tasks = TaskSource.of(new EpisodeSampler(train, TaskSpec.of(5, 1, 5), RotationMode.NONE, 1));
    MetaTrainer.Options o = MetaTrainer.Options.of(iterations, metaBatch).threads(2);
    long t0 = System.nanoTime();
    MetaTrainer.Result r = new MetaTrainer(learner, tasks, Adam.of(lr), LrSchedule.constant(lr), o)
        .train(init, null, null, null);
    double trainS = (System.nanoTime() - t0) / 1e9;
    TaskSource testTasks = TaskSource.of(new EpisodeSampler(test, TaskSpec.of(5, 1, 15), RotationMode.NONE, 2));
    EvalResult res = Evaluator.evaluate(learner, r.last(), testTasks, 100, 2, null);
    System.out.printf(Locale.ROOT, "%s CI run: %d iterations x %d tasks in %.1f s, then 5-way 1-shot test %s (%.1f s)%n",
        name, iterations, metaBatch, trainS, res, (System.nanoTime() - t0) / 1e9 - trainS);
    return res;
  }

  /** Measured: 73.28% ± 1.91% (52.7 s of training and 12.9 s of testing on the shared 2-core machine at load 40). */
  @Test
  void relationNetClearsSixtyPercentOn5Way1ShotAfterAShortRun() {
    Network body = RelationNet.embedding(1, 32, 28, BnMode.BATCH_STATS);
    RelationNet rn = new RelationNet(body, 32, RelationNet.mapSide(28), 8);
    Rng rng = new Rng(1);
    Params init = rn.initMetaParams(body.init(rng, DType.FLOAT32), rng);
    EvalResult r = trainAndTest(rn, init, 150, 1, 1e-3, "RelationNet");
    assertThat(r.episodes()).isEqualTo(100);
    assertThat(r.mean()).as("5-way 1-shot test accuracy").isGreaterThanOrEqualTo(0.60);
  }

  /**
   * iMAML must improve on its own starting point: 5 proximal inner steps from the untrained weights already
   * classify 51.51% ± 2.14% of the same 100 test episodes. With CG damping 10 (the system
   * {@code I + (H + 10 I)/lambda} stays positive definite although the support-loss Hessian is indefinite, see
   * meta/RESULTS.md) 100 meta-batches of 4 tasks raise that to 67.97% ± 2.65% (7.6 s of training at load 3);
   * undamped, 40 meta-batches reached only 55.69%. The bar: at least 10 points over the untrained start on identical episodes.
   */
  @Test
  void imamlImprovesOnItsUntrainedStartOn5Way1ShotAfterAShortRun() {
    Network net = Backbones.conv4Strided(1, 32, 28, 5, BnMode.BATCH_STATS);
    Imaml im = new Imaml(net, 5, 0.4, 0.5, 5, 10.0);
    Params init = net.init(new Rng(1), DType.FLOAT32);
    TaskSource testTasks = TaskSource.of(new EpisodeSampler(test, TaskSpec.of(5, 1, 15), RotationMode.NONE, 2));
    EvalResult before = Evaluator.evaluate(im, init, testTasks, 100, 2, null);
    EvalResult r = trainAndTest(im, init, 100, 4, 3e-3, "iMAML");
    System.out.printf(Locale.ROOT, "iMAML untrained: %s%n", before);
    assertThat(r.episodes()).isEqualTo(100);
    assertThat(r.mean() - before.mean()).as("gain over the untrained start, same episodes").isGreaterThanOrEqualTo(0.10);
  }
}
