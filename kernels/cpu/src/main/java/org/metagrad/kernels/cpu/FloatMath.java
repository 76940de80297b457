package org.metagrad.kernels.cpu;

/**
 * The float32 {@code exp}, {@code log} and {@code tanh} of the vectorized CPU backend, one element at a
 * time. {@link VectorFloatMath} computes the same operations lane by lane in the same order, so a lane
 * and this method give the same bits, and the vector backend's results do not depend on which elements
 * fall into a vector, a scalar tail or a strided run (that is: not on the thread count or the layout).
 *
 * <p>Why not {@code Math.exp} or the Vector API's {@code lanewise(EXP)}: their results may differ by
 * an ulp between the interpreter, C1 and C2 (the lanewise ops switch from a per-lane Java fallback to
 * SVML stubs once C2 compiles the loop), so two identical runs diverged. These routines use only IEEE
 * add, sub, mul, div, comparisons and integer bit operations, whose results Java defines exactly on
 * every JIT tier and processor. Error bounds, measured over all 2^32 floats against
 * {@code (float) StrictMath.f((double) x)} (the reference backend's value): every result is that value
 * or one of its two neighbours, and infinities, zeros and NaN are exact; it differs from it for 0.42%
 * (exp), 0.31% (log) and 0.13% (tanh) of the inputs. Against the exact value the largest errors are
 * 1.02 ulp (exp), 0.86 ulp (log) and 1.34 ulp (tanh, next to its branch point). {@code FloatMathTest}
 * checks the 1-ulp bound on every 1021st float and on dense windows at the edges (overflow, underflow,
 * subnormal inputs, log near 1, tanh's branch point). Special values follow {@link StrictMath}: NaN in
 * gives NaN, {@code exp(+Inf) = +Inf},
 * {@code exp(-Inf) = +0}, {@code log(±0) = -Inf}, {@code log(x < 0) = NaN}, {@code log(+Inf) = +Inf},
 * {@code tanh(±Inf) = ±1}, {@code tanh(±0) = ±0}.
 */
final class FloatMath {
  private FloatMath() {}

