package org.metagrad.nn.train;

import java.util.Arrays;
import org.metagrad.Tensor;

/**
 * A labelled mini-batch: inputs x {@code [N, ...]} and integer class labels of length N.
 *
 * <pre>{@code new Batch(Tensor.zeros(32, 1, 28, 28), labels)}</pre>
 *
 * @param x inputs, batch dim first
 * @param y class labels, one per row of x
 */
public record Batch(Tensor x, int[] y) {
  /** Validates that the sizes agree and copies the labels. */
  public Batch {
    if (x == null || y == null || x.rank() < 1 || x.size(0) != y.length) {
      throw new IllegalArgumentException("Batch: inputs " + (x == null ? "null" : Arrays.toString(x.shape()))
          + " do not match " + (y == null ? "null" : y.length) + " labels (batch dim first)");
    }
    y = y.clone();
  }

  /** The labels (a copy). */
  @Override
  public int[] y() {
    return y.clone();
  }

  /** The batch size N. */
  public int size() {
    return y.length;
  }
}
