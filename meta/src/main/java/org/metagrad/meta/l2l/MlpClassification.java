package org.metagrad.meta.l2l;

import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.data.ImageClasses;

/**
 * The small-MLP problems of Andrychowicz et al. (2016, section 3.2: one hidden layer of 20 sigmoid units,
 * cross-entropy, minibatches of 128 MNIST digits), here on Omniglot: each of the B problems is a
 * {@code classes}-way classification of the images of {@code classes} characters drawn at random from a pool
 * (all of their drawings, e.g. 10 x 20 images), by an MLP {@code side^2 -> hidden (sigmoid) -> classes} with its
 * own random initialisation (PyTorch's default for linear layers, {@code U(-1/sqrt(fan_in), 1/sqrt(fan_in))}).
 * Step t's loss is the mean cross-entropy on a minibatch of {@code batch} images drawn with replacement from the
 * problem's images by a generator seeded from the problem and t, so a trajectory is reproducible;
 * {@link #evalLosses} is the loss over all of the problem's images.
 *
 * <p>Parameters per problem, flattened in this order: {@code W1 [hidden, in]}, {@code b1 [hidden]},
 * {@code W2 [classes, hidden]}, {@code b2 [classes]}.
 *
 * <pre>{@code
 * MlpClassification f = MlpClassification.sample(pool, new Rng(1), 2, 10, 20, 64, DType.FLOAT32);
 * }</pre>
 */
public final class MlpClassification implements Optimizee {
  private final int b;
  private final int in;
  private final int hidden;
  private final int classes;
  private final int batch;
  private final int perProblem;
  private final float[][][] images;   // [problem][image] pixels
  private final int[][] labels;       // [problem][image]
  private final long[] seeds;
  private final Tensor theta0;
  private final DType dtype;
  private Tensor fullX;
  private Tensor fullY;

  private MlpClassification(int in, int hidden, int classes, int batch, float[][][] images, int[][] labels,
                            long[] seeds, Tensor theta0, DType dtype) {
    this.b = images.length;
    this.in = in;
    this.hidden = hidden;
    this.classes = classes;
    this.batch = batch;
    this.perProblem = hidden * in + hidden + classes * hidden + classes;
    this.images = images;
    this.labels = labels;
    this.seeds = seeds;
    this.theta0 = theta0;
    this.dtype = dtype;
  }

  /**
   * B problems over the pool's characters.
   *
   * @param pool characters to draw classes from (at least {@code classes}), each with at least one image
   * @param b problems
   * @param classes classes per problem (>= 2)
   * @param hidden hidden sigmoid units (the paper: 20)
   * @param batch minibatch size (>= 1)
   * @throws IllegalArgumentException for sizes out of range or a pool with too few characters
   */
  public static MlpClassification sample(ImageClasses pool, Rng rng, int b, int classes, int hidden, int batch,
                                         DType dtype) {
    if (b < 1 || classes < 2 || hidden < 1 || batch < 1) {
      throw new IllegalArgumentException("MlpClassification: need b >= 1, classes >= 2, hidden >= 1, batch >= 1; got b "
          + b + ", classes " + classes + ", hidden " + hidden + ", batch " + batch);
    }
    if (pool.size() < classes) {
      throw new IllegalArgumentException("MlpClassification: " + classes + "-way problems need " + classes
          + " characters, the pool has " + pool.size());
    }
    int in = pool.side() * pool.side();
    float[][][] images = new float[b][][];
    int[][] labels = new int[b][];
    long[] seeds = new long[b];
    double[] theta = new double[b * (hidden * in + hidden + classes * hidden + classes)];
    int off = 0;
    for (int p = 0; p < b; p++) {
      int[] order = new int[pool.size()];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      rng.shuffle(order);
      int n = 0;
      for (int c = 0; c < classes; c++) {
        n += pool.imageCount(order[c]);
      }
      images[p] = new float[n][];
      labels[p] = new int[n];
      int k = 0;
      for (int c = 0; c < classes; c++) {
        for (int i = 0; i < pool.imageCount(order[c]); i++) {
          images[p][k] = pool.image(order[c], i);
          labels[p][k++] = c;
        }
      }
      seeds[p] = rng.nextLong();
      double k1 = 1 / Math.sqrt(in);
      double k2 = 1 / Math.sqrt(hidden);
      for (int i = 0; i < hidden * in + hidden; i++) {
        theta[off++] = k1 * (2 * rng.nextDouble() - 1);
      }
      for (int i = 0; i < classes * hidden + classes; i++) {
        theta[off++] = k2 * (2 * rng.nextDouble() - 1);
      }
    }
    return new MlpClassification(in, hidden, classes, batch, images, labels, seeds, Tensor.of(theta, dtype,
        theta.length), dtype);
  }

