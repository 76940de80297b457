package org.metagrad.meta.algo;

import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.ConvSpec;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.BatchNorm2d;
import org.metagrad.nn.BnMode;
import org.metagrad.nn.Conv2d;
import org.metagrad.nn.Flatten;
import org.metagrad.nn.Linear;
import org.metagrad.nn.MaxPool2d;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;
import org.metagrad.nn.ReLU;
import org.metagrad.nn.Sequential;

/**
 * Relation Networks (Sung, Yang, Zhang, Xiang, Torr and Hospedales, CVPR 2018, "Learning to Compare: Relation
 * Network for Few-Shot Learning"). An embedding {@code f} maps images to feature maps; each class's support
 * maps are summed (K-shot, as the paper does); for every (query, class) pair the class maps and the query
 * maps are concatenated along the channels and a learned relation module {@code g} outputs a relation score
 * in (0, 1). The loss is the mean squared error between the scores {@code [Q, ways]} and the one-hot query
 * labels (the paper's objective, averaged instead of summed over pairs); a query is classified by its highest
 * score.
 *
 * <p>The paper's Omniglot architecture ({@link #embedding}): 4 blocks of [conv 3x3 with 64 channels,
 * BatchNorm, ReLU], the first two without padding and with 2x2 max pooling, the last two with padding 1 and
 * no pooling, so 28x28 images give 64x5x5 maps. The relation module (parameters {@code relation.*}, added by
 * {@link #initMetaParams}): 2 blocks of [conv 3x3 (padding 1) with 64 channels, BatchNorm, ReLU, 2x2 max
 * pooling] (5 -> 2 -> 1), then Linear(64, 8), ReLU, Linear(8, 1) and a sigmoid. BatchNorm uses batch
 * statistics (the pairs of a task form the relation module's batch).
 *
 * <p>Not a second-order method: the meta-loss is an ordinary loss of the parameters, checked by first-order
 * finite differences.
 *
 * <pre>{@code
 * Network body = RelationNet.embedding(1, 64, 28, BnMode.BATCH_STATS);
 * RelationNet rn = new RelationNet(body, 64, RelationNet.mapSide(28), 8);
 * Params p = rn.initMetaParams(body.init(rng, DType.FLOAT32), rng).requiresGrad(true);
 * MetaStep s = rn.metaLoss(p, task);
 * }</pre>
 */
public final class RelationNet implements MetaLearner {
  /** Name prefix of the relation module's parameters. */
  public static final String RELATION = "relation";
  /** Name of the summed class feature maps in adapted parameters. */
  public static final String CLASS_FEATURES = "task.classFeatures";

  private final Module embedding;
  private final int channels;
  private final int mapSide;
  private final int hidden;
  private final Module relation;
  private final Mode mode;

  /**
   * A relation network on an embedding whose output (possibly flattened) holds {@code channels} maps of
   * {@code mapSide x mapSide} per image.
   *
   * @param hidden width of the relation module's hidden fully connected layer (8 in the paper's Omniglot model)
   * @throws IllegalArgumentException for a non-positive size, or maps smaller than 4x4 (the relation module
   *     pools twice)
   */
  public RelationNet(Module embedding, int channels, int mapSide, int hidden) {
    this(embedding, channels, mapSide, hidden, Mode.train());
  }

  private RelationNet(Module embedding, int channels, int mapSide, int hidden, Mode mode) {
    if (embedding == null || mode == null) {
      throw new IllegalArgumentException("RelationNet: embedding and mode must not be null");
    }
    if (channels < 1 || hidden < 1) {
      throw new IllegalArgumentException("RelationNet: channels and hidden width must be >= 1, got " + channels
          + " and " + hidden);
    }
    if (mapSide < 4) {
      throw new IllegalArgumentException("RelationNet: the feature maps must be at least 4x4 for the relation"
          + " module's two 2x2 poolings, got " + mapSide + "x" + mapSide);
    }
    this.embedding = embedding;
    this.channels = channels;
    this.mapSide = mapSide;
    this.hidden = hidden;
    int s = mapSide / 2 / 2;
    this.relation = new Prefixed(RELATION, Sequential.builder()
        .add(new Conv2d(2 * channels, channels, 3, ConvSpec.defaults().padding(1)))
        .add(new BatchNorm2d(channels, BnMode.BATCH_STATS)).add(new ReLU()).add(new MaxPool2d(2))
        .add(new Conv2d(channels, channels, 3, ConvSpec.defaults().padding(1)))
        .add(new BatchNorm2d(channels, BnMode.BATCH_STATS)).add(new ReLU()).add(new MaxPool2d(2))
        .add(new Flatten()).add(new Linear(channels * s * s, hidden)).add(new ReLU()).add(new Linear(hidden, 1))
        .build());
    this.mode = mode;
  }

  /** A copy running both modules in {@code m} (default {@link Mode#train()}: batch statistics). */
  public RelationNet withMode(Mode m) {
    return new RelationNet(embedding, channels, mapSide, hidden, m);
  }

  /** The side of the embedding's maps for square images of side {@code imageSize}: 28 -> 5. */
  public static int mapSide(int imageSize) {
    return ((imageSize - 2) / 2 - 2) / 2;
  }

