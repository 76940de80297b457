package org.metagrad.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The variants of the float micro-kernels give the same bits as the kernels they stand in for: the narrow edge
 * kernels (4 rows; half width) of the 12-row wide and the 6-row pre-broadcast sets on the corner they cover, and
 * the kernels that read B's rows ({@code R}), A's rows ({@code AR}) or both ({@code ARR}) in place against the packed kernels on
 * panels packed from the same rows. Each element is the same chain of multiply-adds over the depth. Every
 * kernel runs here whatever the vector width of the machine (the width only changes which set the backend
 * picks).
 */
class EdgeTileTest {
  private static final int[] DEPTHS = {1, 7, 64, 256};
  private static final int[] ROWS = {1, 4, 5, 6, 12};
  // Read from VectorLoops only once the module is known to be readable (the suite also runs without it).
  private int vl;
  private int nrv;
  private int mrp;
  private int mrw;
  private int[] columns;

  @BeforeEach
  void assumeVectors() {
    assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "needs jdk.incubator.vector");
    vl = VectorLoops.VLF;
    nrv = 2 * vl;
    mrp = VectorLoops.MRF;
    mrw = VectorLoops.MRW;
    columns = new int[] {1, vl, vl + 1, nrv};
  }

  private static float[] random(SplittableRandom rng, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) rng.nextDouble(-1, 1);
    }
    return a;
  }

  private void assertCorner(String what, float[] got, float[] want, int mr, int mv, int nv) {
    for (int i = 0; i < Math.min(mv, mr); i++) {
      for (int j = 0; j < nv; j++) {
        assertThat(Float.floatToRawIntBits(got[i * nrv + j])).as("%s, %d x %d, element (%d, %d)", what, mv, nv, i, j)
            .isEqualTo(Float.floatToRawIntBits(want[i * nrv + j]));
      }
    }
  }

  @Test
  void narrowEdgeKernelsMatchTheFullOneBitForBit() {
    SplittableRandom rng = new SplittableRandom(3);
    for (int kc : DEPTHS) {
      float[] pb = random(rng, 5 + kc * nrv);
      float[] paW = random(rng, 3 + kc * mrw);
      float[] full = new float[mrw * nrv];
      VectorLoops.tileEdgeWF(paW, 3, pb, 5, kc, full);
      // The pre-broadcast panel: mrp values per depth, VLF lanes each (the lanes need not be equal here).
      float[] paP = random(rng, 3 + kc * mrp * vl);
      float[] fullP = new float[mrp * nrv];
      VectorLoops.tileEdgePF(paP, 3, pb, 5, kc, fullP);
      for (int mv : ROWS) {
        for (int nv : columns) {
          float[] t = new float[mrw * nrv];
          VectorLoops.tileEdgeWF(paW, 3, pb, 5, kc, t, mv, nv);
          assertCorner("wide kc " + kc, t, full, mrw, mv, nv);
          if (mv <= mrp) {
            float[] tp = new float[mrp * nrv];
            VectorLoops.tileEdgePF(paP, 3, pb, 5, kc, tp, mv, nv);
            assertCorner("pre-broadcast kc " + kc, tp, fullP, mrp, mv, nv);
          }
        }
      }
    }
  }

  /** Rows of width values at scattered offsets of src (with slack after each), and the panel packed from them. */
  private record Rows(float[] src, int[] ro, float[] panel) {
    static Rows of(SplittableRandom rng, int count, int width) {
      int[] ro = new int[count + 2];
      int at = 11;
      for (int q = 0; q < ro.length; q++) {
        ro[q] = at;
        at += width + rng.nextInt(1, 40);
      }
      float[] src = random(rng, at + width);
      float[] panel = new float[count * width];
      for (int q = 0; q < count; q++) {
        // Row q of the kernels' view starts at ro[2 + q] + 4: roo = 2, offset 4.
        System.arraycopy(src, ro[2 + q] + 4, panel, q * width, width);
      }
      return new Rows(src, ro, panel);
    }
  }

  @Test
  void inPlaceRowsOfBMatchThePackedPanelBitForBit() {
    SplittableRandom rng = new SplittableRandom(5);
    for (int kc : DEPTHS) {
      Rows b = Rows.of(rng, kc, nrv);
      float[] paW = random(rng, kc * mrw);
      float[] paP = random(rng, kc * mrp * vl);
      int ldc = nrv + 3;
      float[] c0 = random(rng, mrw * ldc);
      float[] want = c0.clone();
      float[] got = c0.clone();
      VectorLoops.tileWF(paW, 0, b.panel(), 0, kc, want, 0, ldc);
      VectorLoops.tileWRF(paW, 0, b.src(), b.ro(), 2, 4, kc, got, 0, ldc);
      assertThat(got).as("tileWRF kc " + kc).containsExactly(want);
      want = c0.clone();
      got = c0.clone();
      VectorLoops.tilePF(paP, 0, b.panel(), 0, kc, want, 0, ldc);
      VectorLoops.tilePRF(paP, 0, b.src(), b.ro(), 2, 4, kc, got, 0, ldc);
      assertThat(got).as("tilePRF kc " + kc).containsExactly(want);
      float[] fullW = new float[mrw * nrv];
      VectorLoops.tileEdgeWF(paW, 0, b.panel(), 0, kc, fullW);
      float[] fullP = new float[mrp * nrv];
      VectorLoops.tileEdgePF(paP, 0, b.panel(), 0, kc, fullP);
      for (int mv : ROWS) {
        for (int nv : columns) {
          float[] t = new float[mrw * nrv];
          VectorLoops.tileEdgeWRF(paW, 0, b.src(), b.ro(), 2, 4, kc, t, mv, nv);
          assertCorner("tileEdgeWRF kc " + kc, t, fullW, mrw, mv, nv);
          if (mv <= mrp) {
            float[] tp = new float[mrp * nrv];
            VectorLoops.tileEdgePRF(paP, 0, b.src(), b.ro(), 2, 4, kc, tp, mv, nv);
            assertCorner("tileEdgePRF kc " + kc, tp, fullP, mrp, mv, nv);
          }
        }
      }
    }
  }

  @Test
  void inPlaceRowsOfAMatchThePackedPanelBitForBit() {
    SplittableRandom rng = new SplittableRandom(7);
    for (int kc : DEPTHS) {
      float[] pb = random(rng, kc * nrv);
      int ldc = nrv + 5;
      for (int mr : new int[] {mrp, mrw}) {
        // A's mr rows of kc values in place; the packed panel holds them transposed (kc groups of mr).
        Rows a = Rows.of(rng, mr, kc);
        float[] pa = new float[kc * mr];
        for (int i = 0; i < mr; i++) {
          for (int q = 0; q < kc; q++) {
            pa[q * mr + i] = a.panel()[i * kc + q];
          }
        }
        float[] c0 = random(rng, mr * ldc);
        float[] want = c0.clone();
        float[] got = c0.clone();
        float[] tWant = new float[mr * nrv];
        float[] tGot = new float[mr * nrv];
        if (mr == mrw) {
          VectorLoops.tileWF(pa, 0, pb, 0, kc, want, 0, ldc);
          VectorLoops.tileWARF(a.src(), a.ro(), 2, 4, pb, 0, kc, got, 0, ldc);
          VectorLoops.tileEdgeWF(pa, 0, pb, 0, kc, tWant);
          VectorLoops.tileEdgeWARF(a.src(), a.ro(), 2, 4, pb, 0, kc, tGot);
        } else {
          VectorLoops.tileF(pa, 0, pb, 0, kc, want, 0, ldc);
          VectorLoops.tileARF(a.src(), a.ro(), 2, 4, pb, 0, kc, got, 0, ldc);
          VectorLoops.tileEdgeF(pa, 0, pb, 0, kc, tWant);
          VectorLoops.tileEdgeARF(a.src(), a.ro(), 2, 4, pb, 0, kc, tGot);
        }
        assertThat(got).as("A rows in place, %d rows, kc %d", mr, kc).containsExactly(want);
        assertThat(tGot).as("edge, A rows in place, %d rows, kc %d", mr, kc).containsExactly(tWant);
        if (mr == mrp) {
          // Both in place: B's rows too.
          Rows b = Rows.of(rng, kc, nrv);
          float[] wantBoth = c0.clone();
          float[] gotBoth = c0.clone();
          VectorLoops.tileF(pa, 0, b.panel(), 0, kc, wantBoth, 0, ldc);
          VectorLoops.tileARRF(a.src(), a.ro(), 2, 4, b.src(), b.ro(), 2, 4, kc, gotBoth, 0, ldc);
          assertThat(gotBoth).as("A and B rows in place, kc %d", kc).containsExactly(wantBoth);
          float[] full = new float[mr * nrv];
          VectorLoops.tileEdgeF(pa, 0, b.panel(), 0, kc, full);
          for (int mv : ROWS) {
            for (int nv : columns) {
              float[] t = new float[mr * nrv];
              VectorLoops.tileEdgeARRF(a.src(), a.ro(), 2, 4, b.src(), b.ro(), 2, 4, kc, t, mv, nv);
              assertCorner("tileEdgeARRF kc " + kc, t, full, mr, mv, nv);
            }
          }
        }
      }
    }
  }
}
