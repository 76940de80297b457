package org.metagrad.kernels.cpu;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.metagrad.DType;
import org.metagrad.spi.Backend;
import org.metagrad.spi.HeapBuffer;
import org.metagrad.spi.ReferenceBackend;
import org.metagrad.spi.UnaryOp;
import org.metagrad.spi.View;

/**
 * The child process of {@code TranscendentalJitStabilityTest}: calls each unary kernel many times on fixed
 * inputs, on every CPU backend of this JVM, in both dtypes, on a contiguous and a strided view, and prints
 * one line per case: the SHA-256 of the first call's bits, then {@code stable} or the first call whose
 * bits differed. Arguments: calls on the vector backend's contiguous loops (they need a few thousand
 * calls of 1031 elements before C2 compiles them), calls on the other backends and on strided views.
 */
public final class UnaryBitsProbe {
  private UnaryBitsProbe() {}

  /** One unary op with its POW exponent. */
  private record Case(UnaryOp op, double p, boolean positive) {}

  private static final List<Case> CASES = List.of(new Case(UnaryOp.EXP, 0, false), new Case(UnaryOp.LOG, 0, true),
      new Case(UnaryOp.TANH, 0, false), new Case(UnaryOp.SQRT, 0, true), new Case(UnaryOp.POW, 2, false),
      new Case(UnaryOp.POW, -0.5, true), new Case(UnaryOp.POW, 1.7, true));

  /**
   * Prints the lines described above.
   *
   * @param args calls on cpu-vector's contiguous loops, calls elsewhere
   */
  public static void main(String[] args) throws Exception {
    int vectorCalls = Integer.parseInt(args[0]);
    int otherCalls = Integer.parseInt(args[1]);
    List<Backend> backends = new ArrayList<>(List.of(ReferenceBackend.INSTANCE, ScalarBackendFactory.open(1)));
    if (VectorBackendFactory.vectorModuleAvailable()) {
      backends.add(VectorBackendFactory.open(1));
    }
    for (Backend be : backends) {
      boolean vector = be.name().equals("cpu-vector");
      int calls = vector ? vectorCalls : otherCalls;
      // 1031 = vector body plus a scalar tail; the strided view takes the element-by-element path.
      int n = vector ? 1031 : 131;
      for (DType dt : DType.values()) {
        for (Case c : CASES) {
          for (boolean strided : new boolean[] {false, true}) {
            View x = input(dt, n, c.positive(), strided);
            long[] first = bits(be.unary(c.op(), c.p(), x));
            int differs = 0;
            // Strided runs take the scalar element path, which needs fewer calls to be compiled.
            int repeat = strided ? Math.min(calls, otherCalls) : calls;
            for (int k = 2; k <= repeat && differs == 0; k++) {
              if (!Arrays.equals(bits(be.unary(c.op(), c.p(), x)), first)) {
                differs = k;
              }
            }
            System.out.printf("%s %s %s(%s) %s %s %s%n", be.name(), dt, c.op(), c.p(), strided ? "strided" : "contiguous",
                digest(first), differs == 0 ? "stable" : "DIFFERS from call " + differs);
          }
        }
      }
    }
  }

  /** Inputs over [-12, 12] (or (0, 12] for log, sqrt and fractional powers), as a plain or a stride-2 view. */
  private static View input(DType dt, int n, boolean positive, boolean strided) {
    SplittableRandom r = new SplittableRandom(17);
    double[] v = new double[strided ? 2 * n : n];
    for (int i = 0; i < v.length; i++) {
      double u = 24 * r.nextDouble() - 12;
      v[i] = positive ? Math.abs(u) + 1e-3 : u;
    }
    HeapBuffer b = dt == DType.FLOAT32 ? HeapBuffer.wrap(toFloats(v)) : HeapBuffer.wrap(v);
    return strided ? new View(b, 0, new int[] {n}, new int[] {2}) : View.contiguous(b, n);
  }

  private static float[] toFloats(double[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    return f;
  }

  private static long[] bits(org.metagrad.spi.Buffer out) {
    HeapBuffer h = HeapBuffer.of(out);
    long[] b = new long[h.size()];
    for (int i = 0; i < b.length; i++) {
      b[i] = h.dtype() == DType.FLOAT32 ? Float.floatToRawIntBits(h.floats()[i])
          : Double.doubleToRawLongBits(h.doubles()[i]);
    }
    return b;
  }

  private static String digest(long[] bits) throws Exception {
    ByteBuffer bb = ByteBuffer.allocate(8 * bits.length);
    for (long b : bits) {
      bb.putLong(b);
    }
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bb.array()));
  }
}
