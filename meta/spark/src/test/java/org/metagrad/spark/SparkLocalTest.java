package org.metagrad.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.TrainConfig;

/** Distributed training in {@code local[2]} mode (2 worker threads, up to 4 attempts per task). */
class SparkLocalTest {
  private static JavaSparkContext sc;
  @TempDir
  static Path tmp;
  private static Path data;

  @BeforeAll
  static void start() {
    data = SparkFixtures.smallDataRoot(tmp.resolve("data"));
    sc = SparkFixtures.context("local[2,4]");
  }

  @AfterAll
  static void stop() {
    if (sc != null) {
      sc.stop();
    }
  }

  private static Experiment.Outcome run(TrainConfig c, SparkWorkers w) {
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    Experiment e = new Experiment(c, quiet, null);
    return (w == null ? e : e.withWorkers(w)).run(false);
  }

  @Test
  void mamlOnSparkEqualsTheSingleProcessRunBitForBit() throws Exception {
    long t0 = System.nanoTime();
    TrainConfig local = SparkFixtures.tiny(Algorithm.MAML, data, tmp.resolve("maml-local")).build();
    run(local, null);
    long t1 = System.nanoTime();
    TrainConfig dist = SparkFixtures.tiny(Algorithm.MAML, data, tmp.resolve("maml-spark")).build();
    SparkWorkers w = new SparkWorkers(sc, dist, 3);
    run(dist, w);
    long t2 = System.nanoTime();
    System.out.printf("local %.1f s, spark %.1f s; %s%n", (t1 - t0) / 1e9, (t2 - t1) / 1e9, w.stats());
    assertThat(Files.readAllBytes(tmp.resolve("maml-spark/last.safetensors")))
        .isEqualTo(Files.readAllBytes(tmp.resolve("maml-local/last.safetensors")));
  }
}
