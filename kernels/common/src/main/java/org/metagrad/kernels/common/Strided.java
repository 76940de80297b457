package org.metagrad.kernels.common;

import java.util.ArrayList;
import java.util.List;

/**
 * Host side of {@code common/strided.h}: a shape walked in row-major order together with the strides
 * and offsets of up to {@value #OPERANDS} operands (operand 0 is the output). {@link #of} drops size-1
 * dimensions and merges neighbours that are contiguous for every operand, so a contiguous elementwise
 * op reaches the kernel as rank 1 and needs no index arithmetic beyond one multiply-add.
 *
 * <p>Shared by the OpenCL and the CUDA backends, which pass {@link #pack()} as the by-value struct
 * argument of the same kernels.
 */
public final class Strided {
  /** Dimensions the kernel struct can hold ({@code MG_MAX_RANK}). */
  public static final int MAX_RANK = 8;
  /** Operands the kernel struct can hold ({@code MG_OPERANDS}). */
  public static final int OPERANDS = 4;
  /** Length of the packed struct in ints: rank, shape, strides, offsets. */
  public static final int PACKED_INTS = 1 + MAX_RANK + OPERANDS * MAX_RANK + OPERANDS;

  /** The collapsed shape (read-only by convention). */
  public final int[] shape;
  /** Per operand, its strides over {@link #shape} (read-only by convention). */
  public final int[][] strides;
  /** Per operand, its element offset (read-only by convention). */
  public final int[] offsets;

  private Strided(int[] shape, int[][] strides, int[] offsets) {
    this.shape = shape;
    this.strides = strides;
    this.offsets = offsets;
  }

  /**
   * Collapses {@code shape} for the given per-operand strides and offsets. A rank-0 result becomes
   * rank 1 of size 1 so kernels always see at least one dimension.
   */
  public static Strided of(int[] shape, int[][] strides, int[] offsets) {
    int ops = strides.length;
    List<Integer> dims = new ArrayList<>();
    for (int d = 0; d < shape.length; d++) {
      if (shape[d] != 1) {
        dims.add(d);
      }
    }
    int[] sh = new int[dims.size()];
    int[][] st = new int[ops][dims.size()];
    int r = 0;
    for (int d : dims) {
      boolean merge = r > 0;
      for (int k = 0; k < ops && merge; k++) {
        // the previous kept dimension steps exactly over this one for every operand
        merge = st[k][r - 1] == strides[k][d] * shape[d];
      }
      if (merge) {
        sh[r - 1] *= shape[d];
        for (int k = 0; k < ops; k++) {
          st[k][r - 1] = strides[k][d];
        }
      } else {
        sh[r] = shape[d];
        for (int k = 0; k < ops; k++) {
          st[k][r] = strides[k][d];
        }
        r++;
      }
    }
    if (r == 0) {
      return new Strided(new int[] {1}, new int[ops][1], offsets.clone());
    }
    int[][] trimmed = new int[ops][];
    for (int k = 0; k < ops; k++) {
      trimmed[k] = java.util.Arrays.copyOf(st[k], r);
    }
    return new Strided(java.util.Arrays.copyOf(sh, r), trimmed, offsets.clone());
  }

  /** Number of dimensions after collapsing (at least 1). */
  public int rank() {
    return shape.length;
  }

  /** Number of elements walked. */
  public int numel() {
    int n = 1;
    for (int s : shape) {
      n *= s;
    }
    return n;
  }

  /** The struct {@code mg_strided} as ints; unused operands and dimensions are zero. */
  public int[] pack() {
    if (rank() > MAX_RANK) {
      throw new IllegalStateException("Strided: rank " + rank() + " exceeds " + MAX_RANK + "; split first");
    }
    int[] p = new int[PACKED_INTS];
    p[0] = rank();
    System.arraycopy(shape, 0, p, 1, rank());
    for (int k = 0; k < strides.length; k++) {
      System.arraycopy(strides[k], 0, p, 1 + MAX_RANK + k * MAX_RANK, rank());
      p[1 + MAX_RANK + OPERANDS * MAX_RANK + k] = offsets[k];
    }
    return p;
  }

  /**
   * Splits a walk of rank above {@link #MAX_RANK} into walks of the trailing {@code MAX_RANK}
   * dimensions, one per index of the leading ones, in row-major order (so outputs written
   * contiguously stay in order). Walks of rank at most {@code MAX_RANK} come back as themselves.
   */
  public List<Strided> chunks() {
    if (rank() <= MAX_RANK) {
      return List.of(this);
    }
    int lead = rank() - MAX_RANK;
    int[] tailShape = java.util.Arrays.copyOfRange(shape, lead, rank());
    int ops = strides.length;
    int[][] tailStrides = new int[ops][];
    for (int k = 0; k < ops; k++) {
      tailStrides[k] = java.util.Arrays.copyOfRange(strides[k], lead, rank());
    }
    List<Strided> out = new ArrayList<>();
    int[] idx = new int[lead];
    int count = 1;
    for (int d = 0; d < lead; d++) {
      count *= shape[d];
    }
    for (int c = 0; c < count; c++) {
      int[] off = offsets.clone();
      for (int d = 0; d < lead; d++) {
        for (int k = 0; k < ops; k++) {
          off[k] += idx[d] * strides[k][d];
        }
      }
      out.add(new Strided(tailShape, tailStrides, off));
      for (int d = lead - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) {
          break;
        }
        idx[d] = 0;
      }
    }
    return out;
  }

  /**
   * Whether this walk is one dense run for every operand (rank 1, unit stride or a single element, any offset):
   * the backends then launch the contiguous variant of an elementwise kernel.
   */
  public boolean dense() {
    if (rank() != 1) {
      return false;
    }
    for (int[] st : strides) {
      if (st[0] != 1 && shape[0] != 1) {
        return false;
      }
    }
    return true;
  }
}
