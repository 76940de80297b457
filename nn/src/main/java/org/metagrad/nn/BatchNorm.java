package org.metagrad.nn;

import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.TaskParallel;
import org.metagrad.Tensor;

/**
 * Batch normalization over channel dim 1, as {@code torch.nn.BatchNorm1d/2d}, with an explicit
 * {@link BnMode}: {@code y = (x - mean) / sqrt(var + eps) * weight + bias} per channel, where mean and
 * var are the batch's (biased variance) or the running statistics kept in {@link Mode#state()}.
 * Parameters {@code weight [C]} (ones) and {@code bias [C]} (zeros) unless {@code affine(false)}; state
 * {@code running_mean [C]}, {@code running_var [C]} (in the parameters' dtype) and the 0-d FLOAT64
 * counter {@code num_batches_tracked}, updated in training as PyTorch does:
 * {@code running = (1 - momentum) running + momentum batch}, with the unbiased batch variance
 * {@code sum((x - mean)^2) / (n - 1)}.
 *
 * <pre>{@code
 * BatchNorm2d bn = new BatchNorm2d(64, BnMode.RUNNING_STATS);
 * State s = bn.newState(DType.FLOAT32);
 * Tensor y = bn.apply(bn.init(rng), x, Mode.train().withState(s));  // updates s
 * Tensor z = bn.apply(bn.init(rng), x, Mode.eval().withState(s));   // uses s
 * }</pre>
 */
public abstract sealed class BatchNorm implements Module permits BatchNorm1d, BatchNorm2d {
  /** PyTorch's default momentum of the running statistics. */
  public static final double DEFAULT_MOMENTUM = 0.1;

  private final int channels;
  private final BnMode mode;
  private final double eps;
  private final double momentum;
  private final boolean affine;
  private final int steps;

  BatchNorm(String kind, int channels, BnMode mode, double eps, double momentum, boolean affine, int steps) {
    this.channels = Layers.positive(kind, "channels", channels);
    if (mode == null) {
      throw new IllegalArgumentException(kind + ": BnMode is null (choose BATCH_STATS, RUNNING_STATS or PER_STEP)");
    }
    if (!(eps > 0)) {
      throw new IllegalArgumentException(kind + ": eps must be > 0, got " + eps);
    }
    if (!(momentum >= 0 && momentum <= 1)) {
      throw new IllegalArgumentException(kind + ": momentum must be in [0, 1], got " + momentum);
    }
    this.mode = mode;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = affine;
    this.steps = Layers.positive(kind, "steps", steps);
  }

  abstract BatchNorm copy(double eps, double momentum, boolean affine, int steps);

  /** Checks the input rank, throwing with the layer's name. */
  abstract void checkRank(Tensor x);

  /** A copy with another epsilon (default 1e-5). */
  public BatchNorm eps(double e) {
    return copy(e, momentum, affine, steps);
  }

  /** A copy with another running-statistics momentum (default 0.1). */
  public BatchNorm momentum(double m) {
    return copy(eps, m, affine, steps);
  }

  /** A copy with or without the learnable {@code weight}/{@code bias} (default with). */
  public BatchNorm affine(boolean on) {
    return copy(eps, momentum, on, steps);
  }

  /**
   * A copy whose {@link #initState} writes statistics for inner steps {@code 0..n-1} (PER_STEP only;
   * statistics of later steps are still created on first use).
   */
  public BatchNorm steps(int n) {
    return copy(eps, momentum, affine, n);
  }

  /** Number of channels C. */
  public int channels() {
    return channels;
  }

  /** The statistics mode. */
  public BnMode mode() {
    return mode;
  }

  /** Epsilon added to the variance. */
  public double eps() {
    return eps;
  }

  /** Momentum of the running statistics. */
  public double momentum() {
    return momentum;
  }

  /** Whether the layer has {@code weight} and {@code bias}. */
  public boolean isAffine() {
    return affine;
  }

  /** {@code weight} ones and {@code bias} zeros (PyTorch's {@code reset_parameters}); empty if not affine. */
  @Override
  public Params init(Rng rng, DType dtype) {
    if (!affine) {
      return Params.empty();
    }
    return Params.of("weight", Init.ones(dtype, channels)).with("bias", Init.zeros(dtype, channels));
  }

  /** Fresh running statistics (mean 0, var 1, count 0) for RUNNING_STATS, or for each of the steps of PER_STEP. */
  @Override
  public void initState(State state, DType dtype) {
    if (mode == BnMode.RUNNING_STATS) {
      putFresh(state, "", dtype);
    } else if (mode == BnMode.PER_STEP) {
      for (int k = 0; k < steps; k++) {
        putFresh(state, suffix(k), dtype);
      }
    }
  }

  private void putFresh(State s, String suffix, DType dtype) {
    s.put("running_mean" + suffix, Tensor.zeros(dtype, channels));
    s.put("running_var" + suffix, Tensor.ones(dtype, channels));
    s.put("num_batches_tracked" + suffix, Tensor.scalar(0, DType.FLOAT64));
  }

  private static String suffix(int step) {
    return ".step" + step;
  }

  private String suffix(Mode m) {
    return mode == BnMode.PER_STEP ? suffix(m.step()) : "";
  }

