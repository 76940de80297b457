package org.metagrad.kernels.cpu;

/**
 * Shape bookkeeping shared by the CPU kernels: collapsing a strided iteration to as few dimensions as
 * possible, and walking the outer dimensions row by row so that only the innermost (longest) run goes
 * to a specialised loop. Replaces a per-element odometer with one step per row.
 */
final class Strides {
  /** Collapsed sizes; the last entry is the inner run length. */
  final int[] shape;
  /** Collapsed strides per operand, {@code strides[k][d]}. */
  final int[][] strides;
  /** Collapsed rank (at least 1). */
  final int rank;

  /**
   * Drops size-1 dimensions and merges neighbours that are contiguous for every operand. A rank-0 or
   * all-ones shape becomes a single run of length 1.
   */
  Strides(int[] shape, int[][] strides) {
    int k = strides.length;
    int[] cs = new int[Math.max(1, shape.length)];
    int[][] cst = new int[k][Math.max(1, shape.length)];
    int r = 0;
    for (int d = 0; d < shape.length; d++) {
      int s = shape[d];
      if (s == 1) {
        continue;
      }
      boolean merge = r > 0;
      for (int v = 0; v < k && merge; v++) {
        merge = cst[v][r - 1] == strides[v][d] * s;
      }
      if (merge) {
        cs[r - 1] *= s;
        for (int v = 0; v < k; v++) {
          cst[v][r - 1] = strides[v][d];
        }
      } else {
        cs[r] = s;
        for (int v = 0; v < k; v++) {
          cst[v][r] = strides[v][d];
        }
        r++;
      }
    }
    if (r == 0) {
      cs[0] = 1;
      for (int v = 0; v < k; v++) {
        cst[v][0] = 1;
      }
      r = 1;
    }
    this.shape = cs;
    this.strides = cst;
    this.rank = r;
  }

  /** Length of the innermost run. */
  int inner() {
    return shape[rank - 1];
  }

  /** Innermost stride of operand k. */
  int innerStride(int k) {
    return strides[k][rank - 1];
  }

  /** Number of inner runs (product of the outer dimensions). */
  int rows() {
    int n = 1;
    for (int d = 0; d < rank - 1; d++) {
      n *= shape[d];
    }
    return n;
  }

  /** A cursor over the outer dimensions positioned at {@code row}, with operand base offsets. */
  Cursor cursor(int[] offsets, int row) {
    return new Cursor(this, offsets, row);
  }

  /** Row-major odometer over the outer dimensions; {@link #off} holds each operand's row start. */
  static final class Cursor {
    private final Strides s;
    private final int[] idx;
    /** Current row start of each operand. */
    final int[] off;

    Cursor(Strides s, int[] offsets, int row) {
      this.s = s;
      int outer = s.rank - 1;
      this.idx = new int[Math.max(outer, 1)];
      this.off = offsets.clone();
      int rem = row;
      for (int d = outer - 1; d >= 0; d--) {
        int i = rem % s.shape[d];
        rem /= s.shape[d];
        idx[d] = i;
        for (int v = 0; v < off.length; v++) {
          off[v] += i * s.strides[v][d];
        }
      }
    }

    /** Moves to the next row. */
    void next() {
      next(0);
    }

    /**
     * Moves on by a whole block of the {@code level} dims above the inner run (0: one row; 1: the
     * second-innermost dim, whose index must be 0, and so on), for callers that walk those dims themselves.
     */
    void next(int level) {
      for (int d = s.rank - 2 - level; d >= 0; d--) {
        idx[d]++;
        for (int v = 0; v < off.length; v++) {
          off[v] += s.strides[v][d];
        }
        if (idx[d] < s.shape[d]) {
          return;
        }
        for (int v = 0; v < off.length; v++) {
          off[v] -= s.strides[v][d] * s.shape[d];
        }
        idx[d] = 0;
      }
    }
  }
}
