package org.metagrad.kernels.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.metagrad.DType;
import org.metagrad.kernels.opencl.Fixtures.Layout;
import org.metagrad.kernels.opencl.Fixtures.Pair;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ConvGeometry;
import org.metagrad.spi.ReduceOp;
import org.metagrad.spi.UnaryOp;
import org.metagrad.spi.View;

/**
 * Every SPI method of the OpenCL backend against {@link org.metagrad.spi.ReferenceBackend}: odd sizes,
 * both dtypes, offset / permuted / broadcast / stepped views, size-1 and zero-size dimensions.
 */
class OpenClConformanceTest {
  private Fixtures fx;
  private long baseline;

  @BeforeEach
  void open() {
    OpenClBackend cl = OpenClTestSupport.backend();
    baseline = OpenClBackend.liveBuffers();
    fx = new Fixtures(cl, 42);
  }

  @AfterEach
  void releaseAndCheckLeaks() {
    if (fx != null) {
      fx.releaseAll();
      // Each test releases everything it made, so nothing may be left (ops must free their temporaries).
      assertThat(OpenClBackend.liveBuffers()).as("live OpenCL buffers after the test").isEqualTo(baseline);
    }
  }

  /** Shapes for elementwise ops: every odd size as a vector and in 2-d, plus size-1 and zero dims. */
  static List<int[]> shapes() {
    List<int[]> out = new ArrayList<>();
    for (int n : Fixtures.SIZES) {
      out.add(new int[] {n});
      if (n <= 207) {
        out.add(new int[] {3, n});
        out.add(new int[] {n, 1, 7});
      }
    }
    out.add(new int[] {2, 3, 4, 5});
    out.add(new int[] {});
    out.add(new int[] {0});
    out.add(new int[] {3, 0, 2});
    return out;
  }

  static Stream<Arguments> dtypesAndLayouts() {
    List<Arguments> a = new ArrayList<>();
    for (DType dt : DType.values()) {
      for (Layout l : Layout.values()) {
        a.add(Arguments.of(dt, l));
      }
    }
    return a.stream();
  }

  private static String str(int[] s) {
    return java.util.Arrays.toString(s);
  }

  // ---------------------------------------------------------------------------------------------

  @ParameterizedTest
  @MethodSource("dtypesAndLayouts")
  void uploadDownloadRoundTrip(DType dt, Layout layout) {
    for (int[] shape : shapes()) {
      Pair p = fx.view(shape, dt, layout);
      double[] want = fx.ref.downloadDouble(p.ref());
      assertThat(fx.cl.downloadDouble(p.cl())).as("downloadDouble %s %s", layout, str(shape)).containsExactly(want);
      float[] wantF = fx.ref.downloadFloat(p.ref());
      assertThat(fx.cl.downloadFloat(p.cl())).as("downloadFloat %s %s", layout, str(shape)).containsExactly(wantF);
    }
  }