  /** Parameters of one problem. */
  public int paramsPerProblem() {
    return perProblem;
  }

  @Override
  public Tensor initialParams() {
    return theta0;
  }

  @Override
  public int functions() {
    return b;
  }

  /** Mean cross-entropy of every problem on its step-t minibatch: {@code [B]}. */
  @Override
  public Tensor losses(Tensor theta, int step) {
    double[] x = new double[b * batch * in];
    int[] y = new int[b * batch];
    for (int p = 0; p < b; p++) {
      Rng r = new Rng(seeds[p] * 1_000_003L + step);
      for (int j = 0; j < batch; j++) {
        int i = r.nextInt(images[p].length);
        float[] img = images[p][i];
        int base = (p * batch + j) * in;
        for (int q = 0; q < in; q++) {
          x[base + q] = img[q];
        }
        y[p * batch + j] = labels[p][i];
      }
    }
    return loss(theta, Tensor.of(x, dtype, b, batch, in), F.oneHot(y, classes, dtype).reshape(b, batch, classes));
  }

  /** Mean cross-entropy of every problem over all of its images: {@code [B]}. */
  @Override
  public Tensor evalLosses(Tensor theta) {
    if (fullX == null) {
      int n = images[0].length;
      for (float[][] im : images) {
        n = Math.min(n, im.length);
      }
      // Problems may differ in image count only if the pool does; use the first n of each.
      double[] x = new double[b * n * in];
      int[] y = new int[b * n];
      for (int p = 0; p < b; p++) {
        for (int j = 0; j < n; j++) {
          for (int q = 0; q < in; q++) {
            x[(p * n + j) * in + q] = images[p][j][q];
          }
          y[p * n + j] = labels[p][j];
        }
      }
      fullX = Tensor.of(x, dtype, b, n, in);
      fullY = F.oneHot(y, classes, dtype).reshape(b, n, classes);
    }
    return loss(theta, fullX, fullY);
  }

  /** Query-free accuracy over all images of every problem (for reports): {@code [B]} fractions. */
  public double[] accuracy(Tensor theta) {
    evalLosses(theta);
    Tensor logits = logits(theta.detach(), fullX);
    double[] l = logits.toDoubleArray();
    double[] yy = fullY.toDoubleArray();
    int n = fullX.size(1);
    double[] acc = new double[b];
    for (int p = 0; p < b; p++) {
      int right = 0;
      for (int j = 0; j < n; j++) {
        int base = (p * n + j) * classes;
        int arg = 0;
        for (int c = 1; c < classes; c++) {
          if (l[base + c] > l[base + arg]) {
            arg = c;
          }
        }
        right += yy[base + arg] == 1 ? 1 : 0;
      }
      acc[p] = right / (double) n;
    }
    return acc;
  }

  private Tensor logits(Tensor theta, Tensor x) {
    if (theta.rank() != 1 || theta.size(0) != b * perProblem) {
      throw new IllegalArgumentException("MlpClassification: expected theta [" + b * perProblem + "], got "
          + java.util.Arrays.toString(theta.shape()));
    }
    Tensor t = theta.reshape(b, perProblem);
    int o = 0;
    Tensor w1 = t.slice(1, o, o += hidden * in).reshape(b, hidden, in);
    Tensor b1 = t.slice(1, o, o += hidden).reshape(b, 1, hidden);
    Tensor w2 = t.slice(1, o, o += classes * hidden).reshape(b, classes, hidden);
    Tensor b2 = t.slice(1, o, o + classes).reshape(b, 1, classes);
    Tensor h = x.matmul(w1.mT()).add(b1).sigmoid();
    return h.matmul(w2.mT()).add(b2);
  }

  private Tensor loss(Tensor theta, Tensor x, Tensor oneHot) {
    Tensor logp = F.logSoftmax(logits(theta, x), 2);
    return logp.mul(oneHot).sum(new int[] {1, 2}, false).div(-x.size(1));
  }
}
