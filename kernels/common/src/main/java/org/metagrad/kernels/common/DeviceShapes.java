package org.metagrad.kernels.common;

import java.util.Arrays;
import org.metagrad.spi.View;

/**
 * The shape checks and index plans that the device backends (OpenCL, CUDA) make on the host before a launch,
 * written once: a device reads out of range without an exception (on CUDA an illegal address poisons the whole
 * context), so every argument is checked here first, with messages that name the operation and the shapes.
 */
public final class DeviceShapes {
  private DeviceShapes() {}

  /**
   * Checks that every element view {@code v} can reach lies inside a buffer of {@code size} elements.
   *
   * @param op the operation, for the message
   * @param v the view
   * @param size the buffer's length in elements
   * @param where the device, for the message
   * @throws IllegalArgumentException for a negative stride or offset, or an element past the buffer's end
   */
  public static void checkReach(String op, View v, long size, String where) {
    if (v.numel() == 0) {
      return;
    }
    long last = v.offset();
    for (int d = 0; d < v.rank(); d++) {
      if (v.strides()[d] < 0) {
        throw new IllegalArgumentException(op + ": negative stride in " + v);
      }
      last += (long) (v.shape()[d] - 1) * v.strides()[d];
    }
    if (v.offset() < 0 || last >= size) {
      throw new IllegalArgumentException(op + ": " + v + " reaches element " + last + " of a buffer of " + size
          + " on " + where);
    }
  }

  /**
   * Checks that all views have one shape.
   *
   * @throws IllegalArgumentException listing every shape when they differ
   */
  public static void sameShapes(String op, View... vs) {
    for (View v : vs) {
      if (!Arrays.equals(v.shape(), vs[0].shape())) {
        StringBuilder sb = new StringBuilder(op + ": shapes differ:");
        for (View w : vs) {
          sb.append(' ').append(Arrays.toString(w.shape()));
        }
        throw new IllegalArgumentException(sb.toString());
      }
    }
  }

  /**
   * The shape of {@code x} padded by {@code before} and {@code after} elements per dimension.
   *
   * @throws IllegalArgumentException for paddings of another rank or negative ones
   */
  public static int[] padShape(View x, int[] before, int[] after) {
    int r = x.rank();
    if (before.length != r || after.length != r) {
      throw new IllegalArgumentException("pad: before " + Arrays.toString(before) + " and after "
          + Arrays.toString(after) + " must have the rank of " + Arrays.toString(x.shape()));
    }
    int[] outShape = new int[r];
    for (int d = 0; d < r; d++) {
      if (before[d] < 0 || after[d] < 0) {
        throw new IllegalArgumentException("pad: negative padding before " + Arrays.toString(before)
            + " after " + Arrays.toString(after));
      }
      outShape[d] = before[d] + x.shape()[d] + after[d];
    }
    return outShape;
  }

  /** The element offset of the unpadded block inside a padded output with contiguous strides {@code os}. */
  public static int padBase(int[] before, int[] os) {
    int base = 0;
    for (int d = 0; d < before.length; d++) {
      base += before[d] * os[d];
    }
    return base;
  }

  /**
   * The shape of {@code parts} joined along {@code dim}.
   *
   * @throws IllegalArgumentException for no parts, a dimension out of range, or a part whose rank or sizes
   *     outside {@code dim} differ from the first part's
   */
  public static int[] concatShape(View[] parts, int dim) {
    if (parts.length == 0) {
      throw new IllegalArgumentException("concat: no parts");
    }
    int r = parts[0].rank();
    if (dim < 0 || dim >= r) {
      throw new IllegalArgumentException("concat: dim " + dim + " out of range for rank " + r);
    }
    int[] outShape = parts[0].shape().clone();
    outShape[dim] = 0;
    for (View p : parts) {
      for (int d = 0; d < r; d++) {
        if (p.rank() != r || (d != dim && p.shape()[d] != outShape[d])) {
          throw new IllegalArgumentException("concat: part " + Arrays.toString(p.shape()) + " does not match "
              + Arrays.toString(parts[0].shape()) + " outside dim " + dim);
        }
      }
      outShape[dim] += p.shape()[dim];
    }
    return outShape;
  }

  /** The product of a shape's sizes, in a long (an output may be too large for an int: the caller says so). */
  public static long numel(int[] shape) {
    long n = 1;
    for (int sz : shape) {
      n *= sz;
    }
    return n;
  }

  /**
   * How a reduction walks its input: the kept dimensions (one output each) and the reduced ones, with the
   * input's strides; size-1 dimensions of the input count as kept.
   *
   * @param outN the number of outputs
   * @param innerN the number of inputs reduced into each output (0 when the input is empty)
   * @param keptShape the kept dimensions' sizes
   * @param keptStrides their strides in the input
   * @param redShape the reduced dimensions' sizes
   * @param redStrides their strides in the input
   */
  public record ReducePlan(int outN, int innerN, int[] keptShape, int[] keptStrides, int[] redShape,
                           int[] redStrides) {
    /** The input's shape reordered as {@code [kept..., reduced...]}, for a gathering copy. */
    public int[] gatherShape() {
      return join(keptShape, redShape);
    }

    /** The input's strides in the order of {@link #gatherShape()}. */
    public int[] gatherStrides() {
      return join(keptStrides, redStrides);
    }

    private static int[] join(int[] a, int[] b) {
      int[] out = Arrays.copyOf(a, a.length + b.length);
      System.arraycopy(b, 0, out, a.length, b.length);
      return out;
    }
  }

  /**
   * Plans the reduction of {@code x} to {@code outShape} (the input's shape with the reduced dimensions set to 1).
   *
   * @param what the operation, for the messages
   * @throws IllegalArgumentException for an output shape of another rank, or one that is not the input's shape
   *     with some dimensions set to 1
   */
  public static ReducePlan reducePlan(String what, View x, int[] outShape) {
    int[] s = x.shape();
    if (outShape.length != s.length) {
      throw new IllegalArgumentException(what + ": output shape " + Arrays.toString(outShape)
          + " must have the rank of input shape " + Arrays.toString(s));
    }
    int outN = 1;
    int keptRank = 0;
    for (int d = 0; d < s.length; d++) {
      if (outShape[d] != s[d] && outShape[d] != 1) {
        throw new IllegalArgumentException(what + ": output shape " + Arrays.toString(outShape)
            + " is not input shape " + Arrays.toString(s) + " with reduced dimensions set to 1");
      }
      outN *= outShape[d];
      if (outShape[d] == s[d]) {
        keptRank++;
      }
    }
    int redRank = s.length - keptRank;
    int[] keptShape = new int[keptRank];
    int[] keptStrides = new int[keptRank];
    int[] redShape = new int[redRank];
    int[] redStrides = new int[redRank];
    for (int d = 0, kd = 0, rd = 0; d < s.length; d++) {
      if (outShape[d] == s[d]) {
        keptShape[kd] = s[d];
        keptStrides[kd++] = x.strides()[d];
      } else {
        redShape[rd] = s[d];
        redStrides[rd++] = x.strides()[d];
      }
    }
    return new ReducePlan(outN, outN == 0 ? 0 : x.numel() / outN, keptShape, keptStrides, redShape, redStrides);
  }
}
