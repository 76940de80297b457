package org.metagrad.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.metagrad.kernels.cpu.TestViews.assertClose;
import static org.metagrad.kernels.cpu.TestViews.s;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.metagrad.DType;
import org.metagrad.kernels.cpu.TestViews.Layout;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ConvGeometry;
import org.metagrad.spi.ReduceOp;
import org.metagrad.spi.ReferenceBackend;
import org.metagrad.spi.UnaryOp;
import org.metagrad.spi.View;

/**
 * Every SPI method of cpu-scalar and cpu-vector against {@link ReferenceBackend}: odd sizes, both
 * dtypes, contiguous / offset / permuted / broadcast views, size-1 and zero-size dimensions.
 * Vector cases are skipped (assumption) when {@code jdk.incubator.vector} is not in the boot layer.
 */
class CpuBackendConformanceTest {
  private static final ReferenceBackend REF = ReferenceBackend.INSTANCE;
  private static final int[] SIZES = {1, 3, 7, 8, 13, 65, 207, 1025};

  static Stream<Arguments> backendsAndTypes() {
    List<Arguments> out = new ArrayList<>();
    for (String b : List.of("cpu-scalar", "cpu-vector", "cpu-vector-alt")) {
      for (DType dt : DType.values()) {
        out.add(Arguments.of(b, dt));
      }
    }
    return out.stream();
  }

  private static List<int[]> shapes() {
    List<int[]> out = new ArrayList<>();
    for (int n : SIZES) {
      out.add(s(n));
      out.add(s(3, n));
      out.add(s(n, 2, 1));
    }
    out.add(s());
    out.add(s(0));
    out.add(s(4, 0, 3));
    out.add(s(1, 1, 1));
    return out;
  }

  private static double[] get(Buffer b, int... shape) {
    return REF.downloadDouble(View.contiguous(b, shape));
  }

  /** Float elementwise results of transcendental ops may differ from the reference by a few ulps. */
  private static double unaryTol(UnaryOp op, DType dt) {
    boolean exact = op == UnaryOp.NEG || op == UnaryOp.SQRT || op == UnaryOp.SIGN;
    if (exact) {
      return 0;
    }
    return dt == DType.FLOAT32 ? 4e-7 : 4e-15;
  }

