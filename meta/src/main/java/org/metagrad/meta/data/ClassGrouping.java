package org.metagrad.meta.data;

/**
 * Which classes an {@link EpisodeSampler} may put together in one task.
 */
public enum ClassGrouping {
  /** The N classes are drawn from the whole pool (the usual Omniglot benchmark protocol). */
  ANY,
  /**
   * All N classes come from one alphabet, as in Lake et al.'s one-shot challenge, whose 20-way runs are
   * within-alphabet and so harder than the across-alphabet benchmark: an alphabet with at least N classes
   * (counting rotations under {@link RotationMode#AS_NEW_CLASSES}) is drawn uniformly, then N of its
   * classes.
   */
  SAME_ALPHABET
}
