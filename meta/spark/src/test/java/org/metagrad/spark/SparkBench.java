package org.metagrad.spark;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaSparkContext;
import org.metagrad.meta.algo.FewShotLearner;
import org.metagrad.meta.data.ClassSplit;
import org.metagrad.meta.data.ImageClasses;
import org.metagrad.meta.data.OmniglotReader;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.MetaTrainer;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.nn.Network;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.LrSchedule;

/**
 * The benchmark of bench/RESULTS.md (not a test): meta-iterations per second of second-order MAML on the
 * Omniglot background split's training pool, single-process ({@code threads} 1 and 2) and on Spark
 * ({@code local-cluster[E,1,1536]}, E executor JVMs of one core each), after warm-up iterations; for Spark
 * also where the time went ({@link SparkStats}). Arguments: algorithm, hidden channels, meta-batch, warm-up
 * iterations, measured iterations, then the modes: {@code single:T} or {@code spark:E}.
 */
public final class SparkBench {
  private SparkBench() {}

  /**
   * Runs the modes in turn and prints one line each.
   *
   * @param args algorithm hidden metaBatch warmUp measured mode...
   */
  public static void main(String[] args) {
    Algorithm a = Algorithm.parse(args[0]);
    int hidden = Integer.parseInt(args[1]);
    int batch = Integer.parseInt(args[2]);
    int warm = Integer.parseInt(args[3]);
    int measured = Integer.parseInt(args[4]);
    Path root = org.metagrad.meta.data.DataPaths.root();
    TrainConfig c = TrainConfig.builder().algorithm(a).data(root).split("background").hidden(hidden).ways(5)
        .shots(1).queries(5).testWays(5).metaBatch(batch).iterations(warm + measured).innerSteps(1).innerLr(0.4)
        .seed(1).threads(2).out(Path.of("unused")).build();
    long t0 = System.nanoTime();
    OmniglotReader reader = Experiment.reader(root, c.side(), 2);
    ClassSplit split = Experiment.split(c, reader);
    ImageClasses train = reader.load(split.train());
    System.out.printf(Locale.ROOT, "pool: %d classes, loaded in %.1f s%n", train.size(), (System.nanoTime() - t0) / 1e9);
    for (int m = 5; m < args.length; m++) {
      String[] mode = args[m].split(":");
      int n = Integer.parseInt(mode[1]);
      Network model = Experiment.model(c);
      FewShotLearner learner = Experiment.fewShotLearner(c, model);
      Experiment.Training t = Experiment.training(c, model, learner, train);
      MetaTrainer trainer = new MetaTrainer(t.objective(), Adam.of(1e-3), LrSchedule.constant(1e-3),
          MetaTrainer.Options.of(warm + measured, batch).threads(mode[0].equals("single") ? n : 1));
      JavaSparkContext sc = null;
      SparkWorkers w = null;
      if (mode[0].equals("spark")) {
        long s0 = System.nanoTime();
        sc = SparkFixtures.context("local-cluster[" + n + ",1,1536]");
        sc.parallelize(List.of(1, 2, 3, 4), n).count();   // wait for the executors
        System.out.printf(Locale.ROOT, "spark: %d executors up in %.1f s%n", n, (System.nanoTime() - s0) / 1e9);
        w = new SparkWorkers(sc, c, n);
        trainer = trainer.withGradients(w.gradients(train));
      }
      List<Long> stamps = new ArrayList<>();
      SparkWorkers workers = w;
      trainer.train(t.init(), null, null, (row, o) -> {
        stamps.add(System.nanoTime());
        if (row.iteration() == warm && workers != null) {
          workers.stats().resetIterations();
        }
      });
      double secs = (stamps.get(stamps.size() - 1) - stamps.get(warm - 1)) / 1e9;
      System.out.printf(Locale.ROOT, "%s %s hidden %d meta-batch %d: %.3f meta-iterations/s (%.3f s per iteration,"
          + " %d measured after %d warm-up)%n", args[m], a.cliName(), hidden, batch, measured / secs, secs / measured,
          measured, warm);
      if (w != null) {
        System.out.println("  " + w.stats());
        w.close();
        sc.stop();
      }
    }
  }
}
