package org.metagrad.meta.train;

import java.nio.file.Path;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.MetaStep;
import org.metagrad.nn.Params;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.LrSchedule;

/**
 * A tiny trainer fixture without convolutions or transcendental functions: item {@code i} is a least-squares
 * problem {@code mean((X w + b - y)^2)} with 8 x 4 inputs drawn from a generator seeded by {@code i}, so a
 * run of a few iterations takes milliseconds and its bits depend on nothing but the seed. Also the
 * {@code main} of the forked JVMs of {@link CheckpointCrashTest}.
 */
final class LinearTasks {
  static final int IN = 4;
  static final int ROWS = 8;

  private LinearTasks() {}

  /** The initial parameters {@code w} (4 x 1) and {@code b} (1). */
  static Params init() {
    Rng rng = new Rng(7);
    float[] w = new float[IN];
    for (int i = 0; i < IN; i++) {
      w[i] = (float) rng.nextGaussian();
    }
    return Params.of(java.util.Map.of("w", Tensor.of(w, IN, 1), "b", Tensor.of(new float[] {0.5f}, 1)))
        .select(java.util.List.of("w", "b"));
  }

  /** The loss of problem {@code index} (differentiable in {@code p}). */
  static Tensor loss(Params p, long index) {
    Rng rng = new Rng(1000 + index);
    float[] x = new float[ROWS * IN];
    float[] y = new float[ROWS];
    for (int r = 0; r < ROWS; r++) {
      double t = 0.25;
      for (int i = 0; i < IN; i++) {
        x[r * IN + i] = (float) rng.nextGaussian();
        t += (i + 1) * 0.5 * x[r * IN + i];
      }
      y[r] = (float) (t + 0.1 * rng.nextGaussian());
    }
    Tensor pred = Tensor.of(x, ROWS, IN).matmul(p.get("w")).add(p.get("b"));
    return pred.sub(Tensor.of(y, ROWS, 1)).square().mean();
  }

  /** The objective of the fixture. */
  static MetaTrainer.Objective objective() {
    return (p, i) -> new MetaStep(loss(p, i), Double.NaN);
  }

  /** Validation score: minus the loss on fixed held-out problems (higher is better). */
  static MetaTrainer.Validator validator() {
    return p -> {
      double s = 0;
      for (long i = 0; i < 3; i++) {
        s -= loss(p.detach(), 1_000_000 + i).item();
      }
      return s;
    };
  }

  /** A trainer of {@code iterations} iterations of 2 problems, validating every iteration, checkpointing every 2. */
  static MetaTrainer trainer(int iterations, Path dir) {
    MetaTrainer.Options o = MetaTrainer.Options.of(iterations, 2).validateEvery(1).checkpointEvery(2).outDir(dir);
    return new MetaTrainer(objective(), Adam.of(0.05), LrSchedule.cosine(0.05, 0.001, iterations, 1), o);
  }

  /** Forked-JVM entry: {@code DIR ITERATIONS fresh|resume}; exits 0 after training. */
  public static void main(String[] args) {
    Path dir = Path.of(args[0]);
    int iterations = Integer.parseInt(args[1]);
    boolean resume = args[2].equals("resume");
    trainer(iterations, dir).train(init(), validator(), resume ? dir.resolve(MetaTrainer.LAST) : null, null);
    System.exit(0);
  }

  /** Parameters as float bits, for exact comparisons. */
  static java.util.Map<String, float[]> bits(Params p) {
    java.util.Map<String, float[]> m = new java.util.LinkedHashMap<>();
    for (String n : p.names()) {
      m.put(n, p.get(n).to(DType.FLOAT32).toFloatArray());
    }
    return m;
  }
}
