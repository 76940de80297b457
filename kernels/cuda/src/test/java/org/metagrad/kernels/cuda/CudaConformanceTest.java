package org.metagrad.kernels.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.TensorScope;
import org.metagrad.conformance.AbstractBackendConformanceTest;
import org.metagrad.conformance.AbstractSpiConformanceTest;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BackendException;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.Backends;
import org.metagrad.spi.UnaryOp;
import org.metagrad.spi.View;

/**
 * The core conformance suites on {@code cuda:0}: {@link Spi} runs {@link AbstractSpiConformanceTest} (every SPI
 * method against the reference backend, odd sizes, both dtypes, five layouts, NaN and +-Inf, with a leak check after
 * each test) and {@link Tensors} runs {@link AbstractBackendConformanceTest} (ops through the Tensor API, gradcheck
 * orders 1 and 2, the second-order MAML meta-gradient). This class's own tests cover what only CUDA has: the GEMM
 * choice, out of memory, close, scopes.
 *
 * <p>Every test is skipped, with the reason, where {@code cuda:0} does not open (no driver, no GPU, PTX refused):
 * CI and the build machine. Run on a GPU with
 * {@code -Dmetagrad.cuda.gemm=cublas} and {@code =own} to cover both GEMM paths.
 */
class CudaConformanceTest {

  @BeforeEach
  void requireCuda() {
    CudaTestSupport.backend();
  }

  private static double tol(DType dt) {
    return dt == DType.FLOAT64 ? 1e-12 : 2e-6;
  }

  /** The SPI suite on cuda:0. */
  @Nested
  class Spi extends AbstractSpiConformanceTest {
    private long baseline;

    @BeforeEach
    void baseline() {
      baseline = CudaBackend.liveBuffers();
    }

    @Override
    protected Backend backend(int threads) {
      return CudaTestSupport.backend();
    }

    /** CUDA's math library: a few ulps (exp, log, tanh), POW more; NEG, SQRT (correctly rounded) and SIGN exact. */
    @Override
    protected double unaryTolerance(UnaryOp op, DType dt) {
      if (op == UnaryOp.NEG || op == UnaryOp.SQRT || op == UnaryOp.SIGN) {
        return 0;
      }
      return op == UnaryOp.POW ? 8 * tol(dt) : tol(dt);
    }

    @Override
    protected void afterRelease() {
      assertThat(CudaBackend.liveBuffers()).as("live CUDA buffers after the test").isEqualTo(baseline);
    }

    @Test
    void copyOfRankAboveEightSplitsLaunches() {
      int[] shape = {2, 3, 2, 2, 3, 2, 2, 3, 2, 2};
      Backend cu = backend();
      for (DType dt : DType.values()) {
        Pair x = view(cu, shape, dt, Layout.STEPPED);
        assertClose("copy rank 10 " + dt, REF.copy(x.ref(), dt), cu.copy(x.be(), dt), 0, 0, true);
        Pair y = view(cu, shape, dt, Layout.PERMUTED);
        assertClose("add rank 10 " + dt, REF.binary(BinaryOp.ADD, x.ref(), y.ref()),
            cu.binary(BinaryOp.ADD, x.be(), y.be()), tol(dt), 0, false);
      }
    }
  }

  /** The Tensor-level suite on cuda:0. */
  @Nested
  class Tensors extends AbstractBackendConformanceTest {
    @Override
    protected Device device() {
      return Device.cuda(0);
    }

    @Override
    protected boolean supportsFloat64() {
      return true;
    }
  }

  @Test
  void gemmChoiceFollowsTheProperty() {
    CudaBackend cu = CudaTestSupport.backend();
    String forced = System.getProperty("metagrad.cuda.gemm", "auto");
    assertThat(cu.gemmChoice()).isNotBlank();
    if (forced.equals("cublas")) {
      assertThat(cu.usesCublas()).isTrue();
    } else if (forced.equals("own")) {
      assertThat(cu.usesCublas()).isFalse();
    }
  }