  /**
   * Normalizes x {@code [N, C, ...]} with batch statistics (training, or BATCH_STATS always) or running
   * statistics (evaluation in RUNNING_STATS/PER_STEP), updating the running statistics in training when
   * the mode carries a state.
   */
  @Override
  public Tensor apply(Params p, Tensor x, Mode m) {
    return apply(p, x, m, false);
  }

  /**
   * {@code relu(apply(p, x, m))}, with batch statistics as one fused op ({@link F#batchNormRelu}): what
   * {@link Sequential} runs for a batch norm directly followed by a {@link ReLU}.
   */
  Tensor applyRelu(Params p, Tensor x, Mode m) {
    return apply(p, x, m, true, 0);
  }

  /**
   * {@code maxPool2d(relu(apply(p, x, m)), k, k, 0)} for x {@code [N, C, H, W]} with {@code H, W >= k}; with
   * batch statistics one fused op ({@link F#batchNormReluMaxPool}): what {@link Sequential} runs for a
   * batch norm, a {@link ReLU} and a non-overlapping {@link MaxPool2d} in a row.
   */
  Tensor applyReluPool(Params p, Tensor x, Mode m, int k) {
    return apply(p, x, m, true, k);
  }

  private Tensor apply(Params p, Tensor x, Mode m, boolean relu) {
    return apply(p, x, m, relu, 0);
  }

  private Tensor apply(Params p, Tensor x, Mode m, boolean relu, int pool) {
    checkRank(x);
    if (x.size(1) != channels) {
      throw Layers.badInput(toString(), expectedShape(), x);
    }
    Tensor gamma = affine ? Layers.param(p, "weight", toString(), channels) : null;
    Tensor beta = affine ? Layers.param(p, "bias", toString(), channels) : null;
    if (mode == BnMode.BATCH_STATS || m.training()) {
      long perChannel = (long) x.numel() / channels;
      if (perChannel < 2) {
        // As PyTorch: one value per channel normalizes to 0 and has no unbiased variance.
        throw new IllegalArgumentException(this + ": expected more than 1 value per channel for batch statistics, "
            + "got input " + Layers.str(x.shape()));
      }
      Tensor y = pool > 0 ? F.batchNormReluMaxPool(x, gamma, beta, eps, pool)
          : relu ? F.batchNormRelu(x, gamma, beta, eps) : F.batchNorm(x, gamma, beta, eps);
      if (mode != BnMode.BATCH_STATS && m.state() != null) {
        update(m.state(), suffix(m), x);
      }
      return y;
    }
    State s = m.state();
    if (s == null) {
      throw new IllegalArgumentException(this + ": evaluation with running statistics needs a State; pass "
          + "Mode.eval().withState(state) (the state used in training), or use BnMode.BATCH_STATS");
    }
    String suf = suffix(m);
    Tensor rm = s.get("running_mean" + suf);
    Tensor rv = s.get("running_var" + suf);
    // Statistics never written (an untrained module) are those of a fresh PyTorch module: mean 0, var 1.
    rm = rm == null ? Tensor.zeros(x.dtype(), channels) : rm;
    rv = rv == null ? Tensor.ones(x.dtype(), channels) : rv;
    Tensor y = F.batchNormWithStats(x, rm.to(x.dtype()).to(x.device()), rv.to(x.dtype()).to(x.device()), gamma, beta, eps);
    y = relu ? y.relu() : y;
    return pool > 0 ? F.maxPool2d(y, pool, pool, 0) : y;
  }

  private void update(State s, String suf, Tensor x) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      Tensor xd = x.detach();
      int[] dims = new int[x.rank() - 1];
      for (int i = 0; i < dims.length; i++) {
        dims[i] = i == 0 ? 0 : i + 1;
      }
      Tensor mean = xd.mean(dims, false);
      Tensor var = xd.var(dims, false, 1);
      // Applied in task order when tasks run in parallel (TaskParallel.inOrder), under the state's lock: the
      // moving average is order-dependent, and the same bits for any thread count is a project rule.
      TaskParallel.inOrder(() -> {
        synchronized (s.lock()) {
          Tensor rm = s.get("running_mean" + suf);
          Tensor rv = s.get("running_var" + suf);
          Tensor nb = s.get("num_batches_tracked" + suf);
          DType sd = rm != null ? rm.dtype() : x.dtype();
          rm = rm == null ? Tensor.zeros(sd, channels).to(x.device()) : rm.to(x.device());
          rv = rv == null ? Tensor.ones(sd, channels).to(x.device()) : rv.to(x.device());
          double count = nb == null ? 0 : nb.item();
          try (Autograd.NoGrad ng = Autograd.noGrad()) {
            s.put("running_mean" + suf, rm.mul(1 - momentum).add(mean.to(sd).mul(momentum)));
            s.put("running_var" + suf, rv.mul(1 - momentum).add(var.to(sd).mul(momentum)));
          }
          s.put("num_batches_tracked" + suf, Tensor.scalar(count + 1, DType.FLOAT64));
        }
      });
    }
  }

  abstract String expectedShape();

  abstract String kind();

  /** {@code BatchNorm2d(64, RUNNING_STATS)}, the name used in error messages. */
  @Override
  public String toString() {
    return kind() + "(" + channels + ", " + mode + (affine ? "" : ", affine=false") + ")";
  }
}
