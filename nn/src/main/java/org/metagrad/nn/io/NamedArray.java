package org.metagrad.nn.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * One named, typed, shaped array of raw little-endian bytes in row-major (C) order: what a
 * checkpoint stores per tensor, independent of Metagrad's {@code Tensor} so that files can be read
 * and written without the engine.
 *
 * <p>Invariants, checked by the constructor: {@code name} is non-null; every dimension is {@code >=
 * 0}; {@code data.remaining()} is exactly {@code numel(shape) * dtype.byteSize()}. A shape of
 * {@code []} is a scalar (one element); any zero dimension makes the array empty.
 *
 * <p>The constructor keeps a read-only view of the remaining bytes of {@code data} without copying
 * them; the {@code fromX} factories copy. {@link #data()} returns a fresh little-endian read-only
 * view on every call. Equality compares name, dtype, shape and the bytes (so NaN payloads and
 * {@code -0.0} count).
 *
 * <pre>{@code
 * NamedArray w = NamedArray.fromFloats("fc.weight", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6});
 * float[] back = w.toFloats();          // {1, 2, 3, 4, 5, 6}
 * }</pre>
 *
 * @param name the tensor's name, e.g. {@code "conv1.weight"}
 * @param dtype the element type
 * @param shape the dimensions, outermost first
 * @param data the elements' bytes, little-endian, row-major
 */
public record NamedArray(String name, SafeDType dtype, long[] shape, ByteBuffer data) {

