package org.metagrad.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.MetaTrainer;
import org.metagrad.meta.train.TrainConfig;

/**
 * What distributed training must do in any Spark mode: give the single-process run's bits (parameters,
 * best model, every log row's loss, accuracy, learning rate and validation score, every test episode's
 * accuracy) for MAML and ProtoNets, under any partitioning and when a partition's first attempt fails.
 * Subclasses give the master; one Spark context per class.
 */
abstract class SparkTrainingContract {
  protected static JavaSparkContext sc;
  @TempDir
  static Path tmp;
  static Path data;
  private static final AtomicInteger FAILED_TASKS = new AtomicInteger();

  static void start(String master) {
    data = SparkFixtures.smallDataRoot(tmp.resolve("data"));
    sc = SparkFixtures.context(master);
    sc.sc().addSparkListener(new SparkListener() {
      @Override
      public void onTaskEnd(SparkListenerTaskEnd e) {
        if (!e.taskInfo().successful()) {
          FAILED_TASKS.incrementAndGet();
        }
      }
    });
  }

  @AfterAll
  static void stop() {
    if (sc != null) {
      sc.stop();
      sc = null;
    }
  }

  /** How many partitions the bit-identity runs use (differs between the modes). */
  abstract int partitions();

  /** Meta-iterations of the runs (validated after each; the failure is injected in iteration 2). */
  int iterations() {
    return 2;
  }

  static void assertSameRun(SparkFixtures.Run expected, Experiment.Outcome got, Path dir) throws Exception {
    assertThat(Files.readAllBytes(dir.resolve(MetaTrainer.LAST))).as("last").isEqualTo(expected.last());
    assertThat(Files.readAllBytes(dir.resolve(MetaTrainer.BEST))).as("best").isEqualTo(expected.best());
    List<MetaTrainer.Row> a = expected.outcome().training().history();
    List<MetaTrainer.Row> b = got.training().history();
    assertThat(b).hasSameSizeAs(a);
    for (int i = 0; i < a.size(); i++) {
      assertThat(bits(b.get(i))).as("row " + (i + 1)).containsExactly(bits(a.get(i)));
    }
    assertThat(got.training().bestIteration()).isEqualTo(expected.outcome().training().bestIteration());
    assertThat(got.test().accuracies()).as("test episodes").containsExactly(expected.outcome().test().accuracies());
    assertThat(got.test().episodes()).isPositive();
  }

  private static long[] bits(MetaTrainer.Row r) {
    return new long[] {r.iteration(), Double.doubleToRawLongBits(r.loss()), Double.doubleToRawLongBits(r.accuracy()),
        Double.doubleToRawLongBits(r.lr()), Double.doubleToRawLongBits(r.valAccuracy())};
  }

  private TrainConfig maml(Path d, Path out) {
    return SparkFixtures.tiny(Algorithm.MAML, d, out).iterations(iterations()).build();
  }

  private TrainConfig protonet(Path d, Path out) {
    return SparkFixtures.tiny(Algorithm.PROTONET, d, out).iterations(iterations()).build();
  }

  @Test
  void secondOrderMamlOnSparkEqualsTheSingleProcessRunBitForBit() throws Exception {
    SparkFixtures.Run ref = SparkFixtures.reference("maml-" + iterations(), this::maml);
    Path dir = tmp.resolve("maml-spark");
    TrainConfig c = maml(data, dir);
    SparkWorkers w = new SparkWorkers(sc, c, partitions());
    long t0 = System.nanoTime();
    assertSameRun(ref, SparkFixtures.run(c, w), dir);
    System.out.printf("%s MAML on Spark: %.1f s; %s%n", getClass().getSimpleName(), (System.nanoTime() - t0) / 1e9,
        w.stats());
    assertThat(w.stats().iterations()).isEqualTo(iterations());
    w.close();
  }

  @Test
  void protoNetsWithOnePartitionPerTaskAndAFailedFirstAttemptEqualTheSingleProcessRun() throws Exception {
    SparkFixtures.Run ref = SparkFixtures.reference("protonet-" + iterations(), this::protonet);
    Path dir = tmp.resolve("protonet-spark");
    TrainConfig c = protonet(data, dir);
    int failedBefore = FAILED_TASKS.get();
    // Partition 1 of iteration 2's gradient job throws on its first attempt, after computing a task.
    SparkWorkers w = new SparkWorkers(sc, c, 4).withFault(new FaultInjection(2, 1));
    assertSameRun(ref, SparkFixtures.run(c, w), dir);
    w.close();
    // The listener bus delivers task ends asynchronously; the failure must have happened.
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (FAILED_TASKS.get() == failedBefore && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(FAILED_TASKS.get() - failedBefore).as("failed task attempts").isEqualTo(1);
  }
}
