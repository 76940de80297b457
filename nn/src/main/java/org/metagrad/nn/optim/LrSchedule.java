package org.metagrad.nn.optim;

/**
 * A learning rate as a function of the number of optimizer steps already taken ({@code t = 0} for the
 * first step), applied with {@code optimizer.withLr(schedule.lr(state.step()))}.
 *
 * <pre>{@code
 * LrSchedule s = LrSchedule.cosine(1e-3, 0, 10_000, 500);  // 500 warmup steps, then cosine to 0
 * double lr = s.lr(state.step());
 * }</pre>
 */
@FunctionalInterface
public interface LrSchedule {
  /** The learning rate for step t (t >= 0). */
  double lr(long t);

  /** The same rate at every step. */
  static LrSchedule constant(double lr) {
    return new Constant(lr);
  }

  /** {@code lr * gamma^floor(t / stepSize)}, as {@code torch.optim.lr_scheduler.StepLR}. */
  static LrSchedule stepDecay(double lr, long stepSize, double gamma) {
    return new StepDecay(lr, stepSize, gamma);
  }

  /** Cosine decay from lr to minLr over totalSteps, after warmupSteps of linear warmup; see {@link Cosine}. */
  static LrSchedule cosine(double lr, double minLr, long totalSteps, long warmupSteps) {
    return new Cosine(lr, minLr, totalSteps, warmupSteps);
  }

  /**
   * A constant rate.
   *
   * @param lr the rate
   */
  record Constant(double lr) implements LrSchedule {
    /** Validates. */
    public Constant {
      check(lr);
    }

    @Override
    public double lr(long t) {
      return lr;
    }
  }

  /**
   * Step decay {@code lr * gamma^floor(t / stepSize)} ({@code StepLR}).
   *
   * @param lr the initial rate
   * @param stepSize steps between decays, >= 1
   * @param gamma the factor per decay, > 0
   */
  record StepDecay(double lr, long stepSize, double gamma) implements LrSchedule {
    /** Validates. */
    public StepDecay {
      check(lr);
      if (stepSize < 1 || !(gamma > 0)) {
        throw new IllegalArgumentException("StepDecay: stepSize must be >= 1 and gamma > 0, got " + stepSize
            + " and " + gamma);
      }
    }

    @Override
    public double lr(long t) {
      return lr * StrictMath.pow(gamma, Math.floorDiv(Math.max(t, 0), stepSize));
    }
  }

  /**
   * Linear warmup then cosine annealing, as {@code transformers.get_cosine_schedule_with_warmup} with a
   * floor: for {@code t < warmup}, {@code lr * t / warmup}; after,
   * {@code minLr + (lr - minLr) (1 + cos(pi p)) / 2} with {@code p = (t - warmup) / (total - warmup)}
   * clamped to [0, 1]. Without warmup it is the closed form of {@code CosineAnnealingLR(T_max = total,
   * eta_min = minLr)}, and it stays at minLr after {@code total}.
   *
   * @param lr the peak rate
   * @param minLr the final rate, in [0, lr]
   * @param totalSteps steps of warmup plus decay, > warmupSteps
   * @param warmupSteps steps of linear warmup, >= 0
   */
  record Cosine(double lr, double minLr, long totalSteps, long warmupSteps) implements LrSchedule {
    /** Validates. */
    public Cosine {
      check(lr);
      if (!(minLr >= 0 && minLr <= lr) || warmupSteps < 0 || totalSteps <= warmupSteps) {
        throw new IllegalArgumentException("Cosine: need 0 <= minLr <= lr and 0 <= warmupSteps < totalSteps, got "
            + "lr " + lr + " minLr " + minLr + " warmup " + warmupSteps + " total " + totalSteps);
      }
    }

    @Override
    public double lr(long t) {
      if (t < warmupSteps) {
        return lr * Math.max(t, 0) / warmupSteps;
      }
      double p = Math.min(1.0, (double) (t - warmupSteps) / (totalSteps - warmupSteps));
      return minLr + (lr - minLr) * 0.5 * (1 + StrictMath.cos(Math.PI * p));
    }
  }

  private static void check(double lr) {
    if (!(lr >= 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException("LrSchedule: learning rate must be finite and >= 0, got " + lr);
    }
  }
}
