package org.metagrad.bench.kernels;

import java.util.SplittableRandom;
import org.metagrad.DType;
import org.metagrad.kernels.cpu.ScalarBackendFactory;
import org.metagrad.kernels.cpu.VectorBackendFactory;
import org.metagrad.spi.Backend;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.HeapBuffer;
import org.metagrad.spi.ReferenceBackend;
import org.metagrad.spi.View;

/** Shared setup of the CPU kernel benchmarks: backend by name, seeded data, one-time result checks. */
public final class KernelBenchSupport {
  private KernelBenchSupport() {}

  /**
   * Opens {@code cpu-vector}, {@code cpu-scalar} or {@code reference} with {@code threads} threads.
   *
   * @throws IllegalArgumentException for an unknown name
   */
  public static Backend open(String name, int threads) {
    return switch (name) {
      case "cpu-vector" -> VectorBackendFactory.open(threads);
      case "cpu-scalar" -> ScalarBackendFactory.open(threads);
      case "reference" -> ReferenceBackend.INSTANCE;
      default -> throw new IllegalArgumentException("bench: unknown backend '" + name
          + "' (expected cpu-vector, cpu-scalar or reference)");
    };
  }

  /** A contiguous float32 view of {@code shape} with uniform values in [-1, 1) from {@code seed}. */
  public static View randomFloats(long seed, int... shape) {
    int n = 1;
    for (int s : shape) {
      n *= s;
    }
    SplittableRandom r = new SplittableRandom(seed);
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) (2 * r.nextDouble() - 1);
    }
    return View.contiguous(HeapBuffer.wrap(f), shape);
  }

  /**
   * Throws unless {@code actual} matches {@code expected} within {@code atol + rtol * |e|} everywhere.
   *
   * @throws IllegalStateException naming the benchmark, the first bad index and both values
   */
  public static void check(String what, double[] expected, Buffer actual, double rtol, double atol) {
    HeapBuffer a = HeapBuffer.of(actual);
    if (a.size() != expected.length) {
      throw new IllegalStateException(what + ": result has " + a.size() + " elements, expected " + expected.length);
    }
    for (int i = 0; i < expected.length; i++) {
      double e = expected[i];
      double v = a.get(i);
      if (!(Math.abs(e - v) <= atol + rtol * Math.abs(e)) && !(Double.isNaN(e) && Double.isNaN(v))) {
        throw new IllegalStateException(what + ": mismatch at " + i + ": expected " + e + ", got " + v);
      }
    }
  }

  /**
   * Checks sampled entries of {@code c = a[m, k] * b[k, n]} (row-major float32) against a double dot
   * product: the full reference product is too slow for the largest sizes.
   */
  public static void checkGemmSamples(String what, View a, View b, Buffer c, int m, int k, int n) {
    float[] fa = HeapBuffer.of(a.buffer()).floats();
    float[] fb = HeapBuffer.of(b.buffer()).floats();
    HeapBuffer hc = HeapBuffer.of(c);
    SplittableRandom r = new SplittableRandom(7);
    for (int s = 0; s < 64; s++) {
      int i = s == 0 ? m - 1 : r.nextInt(m);
      int j = s == 0 ? n - 1 : r.nextInt(n);
      double acc = 0;
      for (int q = 0; q < k; q++) {
        acc += (double) fa[i * k + q] * fb[q * n + j];
      }
      double got = hc.get(i * n + j);
      if (Math.abs(acc - got) > 1e-5 * k + 1e-4) {
        throw new IllegalStateException(what + ": C[" + i + ", " + j + "] = " + got + ", expected " + acc);
      }
    }
  }

  /** Element type of all kernel benchmarks (the CPU fast path). */
  public static final DType DTYPE = DType.FLOAT32;
}
