package org.metagrad;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BackendException;
import org.metagrad.spi.Backends;

/**
 * The programmatic configuration: settings applied before the backend opens take effect, a required backend
 * that does not load is an error (core's tests have no kernels module on the class path, so cpu-vector cannot
 * load here), and a setting that arrives after the backend is open fails loudly instead of being ignored.
 */
class MetagradConfigTest {

  @AfterEach
  void reset() {
    Metagrad.close();   // the next test (and other classes) open the defaults again
  }

  @Test
  void aRequiredBackendThatDoesNotLoadIsAnErrorNotAFallback() {
    Metagrad.close();
    assertThatThrownBy(() -> Metagrad.configure().cpuBackend("cpu-vector").required(true).apply())
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("required CPU backend cpu-vector did not load");
    assertThat(Metagrad.isCpuBackendOpen()).isFalse();
    // Not required: falls back along the order, and says which backend runs.
    Backend b = Metagrad.configure().cpuBackend("cpu-vector").required(false).apply();
    assertThat(b.name()).isEqualTo("reference");
    assertThat(Metagrad.cpuBackend()).isSameAs(b);
    assertThat(Tensor.of(new double[] {1, 2}, 2).add(1).toDoubleArray()).containsExactly(2, 3);
  }

  @Test
  void aSettingAfterTheBackendIsOpenFailsLoudlyUntilClosed() {
    Metagrad.close();
    Metagrad.configure().cpuBackend("reference").required(true).threads(1).apply();
    assertThat(Backends.openedWith().threads()).isEqualTo(1);
    // The same settings again: nothing to change, no error.
    Metagrad.configure().cpuBackend("reference").required(true).threads(1).apply();
    assertThatThrownBy(() -> Metagrad.configure().threads(3).apply())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("3 kernel threads requested")
        .hasMessageContaining("already open")
        .hasMessageContaining("Metagrad.close()");
    assertThat(Metagrad.settings().threads()).as("the refused settings are not in force").isEqualTo(1);
    Metagrad.close();
    assertThat(Metagrad.isCpuBackendOpen()).isFalse();
    Metagrad.configure().cpuBackend("reference").threads(3).apply();
    assertThat(Backends.openedWith().threads()).isEqualTo(3);
  }

  @Test
  void badValuesAreRejectedNamingThem() {
    assertThatThrownBy(() -> Metagrad.configure().threads(0).apply()).hasMessageContaining("threads must be >= 1");
    assertThatThrownBy(() -> Metagrad.configure().device("gpu:1").apply()).hasMessageContaining("gpu:1");
    String old = System.getProperty(Metagrad.THREADS_PROPERTY);
    try {
      System.setProperty(Metagrad.THREADS_PROPERTY, "zero");
      assertThatThrownBy(Metagrad::settings).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("metagrad.threads").hasMessageContaining("zero");
      System.setProperty(Metagrad.THREADS_PROPERTY, "2");
      assertThat(Metagrad.settings().threads()).isEqualTo(2);
    } finally {
      if (old == null) {
        System.clearProperty(Metagrad.THREADS_PROPERTY);
      } else {
        System.setProperty(Metagrad.THREADS_PROPERTY, old);
      }
    }
  }
}