  /** ln 2 split so that {@code n * LN2_HI} is exact for |n| below 2^12: its low 12 significand bits are 0. */
  static final float LN2_HI = Float.intBitsToFloat(Float.floatToRawIntBits((float) StrictMath.log(2.0)) & 0xfffff000);
  /** The rest of ln 2. */
  static final float LN2_LO = (float) (StrictMath.log(2.0) - LN2_HI);
  static final float LOG2E = (float) (1 / StrictMath.log(2.0));
  /** 1.5 * 2^23: adding it to |v| < 2^22 rounds v to an integer, which then sits in the low bits. */
  static final float ROUNDER = 0x1.8p23f;
  static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);
  /** Inputs beyond these clamps overflow to +Inf or underflow to +0 anyway; they keep 2^n representable. */
  static final float EXP_MAX = 100f;
  static final float EXP_MIN = -110f;
  // Taylor coefficients 1/k! of e^r for |r| <= ln2/2 (+ a little for the rounding of n): the first
  // omitted term, r^8/8!, is below 0.1 ulp there.
  static final float E2 = 1f / 2;
  static final float E3 = 1f / 6;
  static final float E4 = 1f / 24;
  static final float E5 = 1f / 120;
  static final float E6 = 1f / 720;
  static final float E7 = 1f / 5040;

  /** Smallest normal float; smaller positive inputs of log are scaled by 2^23 first. */
  static final float MIN_NORMAL = Float.MIN_NORMAL;
  static final float TWO23 = 0x1p23f;
  /** Bits of sqrt(1/2) rounded: log's reduced argument m lies in [sqrt(1/2), sqrt(2)). */
  static final int SQRT_HALF_BITS = 0x3f3504f3;
  static final int ONE_BITS = 0x3f800000;
  // log(1+f) = f - f^2/2 + s (f^2/2 + R), s = f / (2 + f), R = 2s^2/3 + 2s^4/5 + ... (the atanh series of
  // log((1+s)/(1-s)) rearranged so that the rounding of s touches only the small correction term);
  // |s| <= 0.1716 so the first omitted term (2s^10/11) is far below an ulp.
  static final float L1 = 2f / 3;
  static final float L2 = 2f / 5;
  static final float L3 = 2f / 7;
  static final float L4 = 2f / 9;

  /** Below this |x|, tanh uses its odd Taylor series; above, 1 - 2 / (e^{2|x|} + 1). */
  static final float TANH_SMALL = 0.625f;
  // Taylor coefficients of tanh x = x + T3 x^3 + T5 x^5 + ... (tangent numbers); at |x| = 0.625 the first
  // omitted term is about 0.1 ulp.
  static final float T3 = (float) (-1.0 / 3);
  static final float T5 = (float) (2.0 / 15);
  static final float T7 = (float) (-17.0 / 315);
  static final float T9 = (float) (62.0 / 2835);
  static final float T11 = (float) (-1382.0 / 155925);
  static final float T13 = (float) (21844.0 / 6081075);
  static final float T15 = (float) (-929569.0 / 638512875);
  static final float T17 = (float) (6404582.0 / 10854718875.0);
  static final float T19 = (float) (-443861162.0 / 1856156927625.0);
  static final float T21 = (float) (18888466084.0 / 194896477400625.0);

  /** {@code e^x}, at most 1 ulp from {@code (float) StrictMath.exp(x)}. */
  static float exp(float x) {
    // Clamped by comparisons, so NaN passes through unchanged.
    float c = x > EXP_MAX ? EXP_MAX : x;
    c = c < EXP_MIN ? EXP_MIN : c;
    float t = c * LOG2E + ROUNDER;
    float nf = t - ROUNDER;
    int n = Float.floatToRawIntBits(t) - ROUNDER_BITS;
    float r = c - nf * LN2_HI;
    r = r - nf * LN2_LO;
    float q = E2 + r * (E3 + r * (E4 + r * (E5 + r * (E6 + r * E7))));
    // 1 + (r + r^2 q): the larger terms added last, so the rounding of the small ones is scaled down.
    float p = 1f + (r + r * r * q);
    // 2^n in two factors, each a normal float for n in [-159, 145]: the first product is exact, the second
    // rounds once, also when the result is subnormal or overflows.
    int n1 = n >> 1;
    int n2 = n - n1;
    return p * Float.intBitsToFloat((n1 + 127) << 23) * Float.intBitsToFloat((n2 + 127) << 23);
  }

  /** Natural logarithm, at most 1 ulp from {@code (float) StrictMath.log(x)}. */
  static float log(float x) {
    boolean sub = x < MIN_NORMAL;
    float xs = sub ? x * TWO23 : x;
    int ix = Float.floatToRawIntBits(xs) + (ONE_BITS - SQRT_HALF_BITS);
    int e = (ix >> 23) - 127 - (sub ? 23 : 0);
    float f = Float.intBitsToFloat((ix & 0x7fffff) + SQRT_HALF_BITS) - 1f;
    float s = f / (2f + f);
    float z = s * s;
    float rr = z * (L1 + z * (L2 + z * (L3 + z * L4)));
    float hfsq = 0.5f * f * f;
    float ef = e;
    float y = ef * LN2_HI + (f - (hfsq - (s * (hfsq + rr) + ef * LN2_LO)));
    // Special inputs last, as the vector version blends them in.
    y = x == Float.POSITIVE_INFINITY ? x : y;
    y = x == 0f ? Float.NEGATIVE_INFINITY : y;
    return x < 0f || x != x ? Float.NaN : y;
  }

  /** Hyperbolic tangent, at most 1 ulp from {@code (float) StrictMath.tanh(x)}. */
  static float tanh(float x) {
    float a = Math.abs(x);
    float z = x * x;
    float small = x + x * z * (T3 + z * (T5 + z * (T7 + z * (T9 + z * (T11 + z * (T13 + z * (T15
        + z * (T17 + z * (T19 + z * T21)))))))));
    float big = 1f - 2f / (exp(a + a) + 1f);
    big = x < 0f ? -big : big;
    // NaN fails the comparison and takes the big branch, where it propagates; a zero keeps its sign.
    float y = a < TANH_SMALL ? small : big;
    return x == 0f ? x : y;
  }
}
