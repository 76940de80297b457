package org.metagrad.kernels.cpu;

import static org.metagrad.kernels.cpu.FloatMath.E2;
import static org.metagrad.kernels.cpu.FloatMath.E3;
import static org.metagrad.kernels.cpu.FloatMath.E4;
import static org.metagrad.kernels.cpu.FloatMath.E5;
import static org.metagrad.kernels.cpu.FloatMath.E6;
import static org.metagrad.kernels.cpu.FloatMath.E7;
import static org.metagrad.kernels.cpu.FloatMath.EXP_MAX;
import static org.metagrad.kernels.cpu.FloatMath.EXP_MIN;
import static org.metagrad.kernels.cpu.FloatMath.L1;
import static org.metagrad.kernels.cpu.FloatMath.L2;
import static org.metagrad.kernels.cpu.FloatMath.L3;
import static org.metagrad.kernels.cpu.FloatMath.L4;
import static org.metagrad.kernels.cpu.FloatMath.LN2_HI;
import static org.metagrad.kernels.cpu.FloatMath.LN2_LO;
import static org.metagrad.kernels.cpu.FloatMath.LOG2E;
import static org.metagrad.kernels.cpu.FloatMath.MIN_NORMAL;
import static org.metagrad.kernels.cpu.FloatMath.ONE_BITS;
import static org.metagrad.kernels.cpu.FloatMath.ROUNDER;
import static org.metagrad.kernels.cpu.FloatMath.ROUNDER_BITS;
import static org.metagrad.kernels.cpu.FloatMath.SQRT_HALF_BITS;
import static org.metagrad.kernels.cpu.FloatMath.T11;
import static org.metagrad.kernels.cpu.FloatMath.T13;
import static org.metagrad.kernels.cpu.FloatMath.T15;
import static org.metagrad.kernels.cpu.FloatMath.T17;
import static org.metagrad.kernels.cpu.FloatMath.T19;
import static org.metagrad.kernels.cpu.FloatMath.T21;
import static org.metagrad.kernels.cpu.FloatMath.T3;
import static org.metagrad.kernels.cpu.FloatMath.T5;
import static org.metagrad.kernels.cpu.FloatMath.T7;
import static org.metagrad.kernels.cpu.FloatMath.T9;
import static org.metagrad.kernels.cpu.FloatMath.TANH_SMALL;
import static org.metagrad.kernels.cpu.FloatMath.TWO23;
import static org.metagrad.kernels.cpu.VectorLoops.FS;
import static org.metagrad.kernels.cpu.VectorLoops.VLF;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * {@link FloatMath}'s routines on whole vectors: the same IEEE operations in the same order, lane by
 * lane, so each lane's bits equal the scalar routine's on every JIT tier (no {@code lanewise(EXP)}, whose
 * SVML stubs and Java fallback round differently). Loaded only with {@code jdk.incubator.vector}.
 */
final class VectorFloatMath {
  private VectorFloatMath() {}

  private static final FloatVector ONE = FloatVector.broadcast(FS, 1f);
  private static final FloatVector TWO = FloatVector.broadcast(FS, 2f);

  // One small loop method per op: inside VectorKernels' large unaryF, C2 stopped inlining these routines
  // (node-count cutoff), and a vector passed to a call that is not inlined is boxed (tanh ran 4x slower).

  /** {@code o[oo + i] = exp(x[xo + i])} for i below n: vector body, then the scalar routine on the tail. */
  static void expLoop(float[] x, int xo, float[] o, int oo, int n) {
    int ub = FS.loopBound(n);
    int i = 0;
    for (; i < ub; i += VLF) {
      exp(FloatVector.fromArray(FS, x, xo + i)).intoArray(o, oo + i);
    }
    for (; i < n; i++) {
      o[oo + i] = FloatMath.exp(x[xo + i]);
    }
  }

  /** {@code o[oo + i] = log(x[xo + i])} for i below n. */
  static void logLoop(float[] x, int xo, float[] o, int oo, int n) {
    int ub = FS.loopBound(n);
    int i = 0;
    for (; i < ub; i += VLF) {
      log(FloatVector.fromArray(FS, x, xo + i)).intoArray(o, oo + i);
    }
    for (; i < n; i++) {
      o[oo + i] = FloatMath.log(x[xo + i]);
    }
  }

