package org.metagrad.meta.semi;

import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.data.ImageClasses;

/**
 * A few-labels classification problem built from a pool of characters (each character one class): for every
 * class its drawings are shuffled with a generator seeded from {@code (seed, class)}; the first is held out
 * for test, the next {@code labelsPerClass} are labelled, and the rest are unlabelled (their labels are kept
 * only for diagnostics such as the accuracy of pseudo-labels; no method trains on them).
 *
 * <p>On Omniglot's {@code images_background} (964 characters x 20 drawings) with 1 label per class this is
 * 964 labelled drawings, 17352 unlabelled ones and 964 test drawings. The held-out drawing does not depend on
 * the label budget (it is always the first of the shuffle), so the budgets share one test set, and the
 * labelled drawings of a smaller budget are a subset of a larger one's.
 *
 * <pre>{@code
 * SemiSplit s = SemiSplit.of(reader.load(OmniglotSet.BACKGROUND), 1, 0);
 * Tensor x = s.test().x();   // [964, 1, 28, 28]
 * }</pre>
 */
public final class SemiSplit {

  /**
   * A set of images with their class labels.
   *
   * @param pixels {@code n * side * side} floats, image after image
   * @param labels the class of each image
   * @param side the image side
   */
  public record Part(float[] pixels, int[] labels, int side) {
    /** The number of images. @return n */
    public int size() {
      return labels.length;
    }

    /** All images as a FLOAT32 tensor {@code [n, 1, side, side]}. @return the tensor */
    public Tensor x() {
      return images(allIndices());
    }

    /**
     * The images at {@code idx} as FLOAT32 {@code [idx.length, 1, side, side]}.
     *
     * @param idx image indices
     * @return the tensor
     */
    public Tensor images(int[] idx) {
      int p = side * side;
      float[] out = new float[idx.length * p];
      for (int j = 0; j < idx.length; j++) {
        System.arraycopy(pixels, idx[j] * p, out, j * p, p);
      }
      return Tensor.of(out, idx.length, 1, side, side);
    }

    /**
     * The labels at {@code idx}.
     *
     * @param idx image indices
     * @return the labels
     */
    public int[] labels(int[] idx) {
      int[] y = new int[idx.length];
      for (int j = 0; j < idx.length; j++) {
        y[j] = labels[idx[j]];
      }
      return y;
    }

    private int[] allIndices() {
      int[] a = new int[labels.length];
      for (int i = 0; i < a.length; i++) {
        a[i] = i;
      }
      return a;
    }
  }

  private final int classes;
  private final int labelsPerClass;
  private final long seed;
  private final Part labelled;
  private final Part unlabelled;
  private final Part test;

  private SemiSplit(int classes, int labelsPerClass, long seed, Part labelled, Part unlabelled, Part test) {
    this.classes = classes;
    this.labelsPerClass = labelsPerClass;
    this.seed = seed;
    this.labelled = labelled;
    this.unlabelled = unlabelled;
    this.test = test;
  }

