package org.metagrad.spi;

import org.metagrad.DType;
import org.metagrad.Device;

/**
 * Host memory shared by every CPU backend: a {@code float[]} for FLOAT32 or a {@code double[]} for
 * FLOAT64. Because the reference and the vectorized CPU backends both use it, CPU tensors move between
 * them without copies.
 */
public final class HeapBuffer implements Buffer {
  private final DType dtype;
  private final float[] f;
  private final double[] d;

  private HeapBuffer(DType dtype, float[] f, double[] d) {
    this.dtype = dtype;
    this.f = f;
    this.d = d;
  }

  /** Wraps (does not copy) a float array. */
  public static HeapBuffer wrap(float[] data) {
    return new HeapBuffer(DType.FLOAT32, data, null);
  }

  /** Wraps (does not copy) a double array. */
  public static HeapBuffer wrap(double[] data) {
    return new HeapBuffer(DType.FLOAT64, null, data);
  }

  /** A zero-filled buffer. */
  public static HeapBuffer allocate(DType dtype, int n) {
    if (n < 0) {
      throw new IllegalArgumentException("HeapBuffer: negative size " + n);
    }
    return dtype == DType.FLOAT32 ? wrap(new float[n]) : wrap(new double[n]);
  }

  /** Casts a buffer known to be on the host; names the device otherwise. */
  public static HeapBuffer of(Buffer b) {
    if (b instanceof HeapBuffer h) {
      return h;
    }
    throw new IllegalArgumentException("expected a host buffer, got one on " + b.device());
  }

  @Override
  public DType dtype() {
    return dtype;
  }

  @Override
  public int size() {
    return f != null ? f.length : d.length;
  }

  @Override
  public Device device() {
    return Device.cpu();
  }

  /** The backing float array (FLOAT32 only); callers must not write to a buffer a tensor owns. */
  public float[] floats() {
    if (f == null) {
      throw new IllegalStateException("HeapBuffer: FLOAT64 buffer has no float[]");
    }
    return f;
  }

  /** The backing double array (FLOAT64 only); callers must not write to a buffer a tensor owns. */
  public double[] doubles() {
    if (d == null) {
      throw new IllegalStateException("HeapBuffer: FLOAT32 buffer has no double[]");
    }
    return d;
  }

  /** Element i widened to double. */
  public double get(int i) {
    return f != null ? f[i] : d[i];
  }

  /** Sets element i (rounding to float for FLOAT32); only while the buffer is being produced. */
  public void set(int i, double v) {
    if (f != null) {
      f[i] = (float) v;
    } else {
      d[i] = v;
    }
  }
}
