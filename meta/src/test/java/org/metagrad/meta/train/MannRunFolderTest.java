package org.metagrad.meta.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.data.RotationMode;

/**
 * {@code train --algorithm mann}'s run folder on real Omniglot (a few steps of a tiny MANN): the files, the
 * accuracy by instance in metrics.json, config.json read back, and the folder rules (no second run into a
 * non-empty folder, a resume with other settings refused; both before any data is loaded). One data load, to
 * keep CI short. Needs METAGRAD_DATA; fails without it.
 */
class MannRunFolderTest {

  private static TrainConfig config(Path out, double lr) {
    return TrainConfig.builder().algorithm(Algorithm.MANN).data(DataPaths.root()).split("vinyals")
        .rotation(RotationMode.AS_NEW_CLASSES).side(16).hidden(8).ways(3).testWays(3).iterations(4).metaBatch(2)
        .outerLr(lr).valEvery(2).valEpisodes(4).testEpisodes(6).checkpointEvery(2).threads(2).seed(3)
        .set(TrainOptions.MANN_INSTANCES, 4).set(TrainOptions.MANN_EPISODES, 2).set(TrainOptions.MANN_MEMORY, "8x4")
        .set(TrainOptions.MANN_READS, 2).out(out).build();
  }

  @Test
  void runFolderHoldsTheRunAndItsAccuracyByInstance(@TempDir Path tmp) throws Exception {
    Path a = tmp.resolve("a");
    Experiment.Outcome o = new Experiment(config(a, 1e-3), System.out, null).run(false);
    for (String f : MannExperiment.RUN_FILES) {
      assertThat(a.resolve(f)).as(f).isRegularFile();
    }
    assertThat(o.training().history()).hasSize(4);
    String metrics = Files.readString(a.resolve(Experiment.METRICS_JSON));
    assertThat(metrics).contains("\"controller\": \"mann\"", "\"test_accuracy_by_instance\": [",
        "\"test_ci95_by_instance\": [", "\"test_episodes\": 6");
    // config.json holds every setting but the machine's folders (data root, output folder)
    assertThat(TrainConfig.read(a.resolve(Experiment.CONFIG)).toBuilder().data(DataPaths.root()).out(a).build())
        .isEqualTo(config(a, 1e-3));
    assertThat(Files.readString(a.resolve(Experiment.CONFIG))).doesNotContain("\"data\"").doesNotContain("\"out\"");

    // A folder holds one run.
    assertThatThrownBy(() -> new Experiment(config(a, 1e-3), System.out, null).run(false))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not empty");
    assertThatThrownBy(() -> new Experiment(config(a, 2e-3), System.out, null).run(true))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the settings differ");
  }
}
