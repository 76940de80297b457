package org.metagrad.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.metagrad.DType;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ConvGeometry;
import org.metagrad.spi.ReduceOp;
import org.metagrad.spi.ReferenceBackend;
import org.metagrad.spi.UnaryOp;
import org.metagrad.spi.View;

/**
 * The SPI-level conformance suite every backend runs (CPU backends in kernels/cpu, OpenCL in kernels/opencl, the
 * reference itself here): every {@link Backend} method against {@link ReferenceBackend} on the same inputs, in
 * both dtypes, over odd sizes (1, 3, 7, 8, 13, 65, 207, 1025), size-1 and zero-size dims, and five layouts
 * (contiguous, offset, permuted, broadcast, stepped), with NaN, +-Inf and signed zeros among the values.
 *
 * <p>A backend's test extends it and gives {@link #backend(int)}; it may widen the tolerances where its device
 * computes differently ({@link #unaryTolerance}, {@link #binaryTolerance}), and check what its buffers hold after
 * each test ({@link #afterRelease}). Every buffer the backend under test makes here is released after the test.
 * The Tensor-level suite is {@link AbstractBackendConformanceTest}.
 */
public abstract class AbstractSpiConformanceTest {
  /** The reference backend: the oracle. */
  protected static final ReferenceBackend REF = ReferenceBackend.INSTANCE;
  /** The odd sizes every sweep covers. */
  protected static final int[] SIZES = {1, 3, 7, 8, 13, 65, 207, 1025};

  /** How a view lays out its elements in its buffer. */
  public enum Layout {
    /** Row-major, offset 0. */
    CONTIGUOUS,
    /** Row-major after 5 leading elements. */
    OFFSET,
    /** Column-major (every dimension permuted). */
    PERMUTED,
    /** Dimension 0 broadcast with stride 0. */
    BROADCAST,
    /** Every other element, starting at element 1. */
    STEPPED
  }

  /** The same view on the reference backend and on the backend under test. */
  public record Pair(View ref, View be) {}

  private final List<Buffer> owned = new ArrayList<>();
  private final SplittableRandom rnd = new SplittableRandom(42);
  private Backend under;

  /** The backend under test, with {@code threads} kernel threads where it has a thread count (1 or 2 here). */
  protected abstract Backend backend(int threads);

  /** The backend under test with 2 kernel threads (opened once per test). */
  protected final Backend backend() {
    if (under == null) {
      under = backend(2);
    }
    return under;
  }

  /**
   * Relative tolerance of a unary op against the reference (absolute tolerance: {@link #tinyTolerance}). The
   * default: NEG, SQRT and SIGN exact; the others 4e-7 in FLOAT32 and 4e-15 in FLOAT64 (a few ulps).
   */
  protected double unaryTolerance(UnaryOp op, DType dt) {
    if (op == UnaryOp.NEG || op == UnaryOp.SQRT || op == UnaryOp.SIGN) {
      return 0;
    }
    return dt == DType.FLOAT32 ? 4e-7 : 4e-15;
  }

  /** Relative tolerance of a binary op against the reference; the default 0 (correctly rounded, as the reference). */
  protected double binaryTolerance(DType dt) {
    return 0;
  }

  /** Absolute tolerance below which results count as equal (a device that flushes subnormals sets it). */
  protected double tinyTolerance(DType dt) {
    return 0;
  }

  /** Called after each test, once every buffer the test made on the backend is released (e.g. a leak check). */
  protected void afterRelease() {}

  @AfterEach
  final void releaseOwned() {
    owned.forEach(Buffer::release);
    owned.clear();
    afterRelease();
  }

  /** Registers a buffer of the backend under test, to be released after the test. */
  protected final <B extends Buffer> B own(B b) {
    if (b != null) {
      owned.add(b);
    }
    return b;
  }

  /** Registers every buffer of a fused op's result, to be released after the test. */
  protected final Buffer[] own(Buffer[] bs) {
    for (Buffer b : bs) {
      own(b);
    }
    return bs;
  }

  /** The backend under test, for a dtype it supports (the test is skipped for one it does not). */
  protected final Backend supporting(DType dt) {
    Backend be = backend();
    assumeTrue(be.supports(dt), be.name() + " does not support " + dt);
    return be;
  }

  // ------------------------------------------------------------------------------------------- inputs

