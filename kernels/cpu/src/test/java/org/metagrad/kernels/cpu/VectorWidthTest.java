package org.metagrad.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * The GEMM kernel set follows the vector width: 12-row broadcast kernels with 512-bit vectors, 6-row
 * pre-broadcast ones below. The build's {@code vector-256} execution caps the width at 256 bits
 * ({@code -XX:MaxVectorSize=32}) and says so in {@code metagrad.test.vectorBits}, so that both kernel
 * sets run the conformance suite on an AVX-512 machine; this test checks the cap took effect.
 */
class VectorWidthTest {
  @Test
  void kernelSetMatchesTheVectorWidth() {
    assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "needs jdk.incubator.vector");
    String expected = System.getProperty("metagrad.test.vectorBits");
    if (expected != null) {
      assertThat(VectorLoops.FS.vectorBitSize()).isEqualTo(Integer.parseInt(expected));
    }
    VectorKernels k = new VectorKernels();
    boolean wide = VectorLoops.VLF >= 16;
    assertThat(VectorKernels.WIDE).isEqualTo(wide);
    assertThat(k.mrF()).isEqualTo(wide ? VectorLoops.MRW : VectorLoops.MRF);
    assertThat(k.aLanesF()).isEqualTo(wide ? 1 : VectorLoops.VLF);
    assertThat(k.kcF()).isEqualTo(wide ? 256 : 128);
  }

  /**
   * One vector species per element type in the kernels: a second float species (a half-width one for
   * tails, say) makes the Vector API's shared methods see two vector classes, and on JDK 17 C2 then
   * boxes every vector of the micro-kernels (MAML with the AVX2 set 2.6 times slower, bench/RESULTS.md).
   */
  @Test
  void kernelsUseOneSpeciesPerElementType() throws IllegalAccessException {
    assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "needs jdk.incubator.vector");
    int checked = 0;
    for (Class<?> c : new Class<?>[] {VectorKernels.class, VectorLoops.class}) {
      for (Field f : c.getDeclaredFields()) {
        if (!Modifier.isStatic(f.getModifiers())) {
          continue;
        }
        f.setAccessible(true);
        Object v = f.get(null);
        VectorSpecies<?> s = v instanceof VectorSpecies<?> sp ? sp
            : v instanceof VectorShuffle<?> sh ? sh.vectorSpecies()
            : v instanceof VectorMask<?> m ? m.vectorSpecies() : null;
        if (s == null) {
          continue;
        }
        checked++;
        VectorSpecies<?> expected = s.elementType() == float.class ? VectorLoops.FS : VectorLoops.DS;
        assertThat(s).as(c.getSimpleName() + "." + f.getName()).isEqualTo(expected);
      }
    }
    assertThat(checked).as("species, shuffles and masks found").isGreaterThanOrEqualTo(6);
  }
}
