package org.metagrad.kernels.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ReferenceBackend;
import org.metagrad.spi.View;

/**
 * The row-major transpose trick without a GPU: each {@link GemmPlan} is executed by a plain-Java column-major
 * GEMM written from cuBLAS's definition of {@code gemmStridedBatched} ({@code C[p] = op(A[p]) op(B[p])}, element
 * {@code (i, j)} of a column-major matrix at {@code i + j * ld}), which also checks cuBLAS's argument rules, and the
 * result must match {@link ReferenceBackend#matmul} over many layouts: contiguous, transposed, padded rows, an
 * offset, a broadcast batch, size-1 dimensions with arbitrary strides, and the layouts that need a copy.
 */
class GemmPlanTest {
  private static final ReferenceBackend REF = ReferenceBackend.INSTANCE;

  /** How an operand [B, R, C] is laid out in its storage. */
  enum Layout {
    CONTIGUOUS, TRANSPOSED, PADDED, OFFSET, BROADCAST_BATCH, STEPPED, BROADCAST_ROWS
  }

  /** An operand: storage and the strided view of it. */
  record Operand(double[] data, int offset, int[] shape, int[] strides) {
    View view() {
      Buffer b = REF.upload(data, DType.FLOAT64);
      return new View(b, offset, shape, strides);
    }

    int[] layout() {
      return new int[] {offset, strides[0], strides[1], strides[2]};
    }

    /** The same values in a contiguous array, as the backend's copy kernel makes them. */
    Operand contiguous() {
      int bs = shape[0];
      int r = shape[1];
      int c = shape[2];
      double[] out = new double[bs * r * c];
      for (int p = 0; p < bs; p++) {
        for (int i = 0; i < r; i++) {
          for (int j = 0; j < c; j++) {
            out[(p * r + i) * c + j] = data[offset + p * strides[0] + i * strides[1] + j * strides[2]];
          }
        }
      }
      return new Operand(out, 0, shape, new int[] {r * c, c, 1});
    }
  }

  static Operand make(SplittableRandom rnd, int bs, int r, int c, Layout layout) {
    int[] strides;
    int offset = 0;
    int size;
    switch (layout) {
      case CONTIGUOUS -> {
        strides = new int[] {r * c, c, 1};
        size = bs * r * c;
      }
      case TRANSPOSED -> {
        strides = new int[] {r * c, 1, r}; // column-major within each batch
        size = bs * r * c;
      }
      case PADDED -> {
        strides = new int[] {r * (c + 3), c + 3, 1}; // rows of a wider matrix
        size = bs * r * (c + 3);
      }
      case OFFSET -> {
        offset = 7;
        strides = new int[] {r * c, c, 1};
        size = 7 + bs * r * c;
      }
      case BROADCAST_BATCH -> {
        strides = new int[] {0, c, 1};
        size = r * c;
      }
      case STEPPED -> {
        strides = new int[] {2 * r * c, 2 * c, 2};
        size = 2 * bs * r * c;
      }
      case BROADCAST_ROWS -> {
        strides = new int[] {c, 0, 1};
        size = bs * c;
      }
      default -> throw new AssertionError(layout);
    }
    double[] data = new double[Math.max(size, 1)];
    for (int i = 0; i < data.length; i++) {
      data[i] = rnd.nextDouble(-1, 1);
    }
    return new Operand(data, offset, new int[] {bs, r, c}, strides);
  }

  /**
   * cuBLAS's gemmStridedBatched, column-major, alpha 1 and beta 0, from its documented definition; asserts the
   * argument rules cuBLAS enforces (leading dimensions at least the stored rows, and at least 1).
   */
  static double[] columnMajorGemm(GemmPlan p, double[] first, double[] second) {
    int rowsA = p.transA() ? p.k() : p.m();
    int rowsB = p.transB() ? p.n() : p.k();
    assertThat(p.lda()).as("lda").isGreaterThanOrEqualTo(Math.max(1, rowsA));
    assertThat(p.ldb()).as("ldb").isGreaterThanOrEqualTo(Math.max(1, rowsB));
    assertThat(p.ldc()).as("ldc").isGreaterThanOrEqualTo(Math.max(1, p.m()));
    double[] c = new double[(int) (p.strideC() * (p.batch() - 1) + (long) p.ldc() * (p.n() - 1) + p.m())];
    for (int b = 0; b < p.batch(); b++) {
      long a0 = p.offsetA() + b * p.strideA();
      long b0 = p.offsetB() + b * p.strideB();
      for (int i = 0; i < p.m(); i++) {
        for (int j = 0; j < p.n(); j++) {
          double s = 0;
          for (int l = 0; l < p.k(); l++) {
            double x = p.transA() ? first[(int) (a0 + l + (long) i * p.lda())] : first[(int) (a0 + i + (long) l * p.lda())];
            double y = p.transB() ? second[(int) (b0 + j + (long) l * p.ldb())] : second[(int) (b0 + l + (long) j * p.ldb())];
            s += x * y;
          }
          c[(int) (b * p.strideC() + i + (long) j * p.ldc())] = s;
        }
      }
    }
    return c;
  }

