package org.metagrad.spi;

import java.util.Arrays;

/**
 * A strided window onto a {@link Buffer}: element {@code (i0, i1, ...)} lives at
 * {@code offset + sum(ik * strides[k])}. Strides may be 0 (broadcast) but never negative.
 * Kernels receive views whose shapes are already resolved by core.
 */
public record View(Buffer buffer, int offset, int[] shape, int[] strides) {

  /** Checks that shape and strides have equal rank. */
  public View {
    if (shape.length != strides.length) {
      throw new IllegalArgumentException("View: rank of shape " + Arrays.toString(shape)
          + " != rank of strides " + Arrays.toString(strides));
    }
  }

  /** A contiguous row-major view of the whole buffer with the given shape. */
  public static View contiguous(Buffer buffer, int... shape) {
    return new View(buffer, 0, shape, contiguousStrides(shape));
  }

  /** Row-major strides for a shape. */
  public static int[] contiguousStrides(int[] shape) {
    int[] s = new int[shape.length];
    int acc = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      s[i] = acc;
      acc *= Math.max(shape[i], 1);
    }
    return s;
  }

  /** Number of dimensions. */
  public int rank() {
    return shape.length;
  }

  /** Number of elements. */
  public int numel() {
    int n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  /** True when the view covers its elements in row-major order without gaps (offset may be non-zero). */
  public boolean isContiguous() {
    int acc = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      if (shape[i] != 1 && strides[i] != acc) {
        return false;
      }
      acc *= shape[i];
    }
    return true;
  }

  /** Element type of the underlying buffer. */
  public org.metagrad.DType dtype() {
    return buffer.dtype();
  }

  @Override
  public String toString() {
    return "View" + Arrays.toString(shape) + " strides " + Arrays.toString(strides) + " @" + offset;
  }
}
