package org.metagrad.meta.data;

/**
 * The shape of an N-way K-shot task with Q query images per class.
 *
 * <p>Example: {@code TaskSpec.of(5, 1, 15)} is 5-way 1-shot with 15 queries per class, so a task
 * holds 5 support and 75 query images.
 *
 * @param ways N, number of classes per task, at least 1
 * @param shots K, support images per class, at least 1
 * @param queries Q, query images per class, at least 0
 */
public record TaskSpec(int ways, int shots, int queries) {

  /**
   * Validates the sizes.
   *
   * @param ways the {@code ways} component (see the record's description)
   * @param shots the {@code shots} component (see the record's description)
   * @param queries the {@code queries} component (see the record's description)
   * @throws IllegalArgumentException when {@code ways < 1}, {@code shots < 1} or {@code queries < 0}
   */
  public TaskSpec {
    if (ways < 1 || shots < 1 || queries < 0) {
      throw new IllegalArgumentException(
          "TaskSpec: need ways >= 1, shots >= 1, queries >= 0, got " + ways + "-way " + shots
              + "-shot " + queries + "-query");
    }
  }

  /**
   * Returns {@code new TaskSpec(ways, shots, queries)}.
   *
   * @param ways N
   * @param shots K
   * @param queries Q
   * @return the spec
   */
  public static TaskSpec of(int ways, int shots, int queries) {
    return new TaskSpec(ways, shots, queries);
  }

  /**
   * Returns how many distinct images each sampled class must provide.
   *
   * @return {@code shots + queries}
   */
  public int imagesPerClass() {
    return shots + queries;
  }
}
