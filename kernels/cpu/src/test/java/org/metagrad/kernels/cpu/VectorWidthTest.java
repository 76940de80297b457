package org.metagrad.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
    assertThat(VectorKernels.VLH).isEqualTo(Math.max(4, VectorLoops.VLF / 2));
  }
}
