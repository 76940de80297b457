package org.metagrad.nn.train;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Supplier;
import org.metagrad.Autograd;
import org.metagrad.F;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;
import org.metagrad.nn.State;
import org.metagrad.nn.optim.GradClip;
import org.metagrad.nn.optim.LrSchedule;
import org.metagrad.nn.optim.Optimizer;
import org.metagrad.nn.optim.OptimizerState;
import org.metagrad.nn.optim.Step;

/**
 * Plain supervised training with cross-entropy (transfer-learning baselines, pre-training): for each
 * epoch, for each batch, {@code loss = crossEntropy(model(x), y)}, gradients, optional clipping by global
 * norm, and one optimizer step at the scheduled learning rate ({@code schedule.lr(step)}, the step
 * counted across epochs). The model runs in {@code Mode.train().withState(state).withRng(rng)}, so
 * BatchNorm running statistics in {@code state} are updated and dropout draws from rng.
 *
 * <pre>{@code
 * Trainer t = new Trainer(net, Adam.of(1e-3)).withSchedule(LrSchedule.cosine(1e-3, 0, 1000, 50));
 * Trainer.Result r = t.fit(params, state, 10, () -> batches(trainSet), new Rng(1));
 * EpochStats test = t.evaluate(r.params(), state, batches(testSet));
 * }</pre>
 */
public final class Trainer {
  private final Module model;
  private final Optimizer optimizer;
  private final LrSchedule schedule;
  private final double clipNorm;

  /** A trainer at the optimizer's constant learning rate, without clipping. */
  public Trainer(Module model, Optimizer optimizer) {
    this(model, optimizer, null, 0);
  }

  private Trainer(Module model, Optimizer optimizer, LrSchedule schedule, double clipNorm) {
    if (model == null || optimizer == null) {
      throw new IllegalArgumentException("Trainer: model and optimizer must be non-null");
    }
    this.model = model;
    this.optimizer = optimizer;
    this.schedule = schedule;
    this.clipNorm = clipNorm;
  }

  /** A copy whose learning rate follows the schedule (by optimizer step). */
  public Trainer withSchedule(LrSchedule s) {
    return new Trainer(model, optimizer, s, clipNorm);
  }

  /** A copy that clips gradients to global norm maxNorm before each step (0 turns clipping off). */
  public Trainer withClipNorm(double maxNorm) {
    if (!(maxNorm >= 0)) {
      throw new IllegalArgumentException("Trainer: clip norm must be >= 0, got " + maxNorm);
    }
    return new Trainer(model, optimizer, schedule, maxNorm);
  }

  /**
   * The outcome of {@link #fit}.
   *
   * @param params the trained parameters
   * @param optimizerState the optimizer state (to resume or checkpoint)
   * @param history per-epoch training loss and accuracy, measured on the fly during the epoch
   */
  public record Result(Params params, OptimizerState optimizerState, List<EpochStats> history) {}

  /** Trains from a fresh optimizer state; see {@link #fit(Params, OptimizerState, State, int, Supplier, Rng)}. */
  public Result fit(Params params, State state, int epochs, Supplier<Iterator<Batch>> epochData, Rng rng) {
    return fit(params, optimizer.init(params), state, epochs, epochData, rng);
  }

  /**
   * Trains for {@code epochs} passes over {@code epochData.get()} (called once per epoch, so it can
   * reshuffle).
   *
   * @param state module state (BatchNorm running statistics), updated in place; may be null
   * @param rng randomness for dropout; may be null (then dropout is off)
   */
  public Result fit(Params params, OptimizerState optState, State state, int epochs,
                    Supplier<Iterator<Batch>> epochData, Rng rng) {
    if (epochs < 0) {
      throw new IllegalArgumentException("Trainer: epochs must be >= 0, got " + epochs);
    }
    Params p = params.requiresGrad(true);
    OptimizerState os = optState;
    Mode mode = Mode.train().withState(state).withRng(rng);
    List<EpochStats> history = new ArrayList<>();
    for (int epoch = 0; epoch < epochs; epoch++) {
      Iterator<Batch> it = epochData.get();
      double lossSum = 0;
      long correct = 0;
      long seen = 0;
      double lr = optimizer.lr();
      while (it.hasNext()) {
        Batch b = it.next();
        Tensor logits = model.apply(p, b.x(), mode);
        Tensor loss = F.crossEntropy(logits, b.y());
        // allowUnused: a parameter outside this model's path (e.g. a spare head) gets a zero gradient.
        List<Tensor> g = Autograd.grad(loss, p.values(), GradOptions.defaults().allowUnused(true));
        if (clipNorm > 0) {
          g = GradClip.byGlobalNorm(g, clipNorm).grads();
        }
        lr = schedule == null ? optimizer.lr() : schedule.lr(os.step());
        Step s = optimizer.withLr(lr).step(p, g, os);
        p = s.params();
        os = s.state();
        lossSum += loss.item() * b.size();
        correct += countCorrect(logits, b.y());
        seen += b.size();
      }
      history.add(new EpochStats(epoch, seen == 0 ? Double.NaN : lossSum / seen,
          seen == 0 ? Double.NaN : (double) correct / seen, seen, lr));
    }
    // Hand back leaves that track gradients exactly when the given ones did.
    return new Result(params.zip(p, (orig, trained) -> trained.requiresGrad(orig.requiresGrad())), os,
        List.copyOf(history));
  }

  /** Mean loss and accuracy in evaluation mode (running statistics from state), without gradients. */
  public EpochStats evaluate(Params params, State state, Iterator<Batch> data) {
    Mode mode = Mode.eval().withState(state);
    double lossSum = 0;
    long correct = 0;
    long seen = 0;
    try (Autograd.NoGrad ng = Autograd.noGrad()) {
      while (data.hasNext()) {
        Batch b = data.next();
        Tensor logits = model.apply(params, b.x(), mode);
        lossSum += F.crossEntropy(logits, b.y()).item() * b.size();
        correct += countCorrect(logits, b.y());
        seen += b.size();
      }
    }
    return new EpochStats(0, seen == 0 ? Double.NaN : lossSum / seen, seen == 0 ? Double.NaN : (double) correct / seen,
        seen, Double.NaN);
  }

  /** Number of rows of logits {@code [N, C]} whose arg-max (first on ties) equals the label. */
  public static long countCorrect(Tensor logits, int[] labels) {
    if (logits.rank() != 2 || logits.size(0) != labels.length) {
      throw new IllegalArgumentException("countCorrect: logits " + java.util.Arrays.toString(logits.shape())
          + " do not match " + labels.length + " labels");
    }
    double[] v = logits.toDoubleArray();
    int c = logits.size(1);
    long ok = 0;
    for (int i = 0; i < labels.length; i++) {
      int best = 0;
      for (int j = 1; j < c; j++) {
        if (v[i * c + j] > v[i * c + best]) {
          best = j;
        }
      }
      if (best == labels[i]) {
        ok++;
      }
    }
    return ok;
  }
}
