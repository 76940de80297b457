package org.metagrad;

import java.util.Arrays;

/** Shape arithmetic shared by every op: one shape engine for all backends. */
final class Shapes {
  private Shapes() {}

  /**
   * Elements of a tensor of this shape; the one size check of every factory and op that allocates (see
   * {@link #numel(String, long...)}).
   */
  static int numel(int[] shape) {
    return numel("tensor", shape);
  }

  /** {@link #numel(String, long...)} for an int shape. */
  static int numel(String op, int... shape) {
    long[] dims = new long[shape.length];
    for (int i = 0; i < shape.length; i++) {
      dims[i] = shape[i];
    }
    return numel(op, dims);
  }

  /**
   * Elements of a tensor of shape {@code dims}, which an op is about to create. Dims are longs so that a
   * caller can pass sizes it computed (a padded or concatenated dim, {@code n * n}) before they wrap around
   * an int. Buffers and indices are ints, so a tensor holds at most 2^31-1 elements; checking here, before
   * any memory is taken, turns what would be a NegativeArraySizeException, an out-of-bounds index deep in
   * a kernel or an OutOfMemoryError into one message naming the op and the shape. A zero dim makes the
   * tensor empty, whatever the other dims are.
   *
   * @throws IllegalArgumentException "op: shape [...] has more than 2^31-1 elements", or a negative dim
   */
  static int numel(String op, long... dims) {
    for (long d : dims) {
      if (d < 0) {
        throw new IllegalArgumentException(op + ": negative dimension in shape " + Arrays.toString(dims));
      }
      if (d == 0) {
        return 0;
      }
    }
    long n = 1;
    for (long d : dims) {
      if (n > Integer.MAX_VALUE / d) {
        throw tooBig(op, dims);
      }
      n *= d;
    }
    return (int) n;
  }

  private static IllegalArgumentException tooBig(String op, long[] dims) {
    return new IllegalArgumentException(op + ": shape " + Arrays.toString(dims) + " has more than 2^31-1 elements");
  }

  static String str(int[] shape) {
    return Arrays.toString(shape);
  }

  /** NumPy broadcasting of two shapes; the message names the op. */
  static int[] broadcast(String op, int[] a, int[] b) {
    int r = Math.max(a.length, b.length);
    int[] out = new int[r];
    for (int i = 0; i < r; i++) {
      int da = i < r - a.length ? 1 : a[i - (r - a.length)];
      int db = i < r - b.length ? 1 : b[i - (r - b.length)];
      if (da != db && da != 1 && db != 1) {
        throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b)
            + " cannot be broadcast (dim " + i + ": " + da + " vs " + db + ")");
      }
      out[i] = da == 1 ? db : da;
    }
    return out;
  }

  static int normDim(String op, int dim, int rank) {
    int d = dim < 0 ? dim + rank : dim;
    if (d < 0 || d >= rank) {
      throw new IllegalArgumentException(op + ": dim " + dim + " out of range for a tensor of rank " + rank);
    }
    return d;
  }

  static int[] normDims(String op, int[] dims, int rank) {
    int[] out = new int[dims.length];
    boolean[] seen = new boolean[rank];
    for (int i = 0; i < dims.length; i++) {
      out[i] = normDim(op, dims[i], rank);
      if (seen[out[i]]) {
        throw new IllegalArgumentException(op + ": dim " + dims[i] + " given twice in " + Arrays.toString(dims));
      }
      seen[out[i]] = true;
    }
    Arrays.sort(out);
    return out;
  }

  static int[] allDims(int rank) {
    int[] d = new int[rank];
    for (int i = 0; i < rank; i++) {
      d[i] = i;
    }
    return d;
  }

  /**
   * Strides that let a tensor of (oldShape, oldStrides) be seen as newShape without copying, or null
   * when that is impossible (the algorithm PyTorch's {@code view} uses).
   */
  static int[] viewStrides(int[] oldShape, int[] oldStrides, int[] newShape) {
    if (oldShape.length == 0 || numel(oldShape) == 0) {
      return org.metagrad.spi.View.contiguousStrides(newShape);
    }
    int[] newStrides = new int[newShape.length];
    int viewD = newShape.length - 1;
    long chunkBase = oldStrides[oldStrides.length - 1];
    long tensorNumel = 1;
    long viewNumel = 1;
    for (int td = oldShape.length - 1; td >= 0; td--) {
      tensorNumel *= oldShape[td];
      if (td == 0 || (oldShape[td - 1] != 1 && oldStrides[td - 1] != tensorNumel * chunkBase)) {
        while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1)) {
          newStrides[viewD] = (int) (viewNumel * chunkBase);
          viewNumel *= newShape[viewD];
          viewD--;
        }
        if (viewNumel != tensorNumel) {
          return null;
        }
        if (td > 0) {
          chunkBase = oldStrides[td - 1];
          tensorNumel = 1;
          viewNumel = 1;
        }
      }
    }
    return viewD == -1 ? newStrides : null;
  }
}
