package org.metagrad.kernels.opencl;

import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import org.metagrad.Device;
import org.metagrad.spi.BackendException;

/**
 * Opens OpenCL device 0 for the tests. With {@code CI=true} (where the PoCL packages are installed)
 * a missing platform fails the test; elsewhere it skips, so a laptop without OpenCL still builds.
 */
final class OpenClTestSupport {
  private static volatile OpenClBackend backend;
  private static volatile String unavailable;

  private OpenClTestSupport() {}

  /** Whether the environment says we run in CI, where OpenCL must be present. */
  static boolean inCi() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  /** The backend of {@code opencl:0}; fails in CI and skips elsewhere when there is none. */
  static synchronized OpenClBackend backend() {
    if (backend == null && unavailable == null) {
      try {
        List<String> names = new OpenClBackendFactory().deviceNames();
        if (names.isEmpty()) {
          unavailable = "no OpenCL platform/device found";
        } else {
          backend = (OpenClBackend) new OpenClBackendFactory().open(Device.openCl(0));
        }
      } catch (BackendException e) {
        unavailable = e.getMessage();
      }
    }
    if (backend == null) {
      if (inCi()) {
        fail("CI=true but OpenCL is unavailable: " + unavailable
            + " (the CI image must install pocl-opencl-icd ocl-icd-libopencl1)");
      }
      assumeTrue(false, "OpenCL unavailable, skipping: " + unavailable);
    }
    return backend;
  }

  /**
   * The live-buffer count once the Cleaner has freed what earlier tests left unreachable: it frees them on
   * its own thread, so without this the global count can drop by hundreds in the middle of a check.
   */
  static long settledLiveBuffers() throws InterruptedException {
    long last = -1;
    int same = 0;
    for (int i = 0; i < 100 && same < 3; i++) {
      System.gc();
      Thread.sleep(20);
      long now = OpenClBackend.liveBuffers();
      same = now == last ? same + 1 : 0;
      last = now;
    }
    return last;
  }
}
