package org.metagrad.nn;

import java.util.Arrays;
import org.metagrad.Tensor;

/** Shared checks and child dispatch for the layers of this package (not public API). */
final class Layers {
  private Layers() {}

  /** Shape as {@code [a, b, c]}, the form every message of this package uses. */
  static String str(int[] shape) {
    return Arrays.toString(shape);
  }

  /**
   * The parameter {@code name} of {@code layer}, checked against the shape the layer declares; a missing
   * name or a wrong shape (say, a head for another number of classes) is reported with the layer's name.
   */
  static Tensor param(Params p, String name, String layer, int... expected) {
    if (!p.contains(name)) {
      throw new IllegalArgumentException(layer + ": missing parameter '" + name + "' (have " + p.names() + ")");
    }
    Tensor t = p.get(name);
    if (!Arrays.equals(t.shape(), expected)) {
      throw new IllegalArgumentException(layer + ": parameter '" + name + "' has shape " + str(t.shape())
          + ", expected " + str(expected));
    }
    return t;
  }

  /** A bad-input error in the package's style: {@code layer: expected input E, got [shape]}. */
  static IllegalArgumentException badInput(String layer, String expected, Tensor x) {
    return new IllegalArgumentException(layer + ": expected input " + expected + ", got " + str(x.shape()));
  }

  /**
   * Runs a named child with its own parameters ({@code p.sub(name)}) and state scope, prefixing the path of
   * any argument error so a failure deep in a backbone reads {@code at features.4: Conv2d(...): ...}.
   */
  static Tensor child(String name, Module m, Params p, Tensor x, Mode mode) {
    return child(name, m::apply, p, x, mode);
  }

  /** How a child is applied (its apply, or a fused variant such as {@link BatchNorm#applyRelu}). */
  interface Apply {
    Tensor apply(Params p, Tensor x, Mode mode);
  }

  static Tensor child(String name, Apply m, Params p, Tensor x, Mode mode) {
    try {
      return m.apply(p.sub(name), x, mode.scoped(name));
    } catch (PathedArgumentException e) {
      throw new PathedArgumentException(name + "." + e.path(), e.detail(), e);
    } catch (IllegalArgumentException e) {
      throw new PathedArgumentException(name, e.getMessage(), e);
    }
  }

  static int positive(String layer, String what, int v) {
    if (v < 1) {
      throw new IllegalArgumentException(layer + ": " + what + " must be >= 1, got " + v);
    }
    return v;
  }
}