  @Test
  void uploadFloatsAndRoundingOfDoubles() {
    float[] f = {1.5f, -2.25f, Float.NaN, Float.NEGATIVE_INFINITY};
    Buffer b = fx.own(fx.cl.upload(f));
    assertThat(b.dtype()).isEqualTo(DType.FLOAT32);
    assertThat(fx.cl.downloadFloat(View.contiguous(b, 4))).containsExactly(f);
    Buffer r = fx.own(fx.cl.upload(new double[] {0.1, 1e300}, DType.FLOAT32));
    assertThat(fx.cl.downloadDouble(View.contiguous(r, 2))).containsExactly((double) 0.1f, Double.POSITIVE_INFINITY);
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void full(DType dt) {
    for (int n : new int[] {0, 1, 7, 65, 1025}) {
      for (double v : new double[] {0, -1.5, Math.PI, Double.NaN}) {
        fx.assertClose("full " + v, fx.ref.full(dt, n, v), fx.cl.full(dt, n, v), new int[] {n}, 0, 0, true);
      }
    }
  }

  @ParameterizedTest
  @MethodSource("dtypesAndLayouts")
  void unary(DType dt, Layout layout) {
    double tol = Fixtures.tol(dt);
    for (UnaryOp op : UnaryOp.values()) {
      double[] params = op == UnaryOp.POW ? new double[] {2, 1, 0, 3, 0.5, -1.5} : new double[] {0};
      for (double p : params) {
        for (int[] shape : shapes()) {
          Pair x = fx.view(shape, dt, layout, fx::special);
          fx.assertClose(op + "(" + p + ") " + layout, fx.ref.unary(op, p, x.ref()), fx.cl.unary(op, p, x.cl()),
              shape, op == UnaryOp.POW ? 8 * tol : tol, dt == DType.FLOAT64 ? 1e-300 : 1e-30, op == UnaryOp.SIGN);
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("dtypesAndLayouts")
  void binary(DType dt, Layout layoutA) {
    Layout[] others = {Layout.CONTIGUOUS, Layout.BROADCAST, Layout.STEPPED};
    for (BinaryOp op : BinaryOp.values()) {
      for (int[] shape : shapes()) {
        Layout layoutB = others[Math.floorMod(shape.length + op.ordinal(), others.length)];
        Pair a = fx.view(shape, dt, layoutA, fx::special);
        Pair b = fx.view(shape, dt, layoutB, fx::special);
        fx.assertClose(op + " " + layoutA + "/" + layoutB, fx.ref.binary(op, a.ref(), b.ref()),
            fx.cl.binary(op, a.cl(), b.cl()), shape, Fixtures.tol(dt), 0, false);
      }
    }
  }

  @Test
  void comparisonsAreZeroOneWithNaNSemantics() {
    Buffer a = fx.own(fx.cl.upload(new float[] {Float.NaN, 1, 2, Float.NaN}));
    Buffer b = fx.own(fx.cl.upload(new float[] {1, Float.NaN, 2, Float.NaN}));
    View va = View.contiguous(a, 4);
    View vb = View.contiguous(b, 4);
    assertThat(fx.cl.downloadFloat(View.contiguous(fx.own(fx.cl.binary(BinaryOp.NE, va, vb)), 4)))
        .containsExactly(1, 1, 0, 1);
    assertThat(fx.cl.downloadFloat(View.contiguous(fx.own(fx.cl.binary(BinaryOp.EQ, va, vb)), 4)))
        .containsExactly(0, 0, 1, 0);
    assertThat(fx.cl.downloadFloat(View.contiguous(fx.own(fx.cl.binary(BinaryOp.GE, va, vb)), 4)))
        .containsExactly(0, 0, 1, 0);
  }

  @ParameterizedTest
  @MethodSource("dtypesAndLayouts")
  void where(DType dt, Layout layout) {
    for (int[] shape : shapes()) {
      Pair c = fx.view(shape, dt, Layout.STEPPED, n -> {
        double[] v = fx.special(n);
        for (int i = 0; i < n; i += 2) {
          v[i] = 0;
        }
        return v;
      });
      Pair a = fx.view(shape, dt, layout);
      Pair b = fx.view(shape, dt, Layout.BROADCAST);
      fx.assertClose("where " + layout, fx.ref.where(c.ref(), a.ref(), b.ref()),
          fx.cl.where(c.cl(), a.cl(), b.cl()), shape, 0, 0, true);
    }
  }

  @ParameterizedTest
  @MethodSource("dtypesAndLayouts")
  void reduceEverySubsetOfDims(DType dt, Layout layout) {
    List<int[]> shapes = List.of(new int[] {7, 13, 3}, new int[] {1, 65, 8}, new int[] {3, 0, 2}, new int[] {1025},
        new int[] {3, 1025}, new int[] {207, 13}, new int[] {2, 5000}, new int[] {5000, 2}, new int[] {},
        new int[] {2, 3, 2, 3, 2, 3, 2, 3, 2});
    for (ReduceOp op : ReduceOp.values()) {
      for (int[] shape : shapes) {
        for (int mask = 0; mask < (1 << shape.length); mask++) {
          int[] out = shape.clone();
          for (int d = 0; d < shape.length; d++) {
            if ((mask & (1 << d)) != 0) {
              out[d] = 1;
            }
          }
          Pair x = fx.view(shape, dt, layout, op == ReduceOp.MAX ? fx::special : fx::values);
          String what = op + " " + layout + " " + str(shape) + " -> " + str(out);
          boolean zeroMax = op == ReduceOp.MAX && x.ref().numel() == 0 && numel(out) > 0;
          if (zeroMax) {
            assertThatThrownBy(() -> fx.cl.reduce(op, x.cl(), out)).as(what)
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("zero-size");
            continue;
          }
          int inner = numel(out) == 0 ? 0 : x.ref().numel() / numel(out);
          double rtol = dt == DType.FLOAT64 ? 1e-12 : 1e-6;
          fx.assertClose(what, fx.ref.reduce(op, x.ref(), out), fx.cl.reduce(op, x.cl(), out), out, rtol,
              rtol * Math.max(1, inner), false);
        }
      }
    }
  }

  private static int numel(int[] s) {
    int n = 1;
    for (int v : s) {
      n *= v;
    }
    return n;
  }

  @Test
  void maxPropagatesNaNAndHandlesInfinities() {
    double[] data = {1, Double.NaN, 3, Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY};
    for (DType dt : DType.values()) {
      Buffer b = fx.own(fx.cl.upload(data, dt));
      Buffer m = fx.own(fx.cl.reduce(ReduceOp.MAX, View.contiguous(b, 2, 3), new int[] {2, 1}));
      double[] got = fx.cl.downloadDouble(View.contiguous(m, 2));
      assertThat(got[0]).isNaN();
      assertThat(got[1]).isEqualTo(Double.NEGATIVE_INFINITY);
    }
  }

  @ParameterizedTest
  @MethodSource("dtypesAndLayouts")
  void copyAndCast(DType dt, Layout layout) {
    for (DType to : DType.values()) {
      for (int[] shape : shapes()) {
        Pair x = fx.view(shape, dt, layout, fx::special);
        fx.assertClose("copy " + dt + "->" + to + " " + layout, fx.ref.copy(x.ref(), to), fx.cl.copy(x.cl(), to),
            shape, 0, 0, true);
      }
    }
  }

  @Test
  void copyOfRankAboveEightSplitsLaunches() {
    // Rank 10 with every stride doubled: nothing merges, so the host must split into rank-8 launches.
    int[] shape = {2, 3, 2, 2, 3, 2, 2, 3, 2, 2};
    for (DType dt : DType.values()) {
      Pair x = fx.view(shape, dt, Layout.STEPPED);
      fx.assertClose("copy rank 10", fx.ref.copy(x.ref(), dt), fx.cl.copy(x.cl(), dt), shape, 0, 0, true);
      Pair y = fx.view(shape, dt, Layout.PERMUTED);
      fx.assertClose("add rank 10", fx.ref.binary(BinaryOp.ADD, x.ref(), y.ref()),
          fx.cl.binary(BinaryOp.ADD, x.cl(), y.cl()), shape, Fixtures.tol(dt), 0, false);
    }
  }

  @ParameterizedTest
  @MethodSource("dtypesAndLayouts")
  void pad(DType dt, Layout layout) {
    for (int[] shape : shapes()) {
      int r = shape.length;
      int[] before = new int[r];
      int[] after = new int[r];
      for (int d = 0; d < r; d++) {
        before[d] = d % 2 == 0 ? 1 : 0;
        after[d] = d % 3 == 0 ? 2 : 1;
      }
      Pair x = fx.view(shape, dt, layout);
      fx.assertClose("pad " + layout, fx.ref.pad(x.ref(), before, after), fx.cl.pad(x.cl(), before, after), shape,
          0, 0, true);
    }
  }

  @ParameterizedTest
  @MethodSource("dtypesAndLayouts")
  void concat(DType dt, Layout layout) {
    int[][] bases = {{7}, {3, 13}, {8, 1, 5}, {2, 0, 3}};
    for (int[] base : bases) {
      for (int dim = 0; dim < base.length; dim++) {
        List<View> refParts = new ArrayList<>();
        List<View> clParts = new ArrayList<>();
        int[] sizes = {base[dim], 0, 3, 1};
        for (int i = 0; i < sizes.length; i++) {
          int[] s = base.clone();
          s[dim] = sizes[i];
          Pair p = fx.view(s, dt, i % 2 == 0 ? layout : Layout.PERMUTED);
          refParts.add(p.ref());
          clParts.add(p.cl());
        }
        fx.assertClose("concat dim " + dim + " " + layout, fx.ref.concat(refParts.toArray(View[]::new), dim),
            fx.cl.concat(clParts.toArray(View[]::new), dim), base, 0, 0, true);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** GEMM sizes (batch, m, k, n) covering tile edges, 1-wide and K=0 cases. */
  static final int[][] GEMM = {{1, 1, 1, 1}, {1, 3, 7, 13}, {2, 8, 65, 7}, {3, 13, 1, 207}, {1, 65, 1025, 3},
      {1, 207, 13, 65}, {2, 33, 31, 32}, {1, 4, 0, 5}, {0, 3, 3, 3}, {1, 0, 4, 4}, {1, 129, 129, 129}};

  static Stream<Arguments> gemmCases() {
    List<Arguments> a = new ArrayList<>();
    for (DType dt : DType.values()) {
      for (boolean ta : new boolean[] {false, true}) {
        for (boolean tb : new boolean[] {false, true}) {
          a.add(Arguments.of(dt, ta, tb));
        }
      }
    }
    return a.stream();
  }

  /** A [bs, rows, cols] view, stored transposed (as [bs, cols, rows]) when {@code t}, with an offset. */
  private Pair matrix(DType dt, int bs, int rows, int cols, boolean t, boolean broadcastBatch) {
    int storeBatch = broadcastBatch ? 1 : bs;
    int n = storeBatch * rows * cols + 3;
    double[] data = fx.values(n);
    org.metagrad.spi.Buffer rb = fx.ref.upload(data, dt);
    org.metagrad.spi.Buffer cb = fx.own(fx.cl.upload(data, dt));
    int batchStride = broadcastBatch ? 0 : rows * cols;
    int[] strides = t ? new int[] {batchStride, 1, rows} : new int[] {batchStride, cols, 1};
    int[] shape = {bs, rows, cols};
    return new Pair(new View(rb, 3, shape, strides), new View(cb, 3, shape, strides));
  }

  @ParameterizedTest
  @MethodSource("gemmCases")
  void matmulAllTransposes(DType dt, boolean ta, boolean tb) {
    for (int[] c : GEMM) {
      for (int bcast = 0; bcast < 3; bcast++) {
        int bs = c[0];
        Pair a = matrix(dt, bs, c[1], c[2], ta, bcast == 1);
        Pair b = matrix(dt, bs, c[2], c[3], tb, bcast == 2);
        double rtol = dt == DType.FLOAT64 ? 1e-12 : 1e-5;
        fx.assertClose("matmul " + java.util.Arrays.toString(c) + " ta=" + ta + " tb=" + tb + " bcast=" + bcast,
            fx.ref.matmul(a.ref(), b.ref()), fx.cl.matmul(a.cl(), b.cl()), new int[] {bs, c[1], c[3]}, rtol,
            rtol * 4 * Math.sqrt(Math.max(1, c[2])), false);
      }
    }
  }

  @Test
  void matmulLargeSquare() {
    Pair a = matrix(DType.FLOAT32, 1, 256, 256, false, false);
    Pair b = matrix(DType.FLOAT32, 1, 256, 256, true, false);
    fx.assertClose("matmul 256", fx.ref.matmul(a.ref(), b.ref()), fx.cl.matmul(a.cl(), b.cl()),
        new int[] {1, 256, 256}, 1e-5, 1e-4, false);
  }

  static final ConvGeometry[] GEOMETRIES = {
      new ConvGeometry(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1),
      new ConvGeometry(2, 3, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1),
      new ConvGeometry(1, 2, 13, 7, 3, 2, 2, 1, 0, 1, 1, 1),
      new ConvGeometry(2, 1, 13, 13, 3, 3, 2, 3, 2, 1, 2, 2),
      new ConvGeometry(1, 4, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1),
      new ConvGeometry(3, 2, 28, 28, 5, 5, 1, 1, 2, 2, 1, 1),
      new ConvGeometry(0, 2, 5, 5, 3, 3, 1, 1, 0, 0, 1, 1),
      new ConvGeometry(1, 0, 5, 5, 3, 3, 1, 1, 0, 0, 1, 1)};

  @ParameterizedTest
  @MethodSource("dtypesAndLayouts")
  void unfoldAndFold(DType dt, Layout layout) {
    for (ConvGeometry g : GEOMETRIES) {
      Pair x = fx.view(new int[] {g.n(), g.c(), g.h(), g.w()}, dt, layout);
      fx.assertClose("unfold " + g + " " + layout, fx.ref.unfold(x.ref(), g), fx.cl.unfold(x.cl(), g),
          new int[] {g.n(), g.rows(), g.cols()}, 0, 0, true);
      Pair cols = fx.view(new int[] {g.n(), g.rows(), g.cols()}, dt, layout);
      double rtol = Fixtures.tol(dt);
      fx.assertClose("fold " + g + " " + layout, fx.ref.fold(cols.ref(), g), fx.cl.fold(cols.cl(), g),
          new int[] {g.n(), g.c(), g.h(), g.w()}, rtol, rtol * g.kh() * g.kw(), false);
    }
  }
}
