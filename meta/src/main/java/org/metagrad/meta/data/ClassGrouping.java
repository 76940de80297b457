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
  SAME_ALPHABET,
  /**
   * Built as Lake et al.'s one-shot runs are: all N classes from one alphabet, <b>upright</b> (rotations are
   * never used, whatever the {@link RotationMode}), and <b>one drawer per position</b>: support image k of every
   * class is drawn by the same person a_k, query image q of every class by the same person b_q, the K + Q drawers
   * distinct and drawn per episode. A drawer is an image's index in its character folder: Omniglot names its
   * files {@code <character>_<drawer>.png} and each character has the same 20 drawers, sorted by name. That this
   * is how the runs were made is read off run01 itself: its 20 training drawings are the files {@code _05} (drawer
   * 5) of 20 Atlantean characters, its 20 test drawings the files {@code _08} of the same characters.
   */
  LAKE_RUN
}
