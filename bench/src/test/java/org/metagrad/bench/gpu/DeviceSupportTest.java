package org.metagrad.bench.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.Tensor;

/**
 * The device plumbing of the GPU benchmarks, on the CPU (CI has no GPU; bench/gpu/run.sh --dry-run runs the
 * benchmarks themselves on cpu and opencl:0).
 */
class DeviceSupportTest {

  @Test
  void parsesDevicesAndRefusesForcedGemmPathsOffCuda() {
    assertThat(DeviceSupport.device("cpu", "default")).isEqualTo(Device.cpu());
    assertThat(DeviceSupport.device("opencl:0", "default")).isEqualTo(Device.openCl(0));
    assertThatThrownBy(() -> DeviceSupport.device("cpu", "cublas"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gemm").hasMessageContaining("cpu");
    assertThatThrownBy(() -> DeviceSupport.device("cuda:0", "fast"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("default, cublas or own");
    assertThatThrownBy(() -> DeviceSupport.device("gpu:0", "default"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gpu:0");
  }

  @Test
  void gemmBenchChecksItsProductAndSyncReadsTheFirstElement() {
    DeviceGemmBench b = new DeviceGemmBench();
    b.device = "cpu";
    b.gemm = "default";
    b.n = 33;
    b.setUp();   // throws unless 64 sampled entries match a double product
    float first = b.gemm();
    assertThat(Float.isFinite(first)).isTrue();
    b.tearDown();
  }

  @Test
  void copiesAreNewLeavesWithTheSameValues() {
    Tensor t = Tensor.of(new double[] {1, -2, 3}, DType.FLOAT64, 3).requiresGrad(true);
    Tensor u = t.mul(2.0);
    List<Tensor> c = DeviceSupport.to(List.of(u), Device.cpu(), true);
    assertThat(c.get(0).toDoubleArray()).containsExactly(2, -4, 6);
    assertThat(c.get(0).requiresGrad()).isTrue();
    assertThat(DeviceSupport.to(u, Device.cpu(), false).requiresGrad()).isFalse();
  }

  @Test
  void checkNamesTheWorkloadAndBothValues() {
    DeviceSupport.check("w", Device.cpu(), 1.0, 1.0005, 1e-3);
    assertThatThrownBy(() -> DeviceSupport.check("conv4", Device.openCl(0), 1.0, 1.1, 1e-3))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("conv4").hasMessageContaining("opencl:0")
        .hasMessageContaining("1.1");
  }
}
