package org.metagrad.spi;

/**
 * Elementwise unary primitives. {@code POW} takes the exponent as the kernel's scalar parameter.
 *
 * <p><b>Determinism.</b> Every CPU backend gives the same bits for the same input on every call, in every
 * JIT tier (interpreter, C1, C2), on every thread count and in every process: the results of
 * {@code EXP}, {@code LOG}, {@code TANH} and {@code POW} never come from {@code Math}'s intrinsics or the
 * Vector API's {@code lanewise(EXP/LOG/POW/TANH)} (both may change by an ulp once the JIT compiles them).
 * <ul>
 *   <li>reference and cpu-scalar: {@link StrictMath} in double (fdlibm, bit-defined), rounded once to
 *       float for FLOAT32; the two backends agree bit for bit.</li>
 *   <li>cpu-vector, FLOAT32 {@code EXP}, {@code LOG}, {@code TANH}: the project's own vectorized
 *       routines, built only from IEEE add, sub, mul, div, comparisons and integer bit operations, with a
 *       scalar twin for tails and strided views that gives the same bits as the lanes. Measured against
 *       {@code (float) StrictMath.f(x)} over all 2^32 floats: at most 1 ulp apart (exp: 0.42%, log: 0.31%,
 *       tanh: 0.13% of inputs differ from it by that ulp), infinities, zeros and NaN exact; against the
 *       exact value at most 1.02 (exp), 0.86 (log) and 1.34 ulp (tanh).</li>
 *   <li>cpu-vector, FLOAT64 {@code EXP}, {@code LOG}, {@code TANH}, and {@code POW} in both dtypes
 *       (except {@code p} = 0, 1, 2, computed exactly): {@link StrictMath} element by element, so the
 *       reference's bits.</li>
 *   <li>{@code NEG}, {@code SQRT}, {@code SIGN}: correctly rounded (exact) on every backend.</li>
 * </ul>
 * The OpenCL backend compiles its own kernels with the device's math library (PoCL on the CPU): its
 * results are deterministic for a given device and driver, and within the conformance tolerance of the
 * reference, but not bit-identical to the CPU backends'.
 */
public enum UnaryOp {
  /** {@code -x}. */
  NEG,
  /** {@code e^x}. */
  EXP,
  /** Natural logarithm. */
  LOG,
  /** Square root. */
  SQRT,
  /** Hyperbolic tangent. */
  TANH,
  /** {@code x^p} for a scalar p. */
  POW,
  /** {@code -1, 0, 1} by the sign of x (0 for NaN-free zero); not differentiable (zero gradient). */
  SIGN
}
