package org.metagrad.spi;

import org.metagrad.DType;
import org.metagrad.Device;

/**
 * A flat block of elements owned by one backend's device. Buffers handed to {@code Tensor} are
 * never written again after the kernel that produced them returns: tensors are immutable.
 */
public interface Buffer {
  /** Element type. */
  DType dtype();

  /** Number of elements. */
  int size();

  /** The device that holds the memory. */
  Device device();

  /** Frees device memory now; idempotent; a no-op for host memory. */
  default void release() {}
}
