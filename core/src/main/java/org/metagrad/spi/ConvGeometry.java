package org.metagrad.spi;

/**
 * Resolved sizes of a 2-d sliding window (im2col / col2im): input {@code [n, c, h, w]}, kernel
 * {@code kh x kw}, stride, zero padding and dilation. Columns are {@code [n, c*kh*kw, oh*ow]} with the
 * row index {@code (ci*kh + ki)*kw + kj}, the order PyTorch's {@code unfold} uses.
 */
public record ConvGeometry(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                           int dh, int dw) {

  /** Validates sizes. */
  public ConvGeometry {
    if (n < 0 || c < 0 || h < 0 || w < 0 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0
        || dh < 1 || dw < 1) {
      throw new IllegalArgumentException("ConvGeometry: bad sizes " + describe(n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw));
    }
    // in longs: the kernels index padded rows and the column matrix with ints, so every size they derive
    // must fit one (and a wrapped int could pass the fit check below)
    long spanH = (long) h + 2L * ph - (long) dh * (kh - 1) - 1;
    long spanW = (long) w + 2L * pw - (long) dw * (kw - 1) - 1;
    if (spanH < 0 || spanW < 0) {
      throw new IllegalArgumentException("ConvGeometry: kernel " + kh + "x" + kw + " (dilation " + dh + "x" + dw
          + ") does not fit input " + h + "x" + w + " with padding " + ph + "x" + pw);
    }
    long rows = (long) c * kh;
    rows = rows > Integer.MAX_VALUE ? rows : rows * kw; // a third factor could wrap a long
    long cols = (spanH / sh + 1) * (spanW / sw + 1);
    if ((long) h + 2L * ph > Integer.MAX_VALUE || (long) w + 2L * pw > Integer.MAX_VALUE
        || rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("ConvGeometry: sizes " + describe(n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw)
          + " give a padded input, c*kh*kw or oh*ow (" + cols + ") of more than 2^31-1 elements");
    }
  }

  private static String describe(int... v) {
    return java.util.Arrays.toString(v);
  }

  /**
   * Checks the operands of the conv2d kernels of {@link Backend} against this geometry: x
   * {@code [n, c, h, w]}, the flattened weight {@code [out, c*kh*kw]}, the output gradient
   * {@code [n, out, oh*ow]} (each may be null when the kernel does not take it).
   *
   * @throws IllegalArgumentException naming op and the operand that does not fit
   */
  public void checkOperands(String op, View x, View w, View gy) {
    FusedDefaults.checkConv(op, x, w, gy, this);
  }

  /** Output height. */
  public int oh() {
    return (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
  }

  /** Output width. */
  public int ow() {
    return (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  }

  /** Rows of the column matrix: c*kh*kw. */
  public int rows() {
    return c * kh * kw;
  }

  /** Columns per image: oh*ow. */
  public int cols() {
    return oh() * ow();
  }
}
