package org.metagrad.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.metagrad.kernels.cpu.TestViews.s;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.kernels.cpu.TestViews.Layout;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BackendException;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ConvGeometry;
import org.metagrad.spi.HeapBuffer;
import org.metagrad.spi.ReduceOp;
import org.metagrad.spi.View;

/**
 * Thread-count determinism (same bits with 1 and 2 threads) on sizes that take the parallel paths, and
 * the factories' contract, including the message when {@code jdk.incubator.vector} is missing.
 */
class DeterminismAndFactoryTest {

  private static void assertSameBits(String what, Buffer x, Buffer y) {
    HeapBuffer a = HeapBuffer.of(x);
    HeapBuffer b = HeapBuffer.of(y);
    assertThat(b.size()).as(what).isEqualTo(a.size());
    for (int i = 0; i < a.size(); i++) {
      if (a.dtype() == DType.FLOAT32) {
        assertThat(Float.floatToRawIntBits(b.floats()[i])).as(what + " at " + i)
            .isEqualTo(Float.floatToRawIntBits(a.floats()[i]));
      } else {
        assertThat(Double.doubleToRawLongBits(b.doubles()[i])).as(what + " at " + i)
            .isEqualTo(Double.doubleToRawLongBits(a.doubles()[i]));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu-scalar", "cpu-vector", "cpu-vector-alt"})
  void sameBitsForOneAndTwoThreads(String name) {
    Backend one = TestViews.backend(name, 1);
    Backend two = TestViews.backend(name, 2);
    Backend four = TestViews.backend(name, 4);
    for (DType dt : DType.values()) {
      View a = TestViews.random(dt, Layout.CONTIGUOUS, s(1, 300, 517), 1, -1, 1);
      View b = TestViews.random(dt, Layout.PERMUTED, s(1, 517, 333), 2, -1, 1);
      View batchA = TestViews.random(dt, Layout.CONTIGUOUS, s(9, 64, 70), 3, -1, 1);
      View batchB = new View(b.buffer(), 0, s(9, 70, 40), new int[] {0, 1, 517});
      View x = TestViews.random(dt, Layout.CONTIGUOUS, s(513, 257), 4, -1, 1);
      View xt = TestViews.random(dt, Layout.PERMUTED, s(513, 257), 5, -1, 1);
      View img = TestViews.random(dt, Layout.CONTIGUOUS, s(8, 16, 28, 28), 6, -1, 1);
      ConvGeometry g = new ConvGeometry(8, 16, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1);
      View cols = View.contiguous(one.unfold(img, g), 8, 16 * 9, 28 * 28);
      // Batch norm's statistics (N, H, W around C) and a 2x2 pooling window: the in-place strided reductions.
      View act = TestViews.random(dt, Layout.CONTIGUOUS, s(16, 16, 28, 28), 7, -1, 1);
      View win = new View(act.buffer(), 0, s(16, 16, 14, 2, 14, 2), new int[] {12544, 784, 56, 28, 2, 1});
      // One weight against a batch of columns (batch stride 0): the shared-A GEMM path.
      View weight = new View(TestViews.random(dt, Layout.CONTIGUOUS, s(1, 64, 144), 8, -1, 1).buffer(), 0,
          s(8, 64, 144), new int[] {0, 144, 1});
      // Warm up first so both runs use compiled code (the Vector API's fallback may round differently).
      for (int rep = 0; rep < 3; rep++) {
        for (Backend be : List.of(one, two, four)) {
          be.matmul(a, b);
          be.reduce(ReduceOp.SUM, x, s(513, 1));
        }
      }
      for (Backend be : List.of(two, four)) {
        String w = name + " " + dt + " threads=" + ((CpuBackend) be).threads();
        assertSameBits("matmul " + w, one.matmul(a, b), be.matmul(a, b));
        assertSameBits("batched matmul " + w, one.matmul(batchA, batchB), be.matmul(batchA, batchB));
        assertSameBits("sum rows " + w, one.reduce(ReduceOp.SUM, x, s(513, 1)), be.reduce(ReduceOp.SUM, x, s(513, 1)));
        assertSameBits("sum cols " + w, one.reduce(ReduceOp.SUM, x, s(1, 257)), be.reduce(ReduceOp.SUM, x, s(1, 257)));
        assertSameBits("sum all " + w, one.reduce(ReduceOp.SUM, xt, s(1, 1)), be.reduce(ReduceOp.SUM, xt, s(1, 1)));
        assertSameBits("max cols " + w, one.reduce(ReduceOp.MAX, xt, s(1, 257)), be.reduce(ReduceOp.MAX, xt, s(1, 257)));
        assertSameBits("mul " + w, one.binary(BinaryOp.MUL, x, xt), be.binary(BinaryOp.MUL, x, xt));
        assertSameBits("unfold " + w, one.unfold(img, g), be.unfold(img, g));
        assertSameBits("sum N,H,W " + w, one.reduce(ReduceOp.SUM, act, s(1, 16, 1, 1)),
            be.reduce(ReduceOp.SUM, act, s(1, 16, 1, 1)));
        assertSameBits("max windows " + w, one.reduce(ReduceOp.MAX, win, s(16, 16, 14, 1, 14, 1)),
            be.reduce(ReduceOp.MAX, win, s(16, 16, 14, 1, 14, 1)));
        assertSameBits("sum windows " + w, one.reduce(ReduceOp.SUM, win, s(16, 16, 14, 1, 14, 1)),
            be.reduce(ReduceOp.SUM, win, s(16, 16, 14, 1, 14, 1)));
        assertSameBits("shared-A matmul " + w, one.matmul(weight, cols), be.matmul(weight, cols));
        // Fused batch norm (per-channel tasks) and tiled max pooling (per-plane tasks), forward and backward.
        View gamma = TestViews.random(dt, Layout.CONTIGUOUS, s(16), 10, 0.5, 1.5);
        View beta = TestViews.random(dt, Layout.CONTIGUOUS, s(16), 11, -1, 1);
        Buffer[] bn1 = one.batchNormTrain(act, gamma, beta, 1e-5);
        Buffer[] bnW = be.batchNormTrain(act, gamma, beta, 1e-5);
        for (int i = 0; i < 3; i++) {
          assertSameBits("batchNormTrain " + i + " " + w, bn1[i], bnW[i]);
        }
        View gy = TestViews.random(dt, Layout.CONTIGUOUS, s(16, 16, 28, 28), 12, -1, 1);
        Buffer[] bb1 = one.batchNormBackward(gy, act, View.contiguous(bn1[1], 16), View.contiguous(bn1[2], 16), gamma);
        Buffer[] bbW = be.batchNormBackward(gy, act, View.contiguous(bn1[1], 16), View.contiguous(bn1[2], 16), gamma);
        for (int i = 0; i < 3; i++) {
          assertSameBits("batchNormBackward " + i + " " + w, bb1[i], bbW[i]);
        }
        // Fused batch norm + ReLU (+ pooling), forward and backward.
        Buffer[] br1 = one.batchNormReluTrain(act, gamma, beta, 1e-5);
        Buffer[] brW = be.batchNormReluTrain(act, gamma, beta, 1e-5);
        Buffer[] bp1 = one.batchNormReluPoolTrain(act, gamma, beta, 1e-5, 2);
        Buffer[] bpW = be.batchNormReluPoolTrain(act, gamma, beta, 1e-5, 2);
        for (int i = 0; i < 3; i++) {
          assertSameBits("batchNormReluTrain " + i + " " + w, br1[i], brW[i]);
          assertSameBits("batchNormReluPoolTrain " + i + " " + w, bp1[i], bpW[i]);
        }
        View relu1 = View.contiguous(br1[0], 16, 16, 28, 28);
        Buffer[] rb1 = one.batchNormReluBackward(gy, act, relu1, View.contiguous(br1[1], 16),
            View.contiguous(br1[2], 16), gamma);
        Buffer[] rbW = be.batchNormReluBackward(gy, act, relu1, View.contiguous(br1[1], 16),
            View.contiguous(br1[2], 16), gamma);
        View gpool = TestViews.random(dt, Layout.CONTIGUOUS, s(16, 16, 14, 14), 14, -1, 1);
        View out1 = View.contiguous(bp1[0], 16, 16, 14, 14);
        Buffer[] pb1 = one.batchNormReluPoolBackward(gpool, act, out1, View.contiguous(bp1[1], 16),
            View.contiguous(bp1[2], 16), gamma, beta, 1e-5, 2);
        Buffer[] pbW = be.batchNormReluPoolBackward(gpool, act, out1, View.contiguous(bp1[1], 16),
            View.contiguous(bp1[2], 16), gamma, beta, 1e-5, 2);
        for (int i = 0; i < 3; i++) {
          assertSameBits("batchNormReluBackward " + i + " " + w, rb1[i], rbW[i]);
          assertSameBits("batchNormReluPoolBackward " + i + " " + w, pb1[i], pbW[i]);
        }
        View pooled = View.contiguous(one.maxPool2dTiled(act, 2), 16, 16, 14, 14);
        assertSameBits("maxPool2dTiled " + w, pooled.buffer(), be.maxPool2dTiled(act, 2));
        View gp = TestViews.random(dt, Layout.CONTIGUOUS, s(16, 16, 14, 14), 13, -1, 1);
        assertSameBits("maxPool2dTiledBackward " + w, one.maxPool2dTiledBackward(act, pooled, gp, 2),
            be.maxPool2dTiledBackward(act, pooled, gp, 2));
        View g2 = TestViews.random(dt, Layout.CONTIGUOUS, s(8, 64, 784), 9, -1, 1);
        View colsT = new View(cols.buffer(), 0, s(8, 784, 144), new int[] {144 * 784, 1, 784});
        assertSameBits("matmul summed over the batch " + w, one.matmulSumBatch(g2, colsT),
            be.matmulSumBatch(g2, colsT));
        // The fused sum against the reference's matmul-then-reduce (the SPI default).
        HeapBuffer fused = HeapBuffer.of(be.matmulSumBatch(g2, colsT));
        HeapBuffer ref = HeapBuffer.of(org.metagrad.spi.ReferenceBackend.INSTANCE.matmulSumBatch(g2, colsT));
        for (int i = 0; i < ref.size(); i++) {
          assertThat(fused.get(i)).as("matmulSumBatch " + w + " at " + i)
              .isCloseTo(ref.get(i), org.assertj.core.data.Offset.offset(1e-3 * (1 + Math.abs(ref.get(i)))));
        }
        // Few columns (a first conv layer's weight gradient, n = 9; n = 13 with m = 30 for the 4 x 3
        // block edges): the dot-product path, against the reference and across thread counts.
        for (int[] mn : new int[][] {{64, 9}, {30, 13}, {5, 1}}) {
          View ga = TestViews.random(dt, Layout.CONTIGUOUS, s(8, mn[0], 784), 14, -1, 1);
          View bt = new View(cols.buffer(), 0, s(8, 784, mn[1]), new int[] {144 * 784, 1, 784});
          String what = "matmulSumBatch " + mn[0] + "x" + mn[1] + " " + w;
          assertSameBits(what, one.matmulSumBatch(ga, bt), be.matmulSumBatch(ga, bt));
          HeapBuffer got = HeapBuffer.of(be.matmulSumBatch(ga, bt));
          HeapBuffer want = HeapBuffer.of(org.metagrad.spi.ReferenceBackend.INSTANCE.matmulSumBatch(ga, bt));
          assertThat(got.size()).isEqualTo(mn[0] * mn[1]);
          for (int i = 0; i < want.size(); i++) {
            assertThat(got.get(i)).as(what + " at " + i)
                .isCloseTo(want.get(i), org.assertj.core.data.Offset.offset(1e-3 * (1 + Math.abs(want.get(i)))));
          }
        }
        assertSameBits("fold " + w, one.fold(cols, g), be.fold(cols, g));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu-scalar", "cpu-vector"})
  void insideTaskParallelTasksKernelsStayOnTheTasksThreadWithTheSameBits(String name) {
    Backend two = TestViews.backend(name, 2);
    View a = TestViews.random(DType.FLOAT32, Layout.CONTIGUOUS, s(1, 300, 517), 1, -1, 1);
    View b = TestViews.random(DType.FLOAT32, Layout.PERMUTED, s(1, 517, 333), 2, -1, 1);
    View img = TestViews.random(DType.FLOAT32, Layout.CONTIGUOUS, s(8, 16, 28, 28), 6, -1, 1);
    View w = TestViews.random(DType.FLOAT32, Layout.CONTIGUOUS, s(32, 144), 7, -1, 1);
    ConvGeometry g = new ConvGeometry(8, 16, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1);
    for (int rep = 0; rep < 3; rep++) {
      two.matmul(a, b);
    }
    Buffer mm = two.matmul(a, b);
    Buffer conv = two.conv2d(img, w, null, g);
    List<Buffer[]> inTasks = org.metagrad.TaskParallel.map(2, List.of(0, 1, 2), i ->
        new Buffer[] {two.matmul(a, b), two.conv2d(img, w, null, g)});
    for (Buffer[] r : inTasks) {
      assertSameBits("matmul in a task " + name, mm, r[0]);
      assertSameBits("conv2d in a task " + name, conv, r[1]);
    }
    // A parallel loop asked for 2 threads runs every chunk on the task's own thread.
    List<Boolean> own = org.metagrad.TaskParallel.map(2, List.of(0, 1), i -> {
      Thread me = Thread.currentThread();
      boolean[] same = {true};
      Parallel.forRange(2, 1000, 1, (lo, hi) -> {
        if (Thread.currentThread() != me) {
          same[0] = false;
        }
        try {
          Thread.sleep(2);  // long enough chunks that a pool thread would take some
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      return same[0];
    });
    assertThat(own).containsOnly(true);
  }

  @Test
  void factoriesDescribeThemselves() {
    ScalarBackendFactory sf = new ScalarBackendFactory();
    VectorBackendFactory vf = new VectorBackendFactory();
    assertThat(sf.name()).isEqualTo("cpu-scalar");
    assertThat(vf.name()).isEqualTo("cpu-vector");
    assertThat(sf.kind()).isEqualTo(Device.Kind.CPU);
    assertThat(vf.kind()).isEqualTo(Device.Kind.CPU);
    assertThat(sf.deviceNames()).containsExactly("host");
    assertThat(vf.deviceNames()).containsExactly("host");
    assertThat(sf.open(Device.cpu()).name()).isEqualTo("cpu-scalar");
    assertThatThrownBy(() -> sf.open(Device.openCl(0))).isInstanceOf(BackendException.class)
        .hasMessageContaining("opencl:0");
  }

  @Test
  void moduleCheckNamesTheFlag() {
    assertThatThrownBy(() -> VectorBackendFactory.checkVectorModule(ModuleLayer.empty()))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("cpu-vector")
        .hasMessageContaining("--add-modules jdk.incubator.vector");
  }

  @Test
  void vectorFactoryOpensWhenModulePresent() {
    assumeTrue(VectorBackendFactory.vectorModuleAvailable(), "run with --add-modules jdk.incubator.vector");
    Backend b = new VectorBackendFactory().open(Device.cpu());
    assertThat(b.name()).isEqualTo("cpu-vector");
    assertThat(((CpuBackend) b).threads()).isEqualTo(Parallel.configuredThreads());
  }

  /** CI also runs this module without --add-modules: then the factory must refuse with the flag's name. */
  @Test
  void vectorFactoryThrowsWhenModuleAbsent() {
    assumeFalse(VectorBackendFactory.vectorModuleAvailable(), "only meaningful without the vector module");
    assertThatThrownBy(() -> new VectorBackendFactory().open(Device.cpu()))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("--add-modules jdk.incubator.vector");
  }

  @Test
  void threadPropertyIsParsed() {
    String old = System.getProperty("metagrad.threads");
    try {
      System.setProperty("metagrad.threads", "3");
      assertThat(Parallel.configuredThreads()).isEqualTo(3);
      System.setProperty("metagrad.threads", "zero");
      assertThatThrownBy(Parallel::configuredThreads).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("metagrad.threads");
    } finally {
      if (old == null) {
        System.clearProperty("metagrad.threads");
      } else {
        System.setProperty("metagrad.threads", old);
      }
    }
  }
}
