package org.metagrad.kernels.opencl;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jocl.CL;
import org.jocl.cl_mem;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.spi.Buffer;

/**
 * A {@link Buffer} in OpenCL device memory: one {@code cl_mem} of {@code size * dtype.byteSize()}
 * bytes owned by one {@link OpenClBackend}. A zero-size buffer holds no {@code cl_mem} at all
 * (OpenCL rejects zero-byte allocations) and is never handed to a kernel.
 *
 * <p>{@link #release()} frees the memory at once and is idempotent. A {@link Cleaner} is the backstop:
 * a buffer that becomes unreachable without being released is freed when the GC notices. The GC does
 * not see device memory pressure, so code that allocates in a loop should release (or use scopes).
 */
public final class OpenClBuffer implements Buffer {
  private static final Cleaner CLEANER = Cleaner.create();
  static final AtomicLong LIVE_BUFFERS = new AtomicLong();
  static final AtomicLong LIVE_BYTES = new AtomicLong();

  private final OpenClBackend backend;
  private final DType dtype;
  private final int size;
  private final Memory memory;
  private final Cleaner.Cleanable cleanable;

  /**
   * The state the cleaner needs: it must not refer to the buffer itself, or the buffer would never
   * become unreachable.
   */
  private static final class Memory implements Runnable {
    private final cl_mem mem;
    private final long bytes;
    private final AtomicBoolean released = new AtomicBoolean();

    Memory(cl_mem mem, long bytes) {
      this.mem = mem;
      this.bytes = bytes;
    }

    @Override
    public void run() {
      if (released.compareAndSet(false, true)) {
        if (mem != null) {
          // clReleaseMemObject is thread-safe, and the runtime keeps the object alive until queued
          // commands that use it have finished, so releasing here never races a running kernel.
          CL.clReleaseMemObject(mem);
        }
        LIVE_BUFFERS.decrementAndGet();
        LIVE_BYTES.addAndGet(-bytes);
      }
    }
  }

  OpenClBuffer(OpenClBackend backend, DType dtype, int size, cl_mem mem) {
    this.backend = backend;
    this.dtype = dtype;
    this.size = size;
    long bytes = (long) size * dtype.byteSize();
    this.memory = new Memory(mem, bytes);
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
  public OpenClBackend backend() {
    return backend;
  }

  /** Bytes of device memory held (0 for an empty buffer). */
  public long bytes() {
    return memory.bytes;
  }

  /** Whether {@link #release()} has run (or the cleaner has freed the memory). */
  public boolean isReleased() {
    return memory.released.get();
  }

  /** Frees the device memory now; later calls do nothing, later kernel use is an error. */
  @Override
  public void release() {
    cleanable.clean();
  }

  /** The memory object for a kernel argument; fails on a released buffer rather than crash the driver. */
  cl_mem mem(String op) {
    if (memory.released.get()) {
      throw new IllegalStateException(op + ": buffer of " + size + " " + dtype + " on " + device()
          + " was already released");
    }
    return memory.mem;
  }

  @Override
  public String toString() {
    return "OpenClBuffer[" + size + " x " + dtype + " on " + device() + (isReleased() ? ", released" : "") + "]";
  }
}
