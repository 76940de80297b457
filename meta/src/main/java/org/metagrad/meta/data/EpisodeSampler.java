package org.metagrad.meta.data;

import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Samples N-way K-shot Q-query episodes from a pool of classes, reproducibly.
 *
 * <p>Episode {@code i} is a pure function of {@code (pool, spec, rotation, seed, i)}: its random
 * numbers come from a {@link SplittableRandom} seeded with a hash of {@code seed} and {@code i},
 * never from global state. So the same seed gives the same episodes, on any thread, with or
 * without {@link #prefetching prefetching}. For each episode: N distinct classes are drawn
 * uniformly without replacement (the "classes" being the pool's classes, or for
 * {@link RotationMode#AS_NEW_CLASSES} its (class, rotation) pairs; with {@link ClassGrouping#SAME_ALPHABET}
 * only those of one alphabet, drawn first); for each, K + Q distinct images
 * are drawn without replacement, the first K going to the support set and the rest to the query
 * set; labels are the draw order {@code 0..N-1}. With {@link ClassGrouping#LAKE_RUN} the classes are upright
 * characters of one alphabet and K + Q distinct image indices (drawers) are drawn once per episode, the same for
 * every class.
 *
 * <p>Instances are immutable and thread-safe. Example:
 *
 * <pre>{@code
 * EpisodeSampler s = new EpisodeSampler(train, TaskSpec.of(20, 1, 5), RotationMode.NONE, 7L);
 * Episode e0 = s.episode(0);            // same as the first episode of s.sequential()
 * }</pre>
 */
public final class EpisodeSampler {

  private final ImageClasses pool;
  private final TaskSpec spec;
  private final RotationMode rotation;
  private final long seed;
  private final int classCount;
  private final ClassGrouping grouping;
  /** For {@link ClassGrouping#SAME_ALPHABET}: the sampler's class numbers of each eligible alphabet. */
  private final int[][] groups;
  private final Distortion distortion;

  /**
   * Creates a sampler and checks that the pool can serve the task shape.
   *
   * @param pool the classes to draw from
   * @param spec N, K and Q
   * @param rotation how rotations are used
   * @param seed the seed of the whole episode sequence
   * @throws IllegalArgumentException when the pool has fewer than N classes (counting rotations for
   *     {@link RotationMode#AS_NEW_CLASSES}) or some class has fewer than K + Q images
   */
  public EpisodeSampler(ImageClasses pool, TaskSpec spec, RotationMode rotation, long seed) {
    this(pool, spec, rotation, ClassGrouping.ANY, seed);
  }

  /**
   * Creates a sampler whose tasks group their classes as {@code grouping} says. With
   * {@link ClassGrouping#ANY} the episodes are those of the four-argument constructor.
   *
   * @param pool the classes to draw from
   * @param spec N, K and Q
   * @param rotation how rotations are used
   * @param grouping which classes may share a task
   * @param seed the seed of the whole episode sequence
   * @throws IllegalArgumentException as the four-argument constructor, and for
   *     {@link ClassGrouping#SAME_ALPHABET} or {@link ClassGrouping#LAKE_RUN} when no alphabet of the pool has N
   *     classes (for {@code LAKE_RUN} rotations never count: its characters are upright)
   */
  public EpisodeSampler(ImageClasses pool, TaskSpec spec, RotationMode rotation, ClassGrouping grouping, long seed) {
    this.grouping = java.util.Objects.requireNonNull(grouping, "grouping");
    this.pool = java.util.Objects.requireNonNull(pool, "pool");
    this.spec = java.util.Objects.requireNonNull(spec, "spec");
    java.util.Objects.requireNonNull(rotation, "rotation");
    this.rotation = grouping == ClassGrouping.LAKE_RUN ? RotationMode.NONE : rotation;
    this.seed = seed;
    this.classCount = this.rotation == RotationMode.AS_NEW_CLASSES ? pool.size() * 4 : pool.size();
    if (spec.ways() > classCount) {
      throw new IllegalArgumentException(
          "EpisodeSampler: a " + spec.ways() + "-way task needs " + spec.ways()
              + " classes but the pool has " + classCount
              + (this.rotation == RotationMode.AS_NEW_CLASSES ? " (" + pool.size() + " characters x 4 rotations)"
                  : ""));
    }
    for (int c = 0; c < pool.size(); c++) {
      if (pool.imageCount(c) < spec.imagesPerClass()) {
        throw new IllegalArgumentException(
            "EpisodeSampler: " + spec.shots() + "-shot " + spec.queries() + "-query tasks need "
                + spec.imagesPerClass() + " images per class but class " + pool.id(c) + " has "
                + pool.imageCount(c));
      }
    }
    this.groups = grouping == ClassGrouping.ANY ? null : alphabetGroups(pool, this.rotation, spec.ways());
    this.distortion = Distortion.NONE;
  }

  private EpisodeSampler(EpisodeSampler base, Distortion distortion) {
    this.pool = base.pool;
    this.spec = base.spec;
    this.rotation = base.rotation;
    this.seed = base.seed;
    this.classCount = base.classCount;
    this.grouping = base.grouping;
    this.groups = base.groups;
    this.distortion = java.util.Objects.requireNonNull(distortion, "distortion");
  }

  /**
   * Returns a sampler of the same episodes whose images are each distorted by a random affine map (see
   * {@link Distortion}), support and query alike; for training-time augmentation. The classes, drawings,
   * rotations and labels of episode {@code i} are those of this sampler's episode {@code i}: the maps
   * come from a second generator seeded from {@code (seed, i)}, so episodes stay pure functions of their
   * index.
   *
   * @param distortion the distortion; {@link Distortion#NONE} gives this sampler's exact episodes
   * @return the distorting sampler
   */
  public EpisodeSampler withDistortion(Distortion distortion) {
    return new EpisodeSampler(this, distortion);
  }

  /**
   * Returns the distortion applied to every image ({@link Distortion#NONE} unless made by
   * {@link #withDistortion}).
   *
   * @return the distortion
   */
  public Distortion distortion() {
    return distortion;
  }

  /** Sampler class numbers (rotations expanded as {@code 4c + r}) per alphabet with at least {@code ways}. */
  private static int[][] alphabetGroups(ImageClasses pool, RotationMode rotation, int ways) {
    java.util.Map<String, List<Integer>> byAlphabet = new java.util.TreeMap<>();
    for (int c = 0; c < pool.size(); c++) {
      CharacterId id = pool.id(c);
      List<Integer> g = byAlphabet.computeIfAbsent(id.set() + "/" + id.alphabet(), a -> new ArrayList<>());
      if (rotation == RotationMode.AS_NEW_CLASSES) {
        for (int r = 0; r < 4; r++) {
          g.add(4 * c + r);
        }
      } else {
        g.add(c);
      }
    }
    List<int[]> eligible = new ArrayList<>();
    int largest = 0;
    for (List<Integer> g : byAlphabet.values()) {
      largest = Math.max(largest, g.size());
      if (g.size() >= ways) {
        eligible.add(g.stream().mapToInt(Integer::intValue).toArray());
      }
    }
    if (eligible.isEmpty()) {
      throw new IllegalArgumentException("EpisodeSampler: a " + ways + "-way within-alphabet task needs an alphabet with "
          + ways + " classes but the largest of the pool's " + byAlphabet.size() + " alphabets has " + largest
          + (rotation == RotationMode.AS_NEW_CLASSES ? " (characters x 4 rotations)" : ""));
    }
    return eligible.toArray(new int[0][]);
  }

  /**
   * Returns which classes may share a task.
   *
   * @return the grouping
   */
  public ClassGrouping grouping() {
    return grouping;
  }

  /**
   * Returns how many alphabets tasks are drawn from under {@link ClassGrouping#SAME_ALPHABET} or
   * {@link ClassGrouping#LAKE_RUN} (those with at least N classes), or 0 for {@link ClassGrouping#ANY}.
   *
   * @return the number of eligible alphabets
   */
  public int alphabetCount() {
    return groups == null ? 0 : groups.length;
  }

  /**
   * Returns the pool this sampler draws from.
   *
   * @return the pool
   */
  public ImageClasses pool() {
    return pool;
  }

  /**
   * Returns the task shape.
   *
   * @return N, K and Q
   */
  public TaskSpec spec() {
    return spec;
  }

  /**
   * Returns the number of classes episodes are drawn from ({@code 4 * pool.size()} for
   * {@link RotationMode#AS_NEW_CLASSES}, else {@code pool.size()}).
   *
   * @return the class count
   */
  public int classCount() {
    return classCount;
  }

  /**
   * Returns episode {@code index} of this sampler's sequence.
   *
   * @param index any non-negative index
   * @return the episode; equal content for equal arguments
   * @throws IllegalArgumentException when {@code index < 0}
   */
  public Episode episode(long index) {
    if (index < 0) {
      throw new IllegalArgumentException("EpisodeSampler: episode index must be >= 0, got " + index);
    }
    SplittableRandom rng = new SplittableRandom(mix64(seed ^ mix64(index * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L)));
    int n = spec.ways();
    int k = spec.shots();
    int q = spec.queries();
    int side = pool.side();
    int p = side * side;
    int[] chosen;
    if (groups == null) {
      chosen = drawDistinct(rng, classCount, n);
    } else {
      int[] group = groups[rng.nextInt(groups.length)];
      chosen = drawDistinct(rng, group.length, n);
      for (int j = 0; j < n; j++) {
        chosen[j] = group[chosen[j]];
      }
    }
    int[] classIndices = new int[n];
    int[] rotations = new int[n];
    List<CharacterId> ids = new ArrayList<>(n);
    for (int j = 0; j < n; j++) {
      switch (rotation) {
        case NONE -> classIndices[j] = chosen[j];
        case AS_NEW_CLASSES -> {
          classIndices[j] = chosen[j] >> 2;
          rotations[j] = chosen[j] & 3;
        }
        case RANDOM_PER_TASK -> {
          classIndices[j] = chosen[j];
          rotations[j] = rng.nextInt(4);
        }
      }
      ids.add(pool.id(classIndices[j]));
    }
    // LAKE_RUN: one drawer per support / query position, the same for every class of the episode.
    int[] drawers = grouping == ClassGrouping.LAKE_RUN ? drawDistinct(rng, fewestImages(classIndices), k + q) : null;
    float[] sx = new float[n * k * p];
    int[] sy = new int[n * k];
    float[] qx = new float[n * q * p];
    int[] qy = new int[n * q];
    for (int j = 0; j < n; j++) {
      int c = classIndices[j];
      int[] imgs = drawers != null ? drawers : drawDistinct(rng, pool.imageCount(c), k + q);
      for (int t = 0; t < k; t++) {
        pool.copyImage(c, imgs[t], rotations[j], sx, (j * k + t) * p);
        sy[j * k + t] = j;
      }
      for (int t = 0; t < q; t++) {
        pool.copyImage(c, imgs[k + t], rotations[j], qx, (j * q + t) * p);
        qy[j * q + t] = j;
      }
    }
    if (!distortion.isIdentity()) {
      SplittableRandom drng = new SplittableRandom(mix64(seed ^ mix64(index * 0x9E3779B97F4A7C15L + 0xD1B54A32D192ED03L)));
      float[] scratch = new float[p];
      for (int i = 0; i < n * k; i++) {
        distortion.apply(sx, i * p, side, drng, scratch);
      }
      for (int i = 0; i < n * q; i++) {
        distortion.apply(qx, i * p, side, drng, scratch);
      }
    }
    return new Episode(index, spec, side, sx, sy, qx, qy, classIndices, ids, rotations);
  }

  /**
   * Returns a source of episodes 0, 1, 2, ... computed on the caller's thread.
   *
   * @return a new source; closing it only disables it
   */
  public EpisodeSource sequential() {
    return new EpisodeSource() {
      private long next;
      private boolean closed;

      @Override
      public Episode next() {
        if (closed) {
          throw new IllegalStateException("EpisodeSource is closed");
        }
        return episode(next++);
      }

      @Override
      public void close() {
        closed = true;
      }
    };
  }

  /**
   * Returns a source of episodes 0, 1, 2, ... computed ahead by one background thread into a
   * bounded queue; the sequence is identical to {@link #sequential()}'s.
   *
   * @param capacity how many episodes may wait in the queue, at least 1
   * @return a started source; close it to stop the thread
   * @throws IllegalArgumentException when {@code capacity < 1}
   */
  public EpisodeSource prefetching(int capacity) {
    return new PrefetchingEpisodeSource(this, capacity);
  }

  /** The smallest image count among the given classes (the drawers every one of them has). */
  private int fewestImages(int[] classIndices) {
    int m = Integer.MAX_VALUE;
    for (int c : classIndices) {
      m = Math.min(m, pool.imageCount(c));
    }
    return m;
  }

  /** Draws {@code count} distinct values of {@code [0, bound)} in random order (partial Fisher-Yates). */
  private static int[] drawDistinct(SplittableRandom rng, int bound, int count) {
    if (count > bound) {
      throw new NoSuchElementException("cannot draw " + count + " distinct values below " + bound);
    }
    int[] a = new int[bound];
    for (int i = 0; i < bound; i++) {
      a[i] = i;
    }
    for (int i = 0; i < count; i++) {
      int j = i + rng.nextInt(bound - i);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return java.util.Arrays.copyOf(a, count);
  }

  /** Stafford's 64-bit finaliser (variant 13), a bijective bit mixer. */
  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
