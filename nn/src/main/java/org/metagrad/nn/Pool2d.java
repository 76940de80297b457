package org.metagrad.nn;

import org.metagrad.Tensor;

/**
 * The shared shape contract of the square-window pooling layers: window, stride, padding (at most half
 * the window), floor mode, {@code [N, C, H, W]} to {@code [N, C, OH, OW]} with
 * {@code OH = floor((H + 2 pad - kernel) / stride) + 1}. Subclasses choose the reduction.
 */
abstract class Pool2d extends Stateless {
  private final String name;
  final int kernel;
  final int stride;
  final int padding;

  Pool2d(String name, int kernel, int stride, int padding) {
    this.name = name;
    this.kernel = Layers.positive(name, "kernel", kernel);
    this.stride = Layers.positive(name, "stride", stride);
    if (padding < 0 || 2 * padding > kernel) {
      throw new IllegalArgumentException(name + ": padding must be in [0, kernel/2], got " + padding
          + " for kernel " + kernel);
    }
    this.padding = padding;
  }

  /** Output size for input size h. */
  public int outputSize(int h) {
    return Math.floorDiv(h + 2 * padding - kernel, stride) + 1;
  }

  /** The pooled input of an already validated {@code [N, C, H, W]} batch. */
  abstract Tensor pool(Tensor x);

  /** The pooled input. */
  @Override
  public Tensor apply(Params p, Tensor x, Mode mode) {
    if (x.rank() != 4) {
      throw Layers.badInput(toString(), "[N, C, H, W]", x);
    }
    if (outputSize(x.size(2)) < 1 || outputSize(x.size(3)) < 1) {
      throw new IllegalArgumentException(this + ": input " + Layers.str(x.shape()) + " is smaller than the window");
    }
    return pool(x);
  }

  /** E.g. {@code MaxPool2d(k=2)} (plus stride/padding when not default). */
  @Override
  public String toString() {
    return name + "(k=" + kernel + (stride != kernel ? ", stride=" + stride : "")
        + (padding != 0 ? ", pad=" + padding : "") + ")";
  }
}
