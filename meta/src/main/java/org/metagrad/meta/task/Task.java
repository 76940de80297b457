package org.metagrad.meta.task;

import java.util.Arrays;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Tensor;
import org.metagrad.meta.data.Episode;

/**
 * An N-way few-shot classification task: support images {@code [S, ...]} with labels in
 * {@code [0, ways)}, query images {@code [Q, ...]} with labels in {@code [0, ways)}; the loss is
 * cross-entropy of logits {@code [*, ways]}.
 *
 * <p>Every class must appear at least once in the support set (prototypes and one-shot matching are
 * undefined otherwise); both sets must be non-empty. Label arrays are copied.
 *
 * <pre>{@code
 * Task t = Task.of(sx, new int[] {10, 1, 28, 28}, sy, qx, new int[] {20, 1, 28, 28}, qy, 5);
 * Task t2 = Task.fromEpisode(episode);   // [N*K, 1, side, side], FLOAT32
 * }</pre>
 *
 * @param supportX support inputs {@code [S, ...]}
 * @param supportY S labels in {@code [0, ways)}
 * @param queryX query inputs {@code [Q, ...]} with the same trailing shape as supportX
 * @param queryY Q labels in {@code [0, ways)}
 * @param ways number of classes N
 */
public record Task(Tensor supportX, int[] supportY, Tensor queryX, int[] queryY, int ways)
    implements FewShotTask {

  /**
   * Validates shapes and labels.
   *
   * @throws IllegalArgumentException for an empty support or query set, mismatched lengths or trailing
   *     shapes, a label outside {@code [0, ways)}, or a class without support examples
   */
  public Task {
    if (ways < 1) {
      throw new IllegalArgumentException("Task: ways must be >= 1, got " + ways);
    }
    if (supportX == null || queryX == null || supportY == null || queryY == null) {
      throw new IllegalArgumentException("Task: null support or query");
    }
    checkSet("support", supportX, supportY, ways);
    checkSet("query", queryX, queryY, ways);
    int[] ts = Arrays.copyOfRange(supportX.shape(), 1, supportX.rank());
    int[] tq = Arrays.copyOfRange(queryX.shape(), 1, queryX.rank());
    if (!Arrays.equals(ts, tq)) {
      throw new IllegalArgumentException("Task: support examples " + Arrays.toString(ts)
          + " and query examples " + Arrays.toString(tq) + " have different shapes");
    }
    if (supportX.dtype() != queryX.dtype()) {
      throw new IllegalArgumentException("Task: support is " + supportX.dtype() + " but query is "
          + queryX.dtype());
    }
    int[] counts = new int[ways];
    for (int y : supportY) {
      counts[y]++;
    }
    for (int c = 0; c < ways; c++) {
      if (counts[c] == 0) {
        throw new IllegalArgumentException("Task: class " + c + " of " + ways + " has no support example");
      }
    }
    supportY = supportY.clone();
    queryY = queryY.clone();
  }

  private static void checkSet(String which, Tensor x, int[] y, int ways) {
    if (x.rank() < 1 || x.size(0) == 0) {
      throw new IllegalArgumentException("Task: empty " + which + " set (shape " + Arrays.toString(x.shape())
          + ")");
    }
    if (x.size(0) != y.length) {
      throw new IllegalArgumentException("Task: " + which + " has " + x.size(0) + " examples but " + y.length
          + " labels");
    }
    for (int i = 0; i < y.length; i++) {
      if (y[i] < 0 || y[i] >= ways) {
        throw new IllegalArgumentException("Task: " + which + " label " + y[i] + " at position " + i
            + " outside [0, " + ways + ")");
      }
    }
  }

  /**
   * A FLOAT32 task from flat row-major arrays and their shapes (first dim = number of examples).
   *
   * @throws IllegalArgumentException when an array does not fill its shape, or as the constructor
   */
  public static Task of(float[] supportX, int[] supportShape, int[] supportY, float[] queryX, int[] queryShape,
                        int[] queryY, int ways) {
    return new Task(Tensor.of(supportX, supportShape), supportY, Tensor.of(queryX, queryShape), queryY, ways);
  }

  /**
   * The task of an Omniglot {@link Episode}: images {@code [N*K, 1, side, side]} and
   * {@code [N*Q, 1, side, side]} in FLOAT32, labels as sampled.
   */
  public static Task fromEpisode(Episode e) {
    int side = e.side();
    return of(e.supportX(), new int[] {e.supportY().length, 1, side, side}, e.supportY(), e.queryX(),
        new int[] {e.queryY().length, 1, side, side}, e.queryY(), e.spec().ways());
  }

  /** Support labels (a copy). */
  @Override
  public int[] supportY() {
    return supportY.clone();
  }

  /** Query labels (a copy). */
  @Override
  public int[] queryY() {
    return queryY.clone();
  }

  /** Support labels as one-hot rows {@code [S, ways]} in the support's dtype. */
  public Tensor supportOneHot() {
    return F.oneHot(supportY, ways, supportX.dtype()).to(supportX.device());
  }

  /** Cross-entropy of support logits {@code [S, ways]}. */
  @Override
  public Tensor supportLoss(Tensor logits) {
    return F.crossEntropy(checkLogits("support", logits, supportY.length), supportY);
  }

  /** Cross-entropy of query logits {@code [Q, ways]}. */
  @Override
  public Tensor queryLoss(Tensor logits) {
    return F.crossEntropy(checkLogits("query", logits, queryY.length), queryY);
  }

  /** Fraction of query rows whose arg-max equals the label (first maximum on ties). */
  @Override
  public double queryAccuracy(Tensor logits) {
    return accuracy(checkLogits("query", logits, queryY.length), queryY);
  }

  /** Fraction of rows of {@code scores [n, c]} whose arg-max is the label (first maximum on ties). */
  public static double accuracy(Tensor scores, int[] labels) {
    if (scores.rank() != 2 || scores.size(0) != labels.length) {
      throw new IllegalArgumentException("accuracy: scores " + Arrays.toString(scores.shape()) + " do not match "
          + labels.length + " labels");
    }
    double[] v = scores.toDoubleArray();
    int c = scores.size(1);
    int correct = 0;
    for (int i = 0; i < labels.length; i++) {
      int best = 0;
      for (int j = 1; j < c; j++) {
        if (v[i * c + j] > v[i * c + best]) {
          best = j;
        }
      }
      if (best == labels[i]) {
        correct++;
      }
    }
    return labels.length == 0 ? Double.NaN : correct / (double) labels.length;
  }

  private Tensor checkLogits(String which, Tensor logits, int n) {
    if (logits.rank() != 2 || logits.size(0) != n || logits.size(1) != ways) {
      throw new IllegalArgumentException("Task: " + which + " logits " + Arrays.toString(logits.shape())
          + " do not match [" + n + ", " + ways + "] (examples, ways)");
    }
    return logits;
  }

  @Override
  public Task to(DType dtype) {
    return dtype == supportX.dtype() ? this : new Task(supportX.to(dtype), supportY, queryX.to(dtype), queryY, ways);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Task t && t.supportX == supportX && t.queryX == queryX && t.ways == ways
        && Arrays.equals(t.supportY, supportY) && Arrays.equals(t.queryY, queryY);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * Arrays.hashCode(supportY) + Arrays.hashCode(queryY)) + ways;
  }

  @Override
  public String toString() {
    return "Task[" + ways + "-way, support " + Arrays.toString(supportX.shape()) + ", query "
        + Arrays.toString(queryX.shape()) + ", " + supportX.dtype() + "]";
  }
}