  /** {@code o[oo + i] = tanh(x[xo + i])} for i below n. */
  static void tanhLoop(float[] x, int xo, float[] o, int oo, int n) {
    int ub = FS.loopBound(n);
    int i = 0;
    for (; i < ub; i += VLF) {
      tanh(FloatVector.fromArray(FS, x, xo + i)).intoArray(o, oo + i);
    }
    for (; i < n; i++) {
      o[oo + i] = FloatMath.tanh(x[xo + i]);
    }
  }

  /** Lanewise {@link FloatMath#exp}. */
  static FloatVector exp(FloatVector x) {
    FloatVector c = x.blend(EXP_MAX, x.compare(VectorOperators.GT, EXP_MAX));
    c = c.blend(EXP_MIN, c.compare(VectorOperators.LT, EXP_MIN));
    FloatVector t = c.mul(LOG2E).add(ROUNDER);
    FloatVector nf = t.sub(ROUNDER);
    IntVector n = t.reinterpretAsInts().sub(ROUNDER_BITS);
    FloatVector r = c.sub(nf.mul(LN2_HI));
    r = r.sub(nf.mul(LN2_LO));
    FloatVector q = r.mul(E7).add(E6);
    q = r.mul(q).add(E5);
    q = r.mul(q).add(E4);
    q = r.mul(q).add(E3);
    q = r.mul(q).add(E2);
    FloatVector p = ONE.add(r.add(r.mul(r).mul(q)));
    IntVector n1 = n.lanewise(VectorOperators.ASHR, 1);
    IntVector n2 = n.sub(n1);
    // (n + 127) << 23 as a product (the same bits: 2^23 * k wraps like the shift). With the shift, the exp
    // loop ran 3-4x slower on JDK 17 (AVX-512 host, 4096 elements: 3.4-4.7 against 0.9-1.2 ns per element).
    FloatVector s1 = n1.add(127).mul(1 << 23).reinterpretAsFloats();
    FloatVector s2 = n2.add(127).mul(1 << 23).reinterpretAsFloats();
    return p.mul(s1).mul(s2);
  }

  /** Lanewise {@link FloatMath#log}. */
  static FloatVector log(FloatVector x) {
    VectorMask<Float> sub = x.compare(VectorOperators.LT, MIN_NORMAL);
    FloatVector xs = x.blend(x.mul(TWO23), sub);
    IntVector ix = xs.reinterpretAsInts().add(ONE_BITS - SQRT_HALF_BITS);
    FloatVector ef = (FloatVector) ix.lanewise(VectorOperators.ASHR, 23).sub(127)
        .convertShape(VectorOperators.I2F, FS, 0);
    // Exact in float (small integers), so the same as the scalar version's integer subtraction.
    ef = ef.blend(ef.sub(23f), sub);
    FloatVector f = ix.and(0x7fffff).add(SQRT_HALF_BITS).reinterpretAsFloats().sub(1f);
    FloatVector s = f.div(TWO.add(f));
    FloatVector z = s.mul(s);
    FloatVector rr = z.mul(z.mul(z.mul(z.mul(L4).add(L3)).add(L2)).add(L1));
    FloatVector hfsq = f.mul(0.5f).mul(f);
    FloatVector y = ef.mul(LN2_HI).add(f.sub(hfsq.sub(s.mul(hfsq.add(rr)).add(ef.mul(LN2_LO)))));
    y = y.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
    y = y.blend(Float.NEGATIVE_INFINITY, x.compare(VectorOperators.EQ, 0f));
    return y.blend(Float.NaN, x.compare(VectorOperators.LT, 0f).or(x.compare(VectorOperators.NE, x)));
  }

  /** Lanewise {@link FloatMath#tanh}. */
  static FloatVector tanh(FloatVector x) {
    FloatVector a = x.abs();
    FloatVector z = x.mul(x);
    FloatVector poly = z.mul(T21).add(T19);
    poly = z.mul(poly).add(T17);
    poly = z.mul(poly).add(T15);
    poly = z.mul(poly).add(T13);
    poly = z.mul(poly).add(T11);
    poly = z.mul(poly).add(T9);
    poly = z.mul(poly).add(T7);
    poly = z.mul(poly).add(T5);
    poly = z.mul(poly).add(T3);
    FloatVector small = x.add(x.mul(z).mul(poly));
    FloatVector big = ONE.sub(TWO.div(exp(a.add(a)).add(ONE)));
    big = big.blend(big.neg(), x.compare(VectorOperators.LT, 0f));
    FloatVector y = big.blend(small, a.compare(VectorOperators.LT, TANH_SMALL));
    return y.blend(x, x.compare(VectorOperators.EQ, 0f));
  }
}
