package org.metagrad.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.MetaTrainer;
import org.metagrad.meta.train.TrainConfig;

/**
 * The contract in {@code local[2,4]} mode (2 task threads in this JVM, up to 4 attempts per task), and
 * resuming after the driver stopped (a driver-side matter: the executors hold no state between iterations).
 */
class SparkLocalTest extends SparkTrainingContract {
  @BeforeAll
  static void startSpark() {
    start("local[2,4]");
  }

  @Override
  int partitions() {
    return 3;
  }

  @Test
  void aDriverStoppedAfterACheckpointResumesToTheUninterruptedRunsBits() throws Exception {
    // 4 iterations, checkpoints at 2 and 4: the driver dies after iteration 3's step (not checkpointed).
    java.util.function.BiFunction<Path, Path, TrainConfig> cfg = (d, out) -> SparkFixtures.tiny(Algorithm.MAML, d, out)
        .iterations(4).checkpointEvery(2).build();
    SparkFixtures.Run ref = SparkFixtures.reference("maml-resume-4", cfg);
    Path dir = tmp.resolve("resume-spark");
    TrainConfig c = cfg.apply(data, dir);
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    SparkWorkers first = new SparkWorkers(sc, c, partitions());
    assertThatThrownBy(() -> new Experiment(c, quiet, null).withWorkers(first).withListener((row, o) -> {
      if (row.iteration() == 3) {
        throw new IllegalStateException("driver killed");
      }
    }).run(false)).hasMessage("driver killed");
    first.close();
    assertThat(Files.readAllLines(dir.resolve(MetaTrainer.METRICS_CSV))).hasSize(3);   // header + 2 rows
    SparkWorkers second = new SparkWorkers(sc, c, partitions());
    Experiment.Outcome o = new Experiment(c, quiet, null).withWorkers(second).run(true);
    second.close();
    assertThat(Files.readAllBytes(dir.resolve(MetaTrainer.LAST))).isEqualTo(ref.last());
    assertThat(o.training().last().names()).isEqualTo(ref.outcome().training().last().names());
    assertThat(o.test().accuracies()).containsExactly(ref.outcome().test().accuracies());
  }
}
