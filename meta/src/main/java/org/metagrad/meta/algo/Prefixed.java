package org.metagrad.meta.algo;

import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/**
 * A module whose parameters (and state) are stored under {@code prefix + "."}: {@code init} prefixes the
 * inner module's names, {@code apply} reads {@code params.sub(prefix)}. Lets an embedding share names with
 * a full network ({@code new Prefixed("features", body)} reads {@code features.*} and ignores
 * {@code head.*}).
 *
 * @param prefix name prefix without the trailing dot
 * @param inner the wrapped module
 */
public record Prefixed(String prefix, Module inner) implements Module {

  /** Validates the prefix. */
  public Prefixed {
    if (prefix == null || prefix.isEmpty() || prefix.endsWith(".") || inner == null) {
      throw new IllegalArgumentException("Prefixed: need a non-empty prefix without trailing dot and a module, got '"
          + prefix + "'");
    }
  }

  /** The inner module's parameters, names prefixed. */
  @Override
  public Params init(Rng rng, DType dtype) {
    return inner.init(rng, dtype).prefixed(prefix);
  }

  /** The inner module applied to the parameters under the prefix. */
  @Override
  public Tensor apply(Params p, Tensor x, Mode mode) {
    return inner.apply(p.sub(prefix), x, mode.scoped(prefix));
  }
}
