package org.metagrad.kernels.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.Rng;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ReferenceBackend;
import org.metagrad.spi.View;

/**
 * Every GEMM kernel of {@code gemm.c}, forced on device 0 whatever its type (the shared conformance suite runs only
 * the kernel the device type picks: the CPU one on PoCL), against {@link ReferenceBackend}: odd shapes around the
 * tile and block edges (1, 5, 6, 7, 31, 32, 33, 63, 64, 65, 129), all four transpose pairs, batches with a broadcast
 * operand (batch stride 0), general strides with offsets, and both dtypes. Tolerances are the conformance suite's:
 * relative 1e-5 (float32) and 1e-12 (float64), plus an absolute term growing with sqrt(k + 1) for float32 sums.
 */
class OpenClGemmKernelsTest {
  private static final ReferenceBackend REF = ReferenceBackend.INSTANCE;

  @ParameterizedTest
  @EnumSource(OpenClBackend.GemmKernel.class)
  void everyKernelMatchesTheReference(OpenClBackend.GemmKernel kernel) {
    OpenClTestSupport.backend();   // skips (or fails in CI) without OpenCL
    OpenClPlatforms.Entry e = OpenClPlatforms.devices().get(0);
    OpenClBackend cl = new OpenClBackend(Device.openCl(0), e.platform(), e.device(), e.deviceName(), kernel);
    try {
      assertThat(cl.gemmKernel()).isEqualTo(kernel);
      Rng rng = new Rng(25);
      int[][] dims = {{1, 1, 1}, {5, 7, 33}, {7, 1, 65}, {6, 32, 32}, {13, 65, 7}, {31, 129, 63}, {64, 64, 64},
          {65, 33, 129}, {129, 17, 31}, {1, 300, 97}, {97, 3, 1}};
      for (DType dt : DType.values()) {
        if (!cl.supports(dt)) {
          continue;
        }
        for (int[] d : dims) {
          for (int variant = 0; variant < 4; variant++) {
            boolean ta = (variant & 1) != 0;
            boolean tb = (variant & 2) != 0;
            for (int bcast = 0; bcast < 3; bcast++) {
              int batch = bcast == 0 && variant != 0 ? 1 : 3;
              String what = kernel + " " + dt + " " + batch + "x" + java.util.Arrays.toString(d) + " ta=" + ta
                  + " tb=" + tb + " bcast=" + bcast;
              check(what, cl, rng, dt, batch, d[0], d[2], d[1], ta, tb, bcast);
            }
          }
        }
        // General strides: every other element of a larger buffer, neither row- nor column-major, with offsets.
        double[] data = uniform(rng, 2 * 37 * 2 * 41 + 3);
        int[] sa = {37 * 2 * 41, 2 * 41, 2};
        int[] sb = {37 * 2 * 41, 2, 2 * 41};
        List<Buffer> own = new ArrayList<>();
        Buffer rb = REF.upload(data, dt);
        Buffer bb = keep(own, cl.upload(data, dt));
        Buffer want = REF.matmul(new View(rb, 3, new int[] {2, 37, 41}, sa), new View(rb, 1, new int[] {2, 41, 37}, sb));
        Buffer got = keep(own, cl.matmul(new View(bb, 3, new int[] {2, 37, 41}, sa),
            new View(bb, 1, new int[] {2, 41, 37}, sb)));
        compare(kernel + " strided " + dt, cl, want, got, 2 * 37 * 37, dt, 41);
        own.forEach(Buffer::release);
      }
    } finally {
      cl.close();
    }
  }

  @Test
  void anUnknownKernelNameIsRefusedWithTheChoices() {
    OpenClTestSupport.backend();
    OpenClPlatforms.Entry e = OpenClPlatforms.devices().get(0);
    String old = System.getProperty(OpenClBackend.GEMM_PROPERTY);
    System.setProperty(OpenClBackend.GEMM_PROPERTY, "fastest");
    try {
      assertThatThrownBy(() -> new OpenClBackend(Device.openCl(0), e.platform(), e.device(), e.deviceName()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("-Dmetagrad.opencl.gemm=fastest is not one of auto, tiled, cpu");
    } finally {
      if (old == null) {
        System.clearProperty(OpenClBackend.GEMM_PROPERTY);
      } else {
        System.setProperty(OpenClBackend.GEMM_PROPERTY, old);
      }
    }
  }

  /** C = A B with A [batch, m, k] and B [batch, k, n], each stored transposed or not, one of them broadcast. */
  private static void check(String what, OpenClBackend cl, Rng rng, DType dt, int batch, int m, int n, int k,
      boolean ta, boolean tb, int bcast) {
    List<Buffer> own = new ArrayList<>();
    View[] a = matrix(own, cl, rng, dt, batch, m, k, ta, bcast == 1);
    View[] b = matrix(own, cl, rng, dt, batch, k, n, tb, bcast == 2);
    Buffer want = REF.matmul(a[0], b[0]);
    Buffer got = keep(own, cl.matmul(a[1], b[1]));
    compare(what, cl, want, got, batch * m * n, dt, k);
    own.forEach(Buffer::release);
  }

  /** {reference view, OpenCL view} of a [batch, rows, cols] matrix at offset 3, stored as [batch, cols, rows] if t. */
  private static View[] matrix(List<Buffer> own, OpenClBackend cl, Rng rng, DType dt, int batch, int rows, int cols,
      boolean t, boolean bcast) {
    double[] data = uniform(rng, (bcast ? 1 : batch) * rows * cols + 3);
    int bs = bcast ? 0 : rows * cols;
    int[] strides = t ? new int[] {bs, 1, rows} : new int[] {bs, cols, 1};
    int[] shape = {batch, rows, cols};
    return new View[] {new View(REF.upload(data, dt), 3, shape, strides),
        new View(keep(own, cl.upload(data, dt)), 3, shape, strides)};
  }

  private static void compare(String what, OpenClBackend cl, Buffer want, Buffer got, int numel, DType dt, int k) {
    double[] w = REF.downloadDouble(View.contiguous(want, numel));
    double[] g = cl.downloadDouble(View.contiguous(got, numel));
    double rtol = dt == DType.FLOAT32 ? 1e-5 : 1e-12;
    double atol = dt == DType.FLOAT32 ? 8e-6 * Math.sqrt(k + 1) : 1e-14 * (k + 1);
    assertThat(g).as(what).hasSize(numel);
    for (int i = 0; i < numel; i++) {
      if (!(Math.abs(g[i] - w[i]) <= atol + rtol * Math.abs(w[i]))) {
        throw new AssertionError(what + ": element " + i + " is " + g[i] + ", the reference " + w[i]);
      }
    }
  }

  private static Buffer keep(List<Buffer> own, Buffer b) {
    own.add(b);
    return b;
  }

  private static double[] uniform(Rng rng, int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = rng.nextDouble() * 2 - 1;
    }
    return v;
  }
}
