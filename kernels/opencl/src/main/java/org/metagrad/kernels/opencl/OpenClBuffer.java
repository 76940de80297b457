package org.metagrad.kernels.opencl;

import org.jocl.CL;
import org.jocl.cl_mem;
import org.metagrad.DType;
import org.metagrad.kernels.common.DeviceBuffer;
import org.metagrad.spi.Buffer;

/**
 * A {@link Buffer} in OpenCL device memory: one {@code cl_mem} of {@code size * dtype.byteSize()}
 * bytes owned by one {@link OpenClBackend}. A zero-size buffer holds no {@code cl_mem} at all
 * (OpenCL rejects zero-byte allocations) and is never handed to a kernel.
 *
 * <p>{@link #release()} frees the memory at once and is idempotent. A {@link java.lang.ref.Cleaner} is the
 * backstop: a buffer that becomes unreachable without being released is freed when the GC notices. The GC does
 * not see device memory pressure, so code that allocates in a loop should release (or use scopes). The
 * bookkeeping is {@link DeviceBuffer}'s.
 */
public final class OpenClBuffer extends DeviceBuffer<cl_mem> {
  /** Live OpenCL buffers and bytes over all devices. */
  static final Live LIVE = new Live();

  OpenClBuffer(OpenClBackend backend, DType dtype, int size, cl_mem mem) {
    // clReleaseMemObject is thread-safe, and the runtime keeps the object alive until queued commands that use it
    // have finished, so releasing (on any thread) never races a running kernel.
    super(backend, dtype, size, mem, mem == null ? null : () -> CL.clReleaseMemObject(mem), LIVE);
  }

  /** The backend whose context owns the memory. */
  @Override
  public OpenClBackend backend() {
    return (OpenClBackend) super.backend();
  }

  /** The memory object for a kernel argument; fails on a released buffer rather than crash the driver. */
  cl_mem mem(String op) {
    return handle(op);
  }
}
