package org.metagrad.spi;

/**
 * Elementwise binary primitives over two views of equal shape. Comparisons return 1 or 0 in the
 * input dtype and have no gradient.
 */
public enum BinaryOp {
  /** a + b. */ ADD,
  /** a - b. */ SUB,
  /** a * b. */ MUL,
  /** a / b. */ DIV,
  /** a &gt; b. */ GT,
  /** a &gt;= b. */ GE,
  /** a &lt; b. */ LT,
  /** a &lt;= b. */ LE,
  /** a == b. */ EQ,
  /** a != b. */ NE;

  /** True for the comparison ops, whose result is a 0/1 mask. */
  public boolean isComparison() {
    return ordinal() >= GT.ordinal();
  }
}
