package org.metagrad.spi;

/**
 * Walks a shape in row-major order and keeps the matching element offset of one or more strided views
 * (an odometer). Shared by the scalar kernels; fast backends specialise the inner dimension.
 */
public final class StridedIndex {
  private final int[] shape;
  private final int[][] strides;
  private final int[] idx;
  private final int[] off;

  /** Starts at index 0 of {@code shape} for views with the given strides and offsets. */
  public StridedIndex(int[] shape, int[][] strides, int[] offsets) {
    this.shape = shape;
    this.strides = strides;
    this.idx = new int[shape.length];
    this.off = offsets.clone();
  }

  /** Convenience for one view. */
  public static StridedIndex of(View v) {
    return new StridedIndex(v.shape(), new int[][] {v.strides()}, new int[] {v.offset()});
  }

  /** Current offset of view k. */
  public int offset(int k) {
    return off[k];
  }

  /** Moves to the next index in row-major order. */
  public void next() {
    for (int d = shape.length - 1; d >= 0; d--) {
      idx[d]++;
      for (int k = 0; k < off.length; k++) {
        off[k] += strides[k][d];
      }
      if (idx[d] < shape[d]) {
        return;
      }
      for (int k = 0; k < off.length; k++) {
        off[k] -= strides[k][d] * shape[d];
      }
      idx[d] = 0;
    }
  }
}
