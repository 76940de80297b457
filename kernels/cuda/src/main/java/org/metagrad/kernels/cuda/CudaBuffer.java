package org.metagrad.kernels.cuda;

import jcuda.driver.CUdeviceptr;
import org.metagrad.DType;
import org.metagrad.kernels.common.DeviceBuffer;
import org.metagrad.spi.Buffer;

/**
 * A {@link Buffer} in CUDA device memory: a block of the owning {@link CudaBackend}'s {@link CachingAllocator}
 * holding at least {@code size * dtype.byteSize()} bytes. A zero-size buffer holds no block and is never handed
 * to a kernel.
 *
 * <p>{@link #release()} gives the block back to the allocator's pool at once (no driver call; the next allocation
 * of its size class reuses it, ordered after every kernel already queued on the backend's single stream) and is
 * idempotent. A {@link java.lang.ref.Cleaner} is the backstop for buffers that become unreachable unreleased;
 * {@code TensorScope} releases through {@link #release()}. The bookkeeping is {@link DeviceBuffer}'s;
 * {@link #bytes()} counts the elements' bytes (the block may be larger: a size class).
 */
public final class CudaBuffer extends DeviceBuffer<CUdeviceptr> {
  /** Live CUDA buffers and bytes over all devices. */
  static final Live LIVE = new Live();

  CudaBuffer(CudaBackend backend, DType dtype, int size, CachingAllocator<CUdeviceptr> allocator,
             CachingAllocator.Block<CUdeviceptr> block) {
    // Giving the block back is pure bookkeeping: safe on the cleaner's thread.
    super(backend, dtype, size, block == null ? null : block.handle(),
        block == null ? null : () -> allocator.release(block), LIVE);
  }

  /** The backend whose context owns the memory. */
  @Override
  public CudaBackend backend() {
    return (CudaBackend) super.backend();
  }

  /** The device pointer for a kernel argument; fails on a released buffer rather than hand freed memory to a kernel. */
  CUdeviceptr ptr(String op) {
    return handle(op);
  }
}
