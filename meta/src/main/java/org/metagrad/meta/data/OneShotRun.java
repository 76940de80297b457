package org.metagrad.meta.data;

import java.util.List;

/**
 * One run of Lake et al.'s 20-way one-shot classification challenge, preprocessed like
 * {@link OmniglotReader#preprocess}.
 *
 * <p>{@code training} holds one image per class ({@code classMM.png}, sorted by name),
 * {@code test} one new drawing per item ({@code itemNN.png}, sorted by name), each
 * {@code side * side} floats, concatenated. Test item {@code t} is the same character as training
 * image {@code answers[t]}; a model scores the fraction of items whose nearest training image is
 * the labelled one.
 *
 * @param name the run folder's name, e.g. {@code "run01"}
 * @param side image side
 * @param trainingFiles training file names, e.g. {@code "class01.png"}, in image order
 * @param training {@code trainingFiles.size() * side * side} floats
 * @param testFiles test file names, e.g. {@code "item01.png"}, in image order
 * @param test {@code testFiles.size() * side * side} floats
 * @param answers for each test item, the index of its training image
 */
public record OneShotRun(
    String name,
    int side,
    List<String> trainingFiles,
    float[] training,
    List<String> testFiles,
    float[] test,
    int[] answers) {

  /**
   * Checks that the sizes agree and every answer is a valid training index.
   *
   * @param name the {@code name} component (see the record's description)
   * @param side the {@code side} component (see the record's description)
   * @param trainingFiles the {@code trainingFiles} component (see the record's description)
   * @param training the {@code training} component (see the record's description)
   * @param testFiles the {@code testFiles} component (see the record's description)
   * @param test the {@code test} component (see the record's description)
   * @param answers the {@code answers} component (see the record's description)
   * @throws IllegalArgumentException when a length or an answer is inconsistent
   */
  public OneShotRun {
    trainingFiles = List.copyOf(trainingFiles);
    testFiles = List.copyOf(testFiles);
    int p = side * side;
    if (training.length != trainingFiles.size() * p || test.length != testFiles.size() * p
        || answers.length != testFiles.size()) {
      throw new IllegalArgumentException("OneShotRun " + name + ": array lengths do not match file counts");
    }
    for (int a : answers) {
      if (a < 0 || a >= trainingFiles.size()) {
        throw new IllegalArgumentException("OneShotRun " + name + ": answer " + a + " out of range");
      }
    }
  }

  /**
   * Returns a copy of training image {@code i}.
   *
   * @param i index in {@code [0, trainingFiles().size())}
   * @return {@code side * side} floats
   */
  public float[] trainingImage(int i) {
    return java.util.Arrays.copyOfRange(training, i * side * side, (i + 1) * side * side);
  }

  /**
   * Returns a copy of test image {@code t}.
   *
   * @param t index in {@code [0, testFiles().size())}
   * @return {@code side * side} floats
   */
  public float[] testImage(int t) {
    return java.util.Arrays.copyOfRange(test, t * side * side, (t + 1) * side * side);
  }
}
