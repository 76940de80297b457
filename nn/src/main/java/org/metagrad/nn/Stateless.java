package org.metagrad.nn;

import org.metagrad.DType;
import org.metagrad.Rng;

/** Base of layers without parameters: {@link #init} gives {@link Params#empty()}. */
abstract class Stateless implements Module {
  /** No parameters. */
  @Override
  public final Params init(Rng rng, DType dtype) {
    return Params.empty();
  }
}
