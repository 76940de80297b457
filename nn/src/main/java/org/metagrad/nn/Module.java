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

  /** FLOAT32 parameters. */
  default Params init(Rng rng) {
    return init(rng, DType.FLOAT32);
  }

  /** The output for input x with parameters p. */
  Tensor apply(Params p, Tensor x, Mode mode);
}