  @ParameterizedTest
  @MethodSource("backendsAndTypes")
  void unaryMatchesReference(String name, DType dt) {
    Backend be = TestViews.backend(name, 2);
    long seed = 1;
    for (int[] shape : shapes()) {
      for (Layout layout : Layout.values()) {
        View x = TestViews.random(dt, layout, shape, seed++, -3, 3);
        for (UnaryOp op : UnaryOp.values()) {
          double[] params = op == UnaryOp.POW ? new double[] {2, 3, 0.5, 1, 0, -1.5} : new double[] {0};
          for (double p : params) {
            String what = name + " " + dt + " " + op + "(" + p + ") " + layout + " " + java.util.Arrays.toString(shape);
            double[] exp = get(REF.unary(op, p, x), x.shape());
            double[] act = get(be.unary(op, p, x), x.shape());
            assertClose(what, exp, act, unaryTol(op, dt), 0);
          }
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("backendsAndTypes")
  void binaryMatchesReferenceExactly(String name, DType dt) {
    Backend be = TestViews.backend(name, 2);
    long seed = 100;
    for (int[] shape : shapes()) {
      for (Layout la : Layout.values()) {
        for (Layout lb : Layout.values()) {
          View a = TestViews.integers(dt, la, shape, seed++, true);
          View b = TestViews.integers(dt, lb, shape, seed++, true);
          for (BinaryOp op : BinaryOp.values()) {
            String what = name + " " + dt + " " + op + " " + la + "/" + lb + " " + java.util.Arrays.toString(shape);
            // +, -, *, / and comparisons are exact in both dtypes: the float result is the double one rounded.
            assertClose(what, get(REF.binary(op, a, b), shape), get(be.binary(op, a, b), shape), 0, 0);
          }
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("backendsAndTypes")
  void binaryWithRowAndScalarBroadcast(String name, DType dt) {
    Backend be = TestViews.backend(name, 2);
    for (int n : SIZES) {
      View a = TestViews.random(dt, Layout.CONTIGUOUS, s(5, n), n, -2, 2);
      View rowBuf = TestViews.random(dt, Layout.CONTIGUOUS, s(n), n + 1, 0.5, 2);
      View row = new View(rowBuf.buffer(), 0, s(5, n), new int[] {0, 1});
      View col = new View(rowBuf.buffer(), 0, s(5, n), new int[] {1, 0});
      View scalar = new View(rowBuf.buffer(), 0, s(5, n), new int[] {0, 0});
      if (n < 5) {
        col = scalar;
      }
      for (BinaryOp op : BinaryOp.values()) {
        for (View b : List.of(row, col, scalar)) {
          assertClose(name + " " + op + " " + b, get(REF.binary(op, a, b), 5, n), get(be.binary(op, a, b), 5, n), 0, 0);
          assertClose(name + " " + op + " swapped " + b, get(REF.binary(op, b, a), 5, n), get(be.binary(op, b, a), 5, n), 0, 0);
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("backendsAndTypes")
  void whereMatchesReference(String name, DType dt) {
    Backend be = TestViews.backend(name, 2);
    long seed = 7;
    for (int[] shape : shapes()) {
      for (Layout lc : Layout.values()) {
        View c = TestViews.integers(dt, lc, shape, seed++, true);
        View a = TestViews.random(dt, Layout.PERMUTED, shape, seed++, -1, 1);
        View b = TestViews.random(dt, Layout.CONTIGUOUS, shape, seed++, -1, 1);
        View zero = new View(be.full(dt, 1, 0), 0, shape, new int[shape.length]);
        for (View[] ab : new View[][] {{a, b}, {b, zero}, {zero, b}, {zero, zero}}) {
          assertClose(name + " where " + lc, get(REF.where(c, ab[0], ab[1]), shape),
              get(be.where(c, ab[0], ab[1]), shape), 0, 0);
        }
      }
    }
  }

  private static List<int[]> reductionsOf(int[] shape) {
    List<int[]> outs = new ArrayList<>();
    int r = shape.length;
    for (int mask = 0; mask < (1 << r); mask++) {
      int[] o = shape.clone();
      for (int d = 0; d < r; d++) {
        if ((mask & (1 << d)) != 0) {
          o[d] = 1;
        }
      }
      outs.add(o);
    }
    return outs;
  }

  @ParameterizedTest
  @MethodSource("backendsAndTypes")
  void reduceMatchesReference(String name, DType dt) {
    Backend be = TestViews.backend(name, 2);
    List<int[]> shapes = new ArrayList<>();
    for (int n : SIZES) {
      shapes.add(s(n));
      shapes.add(s(3, n));
      shapes.add(s(n, 5));
      shapes.add(s(2, n, 3));
    }
    shapes.add(s(1, 4, 1, 5));
    shapes.add(s(3000, 70));
    long seed = 11;
    for (int[] shape : shapes) {
      for (Layout layout : Layout.values()) {
        View x = TestViews.random(dt, layout, shape, seed++, -1, 1);
        for (int[] out : reductionsOf(shape)) {
          int len = x.numel() / Math.max(1, java.util.Arrays.stream(out).reduce(1, (p, q) -> p * q));
          String what = name + " " + dt + " " + layout + " " + java.util.Arrays.toString(shape) + " -> "
              + java.util.Arrays.toString(out);
          // Float sums: the reference accumulates in double, ours in float blocks; |x| < 1, so scale with length.
          double tol = dt == DType.FLOAT32 ? 1e-6 * len + 1e-6 : 1e-13 * len;
          assertClose("sum " + what, get(REF.reduce(ReduceOp.SUM, x, out), out),
              get(be.reduce(ReduceOp.SUM, x, out), out), 0, tol);
          assertClose("max " + what, get(REF.reduce(ReduceOp.MAX, x, out), out),
              get(be.reduce(ReduceOp.MAX, x, out), out), 0, 0);
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("backendsAndTypes")
  void reduceMaxPropagatesNanAndHandlesZeroSize(String name, DType dt) {
    Backend be = TestViews.backend(name, 2);
    for (int n : SIZES) {
      View x = TestViews.integers(dt, Layout.CONTIGUOUS, s(4, n), n, true);
      for (int[] out : reductionsOf(s(4, n))) {
        assertClose("max nan " + n, get(REF.reduce(ReduceOp.MAX, x, out), out), get(be.reduce(ReduceOp.MAX, x, out), out), 0, 0);
        assertClose("sum nan " + n, get(REF.reduce(ReduceOp.SUM, x, out), out), get(be.reduce(ReduceOp.SUM, x, out), out), 0, 1e-9);
      }
    }
    View empty = TestViews.random(dt, Layout.CONTIGUOUS, s(3, 0), 1, 0, 1);
    assertThat(get(be.reduce(ReduceOp.SUM, empty, s(3, 1)), 3)).containsExactly(0, 0, 0);
    assertThat(be.reduce(ReduceOp.SUM, empty, s(1, 0)).size()).isZero();
    assertThatThrownBy(() -> be.reduce(ReduceOp.MAX, empty, s(3, 1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max").hasMessageContaining("[3, 0]");
    assertThatThrownBy(() -> be.reduce(ReduceOp.SUM, empty, s(3, 2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[3, 0]");
  }

  @ParameterizedTest
  @MethodSource("backendsAndTypes")
  void movementOpsMatchReference(String name, DType dt) {
    Backend be = TestViews.backend(name, 2);
    long seed = 21;
    for (int[] shape : shapes()) {
      for (Layout layout : Layout.values()) {
        View x = TestViews.random(dt, layout, shape, seed++, -5, 5);
        String what = name + " " + dt + " " + layout + " " + java.util.Arrays.toString(shape);
        for (DType to : DType.values()) {
          assertClose("copy " + what, get(REF.copy(x, to), shape), get(be.copy(x, to), shape), 0, 0);
          assertThat(be.copy(x, to).dtype()).isEqualTo(to);
        }
        assertClose("downloadDouble " + what, REF.downloadDouble(x), be.downloadDouble(x), 0, 0);
        float[] ef = REF.downloadFloat(x);
        float[] af = be.downloadFloat(x);
        assertThat(af).as("downloadFloat " + what).containsExactly(ef);
        int r = shape.length;
        int[] before = new int[r];
        int[] after = new int[r];
        int[] padded = new int[r];
        for (int d = 0; d < r; d++) {
          before[d] = d % 2;
          after[d] = 2 - d % 3;
          padded[d] = before[d] + shape[d] + after[d];
        }
        assertClose("pad " + what, get(REF.pad(x, before, after), padded), get(be.pad(x, before, after), padded), 0, 0);
        for (int dim = 0; dim < r; dim++) {
          int[] s2 = shape.clone();
          s2[dim] = 2;
          View y = TestViews.random(dt, Layout.PERMUTED, s2, seed++, -1, 1);
          int[] cs = shape.clone();
          cs[dim] = shape[dim] * 2 + 2;
          View[] parts = {x, y, x};
          assertClose("concat " + dim + " " + what, get(REF.concat(parts, dim), cs), get(be.concat(parts, dim), cs), 0, 0);
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("backendsAndTypes")
  void uploadAndFull(String name, DType dt) {
    Backend be = TestViews.backend(name, 1);
    double[] data = {1.5, -2.25, 1e-40, 3.0000001, Double.NaN};
    assertClose("upload", get(REF.upload(data, dt), 5), get(be.upload(data, dt), 5), 0, 0);
    float[] fd = {1.5f, -2f, Float.NaN};
    assertClose("upload float", get(REF.upload(fd), 3), get(be.upload(fd), 3), 0, 0);
    assertClose("full", get(REF.full(dt, 1025, 0.1), 1025), get(be.full(dt, 1025, 0.1), 1025), 0, 0);
    assertThat(be.full(dt, 0, 3).size()).isZero();
    assertThat(be.supports(dt)).isTrue();
    assertThat(be.name()).isEqualTo(name);
    assertThat(be.device()).isEqualTo(org.metagrad.Device.cpu());
  }

  /** A [B, R, C] view in N layout (row-major) or T layout (stored as [B, C, R]), batch stride optionally 0. */
  private static View matrix(DType dt, int batch, int rows, int cols, boolean transposed, boolean broadcastBatch,
      long seed) {
    int stored = broadcastBatch ? 1 : batch;
    View base = TestViews.random(dt, Layout.CONTIGUOUS, transposed ? s(stored, cols, rows) : s(stored, rows, cols),
        seed, -1, 1);
    int bs = broadcastBatch ? 0 : rows * cols;
    return transposed
        ? new View(base.buffer(), 0, s(batch, rows, cols), new int[] {bs, 1, rows})
        : new View(base.buffer(), 0, s(batch, rows, cols), new int[] {bs, cols, 1});
  }

  @ParameterizedTest
  @MethodSource("backendsAndTypes")
  void matmulAllTransposesAndBatchBroadcast(String name, DType dt) {
    Backend be = TestViews.backend(name, 2);
    int[][] dims = {{1, 1, 1}, {3, 7, 8}, {13, 65, 7}, {65, 13, 207}, {8, 1025, 3}, {70, 300, 45}, {1, 207, 65},
        {207, 3, 1}, {97, 513, 33}, {0, 5, 3}, {4, 0, 3}};
    long seed = 31;
    for (int[] d : dims) {
      int m = d[0];
      int k = d[1];
      int n = d[2];
      for (int variant = 0; variant < 4; variant++) {
        boolean ta = (variant & 1) != 0;
        boolean tb = (variant & 2) != 0;
        for (int batch : new int[] {1, 3}) {
          for (int bcast = 0; bcast < 3; bcast++) {
            View a = matrix(dt, batch, m, k, ta, bcast == 1, seed++);
            View b = matrix(dt, batch, k, n, tb, bcast == 2, seed++);
            String what = name + " " + dt + " " + batch + "x[" + m + "," + k + "," + n + "] ta=" + ta + " tb=" + tb
                + " bcast=" + bcast;
            double tol = dt == DType.FLOAT32 ? 2e-6 * Math.sqrt(k + 1) * 4 : 1e-14 * (k + 1);
            assertClose(what, get(REF.matmul(a, b), batch, m, n), get(be.matmul(a, b), batch, m, n), 0, tol);
          }
        }
      }
    }
    // General strides (neither N nor T): every other element of a larger buffer, with an offset.
    View big = TestViews.random(dt, Layout.CONTIGUOUS, s(2 * 37 * 2 * 41 + 3), 5, -1, 1);
    View a = new View(big.buffer(), 3, s(2, 37, 41), new int[] {37 * 2 * 41, 2 * 41, 2});
    View b = new View(big.buffer(), 1, s(2, 41, 37), new int[] {37 * 2 * 41, 2, 2 * 41});
    assertClose(name + " strided matmul", get(REF.matmul(a, b), 2, 37, 37), get(be.matmul(a, b), 2, 37, 37), 0,
        dt == DType.FLOAT32 ? 1e-4 : 1e-12);
    assertThatThrownBy(() -> be.matmul(a, a)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("matmul").hasMessageContaining("[2, 37, 41]");
  }

  @ParameterizedTest
  @MethodSource("backendsAndTypes")
  void unfoldAndFoldMatchReference(String name, DType dt) {
    Backend be = TestViews.backend(name, 2);
    List<ConvGeometry> gs = List.of(
        new ConvGeometry(2, 3, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1),
        new ConvGeometry(1, 1, 5, 5, 1, 1, 1, 1, 0, 0, 1, 1),
        new ConvGeometry(3, 2, 13, 9, 3, 2, 2, 3, 2, 1, 1, 2),
        new ConvGeometry(1, 4, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1),
        new ConvGeometry(2, 1, 6, 7, 2, 2, 2, 2, 0, 0, 1, 1),
        new ConvGeometry(1, 2, 4, 4, 3, 3, 1, 1, 3, 3, 2, 2),
        new ConvGeometry(0, 2, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1));
    long seed = 41;
    for (ConvGeometry g : gs) {
      int[] img = s(g.n(), g.c(), g.h(), g.w());
      int[] cols = s(g.n(), g.rows(), g.cols());
      for (Layout layout : Layout.values()) {
        View x = TestViews.random(dt, layout, img, seed++, -1, 1);
        assertClose("unfold " + g + " " + layout, get(REF.unfold(x, g), cols), get(be.unfold(x, g), cols), 0, 0);
        View c = TestViews.random(dt, layout, cols, seed++, -1, 1);
        double tol = dt == DType.FLOAT32 ? 1e-5 : 1e-13;
        assertClose("fold " + g + " " + layout, get(REF.fold(c, g), img), get(be.fold(c, g), img), 0, tol);
      }
    }
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
  }

  /** Fused batch norm (forward and backward, with and without gamma/beta) against the reference's composition. */
  @ParameterizedTest
  @MethodSource("backendsAndTypes")
  void fusedBatchNormMatchesReference(String name, DType dt) {
    Backend be = TestViews.backend(name, 2);
    double tol = dt == DType.FLOAT32 ? 3e-5 : 1e-11;
    long seed = 100;
    List<int[]> shapes = new ArrayList<>();
    for (int n : new int[] {1, 3, 7, 13, 65}) {
      shapes.add(s(n, 5));
      shapes.add(s(2, 3, n));
      shapes.add(s(1, 2, n, 7));
      shapes.add(s(3, n % 5 + 1, 13, 13));
    }
    for (int[] shape : shapes) {
      int c = shape[1];
      for (Layout layout : new Layout[] {Layout.CONTIGUOUS, Layout.OFFSET, Layout.PERMUTED}) {
        View x = TestViews.random(dt, layout, shape, seed++, -2, 3);
        View g = TestViews.random(dt, layout, shape, seed++, -1, 1);
        View gamma = TestViews.random(dt, Layout.OFFSET, s(c), seed++, 0.5, 1.5);
        View beta = TestViews.random(dt, Layout.CONTIGUOUS, s(c), seed++, -1, 1);
        for (int affine = 0; affine < 4; affine++) {
          View ga = (affine & 1) != 0 ? gamma : null;
          View bt = (affine & 2) != 0 ? beta : null;
          String what = name + " " + dt + " " + layout + " " + java.util.Arrays.toString(shape) + " affine=" + affine;
          Buffer[] e = REF.batchNormTrain(x, ga, bt, 1e-5);
          Buffer[] a = be.batchNormTrain(x, ga, bt, 1e-5);
          assertClose(what + " y", get(e[0], shape), get(a[0], shape), tol, tol);
          assertClose(what + " mean", get(e[1], c), get(a[1], c), tol, tol);
          assertClose(what + " invStd", get(e[2], c), get(a[2], c), tol, tol);
          View mean = View.contiguous(a[1], c);
          View inv = View.contiguous(a[2], c);
          Buffer[] eb = REF.batchNormBackward(g, x, mean, inv, ga);
          Buffer[] ab = be.batchNormBackward(g, x, mean, inv, ga);
          // N * S up to 65 * 13: gradient sums carry a little more float rounding.
          double btol = tol * 10;
          assertClose(what + " gx", get(eb[0], shape), get(ab[0], shape), btol, btol);
          assertClose(what + " gGamma", get(eb[1], c), get(ab[1], c), btol, btol * 10);
          assertClose(what + " gBeta", get(eb[2], c), get(ab[2], c), btol, btol * 10);
        }
      }
    }
  }

  /** Fused tiled max pooling (forward, backward with ties and NaN) against the reference's composition. */
  @ParameterizedTest
  @MethodSource("backendsAndTypes")
  void fusedMaxPoolMatchesReference(String name, DType dt) {
    Backend be = TestViews.backend(name, 2);
    long seed = 200;
    // Widths n + 2 give pooled rows of 1..33 windows: full vectors, masked tails (512-bit), overlapping last
    // blocks and lane-extracted short rows (narrower vectors), scalar tails; 4, 8 and 16 windows end exactly on
    // a vector.
    for (int n : new int[] {1, 3, 6, 7, 13, 14, 20, 26, 30, 65}) {
      for (int k : new int[] {1, 2, 3}) {
        if (k > n) {
          continue;
        }
        int[] shape = s(2, 3, n, n + 2);
        int[] ps = s(2, 3, n / k, (n + 2) / k);
        for (Layout layout : Layout.values()) {
          for (boolean ties : new boolean[] {false, true}) {
            View x = ties ? TestViews.integers(dt, layout, shape, seed++, true)
                : TestViews.random(dt, layout, shape, seed++, -3, 3);
            String what = name + " " + dt + " " + layout + " n=" + n + " k=" + k + " ties=" + ties;
            Buffer e = REF.maxPool2dTiled(x, k);
            Buffer a = be.maxPool2dTiled(x, k);
            assertClose(what + " forward", get(e, ps), get(a, ps), 0, 0);
            View g = TestViews.random(dt, Layout.PERMUTED, ps, seed++, -1, 1);
            View out = View.contiguous(a, ps);
            // Same operations in the same order as the composition: identical values (NaN where the max is NaN).
            assertClose(what + " backward", get(REF.maxPool2dTiledBackward(x, out, g, k), shape),
                get(be.maxPool2dTiledBackward(x, out, g, k), shape), 0, 0);
          }
        }
      }
    }
  }

  /** Raw bits, so that +0 and -0 (and NaN payloads) count as different. */
  private static void assertSameBits(String what, double[] expected, double[] actual) {
    assertThat(actual).as(what + ": length").hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat(Double.doubleToRawLongBits(actual[i])).as(what + " at " + i + ": expected " + expected[i]
          + " got " + actual[i]).isEqualTo(Double.doubleToRawLongBits(expected[i]));
    }
  }

  @ParameterizedTest
  @MethodSource("backendsAndTypes")
  void fusedReluMatchesReferenceBitForBit(String name, DType dt) {
    Backend be = TestViews.backend(name, 2);
    long seed = 41;
    for (int[] shape : shapes()) {
      for (Layout lx : Layout.values()) {
        // Integers in [-2, 2] with NaNs: exact zeros must give +0 and NaN stay NaN, as where(x <= 0, 0, x).
        View x = TestViews.integers(dt, lx, shape, seed++, true);
        View r = TestViews.random(dt, lx, shape, seed++, -1, 1);
        View g = TestViews.random(dt, Layout.PERMUTED, shape, seed++, -1, 1);
        for (View in : new View[] {x, r}) {
          assertSameBits(name + " relu " + lx + " " + Arrays.toString(shape), get(REF.relu(in), shape),
              get(be.relu(in), shape));
          assertSameBits(name + " reluBackward " + lx + " " + Arrays.toString(shape),
              get(REF.reluBackward(in, g), shape), get(be.reluBackward(in, g), shape));
        }
      }
    }
    // -0 and -inf give +0, +inf and NaN stay; the gradient passes where x > 0 or x is NaN (PyTorch's rule).
    double[] special = {-0.0, 0.0, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, Double.NaN, -1e-30, 1e-30,
        Double.MIN_VALUE, -3, 3, 0.5, -0.5, 7, -7, 1, -1, 2, -2, 0.25};
    View sx = View.contiguous(be.upload(special, dt), s(special.length));
    View sg = View.contiguous(be.full(dt, special.length, -2.5), s(special.length));
    double[] y = get(be.relu(sx), special.length);
    double[] gx = get(be.reluBackward(sx, sg), special.length);
    for (int i = 0; i < special.length; i++) {
      double v = dt == DType.FLOAT32 ? (float) special[i] : special[i];
      double want = v <= 0 ? 0.0 : v;
      assertThat(Double.doubleToLongBits(y[i])).as(name + " relu(" + special[i] + ")")
          .isEqualTo(Double.doubleToLongBits(want));
      assertThat(Double.doubleToRawLongBits(gx[i])).as(name + " relu'(" + special[i] + ")")
          .isEqualTo(Double.doubleToRawLongBits(v <= 0 ? 0.0 : -2.5));
    }
  }

  /**
   * The conv2d kernels (implicit im2col for FLOAT32 where {@link ConvF} applies, the default composite
   * otherwise) against the reference's composite, on every input layout, with and without bias, and the
   * same bits on 1 and 2 threads.
   */
  /** A kernel set that reads rows in place (as the vector sets do), for the geometry predicates of ConvF. */
  private static final ScalarKernels IN_PLACE = new ScalarKernels() {
    @Override
    boolean inPlaceRowsF() {
      return true;
    }
  };

  @ParameterizedTest
  @MethodSource("backendsAndTypes")
  void fusedConv2dMatchesReference(String name, DType dt) {
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
      double rtol = dt == DType.FLOAT32 ? 1e-5 : 1e-12;
      double atol = (dt == DType.FLOAT32 ? 4e-6 : 1e-13) * Math.max(g.rows(), o * g.oh());
      for (Layout layout : Layout.values()) {
        View x = TestViews.random(dt, layout, img, seed++, -1, 1);
        View w = TestViews.random(dt, layout == Layout.BROADCAST ? Layout.PERMUTED : layout, ws, seed++, -1, 1);
        View b = TestViews.random(dt, Layout.OFFSET, s(o), seed++, -1, 1);
        View gy = TestViews.random(dt, layout, ys, seed++, -1, 1);
        String what = name + " " + g + " o=" + o + " " + layout;
        for (View bias : new View[] {null, b}) {
          double[] want = get(REF.conv2d(x, w, bias, g), ys);
          double[] got = get(one.conv2d(x, w, bias, g), ys);
          assertClose("conv2d " + what, want, got, rtol, atol);
          assertThat(get(two.conv2d(x, w, bias, g), ys)).as("conv2d 1 vs 2 threads " + what).containsExactly(got);
        }
        double[] gx = get(one.conv2dBackwardInput(gy, w, g), img);
        assertClose("conv2dBackwardInput " + what, get(REF.conv2dBackwardInput(gy, w, g), img), gx, rtol, atol);
        assertThat(get(two.conv2dBackwardInput(gy, w, g), img)).as("input grad 1 vs 2 threads " + what)
            .containsExactly(gx);
        double[] gw = get(one.conv2dBackwardWeight(gy, x, g), ws);
        double watol = (dt == DType.FLOAT32 ? 4e-6 : 1e-13) * g.n() * g.cols();
        assertClose("conv2dBackwardWeight " + what, get(REF.conv2dBackwardWeight(gy, x, g), ws), gw, rtol, watol);
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
