package org.metagrad.kernels.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;
import org.metagrad.spi.UnaryOp;

/**
 * The error bounds that {@link FloatMath} states, against {@code (float) StrictMath.f((double) x)} (the
 * reference backend's value), over a sweep of the whole float line plus dense windows where the routines
 * are weakest (overflow and underflow edges, subnormal inputs, log near 1, tanh at its branch point);
 * and that the vector lanes ({@link VectorFloatMath}, through the kernels' loops and tails) give exactly
 * the scalar routine's bits.
 */
class FloatMathTest {

  /** Every 1021st bit pattern (about 4.2 million floats of both signs, NaNs included). */
  private static final int STRIDE = 1021;

  private static final float[] SPECIAL = {Float.NaN, Float.intBitsToFloat(0x7fc00001), Float.POSITIVE_INFINITY,
      Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MIN_NORMAL,
      Float.MAX_VALUE, -Float.MAX_VALUE, 1f, -1f, 88.72283f, 88.72284f, 88.7228394f, 89f, -87.33655f, -103.27893f,
      -103.97208f, -103.972084f, -104f, -110f, 100f, 0.625f, -0.625f, 0.62499994f, 9.010913f, 1e-30f, -1e-30f};

  /** Largest distance, in representable floats, of {@code f} from the reference over the sweep and windows. */
  private static long maxDistance(String name, UnaryOp op, DoubleUnaryOperator strict) {
    long worst = 0;
    float worstAt = 0;
    for (float x : inputs(op)) {
      float got = switch (op) {
        case EXP -> FloatMath.exp(x);
        case LOG -> FloatMath.log(x);
        default -> FloatMath.tanh(x);
      };
      float want = (float) strict.applyAsDouble(x);
      long d = distance(got, want);
      if (d > 1) {
        throw new AssertionError(name + "(" + x + " = 0x" + Integer.toHexString(Float.floatToRawIntBits(x)) + ") = "
            + got + ", StrictMath gives " + want + " (" + d + " floats apart)");
      }
      if (d > worst) {
        worst = d;
        worstAt = x;
      }
    }
    System.out.println("FloatMath." + name + ": at most " + worst + " ulp from StrictMath (e.g. at " + worstAt + ")");
    return worst;
  }

  /**
   * Floats between the two values (0 when equal); NaN only matches NaN, and infinities and zeros must be
   * exact (an overflow is never MAX_VALUE, a zero keeps its sign).
   */
  private static long distance(float got, float want) {
    if (Float.isNaN(want) || Float.isNaN(got)) {
      return Float.isNaN(want) && Float.isNaN(got) ? 0 : Long.MAX_VALUE;
    }
    if (Float.isInfinite(want) || Float.isInfinite(got) || want == 0 && got == 0) {
      return Float.floatToRawIntBits(got) == Float.floatToRawIntBits(want) ? 0 : Long.MAX_VALUE;
    }
    return Math.abs(ordered(got) - ordered(want));
  }

  /** Position on the float line: consecutive floats (across zero too) differ by 1. */
  private static long ordered(float f) {
    int b = Float.floatToRawIntBits(f);
    return b >= 0 ? b : -(long) (b & 0x7fffffff);
  }

  /** The sweep, the special values and the dense windows for op. */
  static float[] inputs(UnaryOp op) {
    FloatList l = new FloatList();
    for (long b = 0; b <= 0xffffffffL; b += STRIDE) {
      l.add(Float.intBitsToFloat((int) b));
    }
    for (float s : SPECIAL) {
      l.add(s);
    }
    switch (op) {
      case EXP -> {
        l.range(88f, 89.5f, 1); // overflow edge
        l.range(-87.5f, -86.5f, 1); // results become subnormal
        l.range(-104.5f, -102.5f, 1); // results become zero
        l.range(0.33f, 0.36f, 1); // n changes from 0 to 1 at ln2 / 2
        l.range(-0.36f, -0.33f, 1);
      }
      case LOG -> {
        l.range(Float.MIN_VALUE, Float.MIN_NORMAL * 2, 61); // subnormal inputs
        l.range(0.5f, 2f, 13); // around 1 and the split at sqrt(1/2), sqrt(2)
        l.range(Float.MAX_VALUE / 2, Float.MAX_VALUE, 31);
      }
      default -> {
        l.range(0.55f, 0.7f, 1); // both sides of the branch at 0.625
        l.range(-0.7f, -0.55f, 1);
        l.range(8.5f, 9.5f, 1); // where the result reaches 1
        l.range(1e-4f, 1e-3f, 61); // small arguments
        l.range(-1e-3f, -1e-4f, 61);
      }
    }
    return l.toArray();
  }

