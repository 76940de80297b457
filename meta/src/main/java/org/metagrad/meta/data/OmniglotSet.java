package org.metagrad.meta.data;

/**
 * The two halves of Omniglot as distributed: 30 background alphabets (964 characters) and 20
 * evaluation alphabets (659 characters).
 */
public enum OmniglotSet {
  /** {@code images_background}: 30 alphabets, 964 characters, 19,280 images. */
  BACKGROUND("images_background"),
  /** {@code images_evaluation}: 20 alphabets, 659 characters, 13,180 images. */
  EVALUATION("images_evaluation");

  private final String folder;

  OmniglotSet(String folder) {
    this.folder = folder;
  }

  /**
   * Returns the folder name of this set inside the Omniglot root.
   *
   * @return {@code "images_background"} or {@code "images_evaluation"}
   */
  public String folder() {
    return folder;
  }
}
