package org.metagrad.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.metagrad.Metagrad;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BackendException;

/** The programmatic configuration reaches the CPU backends: the backend asked for and its thread count. */
class MetagradConfigCpuTest {

  @AfterEach
  void reset() {
    Metagrad.close();
  }

  @Test
  void theConfiguredBackendRunsWithTheConfiguredThreads() {
    Metagrad.close();
    Backend s = Metagrad.configure().cpuBackend("cpu-scalar").required(true).threads(1).apply();
    assertThat(s.name()).isEqualTo("cpu-scalar");
    assertThat(((CpuBackend) s).threads()).isEqualTo(1);
    Metagrad.close();
    if (VectorBackendFactory.vectorModuleAvailable()) {
      Backend v = Metagrad.configure().cpuBackend("cpu-vector").required(true).threads(3).apply();
      assertThat(v.name()).isEqualTo("cpu-vector");
      assertThat(((CpuBackend) v).threads()).isEqualTo(3);
      assertThat(Metagrad.cpuBackend()).isSameAs(v);
    } else {
      // This test execution runs without --add-modules jdk.incubator.vector: required means no fallback.
      assertThatThrownBy(() -> Metagrad.configure().cpuBackend("cpu-vector").required(true).apply())
          .isInstanceOf(BackendException.class).hasMessageContaining("--add-modules jdk.incubator.vector");
    }
  }
}
