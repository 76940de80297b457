package org.metagrad.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.metagrad.spi.ConvGeometry;

/**
 * The implicit-im2col panel rows of {@link ConvF.Taps#rowGather} (a masked contiguous load where the output
 * pixels read consecutive input elements, a masked gather elsewhere) against the unfolded matrix's definition,
 * for the scalar and, when the incubator module is readable, the vector kernels: every tap row, panel starts and
 * lengths of 1 to past a vector, the first and last image of an x array sized exactly (so the padding taps of
 * the first and last rows point outside it).
 */
class ConvPanelTest {
  private static List<ScalarKernels> kernelSets() {
    List<ScalarKernels> ks = new ArrayList<>();
    ks.add(new ScalarKernels());
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
      ks.add(new VectorKernels());
    }
    return ks;
  }

  @Test
  void panelRowsMatchTheUnfoldedMatrix() {
    // {geometry, whether the pixels are contiguous in x}
    Object[][] cases = {
        {new ConvGeometry(2, 3, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1), true}, // conv4's "same" 3x3
        {new ConvGeometry(2, 2, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1), true},
        {new ConvGeometry(2, 2, 9, 11, 3, 3, 1, 1, 2, 2, 2, 2), true}, // dilated, still "same"
        {new ConvGeometry(2, 4, 5, 6, 1, 1, 1, 1, 0, 0, 1, 1), true}, // 1x1
        {new ConvGeometry(2, 2, 9, 9, 3, 3, 1, 1, 0, 0, 1, 1), false}, // no padding: rows narrower than x's
        {new ConvGeometry(2, 2, 13, 13, 3, 3, 2, 2, 1, 1, 1, 1), false}, // stride 2
        {new ConvGeometry(2, 3, 14, 13, 3, 2, 2, 1, 0, 1, 1, 1), false}};
    SplittableRandom rng = new SplittableRandom(5);
    int checked = 0;
    for (Object[] c : cases) {
      ConvGeometry g = (ConvGeometry) c[0];
      int sC = g.h() * g.w();
      int sN = g.c() * sC;
      float[] x = new float[g.n() * sN];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) rng.nextDouble(-1, 1);
      }
      ConvF.Taps taps = new ConvF.Taps(g, sC, g.w(), 1);
      assertThat(taps.unitPixels).as("contiguous pixels " + g).isEqualTo(c[1]);
      int p = g.cols();
      for (ScalarKernels k : kernelSets()) {
        for (int img : new int[] {0, g.n() - 1}) {
          int base = img * sN;
          for (int r = 0; r < g.rows(); r++) {
            for (int len : new int[] {1, 3, 16, 17, 33, p}) {
              for (int p0 = 0; p0 + len <= p; p0 += Math.max(1, len / 2 + 1)) {
                float[] got = new float[len + 2];
                got[0] = 7f;
                got[len + 1] = 7f;
                taps.rowGather(k, x, base, r, p0, len, got, 1);
                for (int j = 0; j < len; j++) {
                  assertThat(got[1 + j]).as("%s %s img %d row %d pixel %d", k.getClass().getSimpleName(), g, img, r,
                      p0 + j).isEqualTo(unfolded(g, x, base, r, p0 + j));
                }
                assertThat(got[0]).isEqualTo(7f);
                assertThat(got[len + 1]).as("no write past the row").isEqualTo(7f);
                checked++;
              }
            }
          }
        }
      }
    }
    assertThat(checked).isGreaterThan(1000);
  }

  /**
   * {@link ConvF#foldPlane} (the input gradient's col2im, a row at a time per tap) against col2im written out
   * element by element, bit for bit: each plane element sums its taps in (ki, kj) order, the order that makes the
   * input gradient independent of the thread count. Plane values start nonzero (the fold adds into them); the
   * columns hold -0, so sums that differ only in the sign of zero are caught.
   */
  @Test
  void foldMatchesTapByTapCol2imBitForBit() {
    ConvGeometry[] gs = {
        new ConvGeometry(1, 2, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1),
        new ConvGeometry(1, 2, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1),
        new ConvGeometry(1, 2, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1),
        new ConvGeometry(1, 2, 21, 19, 3, 3, 1, 1, 1, 1, 1, 1), // rows wider than a 512-bit vector
        new ConvGeometry(1, 1, 9, 11, 3, 3, 1, 1, 2, 2, 2, 2),
        new ConvGeometry(1, 1, 9, 9, 3, 3, 1, 1, 0, 0, 1, 1),
        new ConvGeometry(1, 1, 8, 6, 2, 3, 1, 1, 3, 0, 1, 1),
        new ConvGeometry(1, 1, 13, 13, 3, 3, 2, 2, 1, 1, 1, 1)};
    SplittableRandom rng = new SplittableRandom(9);
    for (ConvGeometry g : gs) {
      int taps = g.kh() * g.kw();
      int p = g.cols();
      float[] cols = new float[g.rows() * p];
      for (int i = 0; i < cols.length; i++) {
        cols[i] = i % 7 == 0 ? -0f : (float) rng.nextDouble(-1, 1);
      }
      int hw = g.h() * g.w();
      float[] start = new float[g.c() * hw];
      for (int i = 0; i < start.length; i++) {
        start[i] = (float) rng.nextDouble(-1, 1);
      }
      for (ScalarKernels k : kernelSets()) {
        for (int ci = 0; ci < g.c(); ci++) {
          float[] want = start.clone();
          for (int ki = 0; ki < g.kh(); ki++) {
            for (int kj = 0; kj < g.kw(); kj++) {
              for (int q = 0; q < p; q++) {
                int ii = (q / g.ow()) * g.sh() - g.ph() + ki * g.dh();
                int jj = (q % g.ow()) * g.sw() - g.pw() + kj * g.dw();
                if (ii >= 0 && ii < g.h() && jj >= 0 && jj < g.w()) {
                  want[ci * hw + ii * g.w() + jj] += cols[(ci * taps + ki * g.kw() + kj) * p + q];
                }
              }
            }
          }
          float[] got = start.clone();
          ConvF.foldPlane(k, cols, ci * taps * p, p, 1, g, ci, got, ci * hw);
          for (int i = 0; i < got.length; i++) {
            assertThat(Float.floatToRawIntBits(got[i])).as("%s %s channel %d element %d: %s vs %s",
                k.getClass().getSimpleName(), g, ci, i, got[i], want[i]).isEqualTo(Float.floatToRawIntBits(want[i]));
          }
        }
      }
    }
  }

  /**
   * The shifted planes of {@link ConvF.Planes} (which the forward and weight-gradient micro-kernels read in
   * place) against the unfolded matrix's definition: every row at every pixel, for geometries with row stride 1
   * (padding, none, dilation, column stride 2, a 1x1 and a 2x3 kernel), the first and last image, x given with
   * a channel stride larger than a plane and a column stride of 2; a channel range fills only its channels.
   */
  @Test
  void planesHoldTheUnfoldedRows() {
    ConvGeometry[] gs = {
        new ConvGeometry(2, 3, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1),
        new ConvGeometry(2, 2, 9, 9, 3, 3, 1, 1, 0, 0, 1, 1),
        new ConvGeometry(2, 2, 9, 11, 3, 3, 1, 1, 2, 2, 2, 2),
        new ConvGeometry(2, 2, 11, 12, 3, 3, 1, 2, 1, 0, 1, 1),
        new ConvGeometry(2, 4, 5, 6, 1, 1, 1, 1, 0, 0, 1, 1),
        new ConvGeometry(2, 3, 8, 6, 2, 3, 1, 1, 3, 0, 1, 1)};
    SplittableRandom rng = new SplittableRandom(11);
    int checked = 0;
    for (ConvGeometry g : gs) {
      assertThat(ConvF.Planes.apply(g)).as("planes apply to " + g).isTrue();
      ConvF.Planes planes = new ConvF.Planes(g);
      int taps = g.kh() * g.kw();
      // x [n, c, h, w] with column stride 2, row stride 2w + 1, channel stride h * (2w + 1) + 3.
      int sW = 2;
      int sH = 2 * g.w() + 1;
      int sC = g.h() * sH + 3;
      int sN = g.c() * sC + 5;
      int[] xs = {sN, sC, sH, sW};
      float[] x = new float[7 + g.n() * sN];
      float[] dense = new float[g.n() * g.c() * g.h() * g.w()];
      for (int n = 0, d = 0; n < g.n(); n++) {
        for (int c = 0; c < g.c(); c++) {
          for (int i = 0; i < g.h(); i++) {
            for (int j = 0; j < g.w(); j++, d++) {
              dense[d] = (float) rng.nextDouble(-1, 1);
              x[7 + n * sN + c * sC + i * sH + j * sW] = dense[d];
            }
          }
        }
      }
      for (int img : new int[] {0, g.n() - 1}) {
        float[] buf = new float[planes.floats];
        java.util.Arrays.fill(buf, Float.NaN);
        planes.fill(x, 7, xs, img, 0, g.c(), buf);
        int base = img * g.c() * g.h() * g.w();
        for (int r = 0; r < g.rows(); r++) {
          for (int q = 0; q < g.cols(); q++) {
            assertThat(buf[planes.rowOff[r] + q]).as("%s img %d row %d pixel %d", g, img, r, q)
                .isEqualTo(unfolded(g, dense, base, r, q));
            checked++;
          }
        }
        if (g.c() > 1) {
          float[] part = new float[planes.floats];
          java.util.Arrays.fill(part, Float.NaN);
          planes.fill(x, 7, xs, img, 1, 2, part);
          for (int r = 0; r < g.rows(); r++) {
            float v = part[planes.rowOff[r]];
            if (r / taps == 1) {
              assertThat(v).isEqualTo(unfolded(g, dense, base, r, 0));
            } else {
              assertThat(v).as("channel %d left alone", r / taps).isNaN();
            }
          }
        }
      }
    }
    assertThat(checked).isGreaterThan(5000);
    assertThat(ConvF.Planes.apply(new ConvGeometry(2, 3, 13, 13, 3, 3, 2, 2, 1, 1, 1, 1))).as("row stride 2").isFalse();
    assertThat(ConvF.Planes.apply(new ConvGeometry(1, 256, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1))).as("past the limit")
        .isFalse();
  }

  /**
   * The shifted-planes path of {@link ConvF} run with the scalar kernels' in-place tiles (which copy the rows
   * per tile; the scalar set itself keeps the packed path) against the packed path, on two threads: forward,
   * weight gradient and input gradient (the latter as a forward convolution of gy where stride 1 allows it).
   */
  @Test
  void planesPathMatchesThePackedPathOnTheScalarKernels() {
    ScalarKernels packed = new ScalarKernels();
    ScalarKernels inPlace = new ScalarKernels() {
      @Override
      boolean inPlaceRowsF() {
        return true;
      }
    };
    SplittableRandom rng = new SplittableRandom(13);
    // {out channels, geometry}
    Object[][] cases = {
        {9, new ConvGeometry(3, 6, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1)},
        {12, new ConvGeometry(2, 6, 14, 12, 3, 3, 1, 2, 2, 0, 2, 1)},
        {16, new ConvGeometry(2, 8, 9, 9, 2, 3, 1, 1, 1, 1, 1, 1)}};
    for (Object[] c : cases) {
      int o = (int) c[0];
      ConvGeometry g = (ConvGeometry) c[1];
      int[] xs = {g.c() * g.h() * g.w(), g.h() * g.w(), g.w(), 1};
      int[] gs = {o * g.cols(), g.cols(), 1};
      float[] x = new float[g.n() * xs[0]];
      float[] w = new float[o * g.rows()];
      float[] gy = new float[g.n() * gs[0]];
      for (float[] a : new float[][] {x, w, gy}) {
        for (int i = 0; i < a.length; i++) {
          a[i] = (float) rng.nextDouble(-1, 1);
        }
      }
      assertThat(ConvF.forwardApplies(g, o)).as("fast path applies to " + g).isTrue();
      assertClose("forward " + g, ConvF.forward(packed, 2, x, 0, xs, w, 0, g.rows(), 1, null, 0, 0, g, o),
          ConvF.forward(inPlace, 2, x, 0, xs, w, 0, g.rows(), 1, null, 0, 0, g, o));
      assertClose("weight gradient " + g, ConvF.backwardWeight(packed, 2, gy, 0, gs, x, 0, xs, g, o),
          ConvF.backwardWeight(inPlace, 2, gy, 0, gs, x, 0, xs, g, o));
      assertClose("input gradient " + g, ConvF.backwardInput(packed, 2, gy, 0, gs, w, 0, g.rows(), 1, g, o),
          ConvF.backwardInput(inPlace, 2, gy, 0, gs, w, 0, g.rows(), 1, g, o));
    }
    assertThat(ConvF.transposed(inPlace, (ConvGeometry) cases[0][1], 9)).as("input gradient as a forward").isNotNull();
    assertThat(ConvF.transposed(packed, (ConvGeometry) cases[0][1], 9)).isNull();
  }

  private static void assertClose(String what, float[] want, float[] got) {
    assertThat(got).as(what + ": length").hasSize(want.length);
    for (int i = 0; i < want.length; i++) {
      assertThat((double) got[i]).as("%s element %d", what, i).isCloseTo(want[i], org.assertj.core.data.Offset.offset(1e-4));
    }
  }

  /** The tap tables are shared between calls whatever the batch size, per geometry and input layout. */
  @Test
  void tapTablesAreSharedPerGeometryAndLayout() {
    ConvGeometry a = new ConvGeometry(3, 4, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1);
    ConvGeometry b = new ConvGeometry(7, 4, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1);
    ConvF.Taps t = ConvF.taps(a, 81, 9, 1);
    assertThat(ConvF.taps(b, 81, 9, 1)).isSameAs(t);
    assertThat(ConvF.taps(a, 82, 9, 1)).as("another channel stride").isNotSameAs(t);
    assertThat(ConvF.taps(new ConvGeometry(3, 4, 9, 9, 3, 3, 1, 1, 0, 0, 1, 1), 81, 9, 1)).isNotSameAs(t);
    // Tables past the cache's limit (c*kh*kw * oh*ow entries) are built per call.
    ConvGeometry big = new ConvGeometry(1, 64, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1);
    assertThat(ConvF.taps(big, 4096, 64, 1)).isNotSameAs(ConvF.taps(big, 4096, 64, 1));
  }

  /** Element (tap row r, pixel q) of unfold(x) for one image at {@code base}, from the geometry alone. */
  private static float unfolded(ConvGeometry g, float[] x, int base, int r, int q) {
    int ci = r / (g.kh() * g.kw());
    int ki = (r / g.kw()) % g.kh();
    int kj = r % g.kw();
    int ii = (q / g.ow()) * g.sh() - g.ph() + ki * g.dh();
    int jj = (q % g.ow()) * g.sw() - g.pw() + kj * g.dw();
    if (ii < 0 || ii >= g.h() || jj < 0 || jj >= g.w()) {
      return 0f;
    }
    return x[base + (ci * g.h() + ii) * g.w() + jj];
  }
}
