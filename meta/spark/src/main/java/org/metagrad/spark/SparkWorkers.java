package org.metagrad.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.metagrad.meta.algo.FewShotLearner;
import org.metagrad.meta.data.ImageClasses;
import org.metagrad.meta.eval.EvalResult;
import org.metagrad.meta.eval.Evaluator;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.MetaTrainer;
import org.metagrad.meta.train.TaskSource;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;

/**
 * An {@link Experiment.Workers} on Apache Spark: the driver keeps the parameters and the optimizer (the
 * {@link MetaTrainer} runs on the driver, unchanged); each meta-iteration broadcasts the parameters as
 * safetensors bytes, splits the meta-batch's task indices into contiguous partitions, and every executor
 * computes {@link MetaTrainer#taskGradient} of {@link Experiment#training}'s objective for its indices,
 * building each task from the run's seed and the task index exactly as the single-process trainer does.
 * The gradients come back as safetensors bytes and the trainer sums them in task-index order, so the
 * parameters are bit-identical to the single-process run's for any partitioning, executor count or retry.
 * Evaluation splits episodes {@code 0..n-1} the same way ({@link Evaluator#episode}). The image pools are
 * broadcast once (decoded arrays, {@link PoolData}) and rebuilt once per executor JVM.
 *
 * <pre>{@code
 * try (JavaSparkContext sc = new JavaSparkContext(conf)) {
 *   SparkWorkers w = new SparkWorkers(sc, config, sc.defaultParallelism());
 *   new Experiment(config, System.out, null).withWorkers(w).run(false);
 * }
 * }</pre>
 */
public final class SparkWorkers implements Experiment.Workers, AutoCloseable {
  private final JavaSparkContext sc;
  private final TrainConfig config;
  private final String configJson;
  private final int partitions;
  private FaultInjection fault;
  private final Map<ImageClasses, Broadcast<PoolData>> pools = new IdentityHashMap<>();
  private final SparkStats stats = new SparkStats();

  /**
   * Workers for one configuration.
   *
   * @param sc the Spark context (the caller owns it)
   * @param config the run's configuration (executors rebuild its model, learner and tasks)
   * @param partitions how many partitions a meta-batch or an evaluation is split into (at most one per task)
   * @throws IllegalArgumentException for a null context or configuration, or partitions below 1
   */
  public SparkWorkers(JavaSparkContext sc, TrainConfig config, int partitions) {
    if (sc == null || config == null) {
      throw new IllegalArgumentException("SparkWorkers: a Spark context and a configuration are required");
    }
    if (partitions < 1) {
      throw new IllegalArgumentException("SparkWorkers: partitions must be >= 1, got " + partitions);
    }
    this.sc = sc;
    this.config = config;
    this.configJson = config.toJson();
    this.partitions = partitions;
  }

  /**
   * Injects a failure into one partition's first attempt (testing Spark's retries); null for none.
   *
   * @param f the failure
   * @return these workers
   */
  public SparkWorkers withFault(FaultInjection f) {
    this.fault = f;
    return this;
  }

  /** The timings of the jobs run so far. */
  public SparkStats stats() {
    return stats;
  }

  /** The number of partitions per job. */
  public int partitions() {
    return partitions;
  }

  private Broadcast<PoolData> pool(ImageClasses pool) {
    synchronized (pools) {
      return pools.computeIfAbsent(pool, p -> {
        long t0 = System.nanoTime();
        PoolData d = PoolData.of(p);
        Broadcast<PoolData> b = sc.broadcast(d);
        stats.poolBroadcast(d.bytes(), System.nanoTime() - t0);
        return b;
      });
    }
  }