  /** Checks the invariants and takes a read-only little-endian view of {@code data}. */
  public NamedArray {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(data, "data");
    shape = shape.clone();
    long bytes = byteCount(name, dtype, shape);
    if (data.remaining() != bytes) {
      throw new IllegalArgumentException(
          "NamedArray '" + name + "': shape " + Arrays.toString(shape) + " of " + dtype + " needs "
              + bytes + " bytes but the buffer has " + data.remaining() + " remaining");
    }
    data = data.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Bytes needed by {@code shape} elements of {@code dtype}, or an {@link
   * IllegalArgumentException} for a negative dimension or a shape whose byte count overflows a long.
   */
  static long byteCount(String name, SafeDType dtype, long[] shape) {
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        throw new IllegalArgumentException(
            "NamedArray '" + name + "': shape " + Arrays.toString(shape) + " has negative dimension "
                + i);
      }
    }
    long bytes = byteCountOrNegative(dtype, shape);
    if (bytes < 0) {
      throw new IllegalArgumentException(
          "NamedArray '" + name + "': shape " + Arrays.toString(shape) + " of " + dtype
              + " overflows a 64-bit byte count");
    }
    return bytes;
  }

  /**
   * The byte count of non-negative {@code shape}, or -1 if it overflows a long. Zero dimensions are
   * skipped in the overflow check, so {@code [0, 2^62, 2^62]} is rejected: its strides would
   * overflow in any code that indexes it, although it holds no elements.
   */
  static long byteCountOrNegative(SafeDType dtype, long[] shape) {
    long nonZero = dtype.byteSize();
    boolean empty = false;
    try {
      for (long d : shape) {
        if (d == 0) {
          empty = true;
        } else {
          nonZero = Math.multiplyExact(nonZero, d);
        }
      }
    } catch (ArithmeticException e) {
      return -1;
    }
    return empty ? 0 : nonZero;
  }

  /** Copies {@code values} into a new F32 array; {@code values.length} must equal the shape's product. */
  public static NamedArray fromFloats(String name, long[] shape, float... values) {
    ByteBuffer b = allocate(name, shape, values.length, SafeDType.F32);
    b.asFloatBuffer().put(values);
    return new NamedArray(name, SafeDType.F32, shape, b);
  }

  /** Copies {@code values} into a new F64 array; {@code values.length} must equal the shape's product. */
  public static NamedArray fromDoubles(String name, long[] shape, double... values) {
    ByteBuffer b = allocate(name, shape, values.length, SafeDType.F64);
    b.asDoubleBuffer().put(values);
    return new NamedArray(name, SafeDType.F64, shape, b);
  }

  /** Copies {@code values} into a new I32 array; {@code values.length} must equal the shape's product. */
  public static NamedArray fromInts(String name, long[] shape, int... values) {
    ByteBuffer b = allocate(name, shape, values.length, SafeDType.I32);
    b.asIntBuffer().put(values);
    return new NamedArray(name, SafeDType.I32, shape, b);
  }

  /** Copies {@code values} into a new I64 array; {@code values.length} must equal the shape's product. */
  public static NamedArray fromLongs(String name, long[] shape, long... values) {
    ByteBuffer b = allocate(name, shape, values.length, SafeDType.I64);
    b.asLongBuffer().put(values);
    return new NamedArray(name, SafeDType.I64, shape, b);
  }

  private static ByteBuffer allocate(String name, long[] shape, int count, SafeDType dtype) {
    Objects.requireNonNull(shape, "shape");
    long bytes = byteCount(String.valueOf(name), dtype, shape);
    if (bytes != (long) count * dtype.byteSize()) {
      throw new IllegalArgumentException(
          "NamedArray '" + name + "': shape " + Arrays.toString(shape) + " holds "
              + bytes / dtype.byteSize() + " elements but " + count + " values were given");
    }
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "NamedArray '" + name + "': " + bytes + " bytes do not fit in one ByteBuffer");
    }
    return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The dimensions, outermost first (a copy). */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** A fresh read-only little-endian view of the bytes, positioned at 0. */
  @Override
  public ByteBuffer data() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The number of dimensions; 0 for a scalar. */
  public int rank() {
    return shape.length;
  }

  /** The number of elements: the product of the shape, 1 for a scalar. */
  public long numel() {
    return data.remaining() / dtype.byteSize();
  }

  /** The number of bytes of data, {@code numel() * dtype().byteSize()}. */
  public long byteSize() {
    return data.remaining();
  }

  /** The same array under another name (the bytes are shared, not copied). */
  public NamedArray withName(String newName) {
    return new NamedArray(newName, dtype, shape, data);
  }

  /** The elements of an F32 array, row-major; any other dtype is an {@link IllegalStateException}. */
  public float[] toFloats() {
    require(SafeDType.F32);
    float[] out = new float[elementCount()];
    data().asFloatBuffer().get(out);
    return out;
  }

  /**
   * The elements of an F64 array, or of an F32 array widened exactly to double; any other dtype is
   * an {@link IllegalStateException}.
   */
  public double[] toDoubles() {
    double[] out = new double[elementCount()];
    if (dtype == SafeDType.F32) {
      var f = data().asFloatBuffer();
      for (int i = 0; i < out.length; i++) {
        out[i] = f.get(i);
      }
      return out;
    }
    require(SafeDType.F64);
    data().asDoubleBuffer().get(out);
    return out;
  }

  /** The elements of an I32 array; any other dtype is an {@link IllegalStateException}. */
  public int[] toInts() {
    require(SafeDType.I32);
    int[] out = new int[elementCount()];
    data().asIntBuffer().get(out);
    return out;
  }

  /**
   * The elements of an I64 array, or of an I32 array widened to long; any other dtype is an {@link
   * IllegalStateException}.
   */
  public long[] toLongs() {
    long[] out = new long[elementCount()];
    if (dtype == SafeDType.I32) {
      var b = data().asIntBuffer();
      for (int i = 0; i < out.length; i++) {
        out[i] = b.get(i);
      }
      return out;
    }
    require(SafeDType.I64);
    data().asLongBuffer().get(out);
    return out;
  }

  private void require(SafeDType wanted) {
    if (dtype != wanted) {
      throw new IllegalStateException(
          "NamedArray '" + name + "' holds " + dtype + ", not " + wanted);
    }
  }

  private int elementCount() {
    // A ByteBuffer holds at most Integer.MAX_VALUE bytes, so the element count always fits.
    return (int) numel();
  }

  /** Equal when name, dtype, shape and every byte of data are equal. */
  @Override
  public boolean equals(Object o) {
    return o instanceof NamedArray other
        && name.equals(other.name)
        && dtype == other.dtype
        && Arrays.equals(shape, other.shape)
        && data.equals(other.data);
  }

  /** Consistent with {@link #equals}. */
  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, Arrays.hashCode(shape), data);
  }

  /** Name, dtype and shape, e.g. {@code NamedArray[fc.weight F32 [5, 4]]}; never the data. */
  @Override
  public String toString() {
    return "NamedArray[" + name + " " + dtype + " " + Arrays.toString(shape) + "]";
  }
}
