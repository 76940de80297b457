package org.metagrad.kernels.cpu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.metagrad.DType;
import org.metagrad.spi.Backend;
import org.metagrad.spi.HeapBuffer;
import org.metagrad.spi.View;

/** Builders for strided test views shared by the CPU backend tests (the SPI suite has its own, in core's test-jar). */
final class TestViews {
  /** How a test view lays out its elements in its buffer. */
  enum Layout {
    /** Row-major, offset 0. */
    CONTIGUOUS,
    /** Row-major after 5 unused leading elements. */
    OFFSET,
    /** Dimensions stored in reverse order (a transposed / permuted view). */
    PERMUTED,
    /** Dimension 0 is a stride-0 broadcast of one slice. */
    BROADCAST
  }

  private TestViews() {}

  /** The backend under test by name; vector tests are skipped when the module is absent. */
  static Backend backend(String name, int threads) {
    if (name.equals("cpu-vector")) {
      assumeTrue(VectorBackendFactory.vectorModuleAvailable(), "jdk.incubator.vector not in the boot layer");
      return VectorBackendFactory.open(threads);
    }
    if (name.equals("cpu-vector-alt")) {
      // The vector set with the choices this JDK does not default to (masked stores in pooling, A row by row
      // in the AVX2 GEMM, B panels by table in the AVX2 A-rows kernels), so that both paths run on the JDK
      // the tests run on.
      assumeTrue(VectorBackendFactory.vectorModuleAvailable(), "jdk.incubator.vector not in the boot layer");
      return new CpuBackend("cpu-vector-alt",
          new VectorKernels(!VectorKernels.defaultMaskedStores(), !VectorKernels.defaultRowsAGemm(),
              !VectorKernels.defaultPanelByTable()), threads);
    }
    return ScalarBackendFactory.open(threads);
  }

  /** A view of {@code shape} in the given layout filled by {@code gen} in logical row-major order. */
  static View view(DType dt, Layout layout, int[] shape, java.util.function.IntToDoubleFunction gen) {
    int r = shape.length;
    int n = 1;
    for (int s : shape) {
      n *= s;
    }
    int[] strides;
    int offset = 0;
    int storage;
    switch (layout) {
      case OFFSET -> {
        strides = View.contiguousStrides(shape);
        offset = 5;
        storage = n + 5;
      }
      case PERMUTED -> {
        int[] rev = new int[r];
        for (int d = 0; d < r; d++) {
          rev[d] = shape[r - 1 - d];
        }
        int[] rs = View.contiguousStrides(rev);
        strides = new int[r];
        for (int d = 0; d < r; d++) {
          strides[d] = rs[r - 1 - d];
        }
        storage = n;
      }
      case BROADCAST -> {
        strides = View.contiguousStrides(shape);
        if (r > 0) {
          strides[0] = 0;
        }
        storage = r > 0 && shape[0] > 0 ? n / shape[0] : n;
      }
      default -> {
        strides = View.contiguousStrides(shape);
        storage = n;
      }
    }
    HeapBuffer buf = HeapBuffer.allocate(dt, Math.max(storage, offset));
    for (int i = 0; i < offset; i++) {
      buf.set(i, 12345);
    }
    // Write logical element i at its strided position (broadcast dims overwrite with the last slice).
    int[] idx = new int[r];
    for (int i = 0; i < n; i++) {
      int pos = offset;
      for (int d = 0; d < r; d++) {
        pos += idx[d] * strides[d];
      }
      buf.set(pos, gen.applyAsDouble(i));
      for (int d = r - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) {
          break;
        }
        idx[d] = 0;
      }
    }
    return new View(buf, offset, shape, strides);
  }

  /** Uniform values in [lo, hi) from a seeded generator. */
  static View random(DType dt, Layout layout, int[] shape, long seed, double lo, double hi) {
    SplittableRandom rnd = new SplittableRandom(seed);
    return view(dt, layout, shape, i -> lo + (hi - lo) * rnd.nextDouble());
  }

  /** Shorthand for an int array. */
  static int[] s(int... dims) {
    return dims;
  }
}