  /** Uniform values in [-2, 2). */
  protected final double[] values(int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextDouble() * 4 - 2;
    }
    return v;
  }

  /** Values in [lo, hi). */
  protected final IntFunction<double[]> uniform(double lo, double hi) {
    return n -> {
      double[] v = new double[n];
      for (int i = 0; i < n; i++) {
        v[i] = lo + (hi - lo) * rnd.nextDouble();
      }
      return v;
    };
  }

  /** Values with NaN, infinities, signed zeros and exact ties among uniform ones. */
  protected final double[] special(int n) {
    double[] pool = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0, 1, -1, 0.5, 2, -3};
    double[] v = values(n);
    for (int i = 0; i < n; i++) {
      if (rnd.nextInt(3) == 0) {
        v[i] = pool[rnd.nextInt(pool.length)];
      }
    }
    return v;
  }

  /** Small integers in [-2, 2] with some NaN: exact sums, products, ties and comparisons. */
  protected final double[] integers(int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextInt(11) == 0 ? Double.NaN : rnd.nextInt(5) - 2;
    }
    return v;
  }

  /** A view of {@code shape} in the given layout, its storage filled by {@code gen}, on both backends. */
  protected final Pair view(Backend be, int[] shape, DType dt, Layout layout, IntFunction<double[]> gen) {
    int r = shape.length;
    int[] strides = new int[r];
    int offset = 0;
    int[] cs = View.contiguousStrides(shape);
    switch (layout) {
      case CONTIGUOUS -> strides = cs;
      case OFFSET -> {
        strides = cs;
        offset = 5;
      }
      case PERMUTED -> {
        int acc = 1;
        for (int d = 0; d < r; d++) {
          strides[d] = acc;
          acc *= Math.max(shape[d], 1);
        }
      }
      case BROADCAST -> {
        strides = cs.clone();
        if (r > 0) {
          strides[0] = 0;
        }
      }
      case STEPPED -> {
        for (int d = 0; d < r; d++) {
          strides[d] = 2 * cs[d];
        }
        offset = 1;
      }
    }
    long last = offset;
    boolean empty = false;
    for (int d = 0; d < r; d++) {
      if (shape[d] == 0) {
        empty = true;
      } else {
        last += (long) (shape[d] - 1) * strides[d];
      }
    }
    int size = (int) (empty ? offset + 3 : last + 3);
    double[] data = gen.apply(size);
    return new Pair(new View(REF.upload(data, dt), offset, shape, strides),
        new View(own(be.upload(data, dt)), offset, shape, strides));
  }

  /** A view of uniform values in [-2, 2). */
  protected final Pair view(Backend be, int[] shape, DType dt, Layout layout) {
    return view(be, shape, dt, layout, this::values);
  }

  /**
   * Asserts that the backend's result equals the reference's within {@code |e - a| <= atol + rtol * |e|}: same
   * size, dtype and device; NaN where the reference has NaN, infinities exactly, and where both are zero the same
   * sign when {@code signedZeros}.
   */
  protected final void assertClose(String what, Buffer expected, Buffer actual, double rtol, double atol,
      boolean signedZeros) {
    own(actual);
    Backend be = backend();
    assertThat(actual.size()).as(what + ": size").isEqualTo(expected.size());
    assertThat(actual.dtype()).as(what + ": dtype").isEqualTo(expected.dtype());
    assertThat(actual.device()).as(what + ": device").isEqualTo(be.device());
    double[] want = REF.downloadDouble(View.contiguous(expected, expected.size()));
    double[] got = be.downloadDouble(View.contiguous(actual, actual.size()));
    for (int i = 0; i < want.length; i++) {
      double w = want[i];
      double g = got[i];
      boolean ok;
      if (Double.isNaN(w) || Double.isNaN(g)) {
        ok = Double.isNaN(w) && Double.isNaN(g);
      } else if (Double.isInfinite(w) || Double.isInfinite(g)) {
        ok = w == g;
      } else if (w == 0 && g == 0) {
        ok = !signedZeros || Double.compare(w, g) == 0;
      } else {
        ok = Math.abs(w - g) <= atol + rtol * Math.abs(w);
      }
      if (!ok) {
        fail(what + ": element " + i + " expected " + w + " but got " + g + " (rtol " + rtol + ", atol " + atol
            + ")");
      }
    }
  }

  /** Raw bits, so that +0 and -0 (and NaN payloads) count as different. */
  protected final void assertSameBits(String what, Buffer expected, Buffer actual) {
    own(actual);
    double[] want = REF.downloadDouble(View.contiguous(expected, expected.size()));
    double[] got = backend().downloadDouble(View.contiguous(actual, actual.size()));
    assertThat(got).as(what + ": length").hasSize(want.length);
    for (int i = 0; i < want.length; i++) {
      assertThat(Double.doubleToRawLongBits(got[i])).as(what + " at " + i + ": expected " + want[i] + " got "
          + got[i]).isEqualTo(Double.doubleToRawLongBits(want[i]));
    }
  }

  /** Elementwise shapes: every odd size as a vector and in 2-d and 3-d, plus rank 0, 4, size-1 and zero-size. */
  protected static List<int[]> shapes() {
    List<int[]> out = new ArrayList<>();
    for (int n : SIZES) {
      out.add(new int[] {n});
      if (n <= 207) {
        out.add(new int[] {3, n});
        out.add(new int[] {n, 2, 1});
      }
    }
    out.add(new int[] {2, 3, 4, 5});
    out.add(new int[] {});
    out.add(new int[] {0});
    out.add(new int[] {4, 0, 3});
    out.add(new int[] {1, 1, 1});
    return out;
  }

  private static String str(int[] s) {
    return Arrays.toString(s);
  }

  private static int numel(int[] s) {
    int n = 1;
    for (int v : s) {
      n *= v;
    }
    return n;
  }

  // ------------------------------------------------------------------------------------------- memory

  @ParameterizedTest
  @EnumSource(DType.class)
  void uploadDownloadAndFull(DType dt) {
    Backend be = supporting(dt);
    for (Layout layout : Layout.values()) {
      for (int[] shape : shapes()) {
        Pair p = view(be, shape, dt, layout, this::special);
        String what = layout + " " + str(shape);
        assertThat(be.downloadDouble(p.be())).as("downloadDouble " + what).containsExactly(REF.downloadDouble(p.ref()));
        assertThat(be.downloadFloat(p.be())).as("downloadFloat " + what).containsExactly(REF.downloadFloat(p.ref()));
      }
    }
    float[] f = {1.5f, -2.25f, Float.NaN, Float.NEGATIVE_INFINITY, -0f};
    Buffer fb = own(be.upload(f));
    assertThat(fb.dtype()).isEqualTo(DType.FLOAT32);
    assertThat(be.downloadFloat(View.contiguous(fb, f.length))).containsExactly(f);
    double[] d = {0.1, 1e300, 1e-40, 3.0000001, Double.NaN, -0.0};
    assertClose("upload " + dt, REF.upload(d, dt), be.upload(d, dt), 0, 0, true);
    for (int n : new int[] {0, 1, 7, 65, 1025}) {
      for (double v : new double[] {0, -1.5, Math.PI, Double.NaN, Double.NEGATIVE_INFINITY}) {
        assertClose("full " + n + " " + v, REF.full(dt, n, v), be.full(dt, n, v), 0, 0, true);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void copyAndCast(DType dt) {
    Backend be = supporting(dt);
    for (DType to : DType.values()) {
      if (!be.supports(to)) {
        continue;
      }
      for (Layout layout : Layout.values()) {
        for (int[] shape : shapes()) {
          Pair x = view(be, shape, dt, layout, this::special);
          assertClose("copy " + dt + "->" + to + " " + layout + " " + str(shape), REF.copy(x.ref(), to),
              be.copy(x.be(), to), 0, 0, true);
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void padAndConcat(DType dt) {
    Backend be = supporting(dt);
    for (Layout layout : Layout.values()) {
      for (int[] shape : shapes()) {
        int r = shape.length;
        int[] before = new int[r];
        int[] after = new int[r];
        for (int d = 0; d < r; d++) {
          before[d] = d % 2;
          after[d] = 2 - d % 3;
        }
        Pair x = view(be, shape, dt, layout, this::special);
        String what = layout + " " + str(shape);
        assertClose("pad " + what, REF.pad(x.ref(), before, after), be.pad(x.be(), before, after), 0, 0, true);
        for (int dim = 0; dim < r; dim++) {
          int[] sizes = {shape[dim], 0, 2, 1};
          View[] refParts = new View[sizes.length];
          View[] beParts = new View[sizes.length];
          for (int i = 0; i < sizes.length; i++) {
            int[] s = shape.clone();
            s[dim] = sizes[i];
            Pair p = i == 0 ? x : view(be, s, dt, i % 2 == 0 ? layout : Layout.PERMUTED);
            refParts[i] = p.ref();
            beParts[i] = p.be();
          }
          assertClose("concat dim " + dim + " " + what, REF.concat(refParts, dim), be.concat(beParts, dim), 0, 0,
              true);
        }
      }
    }
  }

  // ------------------------------------------------------------------------------------------- elementwise

  @ParameterizedTest
  @EnumSource(DType.class)
  void unaryMatchesReference(DType dt) {
    Backend be = supporting(dt);
    for (UnaryOp op : UnaryOp.values()) {
      double[] params = op == UnaryOp.POW ? new double[] {2, 3, 0.5, 1, 0, -1.5} : new double[] {0};
      for (double p : params) {
        for (Layout layout : Layout.values()) {
          for (int[] shape : shapes()) {
            Pair x = view(be, shape, dt, layout, op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.POW
                ? this::special : n -> {
                  double[] v = special(n);
                  for (int i = 0; i < n; i++) {
                    v[i] *= 1.5;   // [-3, 3): exp and tanh over the range where they vary
                  }
                  return v;
                });
            assertClose(op + "(" + p + ") " + dt + " " + layout + " " + str(shape), REF.unary(op, p, x.ref()),
                be.unary(op, p, x.be()), unaryTolerance(op, dt), tinyTolerance(dt), op == UnaryOp.SIGN);
          }
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void binaryMatchesReferenceInEveryPairOfLayouts(DType dt) {
    Backend be = supporting(dt);
    for (int[] shape : shapes()) {
      for (Layout la : Layout.values()) {
        for (Layout lb : Layout.values()) {
          Pair a = view(be, shape, dt, la, this::integers);
          Pair b = view(be, shape, dt, lb, this::special);
          for (BinaryOp op : BinaryOp.values()) {
            String what = op + " " + dt + " " + la + "/" + lb + " " + str(shape);
            assertClose(what, REF.binary(op, a.ref(), b.ref()), be.binary(op, a.be(), b.be()), binaryTolerance(dt),
                tinyTolerance(dt), false);
            assertClose(what + " swapped", REF.binary(op, b.ref(), a.ref()), be.binary(op, b.be(), a.be()),
                binaryTolerance(dt), tinyTolerance(dt), false);
          }
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void binaryWithRowColumnAndScalarBroadcast(DType dt) {
    Backend be = supporting(dt);
    for (int n : SIZES) {
      Pair a = view(be, new int[] {5, n}, dt, Layout.CONTIGUOUS);
      Pair row = view(be, new int[] {n}, dt, Layout.CONTIGUOUS, uniform(0.5, 2));
      List<int[]> strides = List.of(new int[] {0, 1}, new int[] {1, 0}, new int[] {0, 0});
      for (int[] st : strides) {
        if (st[0] == 1 && n < 5) {
          continue;   // a column broadcast reads 5 elements
        }
        View rb = new View(row.ref().buffer(), 0, new int[] {5, n}, st);
        View bb = new View(row.be().buffer(), 0, new int[] {5, n}, st);
        for (BinaryOp op : BinaryOp.values()) {
          String what = op + " " + dt + " n=" + n + " strides " + str(st);
          assertClose(what, REF.binary(op, a.ref(), rb), be.binary(op, a.be(), bb), binaryTolerance(dt), 0, false);
          assertClose(what + " swapped", REF.binary(op, rb, a.ref()), be.binary(op, bb, a.be()), binaryTolerance(dt),
              0, false);
        }
      }
    }
  }

  @Test
  void comparisonsAreZeroOneWithIeeeNaNSemantics() {
    Backend be = backend();
    View a = View.contiguous(own(be.upload(new float[] {Float.NaN, 1, 2, Float.NaN, -0f})), 5);
    View b = View.contiguous(own(be.upload(new float[] {1, Float.NaN, 2, Float.NaN, 0f})), 5);
    float[][] want = {
        {1, 1, 0, 1, 0},   // NE
        {0, 0, 1, 0, 1},   // EQ
        {0, 0, 1, 0, 1},   // GE
        {0, 0, 0, 0, 0},   // GT
        {0, 0, 1, 0, 1},   // LE
        {0, 0, 0, 0, 0}};  // LT
    BinaryOp[] ops = {BinaryOp.NE, BinaryOp.EQ, BinaryOp.GE, BinaryOp.GT, BinaryOp.LE, BinaryOp.LT};
    for (int i = 0; i < ops.length; i++) {
      assertThat(be.downloadFloat(View.contiguous(own(be.binary(ops[i], a, b)), 5))).as(ops[i].toString())
          .containsExactly(want[i]);
    }
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void whereMatchesReference(DType dt) {
    Backend be = supporting(dt);
    for (int[] shape : shapes()) {
      for (Layout lc : Layout.values()) {
        Pair c = view(be, shape, dt, lc, n -> {
          double[] v = special(n);   // NaN is true (not 0), as every non-zero value
          for (int i = 0; i < n; i += 2) {
            v[i] = i % 4 == 0 ? 0.0 : -0.0;
          }
          return v;
        });
        Pair a = view(be, shape, dt, Layout.PERMUTED, this::special);
        Pair b = view(be, shape, dt, Layout.STEPPED);
        View zr = new View(REF.full(dt, 1, 0), 0, shape, new int[shape.length]);
        View zb = new View(own(be.full(dt, 1, 0)), 0, shape, new int[shape.length]);
        Pair zero = new Pair(zr, zb);
        for (Pair[] ab : new Pair[][] {{a, b}, {b, zero}, {zero, a}, {zero, zero}}) {
          assertClose("where " + dt + " " + lc + " " + str(shape), REF.where(c.ref(), ab[0].ref(), ab[1].ref()),
              be.where(c.be(), ab[0].be(), ab[1].be()), 0, 0, true);
        }
      }
    }
  }

  // ------------------------------------------------------------------------------------------- reductions

  @ParameterizedTest
  @EnumSource(DType.class)
  void reduceEverySubsetOfDims(DType dt) {
    Backend be = supporting(dt);
    List<int[]> shapes = new ArrayList<>();
    for (int n : SIZES) {
      shapes.add(new int[] {n});
      shapes.add(new int[] {3, n});
      shapes.add(new int[] {n, 5});
      shapes.add(new int[] {2, n, 3});
    }
    shapes.addAll(List.of(new int[] {1, 4, 1, 5}, new int[] {3000, 70}, new int[] {2, 5000}, new int[] {5000, 2},
        new int[] {3, 0, 2}, new int[] {}, new int[] {2, 3, 2, 3, 2, 3, 2, 3, 2}));
    Layout[] layouts = {Layout.CONTIGUOUS, Layout.PERMUTED, Layout.BROADCAST, Layout.STEPPED};
    for (int[] shape : shapes) {
      for (Layout layout : layouts) {
        boolean big = numel(shape) > 20000;
        if (big && layout != Layout.CONTIGUOUS && layout != Layout.PERMUTED) {
          continue;
        }
        for (ReduceOp op : ReduceOp.values()) {
          Pair x = view(be, shape, dt, layout, op == ReduceOp.MAX ? this::special : uniform(-1, 1));
          for (int mask = 0; mask < (1 << shape.length); mask++) {
            int[] out = shape.clone();
            for (int d = 0; d < shape.length; d++) {
              if ((mask & (1 << d)) != 0) {
                out[d] = 1;
              }
            }
            String what = op + " " + dt + " " + layout + " " + str(shape) + " -> " + str(out);
            if (op == ReduceOp.MAX && numel(shape) == 0 && numel(out) > 0) {
              assertThatThrownBy(() -> be.reduce(op, x.be(), out)).as(what)
                  .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max");
              continue;
            }
            int len = numel(out) == 0 ? 0 : numel(shape) / numel(out);
            // Sums: the reference accumulates in double; a backend may sum float blocks in float. |x| < 1.
            double rtol = op == ReduceOp.MAX ? 0 : dt == DType.FLOAT32 ? 1e-6 : 1e-12;
            double atol = op == ReduceOp.MAX ? 0 : (dt == DType.FLOAT32 ? 1e-6 : 1e-13) * (len + 1);
            assertClose(what, REF.reduce(op, x.ref(), out), be.reduce(op, x.be(), out), rtol, atol, false);
          }
        }
      }
    }
    Pair empty = view(be, new int[] {3, 0}, dt, Layout.CONTIGUOUS);
    assertClose("sum of [3, 0]", REF.reduce(ReduceOp.SUM, empty.ref(), new int[] {3, 1}),
        be.reduce(ReduceOp.SUM, empty.be(), new int[] {3, 1}), 0, 0, true);
  }

  // ------------------------------------------------------------------------------------------- matmul

  /** A [B, R, C] view stored row-major or transposed (as [B, C, R]), batch stride optionally 0, at offset 3. */
  private Pair matrix(Backend be, DType dt, int batch, int rows, int cols, boolean transposed, boolean bcast) {
    int stored = bcast ? 1 : batch;
    double[] data = uniform(-1, 1).apply(stored * rows * cols + 3);
    int bs = bcast ? 0 : rows * cols;
    int[] strides = transposed ? new int[] {bs, 1, rows} : new int[] {bs, cols, 1};
    int[] shape = {batch, rows, cols};
    return new Pair(new View(REF.upload(data, dt), 3, shape, strides),
        new View(own(be.upload(data, dt)), 3, shape, strides));
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void matmulAllTransposesAndBatchBroadcast(DType dt) {
    Backend be = supporting(dt);
    int[][] dims = {{1, 1, 1}, {3, 7, 8}, {13, 65, 7}, {65, 13, 207}, {8, 1025, 3}, {70, 300, 45}, {1, 207, 65},
        {207, 3, 1}, {97, 513, 33}, {33, 31, 32}, {129, 129, 129}, {0, 5, 3}, {4, 0, 3}, {3, 3, 0}};
    for (int[] d : dims) {
      int m = d[0];
      int k = d[1];
      int n = d[2];
      for (int variant = 0; variant < 4; variant++) {
        boolean ta = (variant & 1) != 0;
        boolean tb = (variant & 2) != 0;
        for (int batch : new int[] {1, 3}) {
          for (int bcast = 0; bcast < 3; bcast++) {
            if (m * k * n > 100000 && (batch > 1 || bcast > 0)) {
              continue;   // the large shapes once per transpose pair
            }
            Pair a = matrix(be, dt, batch, m, k, ta, bcast == 1);
            Pair b = matrix(be, dt, batch, k, n, tb, bcast == 2);
            String what = "matmul " + dt + " " + batch + "x[" + m + "," + k + "," + n + "] ta=" + ta + " tb=" + tb
                + " bcast=" + bcast;
            double rtol = dt == DType.FLOAT32 ? 1e-5 : 1e-12;
            double atol = dt == DType.FLOAT32 ? 8e-6 * Math.sqrt(k + 1) : 1e-14 * (k + 1);
            assertClose(what, REF.matmul(a.ref(), b.ref()), be.matmul(a.be(), b.be()), rtol, atol, false);
            if (batch == 3 && bcast == 0) {
              assertClose("matmulSumBatch " + what, REF.matmulSumBatch(a.ref(), b.ref()),
                  be.matmulSumBatch(a.be(), b.be()), rtol, atol * 3, false);
            }
          }
        }
      }
    }
    // General strides (neither row- nor column-major): every other element of a larger buffer, with an offset.
    double[] data = values(2 * 37 * 2 * 41 + 3);
    Buffer rb = REF.upload(data, dt);
    Buffer bb = own(be.upload(data, dt));
    int[] sa = {37 * 2 * 41, 2 * 41, 2};
    int[] sb = {37 * 2 * 41, 2, 2 * 41};
    View ra = new View(rb, 3, new int[] {2, 37, 41}, sa);
    View ba = new View(bb, 3, new int[] {2, 37, 41}, sa);
    assertClose("strided matmul " + dt, REF.matmul(ra, new View(rb, 1, new int[] {2, 41, 37}, sb)),
        be.matmul(ba, new View(bb, 1, new int[] {2, 41, 37}, sb)), dt == DType.FLOAT32 ? 1e-5 : 1e-12,
        dt == DType.FLOAT32 ? 1e-4 : 1e-12, false);
  }

  // ------------------------------------------------------------------------------------------- windows

  /** Geometries: 3x3 pad 1, 1x1, stride/padding/dilation mixes, a window wider than the padded image row, n = 0. */
  protected static final List<ConvGeometry> GEOMETRIES = List.of(
      new ConvGeometry(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1),
      new ConvGeometry(2, 3, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1),
      new ConvGeometry(1, 1, 5, 5, 1, 1, 1, 1, 0, 0, 1, 1),
      new ConvGeometry(3, 2, 13, 9, 3, 2, 2, 3, 2, 1, 1, 2),
      new ConvGeometry(1, 2, 13, 7, 3, 2, 2, 1, 0, 1, 1, 1),
      new ConvGeometry(2, 1, 13, 13, 3, 3, 2, 3, 2, 1, 2, 2),
      new ConvGeometry(1, 4, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1),
      new ConvGeometry(2, 1, 6, 7, 2, 2, 2, 2, 0, 0, 1, 1),
      new ConvGeometry(1, 2, 4, 4, 3, 3, 1, 1, 3, 3, 2, 2),
      new ConvGeometry(0, 2, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1),
      new ConvGeometry(1, 0, 5, 5, 3, 3, 1, 1, 0, 0, 1, 1));

  @ParameterizedTest
  @EnumSource(DType.class)
  void unfoldAndFoldMatchReference(DType dt) {
    Backend be = supporting(dt);
    for (ConvGeometry g : GEOMETRIES) {
      int[] img = {g.n(), g.c(), g.h(), g.w()};
      int[] cols = {g.n(), g.rows(), g.cols()};
      for (Layout layout : Layout.values()) {
        Pair x = view(be, img, dt, layout, this::special);
        assertClose("unfold " + g + " " + layout, REF.unfold(x.ref(), g), be.unfold(x.be(), g), 0, 0, true);
        Pair c = view(be, cols, dt, layout);
        double tol = dt == DType.FLOAT32 ? 1e-5 : 1e-13;
        assertClose("fold " + g + " " + layout, REF.fold(c.ref(), g), be.fold(c.be(), g), tol, tol * g.kh() * g.kw(),
            false);
      }
    }
  }

  // ------------------------------------------------------------------------------------------- fused ops

  @ParameterizedTest
  @EnumSource(DType.class)
  void fusedConv2dAndItsGradientsMatchReference(DType dt) {
    Backend be = supporting(dt);
    int[] outs = {16, 33, 16, 12, 40, 17, 2, 19, 13, 9};
    List<ConvGeometry> gs = List.of(
        new ConvGeometry(3, 6, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1),
        new ConvGeometry(2, 5, 13, 7, 3, 3, 1, 1, 1, 1, 1, 1),
        new ConvGeometry(2, 6, 15, 13, 3, 3, 2, 2, 1, 1, 1, 1),
        new ConvGeometry(2, 5, 12, 12, 3, 3, 1, 1, 2, 2, 2, 2),
        new ConvGeometry(2, 24, 6, 7, 1, 1, 1, 1, 0, 0, 1, 1),
        new ConvGeometry(3, 6, 14, 13, 3, 2, 2, 1, 0, 1, 1, 1),
        new ConvGeometry(1, 1, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1),
        new ConvGeometry(2, 5, 11, 12, 3, 3, 1, 2, 1, 0, 1, 1),
        new ConvGeometry(2, 14, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1),
        new ConvGeometry(2, 13, 10, 8, 3, 3, 1, 1, 2, 0, 2, 1));
    for (int i = 0; i < gs.size(); i++) {
      ConvGeometry g = gs.get(i);
      int o = outs[i];
      int[] img = {g.n(), g.c(), g.h(), g.w()};
      int[] ys = {g.n(), o, g.cols()};
      int[] ws = {o, g.rows()};
      double rtol = dt == DType.FLOAT32 ? 1e-5 : 1e-12;
      double atol = (dt == DType.FLOAT32 ? 4e-6 : 1e-13) * Math.max(g.rows(), o * g.oh());
      double watol = (dt == DType.FLOAT32 ? 4e-6 : 1e-13) * g.n() * g.cols();
      for (Layout layout : Layout.values()) {
        Pair x = view(be, img, dt, layout, uniform(-1, 1));
        Pair w = view(be, ws, dt, layout == Layout.BROADCAST ? Layout.PERMUTED : layout, uniform(-1, 1));
        Pair b = view(be, new int[] {o}, dt, Layout.OFFSET, uniform(-1, 1));
        Pair gy = view(be, ys, dt, layout, uniform(-1, 1));
        String what = dt + " " + g + " o=" + o + " " + layout;
        assertClose("conv2d " + what, REF.conv2d(x.ref(), w.ref(), null, g), be.conv2d(x.be(), w.be(), null, g),
            rtol, atol, false);
        assertClose("conv2d + bias " + what, REF.conv2d(x.ref(), w.ref(), b.ref(), g),
            be.conv2d(x.be(), w.be(), b.be(), g), rtol, atol, false);
        assertClose("conv2dBackwardInput " + what, REF.conv2dBackwardInput(gy.ref(), w.ref(), g),
            be.conv2dBackwardInput(gy.be(), w.be(), g), rtol, atol, false);
        assertClose("conv2dBackwardWeight " + what, REF.conv2dBackwardWeight(gy.ref(), x.ref(), g),
            be.conv2dBackwardWeight(gy.be(), x.be(), g), rtol, watol, false);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void fusedBatchNormForwardAndBackwardMatchReference(DType dt) {
    Backend be = supporting(dt);
    double tol = dt == DType.FLOAT32 ? 3e-5 : 1e-11;
    double btol = tol * 10;   // gradient sums over N * S up to 65 * 13 carry a little more rounding
    List<int[]> shapes = new ArrayList<>();
    for (int n : new int[] {1, 3, 7, 13, 65}) {
      shapes.add(new int[] {n, 5});
      shapes.add(new int[] {2, 3, n});
      shapes.add(new int[] {1, 2, n, 7});
      shapes.add(new int[] {3, n % 5 + 1, 13, 13});
    }
    for (int[] shape : shapes) {
      int c = shape[1];
      for (Layout layout : new Layout[] {Layout.CONTIGUOUS, Layout.OFFSET, Layout.PERMUTED}) {
        Pair x = view(be, shape, dt, layout, uniform(-2, 3));
        Pair g = view(be, shape, dt, layout, uniform(-1, 1));
        Pair gamma = view(be, new int[] {c}, dt, Layout.OFFSET, uniform(0.5, 1.5));
        Pair beta = view(be, new int[] {c}, dt, Layout.CONTIGUOUS, uniform(-1, 1));
        for (int affine = 0; affine < 4; affine++) {
          View rga = (affine & 1) != 0 ? gamma.ref() : null;
          View bga = (affine & 1) != 0 ? gamma.be() : null;
          View rbt = (affine & 2) != 0 ? beta.ref() : null;
          View bbt = (affine & 2) != 0 ? beta.be() : null;
          String what = dt + " " + layout + " " + str(shape) + " affine=" + affine;
          Buffer[] e = REF.batchNormTrain(x.ref(), rga, rbt, 1e-5);
          Buffer[] a = own(be.batchNormTrain(x.be(), bga, bbt, 1e-5));
          assertClose(what + " y", e[0], a[0], tol, tol, false);
          assertClose(what + " mean", e[1], a[1], tol, tol, false);
          assertClose(what + " invStd", e[2], a[2], tol, tol, false);
          // Both backwards from the backend's own statistics, so that only the backward is compared.
          View rmean = View.contiguous(REF.upload(be.downloadDouble(View.contiguous(a[1], c)), dt), c);
          View rinv = View.contiguous(REF.upload(be.downloadDouble(View.contiguous(a[2], c)), dt), c);
          Buffer[] eb = REF.batchNormBackward(g.ref(), x.ref(), rmean, rinv, rga);
          Buffer[] ab = own(be.batchNormBackward(g.be(), x.be(), View.contiguous(a[1], c), View.contiguous(a[2], c), bga));
          assertClose(what + " gx", eb[0], ab[0], btol, btol, false);
          assertClose(what + " gGamma", eb[1], ab[1], btol, btol * 10, false);
          assertClose(what + " gBeta", eb[2], ab[2], btol, btol * 10, false);
          if (shape.length == 4 && affine == 3) {
            Buffer[] er = REF.batchNormReluTrain(x.ref(), rga, rbt, 1e-5);
            Buffer[] ar = own(be.batchNormReluTrain(x.be(), bga, bbt, 1e-5));
            assertClose(what + " relu y", er[0], ar[0], tol, tol, false);
            View rout = View.contiguous(REF.upload(be.downloadDouble(View.contiguous(ar[0], numel(shape))), dt), shape);
            Buffer[] erb = REF.batchNormReluBackward(g.ref(), x.ref(), rout, rmean, rinv, rga);
            Buffer[] arb = own(be.batchNormReluBackward(g.be(), x.be(), View.contiguous(ar[0], shape),
                View.contiguous(a[1], c), View.contiguous(a[2], c), bga));
            assertClose(what + " relu gx", erb[0], arb[0], btol, btol, false);
            assertClose(what + " relu gGamma", erb[1], arb[1], btol, btol * 10, false);
            int k = 2;
            int[] ps = {shape[0], c, shape[2] / k, shape[3] / k};
            if (ps[2] > 0 && ps[3] > 0) {
              Buffer[] ep = REF.batchNormReluPoolTrain(x.ref(), rga, rbt, 1e-5, k);
              Buffer[] ap = own(be.batchNormReluPoolTrain(x.be(), bga, bbt, 1e-5, k));
              assertClose(what + " relu pool y", ep[0], ap[0], tol, tol, false);
              Pair gp = view(be, ps, dt, Layout.CONTIGUOUS, uniform(-1, 1));
              // Each backward from its own forward: it recomputes the activation and finds each window's maximum in
              // it, so it must be given the statistics and output its own forward made.
              Buffer[] epb = REF.batchNormReluPoolBackward(gp.ref(), x.ref(), View.contiguous(ep[0], ps),
                  View.contiguous(ep[1], c), View.contiguous(ep[2], c), rga, rbt, 1e-5, k);
              Buffer[] apb = own(be.batchNormReluPoolBackward(gp.be(), x.be(), View.contiguous(ap[0], ps),
                  View.contiguous(ap[1], c), View.contiguous(ap[2], c), bga, bbt, 1e-5, k));
              assertClose(what + " relu pool gx", epb[0], apb[0], btol, btol, false);
              assertClose(what + " relu pool gBeta", epb[2], apb[2], btol, btol * 10, false);
            }
          }
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void fusedMaxPoolMatchesReference(DType dt) {
    Backend be = supporting(dt);
    // Widths n + 2 give pooled rows of 1..33 windows: full vectors, masked and scalar tails.
    for (int n : new int[] {1, 3, 6, 7, 13, 14, 20, 26, 30, 65}) {
      for (int k : new int[] {1, 2, 3}) {
        if (k > n) {
          continue;
        }
        int[] shape = {2, 3, n, n + 2};
        int[] ps = {2, 3, n / k, (n + 2) / k};
        for (Layout layout : Layout.values()) {
          for (boolean ties : new boolean[] {false, true}) {
            Pair x = view(be, shape, dt, layout, ties ? this::integers : this::special);
            String what = dt + " " + layout + " n=" + n + " k=" + k + " ties=" + ties;
            Buffer e = REF.maxPool2dTiled(x.ref(), k);
            Buffer a = be.maxPool2dTiled(x.be(), k);
            // The sign of a zero maximum is unspecified (max(+0, -0) may be either, as in reduce): the vector
            // kernels return -0 where the reference returns +0 for a window holding both.
            assertClose(what + " forward", e, a, 0, 0, false);
            Pair g = view(be, ps, dt, Layout.PERMUTED, uniform(-1, 1));
            View rout = View.contiguous(REF.upload(be.downloadDouble(View.contiguous(a, numel(ps))), dt), ps);
            // Same operations in the same order as the composition: identical values (NaN where the max is NaN).
            assertClose(what + " backward", REF.maxPool2dTiledBackward(x.ref(), rout, g.ref(), k),
                be.maxPool2dTiledBackward(x.be(), View.contiguous(a, ps), g.be(), k), 0, 0, false);
          }
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void fusedReluMatchesReferenceBitForBit(DType dt) {
    Backend be = supporting(dt);
    for (int[] shape : shapes()) {
      for (Layout lx : Layout.values()) {
        // Exact zeros must give +0, NaN stay NaN, as where(x <= 0, 0, x); the gradient passes where x > 0 or NaN.
        Pair x = view(be, shape, dt, lx, this::special);
        Pair g = view(be, shape, dt, Layout.PERMUTED, this::special);
        String what = dt + " " + lx + " " + str(shape);
        assertSameBits("relu " + what, REF.relu(x.ref()), be.relu(x.be()));
        assertSameBits("reluBackward " + what, REF.reluBackward(x.ref(), g.ref()), be.reluBackward(x.be(), g.be()));
      }
    }
    double[] special = {-0.0, 0.0, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, Double.NaN, -1e-30, 1e-30,
        -3, 3, 0.5, -0.5};
    View sx = View.contiguous(own(be.upload(special, dt)), special.length);
    View sg = View.contiguous(own(be.full(dt, special.length, -2.5)), special.length);
    double[] y = be.downloadDouble(View.contiguous(own(be.relu(sx)), special.length));
    double[] gx = be.downloadDouble(View.contiguous(own(be.reluBackward(sx, sg)), special.length));
    for (int i = 0; i < special.length; i++) {
      double v = dt == DType.FLOAT32 ? (float) special[i] : special[i];
      assertThat(Double.doubleToLongBits(y[i])).as("relu(" + special[i] + ")")
          .isEqualTo(Double.doubleToLongBits(v <= 0 ? 0.0 : v));
      assertThat(Double.doubleToLongBits(gx[i])).as("relu'(" + special[i] + ")")
          .isEqualTo(Double.doubleToLongBits(v <= 0 ? 0.0 : -2.5));
    }
  }
}