  @Override
  public MetaTrainer.Gradients gradients(ImageClasses train) {
    Broadcast<PoolData> pool = pool(train);
    return (params, indices) -> {
      long t0 = System.nanoTime();
      byte[] pb = TensorBytes.encode(params);
      Broadcast<byte[]> b = sc.broadcast(pb);
      long t1 = System.nanoTime();
      long iteration = indices[0] / indices.length + 1;
      List<Long> idx = new ArrayList<>(indices.length);
      for (long i : indices) {
        idx.add(i);
      }
      List<GradientResult> got = sc.parallelize(idx, Math.min(partitions, indices.length))
          .mapPartitions(new GradientTask(configJson, pool, b, iteration, fault)).collect();
      long t2 = System.nanoTime();
      GradientResult[] byIndex = new GradientResult[indices.length];
      for (GradientResult r : got) {
        int k = (int) (r.index - indices[0]);
        if (k < 0 || k >= indices.length || byIndex[k] != null) {
          throw new IllegalStateException("SparkWorkers: unexpected or repeated result for task " + r.index);
        }
        byIndex[k] = r;
      }
      List<MetaTrainer.TaskGradient> out = new ArrayList<>(indices.length);
      long gradBytes = 0;
      long[] partitionNanos = new long[partitions];
      long[] partitionSetup = new long[partitions];
      for (int k = 0; k < indices.length; k++) {
        GradientResult r = byIndex[k];
        if (r == null) {
          throw new IllegalStateException("SparkWorkers: no result for task " + indices[k]);
        }
        gradBytes += r.grads.length;
        partitionNanos[r.partition] += r.nanos;
        partitionSetup[r.partition] += r.setupNanos;
        out.add(new MetaTrainer.TaskGradient(r.index, TensorBytes.decodeList(r.grads), r.loss, r.accuracy));
      }
      long t3 = System.nanoTime();
      b.destroy();
      long maxPartition = 0;
      long maxSetup = 0;
      for (int k = 0; k < partitions; k++) {
        maxPartition = Math.max(maxPartition, partitionNanos[k]);
        maxSetup = Math.max(maxSetup, partitionSetup[k]);
      }
      stats.iteration(pb.length, gradBytes, t1 - t0, t2 - t1, maxPartition, maxSetup, t3 - t2);
      return out;
    };
  }

  @Override
  public EvalResult evaluate(ImageClasses pool, long seed, Params params, int episodes) {
    if (episodes < 1) {
      throw new IllegalArgumentException("SparkWorkers: episodes must be >= 1, got " + episodes);
    }
    Broadcast<PoolData> pb = pool(pool);
    Broadcast<byte[]> b = sc.broadcast(TensorBytes.encode(params.detach()));
    List<Long> idx = new ArrayList<>(episodes);
    for (long i = 0; i < episodes; i++) {
      idx.add(i);
    }
    List<double[]> got = sc.parallelize(idx, Math.min(partitions, episodes))
        .mapPartitions(new EpisodeTask(configJson, pb, b, seed)).collect();
    b.destroy();
    double[] acc = new double[episodes];
    boolean[] seen = new boolean[episodes];
    for (double[] r : got) {
      int k = (int) r[0];
      if (seen[k]) {
        throw new IllegalStateException("SparkWorkers: episode " + k + " came back twice");
      }
      seen[k] = true;
      acc[k] = r[1];
    }
    for (int k = 0; k < episodes; k++) {
      if (!seen[k]) {
        throw new IllegalStateException("SparkWorkers: no result for episode " + k);
      }
    }
    return EvalResult.of(acc);
  }

  /** Removes the pools' broadcasts from the executors. */
  @Override
  public void close() {
    synchronized (pools) {
      for (Broadcast<PoolData> b : pools.values()) {
        b.destroy();
      }
      pools.clear();
    }
  }

  /** The configuration these workers compute for. */
  public TrainConfig config() {
    return config;
  }

  // ------------------------------------------------------------------ executor side

  /** One task's gradient as it travels back to the driver. */
  static final class GradientResult implements Serializable {
    private static final long serialVersionUID = 1L;
    final long index;
    final int partition;
    final byte[] grads;
    final double loss;
    final double accuracy;
    final long nanos;
    final long setupNanos;

    GradientResult(long index, int partition, byte[] grads, double loss, double accuracy, long nanos,
                   long setupNanos) {
      this.index = index;
      this.partition = partition;
      this.grads = grads;
      this.loss = loss;
      this.accuracy = accuracy;
      this.nanos = nanos;
      this.setupNanos = setupNanos;
    }
  }

