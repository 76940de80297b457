package org.metagrad.kernels.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.Metagrad;
import org.metagrad.Tensor;
import org.metagrad.spi.BackendException;
import org.metagrad.spi.BackendFactory;
import org.metagrad.spi.Backends;

/**
 * Where CUDA cannot run (CI and this build machine: no NVIDIA driver, so JCuda's native library does not link
 * {@code libcuda.so.1}): loading the factory does not fail, {@code cuda:0} reports unavailable with the reason,
 * {@code auto} falls to the next device, and the device listing says why CUDA is absent. Skipped (with the reason)
 * where a GPU is present, where the conformance suite runs instead.
 */
class CudaNoDriverTest {
  private String reason;

  @BeforeEach
  void requireNoCuda() {
    reason = CudaTestSupport.unavailableReason();
    assumeTrue(reason != null, "a CUDA device is present here; the no-driver behaviour is not observable");
  }

  @AfterEach
  void reset() {
    Metagrad.close();
  }

  @Test
  void factoryLoadsByNameAndReportsWhyNot() throws ReflectiveOperationException {
    // What Backends does: load by class name, construct; neither may touch the native library.
    BackendFactory f = (BackendFactory) Class.forName("org.metagrad.kernels.cuda.CudaBackendFactory")
        .getDeclaredConstructor().newInstance();
    assertThat(f.name()).isEqualTo("cuda");
    assertThat(f.kind()).isEqualTo(Device.Kind.CUDA);
    assertThat(f.deviceNames()).isEmpty();
    assertThat(f.unavailableReason()).isEqualTo(reason);
    assertThat(reason).containsAnyOf("driver", "libcuda", "cuInit");
    if (reason.contains("did not load")) {
      // The loader's own line names the missing library (libcuda.so.1 on Linux without the NVIDIA driver).
      assertThat(reason).containsAnyOf("cannot open shared object", "libcuda.so.1", "nvcuda");
    }
    assertThatThrownBy(() -> f.open(Device.cuda(0))).isInstanceOf(BackendException.class)
        .hasMessageContaining("cuda:0 unavailable").hasMessageContaining(reason);
    // Asking again gives the same answer (the probe is remembered, the failed class init is not retried).
    assertThatThrownBy(() -> f.open(Device.cuda(1))).isInstanceOf(BackendException.class)
        .hasMessageContaining("cuda:1 unavailable");
  }

  @Test
  void tensorsOnCudaFailWithTheReasonAndAutoFallsToTheNextDevice() {
    assertThatThrownBy(() -> Backends.forDevice(Device.cuda(0))).isInstanceOf(BackendException.class)
        .hasMessageContaining(reason);
    assertThatThrownBy(() -> Tensor.ones(DType.FLOAT32, 3).to(Device.cuda(0))).isInstanceOf(BackendException.class)
        .hasMessageContaining("cuda:0 unavailable");
    Metagrad.close();
    Metagrad.configure().device("auto").apply();
    Device chosen = Backends.defaultDevice();
    // The OpenCL module is on this test class path: auto takes the first OpenCL device that does not compute on the
    // host CPU, else cpu (PoCL, as in CI, is passed over: the CPU backend is faster on the same cores).
    Device expected = Backends.listDevices().entrySet().stream()
        .filter(e -> e.getKey().kind() == Device.Kind.OPENCL && !e.getValue().contains("computes on the host CPU"))
        .map(Map.Entry::getKey).findFirst().orElse(Device.cpu());
    assertThat(chosen).isEqualTo(expected);
    Tensor t = Tensor.ones(DType.FLOAT32, 2);
    assertThat(t.device()).isEqualTo(expected);
    assertThat(t.toFloatArray()).containsExactly(1f, 1f);
  }

  @Test
  void deviceListingSaysWhyCudaIsAbsent() {
    Map<Device, String> devices = Backends.listDevices();
    assertThat(devices).containsKey(Device.cpu()).doesNotContainKey(Device.cuda(0));
    Map<String, String> absent = Backends.unavailableDevices();
    assertThat(absent).containsEntry("cuda", reason);
  }
}
