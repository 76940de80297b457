package org.metagrad.meta.train;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The meta-learning algorithms the trainer and the command line can build, with their command-line names.
 *
 * <pre>{@code Algorithm a = Algorithm.parse("protonet");   // PROTONET }</pre>
 */
public enum Algorithm {
  /** Prototypical Networks, squared Euclidean distance (Snell et al. 2017). */
  PROTONET("protonet", false),
  /** Second-order MAML (Finn et al. 2017). */
  MAML("maml", true),
  /** First-order MAML. */
  FOMAML("fomaml", true),
  /** Meta-SGD: MAML with learned per-parameter inner step sizes (Li et al. 2017), second order. */
  METASGD("metasgd", true),
  /** ANIL: MAML adapting only the head (Raghu et al. 2020), second order. */
  ANIL("anil", true),
  /**
   * Reptile (Nichol et al. 2018): k SGD steps on the support set, then theta moves towards the adapted weights;
   * the direction theta - phi is handed to the outer Adam (see {@code Reptile.surrogateStep}). Not a gradient
   * method, so there is no meta-gradient to check.
   */
  REPTILE("reptile", true),
  /** Proto-MAML: MAML with a prototype-initialised head, first order (Triantafillou et al. 2020). */
  PROTOMAML("protomaml", false),
  /** Matching Networks (Vinyals et al. 2016); full-context embeddings with {@code --fce}. */
  MATCHINGNET("matchingnet", false),
  /** A Siamese verification network used as a nearest-neighbour classifier (Koch et al. 2015). */
  SIAMESE("siamese", false),
  /**
   * Transfer baselines (Chen et al. 2019): pre-train a classifier on all meta-training classes, then fine-tune
   * a new linear (Baseline) or cosine (Baseline++) head on each task's support set. Not a meta-learner.
   */
  TRANSFER("transfer", false),
  /**
   * Implicit MAML (Rajeswaran et al. 2019): a proximally regularised inner loop and the meta-gradient by
   * conjugate gradient on Hessian-vector products, without differentiating through the inner steps.
   */
  IMAML("imaml", true),
  /** Relation Networks (Sung et al. 2018): a learned relation module on conv4 feature maps, MSE on scores. */
  RELATIONNET("relationnet", false),
  /**
   * The meta-learner LSTM of Ravi and Larochelle (2017), first order as the paper: the learner's parameters are
   * the cell state of a coordinate-wise LSTM whose gates are learned step size and decay; {@code --inner-lr} is
   * the initial input gate (step size), {@code --inner-steps} the learner updates.
   */
  METALSTM("metalstm", true),
  /** The meta-learner LSTM with the second derivatives through the learner's gradients (the paper drops them). */
  METALSTM2("metalstm2", true),
  /**
   * Memory-augmented neural network with least-recently-used access (Santoro et al. 2016), or its LSTM-only and
   * feed-forward baselines: sequence episodes with labels one step late, not support/query tasks (trained by
   * {@link MannExperiment}).
   */
  MANN("mann", true),
  /** Few labels, no episodes (package {@code org.metagrad.meta.semi}): supervised-only baseline. */
  SUPERVISED("supervised", false),
  /** Π-model (Laine and Aila 2017; Sajjadi et al. 2016): consistency between two augmentations. */
  PIMODEL("pimodel", false),
  /** Mean Teacher (Tarvainen and Valpola 2017): consistency with an EMA teacher. */
  MEANTEACHER("meanteacher", false),
  /** Virtual Adversarial Training (Miyato et al. 2018): the adversarial direction by power iteration. */
  VAT("vat", false),
  /** Pseudo-labelling (Lee 2013): confident predictions as labels. */
  PSEUDOLABEL("pseudolabel", false),
  /** FixMatch (Sohn et al. 2020): confident weak-view pseudo-labels train strong views. */
  FIXMATCH("fixmatch", false),
  /** SimCLR (Chen et al. 2020): NT-Xent over two views; then a linear probe and fine-tuning. */
  SIMCLR("simclr", false),
  /** BYOL (Grill et al. 2020): online/target networks with an EMA target; then a linear probe and fine-tuning. */
  BYOL("byol", false);

  private final String cliName;
  private final boolean fixedWays;

  Algorithm(String cliName, boolean fixedWays) {
    this.cliName = cliName;
    this.fixedWays = fixedWays;
  }

  /** The command-line name, e.g. {@code protonet}. */
  public String cliName() {
    return cliName;
  }

  /** Whether the model has an N-way classifier head, so test tasks must have as many ways as training ones. */
  public boolean fixedWays() {
    return fixedWays;
  }

  /** Whether the algorithm adapts by gradient steps (so inner steps and inner learning rate apply). */
  public boolean gradientBased() {
    return this == MAML || this == FOMAML || this == METASGD || this == ANIL || this == REPTILE
        || this == PROTOMAML || this == IMAML || this == METALSTM || this == METALSTM2;
  }

  /**
   * Whether the algorithm learns from few labels without episodes (semi- or self-supervised, or the supervised
   * baseline; trained by {@code org.metagrad.meta.semi.SemiRun} on the few-labels split of images_background).
   */
  public boolean fewLabels() {
    return ordinal() >= SUPERVISED.ordinal();
  }

  /** Whether the algorithm is self-supervised (pre-trained without labels, then probed and fine-tuned). */
  public boolean selfSupervised() {
    return this == SIMCLR || this == BYOL;
  }

  /** All command-line names, comma-separated. */
  public static String names() {
    return Arrays.stream(values()).map(Algorithm::cliName).collect(Collectors.joining(", "));
  }

  /**
   * The algorithm with this command-line name (case-insensitive; {@code proto-net} style dashes ignored).
   *
   * @throws IllegalArgumentException naming the known algorithms when there is none
   */
  public static Algorithm parse(String name) {
    String n = name == null ? "" : name.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
    for (Algorithm a : values()) {
      if (a.cliName.equals(n)) {
        return a;
      }
    }
    throw new IllegalArgumentException("unknown algorithm '" + name + "'; known: " + names());
  }
}
