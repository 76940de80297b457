package org.metagrad.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The micro-kernels with A's rows in place ({@code tileARowsF}, {@code tileEdgeARowsF}) give the same bits
 * whether the packed B panel is read by its table of row offsets or at an index linear in q, and match a plain
 * float loop that accumulates in the same order.
 */
class ARowsKernelTest {
  @BeforeAll
  static void needsModule() {
    assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "needs jdk.incubator.vector");
  }

  @Test
  void tableAndLinearPanelIndexGiveTheSameBits() {
    SplittableRandom rng = new SplittableRandom(23);
    VectorKernels table = new VectorKernels(false, false, true);
    VectorKernels linear = new VectorKernels(false, false, false);
    int mr = table.mrF();
    int nr = table.nrF();
    int kcMax = table.kcF();
    for (int kc : new int[] {1, 2, 7, 33, kcMax - 1, kcMax}) {
      float[] src = new float[mr * 300 + kcMax + 5];
      for (int i = 0; i < src.length; i++) {
        src[i] = (float) rng.nextDouble(-1, 1);
      }
      int[] ro = new int[mr + 2];
      for (int i = 0; i < ro.length; i++) {
        ro[i] = rng.nextInt(mr * 300);
      }
      int pbo = nr * kc;
      float[] pb = new float[pbo + nr * kc];
      for (int i = 0; i < pb.length; i++) {
        pb[i] = (float) rng.nextDouble(-1, 1);
      }
      int ao = 3;
      int ldc = nr + 5;
      float[] c0 = new float[mr * ldc + 7];
      for (int i = 0; i < c0.length; i++) {
        c0[i] = (float) rng.nextDouble(-1, 1);
      }
      float[] ct = c0.clone();
      float[] cl = c0.clone();
      float[] pa = new float[mr * kcMax];
      table.tileARowsF(src, ro, 1, ao, pb, pbo, kc, pa, ct, 2, ldc);
      linear.tileARowsF(src, ro, 1, ao, pb, pbo, kc, pa, cl, 2, ldc);
      assertThat(ct).as("kc=%d", kc).isEqualTo(cl);
      float[] tt = new float[mr * nr];
      float[] tl = new float[mr * nr];
      table.tileEdgeARowsF(src, ro, 1, ao, pb, pbo, kc, pa, tt);
      linear.tileEdgeARowsF(src, ro, 1, ao, pb, pbo, kc, pa, tl);
      assertThat(tt).as("edge kc=%d", kc).isEqualTo(tl);
      for (int i = 0; i < mr; i++) {
        for (int j = 0; j < nr; j++) {
          float acc = 0f;
          for (int q = 0; q < kc; q++) {
            acc = Math.fma(src[ro[1 + i] + ao + q], pb[pbo + q * nr + j], acc);
          }
          assertThat(tt[i * nr + j]).as("kc=%d row %d col %d", kc, i, j).isEqualTo(acc);
          assertThat(ct[2 + i * ldc + j]).isEqualTo(c0[2 + i * ldc + j] + acc);
        }
      }
      for (int e = 0; e < c0.length; e++) {
        int r = (e - 2) / ldc;
        int col = (e - 2) % ldc;
        if (e < 2 || r >= mr || col >= nr) {
          assertThat(ct[e]).as("outside the tile, index %d", e).isEqualTo(c0[e]);
        }
      }
    }
  }
}
