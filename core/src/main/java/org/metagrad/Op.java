package org.metagrad;

/**
 * The differentiable primitives the autograd graph records. Everything else is composed from these
 * (see {@link F}); each has exactly one backward rule in {@link Derivatives}.
 */
enum Op {
  NEG, EXP, LOG, SQRT, TANH, POW,
  ADD, SUB, MUL, DIV,
  WHERE,
  SUM, MAX,
  RESHAPE, PERMUTE, EXPAND, SLICE, PAD, CONCAT,
  MATMUL,
  UNFOLD, FOLD,
  CAST, TRANSFER,
  /** A fused composite (batch norm, pooling): attr is a {@link Fused}; see there for its derivatives. */
  FUSED
}
