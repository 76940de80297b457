package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@code metagrad devices} lists the CPU backend and, for each GPU kind, either its devices or one line saying why it
 * has none: on a machine without the NVIDIA driver (CI) the CUDA line names the missing driver library.
 */
class DevicesCommandTest {

  @Test
  void listsCpuAndSaysWhetherAndWhyCudaIsAbsent() {
    CliTest.Outcome o = CliTest.run("devices");
    assertThat(o.status()).isZero();
    assertThat(o.out()).startsWith("cpu\tcpu (");
    boolean cudaListed = o.out().lines().anyMatch(l -> l.startsWith("cuda:0\t"));
    if (!cudaListed) {
      // The CUDA module is on the CLI's class path, so the reason is the driver's, not a missing module.
      assertThat(o.out().lines().filter(l -> l.startsWith("cuda\tunavailable: ")).toList()).hasSize(1);
      assertThat(o.out()).containsAnyOf("libcuda", "driver", "cuInit").doesNotContain("not on the class path");
    }
  }
}
