package org.metagrad.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.metagrad.kernels.cpu.TestViews.s;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.metagrad.DType;
import org.metagrad.conformance.AbstractSpiConformanceTest;
import org.metagrad.kernels.cpu.TestViews.Layout;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ConvGeometry;
import org.metagrad.spi.ReduceOp;
import org.metagrad.spi.ReferenceBackend;
import org.metagrad.spi.View;

/**
 * The shared SPI-level conformance suite ({@link AbstractSpiConformanceTest}: every SPI method against
 * {@link ReferenceBackend}, odd sizes, both dtypes, five layouts, NaN and +-Inf) on cpu-scalar, cpu-vector and
 * cpu-vector-alt (the vector set with the kernel choices this JDK does not default to, see
 * {@link TestViews#backend}), with the CPU's tight tolerances (binary ops exact, unary within a few ulps); then the
 * CPU-only checks: shape errors, and the conv2d kernel paths with the same bits on 1 and 2 threads. Vector cases are
 * skipped (assumption) when {@code jdk.incubator.vector} is not in the boot layer.
 */
class CpuBackendConformanceTest {
  private static final ReferenceBackend REF = ReferenceBackend.INSTANCE;

  @Nested
  class Scalar extends AbstractSpiConformanceTest {
    @Override
    protected Backend backend(int threads) {
      return TestViews.backend("cpu-scalar", threads);
    }
  }

  @Nested
  class Vector extends AbstractSpiConformanceTest {
    @Override
    protected Backend backend(int threads) {
      return TestViews.backend("cpu-vector", threads);
    }
  }

  @Nested
  class VectorAlt extends AbstractSpiConformanceTest {
    @Override
    protected Backend backend(int threads) {
      return TestViews.backend("cpu-vector-alt", threads);
    }
  }

  static Stream<Arguments> backendsAndTypes() {
    List<Arguments> out = new ArrayList<>();
    for (String b : List.of("cpu-scalar", "cpu-vector", "cpu-vector-alt")) {
      for (DType dt : DType.values()) {
        out.add(Arguments.of(b, dt));
      }
    }
    return out.stream();
  }

