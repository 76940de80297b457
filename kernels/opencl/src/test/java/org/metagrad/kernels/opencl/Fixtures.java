package org.metagrad.kernels.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.metagrad.DType;
import org.metagrad.spi.Backend;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ReferenceBackend;
import org.metagrad.spi.View;

/**
 * Builds the same strided view on the reference backend and on OpenCL, and compares results. Every
 * OpenCL buffer made here is tracked so a test can release them all and check for leaks.
 */
final class Fixtures {
  /** The odd sizes every conformance test sweeps. */
  static final int[] SIZES = {1, 3, 7, 8, 13, 65, 207, 1025};

  /** How a logical shape is laid out in its buffer. */
  enum Layout {
    /** Row-major, offset 0. */ CONTIGUOUS,
    /** Row-major starting at element 5. */ OFFSET,
    /** Column-major (all dimensions permuted). */ PERMUTED,
    /** Dimension 0 broadcast with stride 0. */ BROADCAST,
    /** Every other element, starting at 1. */ STEPPED
  }

  /** One view on each backend holding the same values. */
  record Pair(View ref, View cl) {}

  final Backend ref = ReferenceBackend.INSTANCE;
  final OpenClBackend cl;
  final Random rnd;
  private final List<Buffer> owned = new ArrayList<>();

  Fixtures(OpenClBackend cl, long seed) {
    this.cl = cl;
    this.rnd = new Random(seed);
  }

  /** Random values in [-2, 2). */
  double[] values(int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextDouble() * 4 - 2;
    }
    return v;
  }

  /** Values including NaN, infinities, signed zeros and exact ties, for semantics checks. */
  double[] special(int n) {
    double[] pool = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0, 1, -1, 0.5, 2, -3};
    double[] v = values(n);
    for (int i = 0; i < n; i++) {
      if (rnd.nextInt(3) == 0) {
        v[i] = pool[rnd.nextInt(pool.length)];
      }
    }
    return v;
  }

  /** Registers an OpenCL buffer for {@link #releaseAll()}. */
  <B extends Buffer> B own(B b) {
    owned.add(b);
    return b;
  }

  /** Releases every OpenCL buffer made through this fixture. */
  void releaseAll() {
    owned.forEach(Buffer::release);
    owned.clear();
  }

  /** A view of {@code shape} with the given layout, filled from {@code gen}, on both backends. */
  Pair view(int[] shape, DType dt, Layout layout, java.util.function.IntFunction<double[]> gen) {
    int r = shape.length;
    int[] strides = new int[r];
    int offset = 0;
    int[] cs = View.contiguousStrides(shape);
    switch (layout) {
      case CONTIGUOUS -> strides = cs;
      case OFFSET -> {
        strides = cs;
        offset = 5;
      }
      case PERMUTED -> {
        int acc = 1;
        for (int d = 0; d < r; d++) {
          strides[d] = acc;
          acc *= Math.max(shape[d], 1);
        }
      }
      case BROADCAST -> {
        strides = cs.clone();
        if (r > 0) {
          strides[0] = 0;
        }
      }
      case STEPPED -> {
        for (int d = 0; d < r; d++) {
          strides[d] = 2 * cs[d];
        }
        offset = 1;
      }
    }
    long last = offset;
    boolean empty = false;
    for (int d = 0; d < r; d++) {
      if (shape[d] == 0) {
        empty = true;
      } else {
        last += (long) (shape[d] - 1) * strides[d];
      }
    }
    int size = (int) (empty ? offset + 3 : last + 3);
    double[] data = gen.apply(size);
    Buffer rb = ref.upload(data, dt);
    Buffer cb = own(cl.upload(data, dt));
    return new Pair(new View(rb, offset, shape, strides), new View(cb, offset, shape, strides));
  }

  Pair view(int[] shape, DType dt, Layout layout) {
    return view(shape, dt, layout, this::values);
  }

  /** Contiguous 0-offset views of a fresh result on both backends. */
  static View whole(Buffer b, int... shape) {
    return View.contiguous(b, shape);
  }

  /**
   * Asserts the OpenCL result equals the reference within {@code rtol}/{@code atol}; NaN must meet
   * NaN, infinities must match exactly and, where both are zero, signs must match when
   * {@code signedZeros}.
   */
  void assertClose(String what, Buffer refOut, Buffer clOut, int[] shape, double rtol, double atol,
                   boolean signedZeros) {
    own(clOut);
    assertThat(clOut.size()).as(what + " size").isEqualTo(refOut.size());
    assertThat(clOut.dtype()).as(what + " dtype").isEqualTo(refOut.dtype());
    assertThat(clOut.device()).as(what + " device").isEqualTo(cl.device());
    double[] want = ref.downloadDouble(View.contiguous(refOut, refOut.size()));
    double[] got = cl.downloadDouble(View.contiguous(clOut, clOut.size()));
    for (int i = 0; i < want.length; i++) {
      double w = want[i];
      double g = got[i];
      boolean ok;
      if (Double.isNaN(w) || Double.isNaN(g)) {
        ok = Double.isNaN(w) && Double.isNaN(g);
      } else if (Double.isInfinite(w) || Double.isInfinite(g)) {
        ok = w == g;
      } else if (w == 0 && g == 0) {
        ok = !signedZeros || Double.compare(w, g) == 0;
      } else {
        ok = Math.abs(w - g) <= atol + rtol * Math.abs(w);
      }
      if (!ok) {
        fail(what + " shape " + Arrays.toString(shape) + ": element " + i + " expected " + w + " but got " + g
            + " (rtol " + rtol + ", atol " + atol + ")");
      }
    }
  }

  /** Default elementwise tolerance for a dtype. */
  static double tol(DType dt) {
    return dt == DType.FLOAT64 ? 1e-12 : 2e-6;
  }
}