  @Test
  void expIsWithinOneUlpOfStrictMath() {
    assertThat(maxDistance("exp", UnaryOp.EXP, StrictMath::exp)).isLessThanOrEqualTo(1);
  }

  @Test
  void logIsWithinOneUlpOfStrictMath() {
    assertThat(maxDistance("log", UnaryOp.LOG, StrictMath::log)).isLessThanOrEqualTo(1);
  }

  @Test
  void tanhIsWithinOneUlpOfStrictMath() {
    assertThat(maxDistance("tanh", UnaryOp.TANH, StrictMath::tanh)).isLessThanOrEqualTo(1);
  }

  @Test
  void specialValuesAreExact() {
    assertThat(FloatMath.exp(Float.NaN)).isNaN();
    assertThat(FloatMath.exp(Float.POSITIVE_INFINITY)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(Float.floatToRawIntBits(FloatMath.exp(Float.NEGATIVE_INFINITY))).isZero();
    assertThat(FloatMath.exp(0f)).isEqualTo(1f);
    assertThat(FloatMath.exp(-0f)).isEqualTo(1f);
    assertThat(FloatMath.exp(89f)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(FloatMath.exp(-104f)).isEqualTo(0f);
    assertThat(FloatMath.log(Float.NaN)).isNaN();
    assertThat(FloatMath.log(-1f)).isNaN();
    assertThat(FloatMath.log(-Float.MIN_VALUE)).isNaN();
    assertThat(FloatMath.log(Float.NEGATIVE_INFINITY)).isNaN();
    assertThat(FloatMath.log(0f)).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(FloatMath.log(-0f)).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(FloatMath.log(Float.POSITIVE_INFINITY)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(FloatMath.log(1f)).isEqualTo(0f);
    assertThat(FloatMath.tanh(Float.NaN)).isNaN();
    assertThat(FloatMath.tanh(Float.POSITIVE_INFINITY)).isEqualTo(1f);
    assertThat(FloatMath.tanh(Float.NEGATIVE_INFINITY)).isEqualTo(-1f);
    assertThat(Float.floatToRawIntBits(FloatMath.tanh(0f))).isZero();
    assertThat(Float.floatToRawIntBits(FloatMath.tanh(-0f))).isEqualTo(Float.floatToRawIntBits(-0f));
    assertThat(FloatMath.tanh(Float.MIN_VALUE)).isEqualTo(Float.MIN_VALUE);
  }

  @Test
  void vectorLanesGiveTheScalarRoutinesBits() {
    assumeTrue(VectorBackendFactory.vectorModuleAvailable(), "jdk.incubator.vector not in the boot layer");
    VectorKernels k = new VectorKernels();
    for (UnaryOp op : new UnaryOp[] {UnaryOp.EXP, UnaryOp.LOG, UnaryOp.TANH}) {
      float[] x = inputs(op);
      float[] o = new float[x.length];
      // Runs of 4099 (a vector body and a scalar tail each) from an odd offset: many calls, so the loops
      // are compiled as a kernel is in a run, not only by on-stack replacement of one long call.
      for (int s = 3; s < x.length; s += 4099) {
        k.unaryF(op, 0, x, s, o, s, Math.min(4099, x.length - s));
      }
      for (int i = 3; i < x.length; i++) {
        float want = op == UnaryOp.EXP ? FloatMath.exp(x[i]) : op == UnaryOp.LOG ? FloatMath.log(x[i])
            : FloatMath.tanh(x[i]);
        if (!(Float.isNaN(want) && Float.isNaN(o[i])) && Float.floatToRawIntBits(o[i]) != Float.floatToRawIntBits(want)) {
          throw new AssertionError(op + "(" + x[i] + "): vector lane " + o[i] + ", scalar " + want);
        }
        // The element path of strided views must agree too.
        if (!Float.isNaN(want) && Float.floatToRawIntBits(k.unaryF(op, 0, x[i])) != Float.floatToRawIntBits(want)) {
          throw new AssertionError(op + "(" + x[i] + "): element path " + k.unaryF(op, 0, x[i]) + ", scalar " + want);
        }
      }
    }
  }

  /** A growable float array (a sweep has millions of elements). */
  private static final class FloatList {
    private float[] a = new float[1 << 20];
    private int n;

    void add(float v) {
      if (n == a.length) {
        a = java.util.Arrays.copyOf(a, 2 * n);
      }
      a[n++] = v;
    }

    /** Every {@code step}-th float from lo to hi (lo <= hi, same sign or from a negative to a positive). */
    void range(float lo, float hi, int step) {
      for (float v = lo; v <= hi; ) {
        add(v);
        for (int s = 0; s < step && v <= hi; s++) {
          v = Math.nextUp(v);
        }
      }
    }

    float[] toArray() {
      return java.util.Arrays.copyOf(a, n);
    }
  }

  /**
   * Every one of the 2^32 floats, each routine (the long part of the reliability suite, excluded from CI: some
   * minutes on 2 cores; {@code mvn -Preliability-long test -pl kernels/cpu}). The bound checked is the class's:
   * at most one float from {@code (float) StrictMath.f(x)}, exact for NaN, infinities and zeros.
   */
  @org.junit.jupiter.api.Tag("long")
  @Test
  void everyFloatIsWithinOneUlpOfStrictMath() throws Exception {
    java.util.List<java.util.concurrent.Callable<long[]>> jobs = new java.util.ArrayList<>();
    int parts = 64;
    for (int part = 0; part < parts; part++) {
      long lo = (0x1_0000_0000L / parts) * part;
      long hi = lo + 0x1_0000_0000L / parts;
      jobs.add(() -> {
        long[] worst = new long[3];
        for (long b = lo; b < hi; b++) {
          float x = Float.intBitsToFloat((int) b);
          worst[0] = Math.max(worst[0], check("exp", x, FloatMath.exp(x), (float) StrictMath.exp(x)));
          worst[1] = Math.max(worst[1], check("log", x, FloatMath.log(x), (float) StrictMath.log(x)));
          worst[2] = Math.max(worst[2], check("tanh", x, FloatMath.tanh(x), (float) StrictMath.tanh(x)));
        }
        return worst;
      });
    }
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(
        Runtime.getRuntime().availableProcessors());
    try {
      long[] worst = new long[3];
      for (java.util.concurrent.Future<long[]> f : pool.invokeAll(jobs)) {
        long[] w = f.get();
        for (int i = 0; i < 3; i++) {
          worst[i] = Math.max(worst[i], w[i]);
        }
      }
      System.out.printf("all 2^32 floats: exp %d, log %d, tanh %d ulp at most from StrictMath%n", worst[0], worst[1],
          worst[2]);
      for (long w : worst) {
        assertThat(w).as("largest distance in floats").isLessThanOrEqualTo(1L);
      }
    } finally {
      pool.shutdown();
    }
  }

  private static long check(String name, float x, float got, float want) {
    long d = distance(got, want);
    if (d > 1) {
      throw new AssertionError(name + "(0x" + Integer.toHexString(Float.floatToRawIntBits(x)) + ") = " + got
          + ", StrictMath gives " + want + " (" + d + " floats apart)");
    }
    return d;
  }
}
