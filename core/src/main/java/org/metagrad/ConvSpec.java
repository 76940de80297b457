package org.metagrad;

/**
 * Stride, zero padding and dilation of a 2-d convolution or pooling window, the same in both spatial
 * dims unless set separately.
 *
 * <p>One static factory, {@link #defaults()}, and copy methods named after the field they set ({@link #stride},
 * {@link #padding}, {@link #dilation}), so every chain reads left to right and keeps what it set.
 *
 * <pre>{@code F.conv2d(x, w, b, ConvSpec.defaults().padding(1)); ConvSpec.defaults().stride(2).padding(1) }</pre>
 */
public record ConvSpec(int strideH, int strideW, int padH, int padW, int dilationH, int dilationW) {

  /** Validates the values. */
  public ConvSpec {
    if (strideH < 1 || strideW < 1 || padH < 0 || padW < 0 || dilationH < 1 || dilationW < 1) {
      throw new IllegalArgumentException("ConvSpec: stride and dilation must be >= 1 and padding >= 0, got stride "
          + strideH + "x" + strideW + " padding " + padH + "x" + padW + " dilation " + dilationH + "x" + dilationW);
    }
  }

  /** Stride 1, no padding, no dilation. */
  public static ConvSpec defaults() {
    return new ConvSpec(1, 1, 0, 0, 1, 1);
  }

  /** A copy with stride s in both dims. */
  public ConvSpec stride(int s) {
    return new ConvSpec(s, s, padH, padW, dilationH, dilationW);
  }

  /** A copy with zero padding p on every side. */
  public ConvSpec padding(int p) {
    return new ConvSpec(strideH, strideW, p, p, dilationH, dilationW);
  }

  /** A copy with dilation d in both dims. */
  public ConvSpec dilation(int d) {
    return new ConvSpec(strideH, strideW, padH, padW, d, d);
  }
}
