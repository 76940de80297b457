package org.metagrad.nn;

import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * A stateless layer or network: {@link #init} creates its parameters, {@link #apply} computes the output
 * from explicitly given parameters, so any {@link Params} (e.g. MAML fast weights) can be plugged in and
 * the result differentiated to any order.
 */
public interface Module {
  /** Fresh parameters (names relative to this module) drawn from {@code rng}, in {@code dtype}. */
  Params init(Rng rng, DType dtype);

  /**
   * Fresh parameters of the default dtype ({@link org.metagrad.Metagrad#defaultDType()}, FLOAT32 unless configured),
   * as every factory without data and without a dtype.
   */
  default Params init(Rng rng) {
    return init(rng, org.metagrad.Metagrad.defaultDType());
  }

  /** The output for input x with parameters p. */
  Tensor apply(Params p, Tensor x, Mode mode);

  /**
   * Writes this module's initial non-differentiable state into {@code state} under names relative to this
   * module (BatchNorm: {@code running_mean} zeros, {@code running_var} ones, {@code num_batches_tracked}
   * 0, as a fresh PyTorch module); modules without state write nothing. Layers that need state create
   * missing entries on first use, so calling this matters mainly to checkpoint a model before training.
   */
  default void initState(State state, DType dtype) {}

  /** A new {@link State} holding {@link #initState} entries: {@code model.apply(p, x, Mode.train().withState(model.newState(dt)))}. */
  default State newState(DType dtype) {
    State s = new State();
    initState(s, dtype);
    return s;
  }
}
