package org.metagrad.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The vector 2x2 pooling rows (forward and backward) against the scalar rows, with masked stores and without
 * (full vectors ending inside the row, an overlapping last block, single lanes): the same values for every row
 * width 1..40, rows at the start and at the very end of their arrays, adjacent rows and rows with a gap, ties and
 * NaN; and nothing written outside the row. Both modes run on any JDK and vector width (masked stores apply to
 * the 512-bit set only; JDK 17 runs them as Java loops, slow but correct).
 */
class PoolRowKernelTest {
  private static final float SENTINEL = 12345f;

  private final ScalarKernels scalar = new ScalarKernels();

  @BeforeEach
  void assumeVectors() {
    assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "needs jdk.incubator.vector");
  }

  @Test
  void theModeFollowsTheVectorWidthAndTheJdk() {
    assertThat(new VectorKernels(true, true, true).maskedStores()).isEqualTo(VectorKernels.WIDE);
    assertThat(new VectorKernels(false, true, true).maskedStores()).isFalse();
    assertThat(new VectorKernels().maskedStores()).isEqualTo(VectorKernels.WIDE && Runtime.version().feature() >= 18);
    assertThat(new VectorKernels(true, true, true).rowsAGemmF()).isEqualTo(!VectorKernels.WIDE);
    assertThat(new VectorKernels(true, false, true).rowsAGemmF()).isFalse();
    assertThat(new VectorKernels().rowsAGemmF()).isEqualTo(!VectorKernels.WIDE && Runtime.version().feature() >= 25);
    assertThat(new VectorKernels(true, true, true).panelByTable()).isEqualTo(!VectorKernels.WIDE);
    assertThat(new VectorKernels(true, true, false).panelByTable()).isFalse();
    assertThat(new VectorKernels().panelByTable()).isEqualTo(!VectorKernels.WIDE && Runtime.version().feature() < 25);
  }

  @Test
  void rowsMatchTheScalarRowsWithAndWithoutMaskedStores() {
    SplittableRandom rng = new SplittableRandom(17);
    int checked = 0;
    for (boolean masked : new boolean[] {true, false}) {
      VectorKernels vk = new VectorKernels(masked, false, false);
      for (int ow = 1; ow <= 40; ow++) {
        for (int gap : new int[] {0, 3}) {
          for (boolean atEnd : new boolean[] {false, true}) {
            String what = "masked=" + masked + " ow=" + ow + " gap=" + gap + " atEnd=" + atEnd;
            int w = 2 * ow;
            int lead = atEnd ? 5 : 0;
            int r0 = lead;
            int r1 = r0 + w + gap;
            // At the end: the second row is the array's last elements, so no load may run past it.
            float[] x = new float[r1 + w + (atEnd ? 0 : 2 * VectorLoops.VLF)];
            for (int i = 0; i < x.length; i++) {
              double u = rng.nextDouble();
              x[i] = u < 0.03 ? Float.NaN : (float) rng.nextInt(-3, 4);
            }
            int oo = 2;
            float[] expected = filled(oo + ow + (atEnd ? 0 : 3));
            float[] actual = filled(expected.length);
            scalar.maxPool2RowF(x, r0, r1, expected, oo, ow);
            vk.maxPool2RowF(x, r0, r1, actual, oo, ow);
            for (int j = 0; j < actual.length; j++) {
              boolean same = expected[j] == actual[j] || (expected[j] != expected[j] && actual[j] != actual[j]);
              assertThat(same).as(what + " forward at " + j + ": " + expected[j] + " vs " + actual[j]).isTrue();
            }

            float[] g = new float[oo + ow + (atEnd ? 0 : VectorLoops.VLF)];
            for (int j = 0; j < g.length; j++) {
              g[j] = (float) rng.nextDouble(-1, 1);
            }
            int q0 = 1;
            int q1 = q0 + w + gap;
            float[] re = filled(q1 + w + (atEnd ? 0 : 4));
            float[] ra = filled(re.length);
            scalar.maxPool2BackRowF(x, r0, r1, expected, oo, g, oo, re, q0, q1, ow);
            vk.maxPool2BackRowF(x, r0, r1, expected, oo, g, oo, ra, q0, q1, ow);
            for (int i = 0; i < re.length; i++) {
              assertThat(Float.floatToIntBits(ra[i])).as(what + " backward at " + i + ": " + re[i] + " vs " + ra[i])
                  .isEqualTo(Float.floatToIntBits(re[i]));
            }
            checked++;
          }
        }
      }
    }
    assertThat(checked).isEqualTo(2 * 40 * 2 * 2);
  }

  private static float[] filled(int n) {
    float[] a = new float[n];
    Arrays.fill(a, SENTINEL);
    return a;
  }
}
