package org.metagrad.spi;

/** Reductions over chosen dimensions. SUM of zero elements is 0; MAX of zero elements is an error. */
public enum ReduceOp {
  /** Sum. */ SUM,
  /** Maximum. */ MAX
}
