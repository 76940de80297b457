package org.metagrad.kernels.cpu;

import java.util.List;
import java.util.Optional;
import org.metagrad.Device;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BackendException;
import org.metagrad.spi.BackendFactory;

/**
 * Opens {@code cpu-vector}: the CPU backend whose inner loops and GEMM micro-kernels use the incubating
 * Java Vector API (FloatVector and DoubleVector at the machine's preferred width). Needs the JVM flag
 * {@code --add-modules jdk.incubator.vector}; without it {@link #open} throws a
 * {@link BackendException} saying so, and core falls back to {@code cpu-scalar}. Thread count: {@link
 * org.metagrad.Metagrad#settings()} (default: available processors).
 *
 * <pre>{@code Backend b = new VectorBackendFactory().open(Device.cpu()); }</pre>
 */
public final class VectorBackendFactory implements BackendFactory {
  /** The module the vector kernels need. */
  public static final String VECTOR_MODULE = "jdk.incubator.vector";

  /** Creates the factory; touches no Vector API class. */
  public VectorBackendFactory() {}

  /** Returns {@code cpu-vector}. */
  @Override
  public String name() {
    return "cpu-vector";
  }

  /** Returns {@link Device.Kind#CPU}. */
  @Override
  public Device.Kind kind() {
    return Device.Kind.CPU;
  }

  /**
   * Opens the vectorized CPU backend for the host device.
   *
   * @throws BackendException if {@code jdk.incubator.vector} is not in the boot layer or the device
   *     is not the CPU
   */
  @Override
  public Backend open(Device device) {
    checkCpu(name(), device);
    return open(Parallel.configuredThreads());
  }

  /**
   * Opens the vectorized backend with an explicit thread count (tests and benchmarks).
   *
   * @throws BackendException if {@code jdk.incubator.vector} is not in the boot layer
   */
  public static Backend open(int threads) {
    checkVectorModule(ModuleLayer.boot());
    // Only now is a class that links against jdk.incubator.vector loaded.
    return VectorHolder.open(threads);
  }

  /** Returns {@code ["host"]}. */
  @Override
  public List<String> deviceNames() {
    return List.of("host");
  }

  /** True when {@code jdk.incubator.vector} is in the boot layer of this JVM. */
  public static boolean vectorModuleAvailable() {
    return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
  }

  /**
   * Checks that {@code layer} contains {@code jdk.incubator.vector}, without loading any Vector API
   * class (so a missing module is a clear exception, never a LinkageError).
   *
   * @throws BackendException naming the missing module and the flag that adds it
   */
  public static void checkVectorModule(ModuleLayer layer) {
    Optional<Module> m = layer.findModule(VECTOR_MODULE);
    if (m.isEmpty()) {
      throw new BackendException("cpu-vector: module " + VECTOR_MODULE + " is not readable; run the JVM with"
          + " --add-modules " + VECTOR_MODULE + " to enable the vectorized CPU kernels (cpu-scalar is used"
          + " otherwise)");
    }
  }

  static void checkCpu(String backend, Device device) {
    if (device.kind() != Device.Kind.CPU) {
      throw new BackendException(backend + ": can only open the cpu device, not " + device);
    }
  }

  /** Keeps the reference to {@link VectorKernels} out of the factory's own constant pool resolution. */
  private static final class VectorHolder {
    static Backend open(int threads) {
      return new CpuBackend("cpu-vector", new VectorKernels(), threads);
    }
  }
}
