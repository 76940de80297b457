package org.metagrad.meta.data;

import java.util.Objects;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.Mann;

/**
 * Episodes for a {@link Mann}: N classes, {@code instances} images of each, shown in a random order (T =
 * N x instances steps), as Santoro et al. (2016) sample them (10 instances per class, so the 10th presentation
 * exists for every class). The classes and images of episode {@code i} are those of an {@link EpisodeSampler}'s
 * N-way {@code instances}-shot episode {@code i} (same pool, rotation mode, grouping and seed); the order of the
 * steps and the string label codes come from a second generator seeded from {@code (seed, i)}. So episodes are
 * pure functions of their index, on any thread.
 *
 * <pre>{@code
 * MannEpisodes e = new MannEpisodes(train, 5, 10, RotationMode.AS_NEW_CLASSES, Mann.Labels.ONE_HOT, 7L);
 * Mann.Batch b = e.batch(3, 16, DType.FLOAT32);   // episodes 48..63: x [50, 16, side*side]
 * }</pre>
 */
public final class MannEpisodes {
  private final EpisodeSampler sampler;
  private final int classes;
  private final int instances;
  private final Mann.Labels labels;
  private final long seed;

  /**
   * Episodes of a pool.
   *
   * @param pool the classes to draw from
   * @param classes N, classes per episode (>= 2)
   * @param instances images of each class per episode (>= 1)
   * @param rotation how rotations make classes (see {@link RotationMode})
   * @param labels how labels are coded (string codes are drawn per episode)
   * @param seed the seed of the whole sequence
   * @throws IllegalArgumentException when the pool cannot serve the episodes (as {@link EpisodeSampler})
   */
  public MannEpisodes(ImageClasses pool, int classes, int instances, RotationMode rotation, Mann.Labels labels,
                      long seed) {
    this(new EpisodeSampler(pool, TaskSpec.of(classes, instances, 0), rotation, seed), labels, seed);
    if (classes < 2) {
      throw new IllegalArgumentException("MannEpisodes: classes per episode must be >= 2, got " + classes);
    }
  }

  private MannEpisodes(EpisodeSampler sampler, Mann.Labels labels, long seed) {
    this.sampler = sampler;
    this.classes = sampler.spec().ways();
    this.instances = sampler.spec().shots();
    this.labels = Objects.requireNonNull(labels, "labels");
    this.seed = seed;
  }

  /** The same episodes with every image distorted by a random affine map (training-time augmentation). */
  public MannEpisodes withDistortion(Distortion distortion) {
    return new MannEpisodes(sampler.withDistortion(distortion), labels, seed);
  }

  /** N, classes per episode. */
  public int classes() {
    return classes;
  }

  /** Images of each class per episode. */
  public int instances() {
    return instances;
  }

  /** Steps per episode, {@code classes * instances}. */
  public int steps() {
    return classes * instances;
  }

  /**
   * Episodes {@code index*size .. index*size + size - 1} as one batch.
   *
   * @param index the batch index, >= 0
   * @param size episodes per batch, >= 1
   * @param dtype dtype of the images
   */
  public Mann.Batch batch(long index, int size, DType dtype) {
    if (index < 0 || size < 1) {
      throw new IllegalArgumentException("MannEpisodes: need batch index >= 0 and size >= 1, got " + index + " and "
          + size);
    }
    int t = steps();
    int p = sampler.pool().side() * sampler.pool().side();
    double[] x = new double[t * size * p];
    int[][] ys = new int[size][t];
    int[][] codes = new int[size][];
    int[][] inst = new int[size][t];
    for (int e = 0; e < size; e++) {
      long i = index * size + e;
      Episode ep = sampler.episode(i);
      Rng rng = new Rng(seed * 0x9E3779B97F4A7C15L + i * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL);
      int[] order = new int[t];
      for (int s = 0; s < t; s++) {
        order[s] = s;
      }
      for (int s = t - 1; s > 0; s--) {
        int j = rng.nextInt(s + 1);
        int tmp = order[s];
        order[s] = order[j];
        order[j] = tmp;
      }
      codes[e] = codes(rng);
      int[] seen = new int[classes];
      float[] src = ep.supportX();
      for (int s = 0; s < t; s++) {
        int img = order[s];
        int y = ep.supportY()[img];
        ys[e][s] = y;
        inst[e][s] = ++seen[y];
        int dst = (s * size + e) * p;
        for (int k = 0; k < p; k++) {
          x[dst + k] = src[img * p + k];
        }
      }
    }
    return new Mann.Batch(Tensor.of(x, dtype, t, size, p), ys, codes, inst);
  }

  /** One-hot: class n has code n; strings: N distinct codes drawn uniformly from the 3125. */
  private int[] codes(Rng rng) {
    int[] c = new int[classes];
    if (labels == Mann.Labels.ONE_HOT) {
      for (int n = 0; n < classes; n++) {
        c[n] = n;
      }
      return c;
    }
    int all = labels.codes(classes);
    for (int n = 0; n < classes; n++) {
      boolean again;
      do {
        c[n] = rng.nextInt(all);
        again = false;
        for (int m = 0; m < n; m++) {
          again |= c[m] == c[n];
        }
      } while (again);
    }
    return c;
  }
}