  @Test
  void outOfMemoryIsABackendExceptionNamingTheBytes() {
    CudaBackend cu = CudaTestSupport.backend();
    List<Buffer> held = new ArrayList<>();
    int n = 1 << 28; // 1 GiB of FLOAT32 per buffer
    try {
      assertThatThrownBy(() -> {
        for (int i = 0; i < 1024; i++) {
          held.add(cu.allocate(DType.FLOAT32, n));
        }
      }).isInstanceOf(BackendException.class).hasMessageContaining("bytes")
          .hasMessageContaining(String.valueOf(4L * n)).hasMessageContaining("in use");
    } finally {
      held.forEach(Buffer::release);
    }
    assertThat(cu.allocator().cachedBytes()).isGreaterThan(0);
    // The device still works after the refusal (with the memory cached, a new size class may need the allocator's
    // free-the-cache-and-retry path).
    Buffer small = cu.full(DType.FLOAT64, 3, 1.5);
    assertThat(cu.downloadDouble(View.contiguous(small, 3))).containsOnly(1.5);
    small.release();
    cu.emptyCache(); // give the memory back for cuBLAS's workspace and the other tests
    assertThat(cu.allocator().cachedBytes()).isZero();
    // And from the cache.
    Buffer b = cu.full(DType.FLOAT32, 5, 2.5);
    assertThat(cu.downloadFloat(View.contiguous(b, 5))).containsOnly(2.5f);
    b.release();
  }

  @Test
  void releasedMemoryIsReusedFromTheCache() {
    CudaBackend cu = CudaTestSupport.backend();
    Buffer a = cu.allocate(DType.FLOAT64, 12345);
    a.release();
    long before = cu.allocator().deviceAllocations();
    Buffer b = cu.allocate(DType.FLOAT64, 12340);
    assertThat(cu.allocator().deviceAllocations()).isEqualTo(before);
    b.release();
  }

  @Test
  void scopesReleaseEverythingButKeptTensors() throws InterruptedException {
    long before = CudaTestSupport.settledLiveBuffers();
    Tensor kept;
    try (TensorScope s = TensorScope.open()) {
      Tensor w = Tensor.randn(new Rng(1), DType.FLOAT32, 16, 16).to(Device.cuda(0)).requiresGrad(true);
      Tensor loss = F.softmax(w.matmul(w), 1).sum();
      Tensor g = Autograd.grad(loss, List.of(w)).get(0);
      kept = s.keep(w.sub(g.mul(0.1)));
      assertThat(CudaBackend.liveBuffers()).isGreaterThan(before + 3);
    }
    assertThat(CudaBackend.liveBuffers()).isEqualTo(before + 1);
    assertThat(kept.toFloatArray()).hasSize(256);
    kept.view().buffer().release();
    assertThat(CudaBackend.liveBuffers()).isEqualTo(before);
  }

  @Test
  void deviceIsListedAndGradientsFlowBackAcrossTransfers() {
    assertThat(Backends.listDevices()).containsKey(Device.cuda(0));
    Tensor x = Tensor.of(new double[] {1, 2, 3}, DType.FLOAT64, 3).requiresGrad(true);
    Tensor y = x.to(Device.cuda(0)).mul(2.0).exp().sum();
    Tensor g = Autograd.grad(y, List.of(x)).get(0);
    assertThat(g.device()).isEqualTo(Device.cpu());
    assertThat(g.toDoubleArray()[2]).isCloseTo(2 * Math.exp(6), org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void closedBackendRefusesWorkAndReopens() {
    CudaBackend cu = (CudaBackend) new CudaBackendFactory().open(Device.cuda(0));
    Buffer b = cu.upload(new float[] {1, 2, 3});
    cu.close();
    cu.close();
    assertThat(cu.isClosed()).isTrue();
    assertThatThrownBy(() -> cu.downloadFloat(View.contiguous(b, 3))).isInstanceOf(BackendException.class)
        .hasMessageContaining("is closed");
    b.release(); // after close: nothing to free, no error
    CudaBackend again = CudaTestSupport.backend();
    assertThat(again).isNotSameAs(cu);
    Buffer c = again.upload(new float[] {4, 5});
    assertThat(again.downloadFloat(View.contiguous(c, 2))).containsExactly(4f, 5f);
    c.release();
    org.metagrad.Metagrad.close(); // core's device map held the closed backend: forget it
  }
}
