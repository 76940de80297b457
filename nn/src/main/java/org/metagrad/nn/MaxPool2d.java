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
public final class MaxPool2d extends Pool2d {
  /** Window {@code kernel}, stride = kernel, no padding (PyTorch's defaults). */
  public MaxPool2d(int kernel) {
    this(kernel, kernel, 0);
  }

  /** Window, stride and padding (at most half the window). */
  public MaxPool2d(int kernel, int stride, int padding) {
    super("MaxPool2d", kernel, stride, padding);
  }

  @Override
  Tensor pool(Tensor x) {
    return F.maxPool2d(x, kernel, stride, padding);
  }
}
