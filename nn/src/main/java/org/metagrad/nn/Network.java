package org.metagrad.nn;

import java.util.Arrays;
import java.util.Optional;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * A feature extractor followed by an optional, swappable head, with parameters named
 * {@code features.*} and {@code head.*} (e.g. {@code features.0.weight}, {@code head.weight}). The two
 * parts can be applied separately, which ANIL (adapt the head only) and Proto-MAML (a head built from
 * prototypes) need: {@code features(x) -> [N, featureDim]}, {@code head(features) -> [N, classes]}.
 *
 * <pre>{@code
 * Network net = Backbones.conv4(1, 64, 28, 5, BnMode.BATCH_STATS);
 * Params p = net.init(new Rng(0));
 * Tensor f = net.applyFeatures(p, x, Mode.TRAIN);             // [N, 64]
 * Tensor logits = net.applyHead(p.merge(fastHead), f, Mode.TRAIN);  // [N, 5], fastHead named head.*
 * }</pre>
 */
public final class Network implements Module {
  /** Name prefix of the feature extractor's parameters and state. */
  public static final String FEATURES = "features";
  /** Name prefix of the head's parameters and state. */
  public static final String HEAD = "head";

  private final String name;
  private final Module features;
  private final int featureDim;
  private final Module head;
  private final int[] inputShape;

  /**
   * A network.
   *
   * @param name used in error messages, e.g. {@code conv4(1->64, 28x28)}
   * @param features maps an input batch to {@code [N, featureDim]}
   * @param featureDim the number of features per sample
   * @param head applied to the features, or null for a feature extractor alone
   * @param inputShape the expected shape of one sample (e.g. {@code {1, 28, 28}}), or null to skip the check
   */
  public Network(String name, Module features, int featureDim, Module head, int[] inputShape) {
    if (features == null) {
      throw new IllegalArgumentException("Network " + name + ": features module is null");
    }
    this.name = name;
    this.features = features;
    this.featureDim = Layers.positive("Network " + name, "feature dim", featureDim);
    this.head = head;
    this.inputShape = inputShape == null ? null : inputShape.clone();
  }

  /** The feature extractor. */
  public Module features() {
    return features;
  }

  /** The head, if any. */
  public Optional<Module> head() {
    return Optional.ofNullable(head);
  }

  /** Features per sample. */
  public int featureDim() {
    return featureDim;
  }

  /** The expected shape of one input sample, or null when unchecked. */
  public int[] inputShape() {
    return inputShape == null ? null : inputShape.clone();
  }

  /** The same features with another head (applied to {@code [N, featureDim]}). */
  public Network withHead(Module newHead) {
    return new Network(name, features, featureDim, newHead, inputShape);
  }

  /** The same features with a fresh {@code Linear(featureDim, classes)} head. */
  public Network withHead(int classes) {
    return withHead(new Linear(featureDim, classes));
  }

  /** The feature extractor alone: {@code apply} gives {@code [N, featureDim]}. */
  public Network withoutHead() {
    return withHead((Module) null);
  }

  /** {@code features.*} then {@code head.*}, feature parameters drawn first. */
  @Override
  public Params init(Rng rng, DType dtype) {
    Params p = features.init(rng, dtype).prefixed(FEATURES);
    return head == null ? p : p.merge(head.init(rng, dtype).prefixed(HEAD));
  }

  /** Fresh head parameters, named {@code head.*} (e.g. to reset the head per task). */
  public Params initHead(Rng rng, DType dtype) {
    if (head == null) {
      return Params.empty();
    }
    return head.init(rng, dtype).prefixed(HEAD);
  }

  /** The entries of p named {@code head.*}, names kept (what ANIL adapts). */
  public Params headParams(Params p) {
    return only(p, HEAD + ".");
  }

  /** The entries of p named {@code features.*}, names kept. */
  public Params featureParams(Params p) {
    return only(p, FEATURES + ".");
  }

  private static Params only(Params p, String prefix) {
    return p.select(p.names().stream().filter(n -> n.startsWith(prefix)).toList());
  }

  /** State of features and head, scoped {@code features} and {@code head}. */
  @Override
  public void initState(State state, DType dtype) {
    features.initState(state.scoped(FEATURES), dtype);
    if (head != null) {
      head.initState(state.scoped(HEAD), dtype);
    }
  }

  /** {@code head(features(x))}, or the features when there is no head. */
  @Override
  public Tensor apply(Params p, Tensor x, Mode mode) {
    Tensor f = applyFeatures(p, x, mode);
    return head == null ? f : applyHead(p, f, mode);
  }

  /** The features {@code [N, featureDim]} of x, using the {@code features.*} entries of p. */
  public Tensor applyFeatures(Params p, Tensor x, Mode mode) {
    if (inputShape != null && (x.rank() != inputShape.length + 1
        || !Arrays.equals(Arrays.copyOfRange(x.shape(), 1, x.rank()), inputShape))) {
      StringBuilder e = new StringBuilder("[N");
      for (int d : inputShape) {
        e.append(", ").append(d);
      }
      throw Layers.badInput(name, e.append(']').toString(), x);
    }
    return Layers.child(FEATURES, features, p, x, mode);
  }

  /** The head's output for features {@code [N, featureDim]}, using the {@code head.*} entries of p. */
  public Tensor applyHead(Params p, Tensor features, Mode mode) {
    if (head == null) {
      throw new IllegalArgumentException(name + ": this network has no head (see withHead)");
    }
    return Layers.child(HEAD, head, p, features, mode);
  }

  /** The name given at construction. */
  @Override
  public String toString() {
    return name;
  }
}