  @Test
  void transposeTrickMatchesTheReferenceOverLayoutsAndOddSizes() {
    SplittableRandom rnd = new SplittableRandom(7);
    int[][] sizes = {{1, 1, 1, 1}, {2, 3, 5, 7}, {1, 13, 1, 4}, {3, 1, 6, 1}, {2, 4, 1, 9}, {1, 17, 33, 8}};
    int checked = 0;
    int copied = 0;
    for (int[] sz : sizes) {
      int bs = sz[0];
      int m = sz[1];
      int k = sz[2];
      int n = sz[3];
      for (Layout la : Layout.values()) {
        for (Layout lb : Layout.values()) {
          Operand a = make(rnd, bs, m, k, la);
          Operand b = make(rnd, bs, k, n, lb);
          // What the backend does: copy an operand cuBLAS cannot describe, then plan.
          Operand ua = GemmPlan.needsCopy(m, k, a.strides()[1], a.strides()[2]) ? a.contiguous() : a;
          Operand ub = GemmPlan.needsCopy(k, n, b.strides()[1], b.strides()[2]) ? b.contiguous() : b;
          copied += (ua != a ? 1 : 0) + (ub != b ? 1 : 0);
          GemmPlan plan = GemmPlan.of(bs, m, n, k, ua.layout(), ub.layout());
          assertThat(plan).as("plan for %s x %s", la, lb).isNotNull();
          double[] c = columnMajorGemm(plan, ub.data(), ua.data());
          Buffer ref = REF.matmul(a.view(), b.view());
          double[] want = REF.downloadDouble(View.contiguous(ref, bs, m, n));
          for (int i = 0; i < want.length; i++) {
            assertThat(c[i]).as("C[%d] of [%d,%d,%d]x[%d,%d,%d] %s x %s", i, bs, m, k, bs, k, n, la, lb)
                .isCloseTo(want[i], org.assertj.core.data.Offset.offset(1e-12 * (1 + Math.abs(want[i]))));
          }
          checked++;
        }
      }
    }
    assertThat(checked).isEqualTo(sizes.length * Layout.values().length * Layout.values().length);
    assertThat(copied).as("stepped and broadcast-row operands went through a copy").isGreaterThan(0);
  }

  @Test
  void operandFlagsAndLeadingDimensions() {
    // Row-major rows (unit column stride): no transpose, ld = row stride.
    assertThat(GemmPlan.Operand.of(4, 5, 5, 1)).isEqualTo(new GemmPlan.Operand(false, 5));
    assertThat(GemmPlan.Operand.of(4, 5, 9, 1)).isEqualTo(new GemmPlan.Operand(false, 9));
    // Column-major (unit row stride): transpose, ld = column stride.
    assertThat(GemmPlan.Operand.of(4, 5, 1, 4)).isEqualTo(new GemmPlan.Operand(true, 4));
    // A single row or column: its free stride is chosen to fit.
    assertThat(GemmPlan.Operand.of(1, 5, 0, 1)).isEqualTo(new GemmPlan.Operand(false, 5));
    assertThat(GemmPlan.Operand.of(4, 1, 1, 0)).isEqualTo(new GemmPlan.Operand(false, 1));
    // No unit stride, or a leading dimension below the extent (overlapping rows): needs a copy.
    assertThat(GemmPlan.Operand.of(4, 5, 10, 2)).isNull();
    assertThat(GemmPlan.Operand.of(4, 5, 0, 1)).isNull();
    assertThat(GemmPlan.Operand.of(4, 5, 3, 1)).isNull();
    assertThat(GemmPlan.needsCopy(4, 5, 10, 2)).isTrue();
  }

  @Test
  void planSwapsOperandsAndSizes() {
    // C [2, 3, 4] = A [2, 3, 5] B [2, 5, 4], all contiguous: cuBLAS computes C^T (4 x 3) = B^T (4 x 5) A^T (5 x 3).
    GemmPlan p = GemmPlan.of(2, 3, 4, 5, new int[] {0, 15, 5, 1}, new int[] {0, 20, 4, 1});
    assertThat(p).isEqualTo(new GemmPlan(false, false, 4, 3, 5, 4, 5, 4, 0, 0, 20, 15, 12, 2));
    List<Boolean> flags = new ArrayList<>();
    flags.add(p.transA());
    flags.add(p.transB());
    assertThat(flags).containsExactly(false, false);
  }
}
