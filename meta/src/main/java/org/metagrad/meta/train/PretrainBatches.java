package org.metagrad.meta.train;

import java.util.SplittableRandom;
import org.metagrad.Tensor;
import org.metagrad.meta.data.Distortion;
import org.metagrad.meta.data.ImageClasses;
import org.metagrad.meta.data.RotationMode;
import org.metagrad.nn.train.Batch;

/**
 * Labelled minibatches over <b>all</b> classes of a pool, for the pre-training of the transfer baselines:
 * batch {@code i} is a pure function of {@code (pool, rotation, batchSize, seed, i)}, like an episode of
 * {@link org.metagrad.meta.data.EpisodeSampler}, so that threads and resumption do not change what is seen.
 *
 * <p>Each image is drawn independently (with replacement): a class uniformly among {@link #classes()}, then
 * one of its drawings uniformly. Classes: with {@link RotationMode#AS_NEW_CLASSES} class {@code 4c + r} is
 * character {@code c} rotated by {@code r} quarter turns (as the episodic sampler numbers them), so the
 * Vinyals split's 1028 training characters give 4112 classes; with {@link RotationMode#RANDOM_PER_TASK}
 * class {@code c} is character {@code c}, each image rotated by a random multiple of 90° (augmentation);
 * with {@link RotationMode#NONE} class {@code c} is character {@code c}, unrotated.
 *
 * <pre>{@code
 * PretrainBatches b = new PretrainBatches(train, RotationMode.AS_NEW_CLASSES, 64, 1);
 * Batch first = b.batch(0);   // x [64, 1, 28, 28], y in [0, 4112)
 * }</pre>
 */
public final class PretrainBatches {
  private final ImageClasses pool;
  private final RotationMode rotation;
  private final int batchSize;
  private final long seed;
  private final int classes;
  private final Distortion distortion;

  /**
   * Batches over a pool.
   *
   * @throws IllegalArgumentException for an empty pool, a class without images or a batch size below 1
   */
  public PretrainBatches(ImageClasses pool, RotationMode rotation, int batchSize, long seed) {
    if (pool == null || rotation == null) {
      throw new IllegalArgumentException("PretrainBatches: pool and rotation are required");
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("PretrainBatches: batch size must be >= 1, got " + batchSize);
    }
    if (pool.size() == 0 || pool.minImageCount() < 1) {
      throw new IllegalArgumentException("PretrainBatches: the pool needs at least one class with images");
    }
    this.pool = pool;
    this.rotation = rotation;
    this.batchSize = batchSize;
    this.seed = seed;
    this.classes = classes(pool.size(), rotation);
    this.distortion = Distortion.NONE;
  }

  private PretrainBatches(PretrainBatches base, Distortion distortion) {
    this.pool = base.pool;
    this.rotation = base.rotation;
    this.batchSize = base.batchSize;
    this.seed = base.seed;
    this.classes = base.classes;
    this.distortion = java.util.Objects.requireNonNull(distortion, "distortion");
  }

  /**
   * Returns the same batches with every image distorted by a random affine map (the maps come from a
   * second generator seeded from {@code (seed, index)}; the drawn images and labels are unchanged).
   *
   * @param distortion the distortion; {@link Distortion#NONE} gives these exact batches
   * @return the distorting batches
   */
  public PretrainBatches withDistortion(Distortion distortion) {
    return new PretrainBatches(this, distortion);
  }

  /** The number of pre-training classes of {@code characters} characters under a rotation mode. */
  public static int classes(int characters, RotationMode rotation) {
    return rotation == RotationMode.AS_NEW_CLASSES ? 4 * characters : characters;
  }

  /** The number of classes labels are drawn from. */
  public int classes() {
    return classes;
  }

  /** Images per batch. */
  public int batchSize() {
    return batchSize;
  }

  /** Batch {@code index}: images {@code [B, 1, side, side]} (FLOAT32) and their class labels. */
  public Batch batch(long index) {
    if (index < 0) {
      throw new IllegalArgumentException("PretrainBatches: index must be >= 0, got " + index);
    }
    SplittableRandom rng = new SplittableRandom(mix64(seed ^ mix64(index * 0x9E3779B97F4A7C15L + 0x5DEECE66DL)));
    int side = pool.side();
    int p = side * side;
    float[] x = new float[batchSize * p];
    int[] y = new int[batchSize];
    for (int j = 0; j < batchSize; j++) {
      int k = rng.nextInt(classes);
      int c = rotation == RotationMode.AS_NEW_CLASSES ? k >> 2 : k;
      int turns = switch (rotation) {
        case AS_NEW_CLASSES -> k & 3;
        case RANDOM_PER_TASK -> rng.nextInt(4);
        case NONE -> 0;
      };
      pool.copyImage(c, rng.nextInt(pool.imageCount(c)), turns, x, j * p);
      y[j] = k;
    }
    if (!distortion.isIdentity()) {
      SplittableRandom drng = new SplittableRandom(mix64(seed ^ mix64(index * 0x9E3779B97F4A7C15L + 0xD1B54A32D192ED03L)));
      float[] scratch = new float[p];
      for (int j = 0; j < batchSize; j++) {
        distortion.apply(x, j * p, side, drng, scratch);
      }
    }
    return new Batch(Tensor.of(x, batchSize, 1, side, side), y);
  }

  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
