package org.metagrad.meta.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.data.RotationMode;

/**
 * The end-to-end check of the whole stack on real data: a short ProtoNet meta-training run on the Vinyals
 * split of Omniglot (28x28, rotations as new classes) must reach at least 95% accuracy on 5-way 1-shot test
 * episodes of unseen alphabets. Needs METAGRAD_DATA; fails (does not skip) without it.
 *
 * <p>Settings found on the shared 2-core machine (see meta/RESULTS.md): conv4 with 32 channels (after 3
 * minutes of 20-way 5-shot training, 64 channels reached 89.5% and 32 channels 92.3%), 30-way 1-shot
 * 5-query training episodes (93.4% after about 3 minutes, against 92.3% for 20-way 5-shot), Adam 3e-3 with
 * cosine decay to 0 over 600 episodes (700 such episodes gave 96.1% in meta/RESULTS.md).
 */
class ProtoNetOmniglotTrainingTest {

  @Test
  void protoNetsReach95PercentOn5Way1ShotTestEpisodesAfterAShortRun(@TempDir Path tmp) {
    TrainConfig c = TrainConfig.builder().algorithm(Algorithm.PROTONET).data(DataPaths.root()).split("vinyals")
        .rotation(RotationMode.AS_NEW_CLASSES).side(28).hidden(32)
        .ways(30).shots(1).queries(5).iterations(600).metaBatch(1).outerLr(3e-3).schedule("cosine")
        .testWays(5).testShots(1).testQueries(15).valEvery(0).valEpisodes(20).testEpisodes(400)
        .threads(2).checkpointEvery(0).seed(1).out(tmp).build();
    Experiment.Outcome o = new Experiment(c, System.out, null).run(false);
    System.out.printf(Locale.ROOT, "ProtoNet CI run: %d iterations in %.1f s (total %.1f s with data loading and"
        + " %d test episodes): 5-way 1-shot test accuracy %s%n", c.iterations(), o.training().seconds(),
        o.seconds(), o.test().episodes(), o.test());
    assertThat(o.test().episodes()).isEqualTo(400);
    assertThat(o.test().mean()).as("5-way 1-shot test accuracy").isGreaterThanOrEqualTo(0.95);
    assertThat(o.test().ci95()).isLessThan(0.01);
    assertThat(tmp.resolve(MetaTrainer.BEST)).exists();
    assertThat(tmp.resolve("learning-curve.png")).exists();
  }
}
