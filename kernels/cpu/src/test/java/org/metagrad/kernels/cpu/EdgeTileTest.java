package org.metagrad.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The narrow edge kernels of the 12-row float GEMM (4 rows; half width) give the same bits as the full edge
 * kernel on the corner they cover: each element is the same chain of multiply-adds over the depth.
 */
class EdgeTileTest {
  @Test
  void narrowEdgeKernelsMatchTheFullOneBitForBit() {
    assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "needs jdk.incubator.vector");
    int nr = 2 * VectorLoops.VLF;
    SplittableRandom rng = new SplittableRandom(3);
    for (int kc : new int[] {1, 7, 64, 256}) {
      float[] pa = new float[3 + kc * 12];
      float[] pb = new float[5 + kc * nr];
      for (int i = 0; i < pa.length; i++) {
        pa[i] = (float) rng.nextDouble(-1, 1);
      }
      for (int i = 0; i < pb.length; i++) {
        pb[i] = (float) rng.nextDouble(-1, 1);
      }
      float[] full = new float[12 * nr];
      VectorLoops.tileEdgeWF(pa, 3, pb, 5, kc, full);
      for (int mv : new int[] {1, 4, 5, 12}) {
        for (int nv : new int[] {1, VectorLoops.VLF, VectorLoops.VLF + 1, nr}) {
          float[] t = new float[12 * nr];
          VectorLoops.tileEdgeWF(pa, 3, pb, 5, kc, t, mv, nv);
          for (int i = 0; i < mv; i++) {
            for (int j = 0; j < nv; j++) {
              assertThat(Float.floatToRawIntBits(t[i * nr + j])).as("kc %d, %d x %d, element (%d, %d)", kc, mv, nv, i, j)
                  .isEqualTo(Float.floatToRawIntBits(full[i * nr + j]));
            }
          }
        }
      }
    }
  }
}