  /**
   * The paper's Omniglot embedding as a {@link Network} (parameters {@code features.*}, no head), its output
   * flattened to {@code [N, hidden * m * m]} with {@code m = mapSide(imageSize)}.
   *
   * @throws IllegalArgumentException if the maps would be smaller than 4x4 (images below 28x28)
   */
  public static Network embedding(int inChannels, int hidden, int imageSize, BnMode bn) {
    int m = mapSide(imageSize);
    String name = "relationConv4(" + inChannels + "->" + hidden + ", " + imageSize + "x" + imageSize + ")";
    if (inChannels < 1 || hidden < 1 || m < 4) {
      throw new IllegalArgumentException(name + ": needs positive channels and images of at least 28x28 (maps of"
          + " at least 4x4 for the relation module), got maps of " + m + "x" + m);
    }
    Sequential.Builder b = Sequential.builder();
    for (int block = 0; block < 4; block++) {
      int c = block == 0 ? inChannels : hidden;
      b.add(new Conv2d(c, hidden, 3, block < 2 ? ConvSpec.defaults() : ConvSpec.defaults().padding(1)))
          .add(new BatchNorm2d(hidden, bn)).add(new ReLU());
      if (block < 2) {
        b.add(new MaxPool2d(2));
      }
    }
    b.add(new Flatten());
    return new Network(name, b.build(), hidden * m * m, null, new int[] {inChannels, imageSize, imageSize});
  }

  /** Adds the relation module's parameters ({@code relation.*}) in the model parameters' dtype. */
  @Override
  public Params initMetaParams(Params modelParams, Rng rng) {
    DType dtype = modelParams.size() == 0 ? DType.FLOAT32 : modelParams.values().get(0).dtype();
    return modelParams.merge(relation.init(rng, dtype));
  }

  private Params body(Params p) {
    return p.without(RELATION + ".").without("task.");
  }

  /** Feature maps {@code [n, channels, m, m]} of images x. */
  public Tensor maps(Params params, Tensor x) {
    Tensor z = Metric.embed(embedding, body(params), x, mode);
    if (z.size(1) != channels * mapSide * mapSide) {
      throw new IllegalArgumentException("RelationNet: the embedding gives " + z.size(1) + " features per image,"
          + " configured " + channels + " maps of " + mapSide + "x" + mapSide);
    }
    return z.reshape(x.size(0), channels, mapSide, mapSide);
  }

  /** Per-class sums {@code [ways, channels, m, m]} of the support maps. */
  public Tensor classFeatures(Params params, Task task) {
    Tensor z = maps(params, task.supportX());
    Tensor sums = task.supportOneHot().mT().matmul(z.reshape(z.size(0), -1));
    return sums.reshape(task.ways(), channels, mapSide, mapSide);
  }

  /** Relation scores {@code [Q, ways]} in (0, 1) of query maps {@code [Q, C, m, m]} against class maps. */
  public Tensor relationScores(Params params, Tensor classMaps, Tensor queryMaps) {
    int q = queryMaps.size(0);
    int w = classMaps.size(0);
    int[] pair = {q, w, channels, mapSide, mapSide};
    Tensor c = classMaps.unsqueeze(0).expand(pair);
    Tensor x = queryMaps.unsqueeze(1).expand(pair);
    // (class, query) along the channels, as the paper's code concatenates (sample, batch) features.
    Tensor pairs = F.concat(List.of(c, x), 2).reshape(q * w, 2 * channels, mapSide, mapSide);
    return relation.apply(params, pairs, mode).reshape(q, w).sigmoid();
  }

  /** {@code mean_{i,c} (r_ic - [y_i = c])^2} over the query-class pairs, and the query accuracy. */
  @Override
  public MetaStep metaLoss(Params params, FewShotTask task) {
    Task t = Metric.classification("RelationNet", task);
    Tensor scores = relationScores(params, classFeatures(params, t), maps(params, t.queryX()));
    int[] y = t.queryY();
    double[] oneHot = new double[y.length * t.ways()];
    for (int i = 0; i < y.length; i++) {
      oneHot[i * t.ways() + y[i]] = 1;
    }
    Tensor target = Tensor.of(oneHot, scores.dtype(), y.length, t.ways()).to(scores.device());
    return new MetaStep(F.mse(scores, target), t.queryAccuracy(scores.detach()));
  }

  /** The parameters plus the summed class maps under {@value #CLASS_FEATURES}; detached. */
  @Override
  public Params adapt(Params params, FewShotTask task) {
    Task t = Metric.classification("RelationNet", task);
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      Params p = params.detach();
      return p.with(CLASS_FEATURES, classFeatures(p, t).detach());
    }
  }

  /** Relation scores {@code [n, ways]} of inputs x against the stored class maps. */
  @Override
  public Tensor predict(Params adapted, Tensor x) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return relationScores(adapted, adapted.get(CLASS_FEATURES), maps(adapted, x));
    }
  }

  @Override
  public String toString() {
    return "RelationNet(" + channels + " maps of " + mapSide + "x" + mapSide + ", relation hidden " + hidden + ")";
  }
}