  private static MetaTrainer.Objective objective(String json, Broadcast<PoolData> pool) {
    return ExecutorCache.get("train#" + pool.value().key() + "#" + json, () -> {
      TrainConfig c = TrainConfig.fromJson(json);
      Network model = Experiment.model(c);
      FewShotLearner learner = Experiment.fewShotLearner(c, model);
      return Experiment.training(c, model, learner, images(pool)).objective();
    });
  }

  private static ImageClasses images(Broadcast<PoolData> pool) {
    return ExecutorCache.get("pool#" + pool.value().key(), () -> pool.value().toImageClasses());
  }

  /** Computes the gradients of one partition's task indices. */
  static final class GradientTask implements FlatMapFunction<Iterator<Long>, GradientResult> {
    private static final long serialVersionUID = 1L;
    private final String json;
    private final Broadcast<PoolData> pool;
    private final Broadcast<byte[]> params;
    private final long iteration;
    private final FaultInjection fault;

    GradientTask(String json, Broadcast<PoolData> pool, Broadcast<byte[]> params, long iteration,
                 FaultInjection fault) {
      this.json = json;
      this.pool = pool;
      this.params = params;
      this.iteration = iteration;
      this.fault = fault;
    }

    @Override
    public Iterator<GradientResult> call(Iterator<Long> indices) {
      long s0 = System.nanoTime();
      TaskContext tc = TaskContext.get();
      int partition = tc.partitionId();
      MetaTrainer.Objective objective = objective(json, pool);
      Params p = TensorBytes.decodeParams(params.value()).requiresGrad(true);
      long setup = System.nanoTime() - s0;   // fetching and decoding the broadcasts (the pool: once per executor)
      List<GradientResult> out = new ArrayList<>();
      while (indices.hasNext()) {
        long i = indices.next();
        long t0 = System.nanoTime();
        MetaTrainer.TaskGradient g = MetaTrainer.taskGradient(objective, p, i);
        byte[] bytes = TensorBytes.encode(p.names(), g.grads());
        out.add(new GradientResult(i, partition, bytes, g.loss(), g.accuracy(), System.nanoTime() - t0,
            out.isEmpty() ? setup : 0));
        if (fault != null && fault.iteration() == iteration && fault.partition() == partition
            && tc.attemptNumber() == 0) {
          throw new IllegalStateException(FaultInjection.MESSAGE + " in partition " + partition + " of iteration "
              + iteration + " (attempt 0, after task " + i + ")");
        }
      }
      return out.iterator();
    }
  }

  /** Evaluates one partition's episodes: pairs (episode, accuracy). */
  static final class EpisodeTask implements FlatMapFunction<Iterator<Long>, double[]> {
    private static final long serialVersionUID = 1L;
    private final String json;
    private final Broadcast<PoolData> pool;
    private final Broadcast<byte[]> params;
    private final long seed;

    EpisodeTask(String json, Broadcast<PoolData> pool, Broadcast<byte[]> params, long seed) {
      this.json = json;
      this.pool = pool;
      this.params = params;
      this.seed = seed;
    }

    @Override
    public Iterator<double[]> call(Iterator<Long> episodes) {
      FewShotLearner learner = ExecutorCache.get("learner#" + json, () -> {
        TrainConfig c = TrainConfig.fromJson(json);
        return Experiment.fewShotLearner(c, Experiment.model(c));
      });
      TaskSource tasks = ExecutorCache.get("tasks#" + pool.value().key() + "#" + seed + "#" + json,
          () -> Experiment.testTasks(TrainConfig.fromJson(json), images(pool), seed));
      Params p = TensorBytes.decodeParams(params.value());
      List<double[]> out = new ArrayList<>();
      while (episodes.hasNext()) {
        long i = episodes.next();
        out.add(new double[] {i, Evaluator.episode(learner, p, tasks, i)});
      }
      return out.iterator();
    }
  }
}
