package org.metagrad.kernels.common;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.spi.Backend;
import org.metagrad.spi.Buffer;

/**
 * The bookkeeping shared by the GPU backends' buffers (OpenCL's {@code cl_mem}, CUDA's allocator blocks): dtype,
 * size, the owning backend, the device handle a kernel receives, an idempotent {@link #release()} and a
 * {@link Cleaner} backstop for buffers that become unreachable unreleased, and the live buffer/byte counters of
 * the backend kind. A zero-size buffer holds no device memory (its handle is null) and is never handed to a kernel.
 *
 * <p>What releasing does is the subclass's {@code free} action (free the memory object, or give a block back to a
 * pool); it runs at most once, on the releasing thread or the cleaner's, and must not refer to the buffer itself
 * (or the buffer would never become unreachable).
 *
 * @param <H> the device handle passed to kernels ({@code cl_mem}, {@code CUdeviceptr})
 */
public abstract class DeviceBuffer<H> implements Buffer {
  private static final Cleaner CLEANER = Cleaner.create();

  private final Backend backend;
  private final DType dtype;
  private final int size;
  private final Memory<H> memory;
  private final Cleaner.Cleanable cleanable;

  /** Live (allocated, not yet released) buffers and their bytes, one pair per backend kind. */
  public static final class Live {
    private final AtomicLong buffers = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();

    /** New counters at zero. */
    public Live() {}

    /**
     * Number of live buffers.
     *
     * @return buffers allocated and not yet released
     */
    public long buffers() {
      return buffers.get();
    }

    /**
     * Bytes held by live buffers.
     *
     * @return the sum of {@link DeviceBuffer#bytes()} over live buffers
     */
    public long bytes() {
      return bytes.get();
    }
  }

  /** What the cleaner needs, without a reference to the buffer itself. */
  private static final class Memory<H> implements Runnable {
    private final H handle;
    private final Runnable free;
    private final long bytes;
    private final Live live;
    private final AtomicBoolean released = new AtomicBoolean();

    Memory(H handle, Runnable free, long bytes, Live live) {
      this.handle = handle;
      this.free = free;
      this.bytes = bytes;
      this.live = live;
    }

    @Override
    public void run() {
      if (released.compareAndSet(false, true)) {
        if (free != null) {
          free.run();
        }
        live.buffers.decrementAndGet();
        live.bytes.addAndGet(-bytes);
      }
    }
  }

  /**
   * Registers a new buffer of {@code size * dtype.byteSize()} bytes with the live counters and the cleaner.
   *
   * @param backend the backend whose context owns the memory
   * @param dtype the element type
   * @param size the number of elements
   * @param handle the device handle for kernel arguments (null for an empty buffer)
   * @param free what releasing does (null when there is nothing to free); must not refer to this buffer
   * @param live the counters of the backend kind
   */
  protected DeviceBuffer(Backend backend, DType dtype, int size, H handle, Runnable free, Live live) {
    this.backend = backend;
    this.dtype = dtype;
    this.size = size;
    long bytes = (long) size * dtype.byteSize();
    this.memory = new Memory<>(handle, free, bytes, live);
    live.buffers.incrementAndGet();
    live.bytes.addAndGet(bytes);
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

  /**
   * The backend whose context owns the memory.
   *
   * @return the owning backend
   */
  public Backend backend() {
    return backend;
  }

  /**
   * Bytes of the buffer's elements, {@code size * dtype.byteSize()} (0 for an empty buffer).
   *
   * @return the element bytes
   */
  public long bytes() {
    return memory.bytes;
  }

  /**
   * Whether {@link #release()} has run (or the cleaner has given the memory back).
   *
   * @return true once released
   */
  public boolean isReleased() {
    return memory.released.get();
  }

  /** Gives the device memory back now; later calls do nothing, later kernel use is an error. */
  @Override
  public void release() {
    cleanable.clean();
  }

  /**
   * The device handle for a kernel argument; fails on a released buffer rather than hand freed memory to a kernel.
   *
   * @param op the operation, for the message
   * @return the handle (null for an empty buffer)
   * @throws IllegalStateException when the buffer was released
   */
  protected final H handle(String op) {
    if (memory.released.get()) {
      throw new IllegalStateException(op + ": buffer of " + size + " " + dtype + " on " + device()
          + " was already released");
    }
    return memory.handle;
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + size + " x " + dtype + " on " + device()
        + (isReleased() ? ", released" : "") + "]";
  }
}