  /**
   * Splits a pool.
   *
   * @param pool the classes and their drawings
   * @param labelsPerClass labelled drawings per class, >= 1
   * @param seed the seed of the per-class shuffles
   * @return the split
   * @throws IllegalArgumentException when the pool is empty or a class has fewer than
   *     {@code labelsPerClass + 2} drawings (one test, the labelled ones, at least one unlabelled)
   */
  public static SemiSplit of(ImageClasses pool, int labelsPerClass, long seed) {
    if (pool == null || pool.size() == 0) {
      throw new IllegalArgumentException("SemiSplit: the pool has no classes");
    }
    if (labelsPerClass < 1) {
      throw new IllegalArgumentException("SemiSplit: labelsPerClass must be >= 1, got " + labelsPerClass);
    }
    if (pool.minImageCount() < labelsPerClass + 2) {
      throw new IllegalArgumentException("SemiSplit: " + labelsPerClass + " labels per class need " + (labelsPerClass
          + 2) + " drawings per class (one test, one unlabelled at least), but a class has only "
          + pool.minImageCount());
    }
    int side = pool.side();
    int p = side * side;
    int c = pool.size();
    long total = pool.totalImages();
    int nl = c * labelsPerClass;
    int nu = (int) (total - c - nl);
    float[] lx = new float[nl * p];
    int[] ly = new int[nl];
    float[] ux = new float[nu * p];
    int[] uy = new int[nu];
    float[] tx = new float[c * p];
    int[] ty = new int[c];
    int li = 0;
    int ui = 0;
    for (int k = 0; k < c; k++) {
      int n = pool.imageCount(k);
      int[] order = new int[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      new Rng(Augmentations.mix64(seed ^ Augmentations.mix64(k * 0x9E3779B97F4A7C15L + 0x2545F4914F6CDD1DL)))
          .shuffle(order);
      pool.copyImage(k, order[0], 0, tx, k * p);
      ty[k] = k;
      for (int i = 1; i < n; i++) {
        if (i <= labelsPerClass) {
          pool.copyImage(k, order[i], 0, lx, li * p);
          ly[li++] = k;
        } else {
          pool.copyImage(k, order[i], 0, ux, ui * p);
          uy[ui++] = k;
        }
      }
    }
    return new SemiSplit(c, labelsPerClass, seed, new Part(lx, ly, side), new Part(ux, uy, side),
        new Part(tx, ty, side));
  }

  /**
   * This split with another test part (e.g. the labelled drawings, to score a classifier on them).
   *
   * @param newTest the test part
   * @return the split
   */
  public SemiSplit withTest(Part newTest) {
    return new SemiSplit(classes, labelsPerClass, seed, labelled, unlabelled, newTest);
  }

  /** The number of classes. @return the class count */
  public int classes() {
    return classes;
  }

  /** Labelled drawings per class. @return the label budget */
  public int labelsPerClass() {
    return labelsPerClass;
  }

  /** The seed of the shuffles. @return the seed */
  public long seed() {
    return seed;
  }

  /** The labelled drawings. @return the part */
  public Part labelled() {
    return labelled;
  }

  /** The unlabelled drawings (labels for diagnostics only). @return the part */
  public Part unlabelled() {
    return unlabelled;
  }

  /** The held-out drawings, one per class. @return the part */
  public Part test() {
    return test;
  }

  /**
   * All training drawings, labelled then unlabelled (for self-supervised pre-training, which reads no label).
   *
   * @return the part
   */
  public Part allTraining() {
    float[] x = new float[labelled.pixels.length + unlabelled.pixels.length];
    System.arraycopy(labelled.pixels, 0, x, 0, labelled.pixels.length);
    System.arraycopy(unlabelled.pixels, 0, x, labelled.pixels.length, unlabelled.pixels.length);
    int[] y = new int[labelled.size() + unlabelled.size()];
    System.arraycopy(labelled.labels, 0, y, 0, labelled.size());
    System.arraycopy(unlabelled.labels, 0, y, labelled.size(), unlabelled.size());
    return new Part(x, y, labelled.side);
  }

  /**
   * {@code n} indices drawn uniformly with replacement from {@code [0, size)} with a generator seeded from
   * {@code (seed, stream, index)}: minibatch {@code index} is a pure function of these.
   *
   * @param size the population size, >= 1
   * @param n how many
   * @param seed the run's seed
   * @param stream which of a step's draws (e.g. 0 labelled, 1 unlabelled)
   * @param index the step's index
   * @return the indices
   */
  public static int[] draw(int size, int n, long seed, int stream, long index) {
    Rng rng = new Rng(Augmentations.mix64(seed ^ Augmentations.mix64(index * 0x9E3779B97F4A7C15L + stream
        * 0xD1B54A32D192ED03L + 0x5DEECE66DL)));
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) {
      idx[i] = rng.nextInt(size);
    }
    return idx;
  }

}
