package org.metagrad.kernels.cpu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.metagrad.conformance.AbstractBackendConformanceTest;
import org.metagrad.spi.Backend;
import org.metagrad.spi.Backends;

/**
 * The shared Tensor-level conformance suite (ops vs the reference backend over odd sizes and layouts,
 * gradcheck orders 1 and 2, a second-order MAML meta-gradient, NaN and +-Inf cases) on the CPU backends:
 * cpu-scalar, cpu-vector, and cpu-vector-alt (the vector set with the kernel choices this JDK does not
 * default to, see {@link TestViews#backend}).
 */
class TensorConformanceTest {

  @Nested
  class Scalar extends AbstractBackendConformanceTest {
    @Override
    protected Backend cpuBackend() {
      return Backends.openCpu("cpu-scalar");
    }
  }

  @Nested
  class Vector extends AbstractBackendConformanceTest {
    @BeforeEach
    void requireModule() {
      assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
          "jdk.incubator.vector not in the boot layer (this run tests the fallback)");
    }

    @Override
    protected Backend cpuBackend() {
      return Backends.openCpu("cpu-vector");
    }
  }

  @Nested
  class VectorAlt extends AbstractBackendConformanceTest {
    @Override
    protected Backend cpuBackend() {
      return TestViews.backend("cpu-vector-alt", 2);
    }
  }
}
