package org.metagrad.kernels.cuda;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import jcuda.driver.CUdeviceptr;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.spi.Buffer;

/**
 * A {@link Buffer} in CUDA device memory: a block of the owning {@link CudaBackend}'s {@link CachingAllocator}
 * holding at least {@code size * dtype.byteSize()} bytes. A zero-size buffer holds no block and is never handed
 * to a kernel.
 *
 * <p>{@link #release()} gives the block back to the allocator's pool at once (no driver call; the next allocation
 * of its size class reuses it, ordered after every kernel already queued on the backend's single stream) and is
 * idempotent. A {@link Cleaner} is the backstop for buffers that become unreachable unreleased; {@code TensorScope}
 * releases through {@link #release()}.
 */
public final class CudaBuffer implements Buffer {
  private static final Cleaner CLEANER = Cleaner.create();
  static final AtomicLong LIVE_BUFFERS = new AtomicLong();
  static final AtomicLong LIVE_BYTES = new AtomicLong();

  private final CudaBackend backend;
  private final DType dtype;
  private final int size;
  private final Memory memory;
  private final Cleaner.Cleanable cleanable;

  /** What the cleaner needs, without a reference to the buffer itself. */
  private static final class Memory implements Runnable {
    private final CachingAllocator<CUdeviceptr> allocator;
    private final CachingAllocator.Block<CUdeviceptr> block;
    private final long bytes;
    private final AtomicBoolean released = new AtomicBoolean();

    Memory(CachingAllocator<CUdeviceptr> allocator, CachingAllocator.Block<CUdeviceptr> block, long bytes) {
      this.allocator = allocator;
      this.block = block;
      this.bytes = bytes;
    }

    @Override
    public void run() {
      if (released.compareAndSet(false, true)) {
        if (block != null) {
          allocator.release(block); // pure bookkeeping: safe on the cleaner's thread
        }
        LIVE_BUFFERS.decrementAndGet();
        LIVE_BYTES.addAndGet(-bytes);
      }
    }
  }

  CudaBuffer(CudaBackend backend, DType dtype, int size, CachingAllocator<CUdeviceptr> allocator,
             CachingAllocator.Block<CUdeviceptr> block) {
    this.backend = backend;
    this.dtype = dtype;
    this.size = size;
    long bytes = (long) size * dtype.byteSize();
    this.memory = new Memory(allocator, block, bytes);
    LIVE_BUFFERS.incrementAndGet();
    LIVE_BYTES.addAndGet(bytes);
    this.cleanable = CLEANER.register(this, memory);
  }

  @Override
  public DType dtype() {
    return dtype;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public Device device() {
    return backend.device();
  }

  /** The backend whose context owns the memory. */
  public CudaBackend backend() {
    return backend;
  }

  /** Bytes of the buffer's elements (its block may be larger: a size class). */
  public long bytes() {
    return memory.bytes;
  }

  /** Whether {@link #release()} has run (or the cleaner has given the memory back). */
  public boolean isReleased() {
    return memory.released.get();
  }

  /** Gives the device memory back to the allocator now; later calls do nothing, later kernel use is an error. */
  @Override
  public void release() {
    cleanable.clean();
  }

  /** The device pointer for a kernel argument; fails on a released buffer rather than hand freed memory to a kernel. */
  CUdeviceptr ptr(String op) {
    if (memory.released.get()) {
      throw new IllegalStateException(op + ": buffer of " + size + " " + dtype + " on " + device()
          + " was already released");
    }
    return memory.block == null ? null : memory.block.handle();
  }

  @Override
  public String toString() {
    return "CudaBuffer[" + size + " x " + dtype + " on " + device() + (isReleased() ? ", released" : "") + "]";
  }
}
