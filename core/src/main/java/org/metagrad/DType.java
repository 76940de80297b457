package org.metagrad;

/**
 * Element type of a {@link Tensor}. FLOAT64 is what makes finite-difference gradient checks
 * meaningful; FLOAT32 is what fast training uses.
 */
public enum DType {
  /** 32-bit IEEE 754 float (Java {@code float}). */
  FLOAT32(4),
  /** 64-bit IEEE 754 float (Java {@code double}). */
  FLOAT64(8);

  private final int byteSize;

  DType(int byteSize) {
    this.byteSize = byteSize;
  }

  /** Bytes per element: 4 or 8. */
  public int byteSize() {
    return byteSize;
  }

  /** The wider of two types (used only where a caller asks for promotion explicitly). */
  public static DType wider(DType a, DType b) {
    return a == FLOAT64 || b == FLOAT64 ? FLOAT64 : FLOAT32;
  }
}
