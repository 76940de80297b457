package org.metagrad.meta.data;

import java.util.List;

/**
 * One sampled N-way K-shot task: support and query images with labels {@code 0..N-1}.
 *
 * <p>Layout, with {@code P = side * side}: {@code supportX} holds {@code N*K} images, class-major,
 * image {@code n*K + k} at {@code supportX[(n*K + k) * P ..]} with {@code supportY[n*K + k] = n};
 * {@code queryX}/{@code queryY} likewise with {@code Q} images per class. Support and query images
 * of a class are distinct images. Label {@code n} is pool class {@code classIndices[n]}
 * ({@code classIds.get(n)}), shown rotated counter-clockwise by {@code rotations[n] * 90} degrees.
 * The arrays belong to whoever holds the episode and are not copied.
 *
 * @param index the episode's index in its sampler's sequence
 * @param spec N, K and Q
 * @param side image side; each image is {@code side * side} floats
 * @param supportX {@code N*K*side*side} floats
 * @param supportY {@code N*K} labels in {@code [0, N)}
 * @param queryX {@code N*Q*side*side} floats
 * @param queryY {@code N*Q} labels in {@code [0, N)}
 * @param classIndices for each label, the class index in the sampler's {@link ImageClasses}
 * @param classIds for each label, the character's id
 * @param rotations for each label, quarter turns 0..3
 */
public record Episode(
    long index,
    TaskSpec spec,
    int side,
    float[] supportX,
    int[] supportY,
    float[] queryX,
    int[] queryY,
    int[] classIndices,
    List<CharacterId> classIds,
    int[] rotations) {

  /**
   * Checks that the array lengths match {@code spec} and {@code side}.
   *
   * @param index the {@code index} component (see the record's description)
   * @param spec the {@code spec} component (see the record's description)
   * @param side the {@code side} component (see the record's description)
   * @param supportX the {@code supportX} component (see the record's description)
   * @param supportY the {@code supportY} component (see the record's description)
   * @param queryX the {@code queryX} component (see the record's description)
   * @param queryY the {@code queryY} component (see the record's description)
   * @param classIndices the {@code classIndices} component (see the record's description)
   * @param classIds the {@code classIds} component (see the record's description)
   * @param rotations the {@code rotations} component (see the record's description)
   * @throws IllegalArgumentException when a length is inconsistent
   */
  public Episode {
    int n = spec.ways();
    int p = side * side;
    classIds = List.copyOf(classIds);
    if (supportX.length != n * spec.shots() * p || supportY.length != n * spec.shots()
        || queryX.length != n * spec.queries() * p || queryY.length != n * spec.queries()
        || classIndices.length != n || classIds.size() != n || rotations.length != n) {
      throw new IllegalArgumentException("Episode: array lengths do not match " + spec + " at side " + side);
    }
  }
}
