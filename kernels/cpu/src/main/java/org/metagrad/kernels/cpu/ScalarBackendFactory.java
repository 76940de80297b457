package org.metagrad.kernels.cpu;

import java.util.List;
import org.metagrad.Device;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BackendException;
import org.metagrad.spi.BackendFactory;

/**
 * Opens {@code cpu-scalar}: the CPU backend in plain Java (no Vector API), with specialised contiguous
 * loops, a blocked GEMM and threads. It runs on any JVM, so it is the fallback when
 * {@code jdk.incubator.vector} is not available. Thread count: {@link org.metagrad.Metagrad#settings()}
 * (default: available processors).
 *
 * <pre>{@code Backend b = new ScalarBackendFactory().open(Device.cpu()); }</pre>
 */
public final class ScalarBackendFactory implements BackendFactory {
  /** Creates the factory; does no work until {@link #open}. */
  public ScalarBackendFactory() {}

  /** Returns {@code cpu-scalar}. */
  @Override
  public String name() {
    return "cpu-scalar";
  }

  /** Returns {@link Device.Kind#CPU}. */
  @Override
  public Device.Kind kind() {
    return Device.Kind.CPU;
  }

  /**
   * Opens the scalar CPU backend for the host device.
   *
   * @throws BackendException if {@code device} is not the CPU
   */
  @Override
  public Backend open(Device device) {
    VectorBackendFactory.checkCpu(name(), device);
    return open(Parallel.configuredThreads());
  }

  /** Opens the scalar backend with an explicit thread count (tests and benchmarks). */
  public static Backend open(int threads) {
    return new CpuBackend("cpu-scalar", new ScalarKernels(), threads);
  }

  /** Returns {@code ["host"]}. */
  @Override
  public List<String> deviceNames() {
    return List.of("host");
  }
}
