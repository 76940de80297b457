package org.metagrad;

import java.util.Objects;

/**
 * Where a tensor's memory lives: the host ({@link #cpu()}), an OpenCL device or a CUDA device.
 * Ops never mix devices; move a tensor with {@link Tensor#to(Device)}.
 *
 * <pre>{@code Tensor x = Tensor.ones(2, 3).to(Device.openCl(0)); }</pre>
 */
public final class Device {
  /** The kinds of device Metagrad knows. */
  public enum Kind {
    /** Host memory; computed by the best available CPU backend. */
    CPU,
    /** An OpenCL device, indexed in the order the backend lists them. */
    OPENCL,
    /** A CUDA device, by CUDA ordinal. */
    CUDA
  }

  private static final Device CPU = new Device(Kind.CPU, 0);

  private final Kind kind;
  private final int index;

  private Device(Kind kind, int index) {
    if (index < 0) {
      throw new IllegalArgumentException("Device: index must be >= 0, got " + index);
    }
    this.kind = kind;
    this.index = index;
  }

  /** The host device. */
  public static Device cpu() {
    return CPU;
  }

  /** The {@code i}-th OpenCL device over all platforms (see the OpenCL backend's device list). */
  public static Device openCl(int i) {
    return new Device(Kind.OPENCL, i);
  }

  /** The CUDA device with ordinal {@code i}. */
  public static Device cuda(int i) {
    return new Device(Kind.CUDA, i);
  }

  /** The kind of this device. */
  public Kind kind() {
    return kind;
  }

  /** The index within its kind (0 for the CPU). */
  public int index() {
    return index;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Device d && d.kind == kind && d.index == index;
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, index);
  }

  @Override
  public String toString() {
    return kind == Kind.CPU ? "cpu" : kind.name().toLowerCase(java.util.Locale.ROOT) + ":" + index;
  }
}
