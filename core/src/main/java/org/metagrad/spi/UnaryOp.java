package org.metagrad.spi;

/** Elementwise unary primitives. {@code POW} takes the exponent as the kernel's scalar parameter. */
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
