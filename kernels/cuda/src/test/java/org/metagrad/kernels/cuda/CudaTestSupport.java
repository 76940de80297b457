package org.metagrad.kernels.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.metagrad.Device;
import org.metagrad.spi.BackendException;

/**
 * Opens {@code cuda:0} for the tests, or skips them (a JUnit assumption) with the reason it did not open: no NVIDIA
 * driver, no GPU, or a PTX module the driver refused. CI has no GPU, so there the GPU tests are skipped.
 */
final class CudaTestSupport {
  private static volatile CudaBackend backend;
  private static volatile String unavailable;

  private CudaTestSupport() {}

  /** The backend of {@code cuda:0}; skips the calling test when there is none. */
  static synchronized CudaBackend backend() {
    if (backend == null || backend.isClosed()) {
      backend = null;
      if (unavailable == null) {
        try {
          backend = (CudaBackend) new CudaBackendFactory().open(Device.cuda(0));
        } catch (BackendException e) {
          unavailable = e.getMessage();
        }
      }
    }
    assumeTrue(backend != null, () -> "CUDA unavailable, skipping: " + unavailable);
    return backend;
  }

  /** Whether the driver probe found no usable CUDA (the no-driver tests run only then). */
  static String unavailableReason() {
    return new CudaBackendFactory().unavailableReason();
  }

  /** The live-buffer count once the Cleaner has given back what earlier tests left unreachable. */
  static long settledLiveBuffers() throws InterruptedException {
    long last = -1;
    int same = 0;
    for (int i = 0; i < 100 && same < 3; i++) {
      System.gc();
      Thread.sleep(20);
      long now = CudaBackend.liveBuffers();
      same = now == last ? same + 1 : 0;
      last = now;
    }
    return last;
  }
}
