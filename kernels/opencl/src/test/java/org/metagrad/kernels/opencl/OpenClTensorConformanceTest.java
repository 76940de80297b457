package org.metagrad.kernels.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.TensorScope;
import org.metagrad.conformance.AbstractBackendConformanceTest;
import org.metagrad.spi.Backends;

/**
 * The shared Tensor-level conformance suite (ops vs the reference backend, gradcheck orders 1 and 2, a
 * second-order MAML meta-gradient) on {@code opencl:0}, plus device-mixing errors and scope leak checks.
 */
class OpenClTensorConformanceTest extends AbstractBackendConformanceTest {

  @BeforeEach
  void requireOpenCl() {
    OpenClTestSupport.backend();
  }

  @Override
  protected Device device() {
    return Device.openCl(0);
  }

  @Override
  protected boolean supportsFloat64() {
    return OpenClTestSupport.backend().supports(DType.FLOAT64);
  }

  @Test
  void deviceIsListedAndMixingDevicesIsAnErrorNamingBoth() {
    assertThat(Backends.listDevices()).containsKey(Device.openCl(0));
    Tensor a = Tensor.ones(DType.FLOAT32, 3).to(Device.openCl(0));
    Tensor b = Tensor.ones(DType.FLOAT32, 3);
    assertThatThrownBy(() -> a.add(b)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("add: tensors on different devices: opencl:0 and cpu");
  }

  @Test
  void gradientsFlowBackAcrossTransfers() {
    Tensor x = Tensor.of(new double[] {1, 2, 3}, 3).requiresGrad(true);
    Tensor y = x.to(Device.openCl(0)).mul(2.0).exp().sum();
    assertThat(y.device()).isEqualTo(Device.openCl(0));
    Tensor g = Autograd.grad(y, List.of(x)).get(0);
    assertThat(g.device()).isEqualTo(Device.cpu());
    assertThat(g.toDoubleArray()[2]).isEqualTo(2 * Math.exp(6), org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void scopesReleaseEverythingButKeptTensors() throws InterruptedException {
    long before = OpenClTestSupport.settledLiveBuffers();
    Tensor kept;
    try (TensorScope s = TensorScope.open()) {
      Tensor w = Tensor.randn(new Rng(1), DType.FLOAT32, 16, 16).to(Device.openCl(0)).requiresGrad(true);
      Tensor loss = F.softmax(w.matmul(w), 1).sum();
      Tensor g = Autograd.grad(loss, List.of(w)).get(0);
      kept = s.keep(w.sub(g.mul(0.1)));
      assertThat(OpenClBackend.liveBuffers()).isGreaterThan(before + 3);
    }
    assertThat(OpenClBackend.liveBuffers()).isEqualTo(before + 1);
    assertThat(kept.toFloatArray()).hasSize(256);
    kept.view().buffer().release();
    assertThat(OpenClBackend.liveBuffers()).isEqualTo(before);
  }
}
