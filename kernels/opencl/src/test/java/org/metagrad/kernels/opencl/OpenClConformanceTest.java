package org.metagrad.kernels.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.conformance.AbstractSpiConformanceTest;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.UnaryOp;

/**
 * The shared SPI-level conformance suite ({@link AbstractSpiConformanceTest}: every SPI method against
 * {@link org.metagrad.spi.ReferenceBackend}, odd sizes, both dtypes, five layouts, NaN and +-Inf) on
 * {@code opencl:0}, with the device math library's tolerances, and a leak check after each test: every buffer a test
 * made is released, so no OpenCL buffer may be left (ops must free their temporaries). Then the OpenCL-only case:
 * views of rank above 8, which the host splits into several launches.
 */
class OpenClConformanceTest extends AbstractSpiConformanceTest {
  private long baseline;

  @BeforeEach
  void open() {
    OpenClTestSupport.backend();
    baseline = OpenClBackend.liveBuffers();
  }

  @Override
  protected Backend backend(int threads) {
    return OpenClTestSupport.backend();
  }

  /** The device's math library: within a few ulps of the reference, POW (exp2 of a log2) a few more. */
  @Override
  protected double unaryTolerance(UnaryOp op, DType dt) {
    double tol = tol(dt);
    return op == UnaryOp.POW ? 8 * tol : tol;
  }

  /** Division is not correctly rounded in OpenCL C by default. */
  @Override
  protected double binaryTolerance(DType dt) {
    return tol(dt);
  }

  /** Subnormal results may be flushed to zero. */
  @Override
  protected double tinyTolerance(DType dt) {
    return dt == DType.FLOAT64 ? 1e-300 : 1e-30;
  }

  @Override
  protected void afterRelease() {
    assertThat(OpenClBackend.liveBuffers()).as("live OpenCL buffers after the test").isEqualTo(baseline);
  }

  @Test
  void copyOfRankAboveEightSplitsLaunches() {
    // Rank 10 with every stride doubled: nothing merges, so the host must split into rank-8 launches.
    int[] shape = {2, 3, 2, 2, 3, 2, 2, 3, 2, 2};
    Backend cl = backend();
    for (DType dt : DType.values()) {
      if (!cl.supports(dt)) {
        continue;
      }
      Pair x = view(cl, shape, dt, Layout.STEPPED);
      assertClose("copy rank 10 " + dt, REF.copy(x.ref(), dt), cl.copy(x.be(), dt), 0, 0, true);
      Pair y = view(cl, shape, dt, Layout.PERMUTED);
      assertClose("add rank 10 " + dt, REF.binary(BinaryOp.ADD, x.ref(), y.ref()), cl.binary(BinaryOp.ADD, x.be(), y.be()),
          tol(dt), 0, false);
    }
  }

  private static double tol(DType dt) {
    return dt == DType.FLOAT64 ? 1e-12 : 2e-6;
  }
}
