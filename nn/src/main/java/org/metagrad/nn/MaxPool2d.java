package org.metagrad.nn;

import org.metagrad.F;
import org.metagrad.Tensor;

/**
 * Max pooling over square windows, as {@code torch.nn.MaxPool2d(kernel, stride, padding)} (floor mode,
 * padding counts as -infinity): {@code [N, C, H, W]} to {@code [N, C, OH, OW]},
 * {@code OH = floor((H + 2 pad - kernel) / stride) + 1}. No parameters.
 *
 * <pre>{@code new MaxPool2d(2).apply(Params.empty(), x, Mode.TRAIN)  // [N, C, 28, 28] -> [N, C, 14, 14]}</pre>
 */
public final class MaxPool2d extends Stateless {
  private final int kernel;
  private final int stride;
  private final int padding;

  /** Window {@code kernel}, stride = kernel, no padding (PyTorch's defaults). */
  public MaxPool2d(int kernel) {
    this(kernel, kernel, 0);
  }

  /** Window, stride and padding (at most half the window). */
  public MaxPool2d(int kernel, int stride, int padding) {
    this.kernel = Layers.positive("MaxPool2d", "kernel", kernel);
    this.stride = Layers.positive("MaxPool2d", "stride", stride);
    if (padding < 0 || 2 * padding > kernel) {
      throw new IllegalArgumentException("MaxPool2d: padding must be in [0, kernel/2], got " + padding
          + " for kernel " + kernel);
    }
    this.padding = padding;
  }

  /** Output size for input size h. */
  public int outputSize(int h) {
    return Math.floorDiv(h + 2 * padding - kernel, stride) + 1;
  }

  /** The pooled input. */
  @Override
  public Tensor apply(Params p, Tensor x, Mode mode) {
    if (x.rank() != 4) {
      throw Layers.badInput(toString(), "[N, C, H, W]", x);
    }
    if (outputSize(x.size(2)) < 1 || outputSize(x.size(3)) < 1) {
      throw new IllegalArgumentException(this + ": input " + Layers.str(x.shape()) + " is smaller than the window");
    }
    return F.maxPool2d(x, kernel, stride, padding);
  }

  /** {@code MaxPool2d(k=2)} (plus stride/padding when not default). */
  @Override
  public String toString() {
    return "MaxPool2d(k=" + kernel + (stride != kernel ? ", stride=" + stride : "")
        + (padding != 0 ? ", pad=" + padding : "") + ")";
  }
}
