package org.metagrad.meta.data;

/**
 * How an {@link EpisodeSampler} uses rotations by multiples of 90 degrees (counter-clockwise).
 */
public enum RotationMode {
  /** No rotation: the classes are the pool's classes. */
  NONE,
  /**
   * Each class at 0/90/180/270 degrees is a class of its own (Vinyals et al., ProtoNets): a pool
   * of C characters yields 4C classes, and one task may contain the same character at two
   * rotations as two different classes.
   */
  AS_NEW_CLASSES,
  /**
   * Each sampled class gets one random rotation for the whole task, the same for its support and
   * query images (MAML's Omniglot data generator); the number of classes stays C.
   */
  RANDOM_PER_TASK
}