  private static double[] get(Buffer b, int... shape) {
    return REF.downloadDouble(View.contiguous(b, shape));
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu-scalar", "cpu-vector"})
  void shapeErrorsNameTheOp(String name) {
    Backend be = TestViews.backend(name, 1);
    View a = TestViews.random(DType.FLOAT32, Layout.CONTIGUOUS, s(2, 3), 1, 0, 1);
    View b = TestViews.random(DType.FLOAT32, Layout.CONTIGUOUS, s(3, 2), 1, 0, 1);
    View d = TestViews.random(DType.FLOAT64, Layout.CONTIGUOUS, s(2, 3), 1, 0, 1);
    assertThatThrownBy(() -> be.binary(BinaryOp.ADD, a, b)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("add").hasMessageContaining("[2, 3]").hasMessageContaining("[3, 2]");
    assertThatThrownBy(() -> be.binary(BinaryOp.MUL, a, d)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("FLOAT64");
    assertThatThrownBy(() -> be.reduce(ReduceOp.SUM, a, s(2))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sum");
    assertThatThrownBy(() -> be.unfold(a, new ConvGeometry(1, 1, 2, 3, 1, 1, 1, 1, 0, 0, 1, 1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unfold");
    assertThatThrownBy(() -> be.matmul(View.contiguous(a.buffer(), 1, 2, 3), View.contiguous(a.buffer(), 1, 2, 3)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("matmul").hasMessageContaining("[1, 2, 3]");
    View empty = TestViews.random(DType.FLOAT32, Layout.CONTIGUOUS, s(3, 0), 1, 0, 1);
    assertThatThrownBy(() -> be.reduce(ReduceOp.MAX, empty, s(3, 1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max").hasMessageContaining("[3, 0]");
    assertThatThrownBy(() -> be.reduce(ReduceOp.SUM, empty, s(3, 2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[3, 0]");
  }

  /** A kernel set that reads rows in place (as the vector sets do), for the geometry predicates of ConvF. */
  private static final ScalarKernels IN_PLACE = new ScalarKernels() {
    @Override
    boolean inPlaceRowsF() {
      return true;
    }
  };

  /**
   * The conv2d kernels' paths (implicit im2col for FLOAT32 where {@link ConvF} applies, the default composite
   * otherwise): the cases of the shared suite's conv2d test reach each path, and every kernel gives the same bits on
   * 1 and 2 threads (the values against the reference: {@link AbstractSpiConformanceTest}).
   */
  @ParameterizedTest
  @MethodSource("backendsAndTypes")
  void fusedConv2dPathsAndSameBitsOnOneAndTwoThreads(String name, DType dt) {
    Backend one = TestViews.backend(name, 1);
    Backend two = TestViews.backend(name, 2);
    // {o}, geometry: pad 1 3x3 (conv4), odd sizes, stride 2, dilation 2, a 1x1 kernel, tiny (composite path),
    // row stride 1 with column stride 2 (the shifted-planes path of ConvF takes every row stride 1 case), and
    // stride 1 with at least 12 channels, whose input gradient runs as a forward convolution of gy.
    List<Object[]> cases = List.of(
        new Object[] {16, new ConvGeometry(3, 6, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1)},
        new Object[] {33, new ConvGeometry(2, 5, 13, 7, 3, 3, 1, 1, 1, 1, 1, 1)},
        new Object[] {16, new ConvGeometry(2, 6, 15, 13, 3, 3, 2, 2, 1, 1, 1, 1)},
        new Object[] {12, new ConvGeometry(2, 5, 12, 12, 3, 3, 1, 1, 2, 2, 2, 2)},
        new Object[] {40, new ConvGeometry(2, 24, 6, 7, 1, 1, 1, 1, 0, 0, 1, 1)},
        new Object[] {17, new ConvGeometry(3, 6, 14, 13, 3, 2, 2, 1, 0, 1, 1, 1)},
        new Object[] {2, new ConvGeometry(1, 1, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1)},
        new Object[] {19, new ConvGeometry(2, 5, 11, 12, 3, 3, 1, 2, 1, 0, 1, 1)},
        new Object[] {13, new ConvGeometry(2, 14, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1)},
        new Object[] {9, new ConvGeometry(2, 13, 10, 8, 3, 3, 1, 1, 2, 0, 2, 1)});
    long seed = 71;
    int fast = 0;
    int planes = 0;
    int transposed = 0;
    for (Object[] c : cases) {
      int o = (int) c[0];
      ConvGeometry g = (ConvGeometry) c[1];
      fast += ConvF.forwardApplies(g, o) ? 1 : 0;
      planes += ConvF.forwardApplies(g, o) && ConvF.Planes.apply(g) ? 1 : 0;
      transposed += g.c() >= 12 && ConvF.transposed(IN_PLACE, g, o) != null ? 1 : 0;
      int[] img = s(g.n(), g.c(), g.h(), g.w());
      int[] ys = s(g.n(), o, g.cols());
      int[] ws = s(o, g.rows());
      for (Layout layout : Layout.values()) {
        View x = TestViews.random(dt, layout, img, seed++, -1, 1);
        View w = TestViews.random(dt, layout == Layout.BROADCAST ? Layout.PERMUTED : layout, ws, seed++, -1, 1);
        View b = TestViews.random(dt, Layout.OFFSET, s(o), seed++, -1, 1);
        View gy = TestViews.random(dt, layout, ys, seed++, -1, 1);
        String what = name + " " + g + " o=" + o + " " + layout;
        for (View bias : new View[] {null, b}) {
          double[] got = get(one.conv2d(x, w, bias, g), ys);
          assertThat(get(two.conv2d(x, w, bias, g), ys)).as("conv2d 1 vs 2 threads " + what).containsExactly(got);
        }
        double[] gx = get(one.conv2dBackwardInput(gy, w, g), img);
        assertThat(get(two.conv2dBackwardInput(gy, w, g), img)).as("input grad 1 vs 2 threads " + what)
            .containsExactly(gx);
        double[] gw = get(one.conv2dBackwardWeight(gy, x, g), ws);
        assertThat(get(two.conv2dBackwardWeight(gy, x, g), ws)).as("weight grad 1 vs 2 threads " + what)
            .containsExactly(gw);
      }
    }
    assertThat(fast).as("cases on the implicit-im2col path").isEqualTo(9);
    assertThat(planes).as("of them, cases on the shifted-planes path (vector kernel sets)").isEqualTo(7);
    assertThat(transposed).as("cases whose input gradient is a forward convolution for every kernel set").isEqualTo(3);
    View x = TestViews.random(dt, Layout.CONTIGUOUS, s(2, 3, 5, 5), 1, -1, 1);
    ConvGeometry g = new ConvGeometry(2, 3, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1);
    assertThatThrownBy(() -> one.conv2d(x, TestViews.random(dt, Layout.CONTIGUOUS, s(4, 26), 2, -1, 1), null, g))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("conv2d: weight [4, 26] is not [out, 27]");
    assertThatThrownBy(() -> one.conv2dBackwardWeight(TestViews.random(dt, Layout.CONTIGUOUS, s(2, 4, 24), 3, -1, 1),
        x, g)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("conv2dBackwardWeight: output gradient [2, 4, 24] is not [2, out, 25]");
    assertThatThrownBy(() -> one.conv2d(TestViews.random(dt, Layout.CONTIGUOUS, s(2, 3, 5, 4), 4, -1, 1),
        TestViews.random(dt, Layout.CONTIGUOUS, s(4, 27), 2, -1, 1), null, g))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("conv2d: input [2, 3, 5, 4] does not match");
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu-scalar", "cpu-vector"})
  void fusedKernelsRejectBadShapes(String name) {
    Backend be = TestViews.backend(name, 1);
    View x = TestViews.random(DType.FLOAT32, Layout.CONTIGUOUS, s(2, 3, 4, 4), 1, -1, 1);
    View c2 = TestViews.random(DType.FLOAT32, Layout.CONTIGUOUS, s(2), 2, -1, 1);
    assertThatThrownBy(() -> be.batchNormTrain(x, c2, null, 1e-5)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("batchNormTrain").hasMessageContaining("[2]").hasMessageContaining("[2, 3, 4, 4]");
    assertThatThrownBy(() -> be.batchNormTrain(c2, null, null, 1e-5)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("batchNormTrain: expected [N, C, ...], got [2]");
    assertThatThrownBy(() -> be.maxPool2dTiled(x, 5)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxPool2dTiled: window 5 larger than input [2, 3, 4, 4]");
    assertThatThrownBy(() -> be.maxPool2dTiled(c2, 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxPool2dTiled: expected [N, C, H, W], got [2]");
    assertThatThrownBy(() -> be.reluBackward(x, c2)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("reluBackward: gradient [2] FLOAT32 does not match input [2, 3, 4, 4] FLOAT32");
    View d = TestViews.random(DType.FLOAT64, Layout.CONTIGUOUS, s(2, 3, 4, 4), 3, -1, 1);
    assertThatThrownBy(() -> be.reluBackward(x, d)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("reluBackward").hasMessageContaining("FLOAT64");
  }
}
