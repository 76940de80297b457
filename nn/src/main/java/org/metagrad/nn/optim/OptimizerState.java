package org.metagrad.nn.optim;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.metagrad.DType;
import org.metagrad.Tensor;

/**
 * The immutable state of an {@link Optimizer}: the number of steps taken and named buffers, one per
 * parameter and kind, named {@code kind.paramName} with PyTorch's kinds ({@code momentum_buffer} for
 * SGD, {@code exp_avg} and {@code exp_avg_sq} for Adam), e.g. {@code exp_avg.features.0.weight}.
 * {@link #toNamedTensors()} adds the step count as the 0-d FLOAT64 tensor {@code step}, so the whole
 * state can be checkpointed as named tensors and read back with {@link #fromNamedTensors}.
 *
 * <pre>{@code
 * OptimizerState s = adam.init(params);
 * Map<String, Tensor> ckpt = s.toNamedTensors();   // exp_avg.*, exp_avg_sq.*, step
 * OptimizerState back = OptimizerState.fromNamedTensors(ckpt);
 * }</pre>
 */
public final class OptimizerState {
  /** The name of the step counter in {@link #toNamedTensors()}. */
  public static final String STEP = "step";

  private static final OptimizerState EMPTY = new OptimizerState(0, Map.of());

  private final long step;
  private final Map<String, Tensor> buffers;

  /** A state after {@code step} steps with the given buffers (copied; detached). */
  public OptimizerState(long step, Map<String, Tensor> buffers) {
    if (step < 0) {
      throw new IllegalArgumentException("OptimizerState: step must be >= 0, got " + step);
    }
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
    buffers.forEach((k, v) -> {
      if (k == null || k.isEmpty() || STEP.equals(k) || v == null) {
        throw new IllegalArgumentException("OptimizerState: bad buffer entry '" + k + "' (names must be non-empty, "
            + "not '" + STEP + "', tensors non-null)");
      }
      m.put(k, v.detach());
    });
    this.step = step;
    this.buffers = Collections.unmodifiableMap(m);
  }

  /** No steps, no buffers (optimizers create missing buffers on first use). */
  public static OptimizerState empty() {
    return EMPTY;
  }

  /** Steps taken so far. */
  public long step() {
    return step;
  }

  /** The buffer called name, or null. */
  public Tensor get(String name) {
    return buffers.get(name);
  }

  /** The buffer of {@code kind} for parameter {@code param} ({@code kind.param}), or null. */
  public Tensor get(String kind, String param) {
    return buffers.get(kind + "." + param);
  }

  /** All buffers in order (read-only). */
  public Map<String, Tensor> buffers() {
    return buffers;
  }

  /** Buffers plus the step count as a 0-d FLOAT64 tensor named {@code step}. */
  public Map<String, Tensor> toNamedTensors() {
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>(buffers);
    m.put(STEP, Tensor.scalar(step, DType.FLOAT64));
    return m;
  }

  /** The inverse of {@link #toNamedTensors()}; a missing {@code step} entry means 0. */
  public static OptimizerState fromNamedTensors(Map<String, Tensor> named) {
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>(named);
    Tensor s = m.remove(STEP);
    long step = s == null ? 0 : Math.round(s.item());
    return new OptimizerState(step, m);
  }

  @Override
  public String toString() {
    return "OptimizerState{step " + step + ", buffers " + buffers.keySet() + "}";
  }
}
