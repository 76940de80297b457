package org.metagrad.meta.algo;

import java.util.List;
import java.util.function.IntFunction;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;
import org.metagrad.nn.optim.Optimizer;
import org.metagrad.nn.optim.OptimizerState;
import org.metagrad.nn.optim.Step;
import org.metagrad.nn.train.Batch;

/**
 * The transfer-learning baselines of Chen et al., "A Closer Look at Few-shot Classification" (ICLR 2019):
 * pre-train the embedding with a classifier over all meta-training classes, then, per task, freeze the
 * embedding and fine-tune a new classifier head on the support features.
 *
 * <p>{@link Head#LINEAR} is "Baseline" ({@code logits = W z + b}); {@link Head#COSINE} is "Baseline++"
 * ({@code logits_k = s * cos(z, w_k)}, no bias, fixed scale s). Pre-training uses the head
 * {@code classifier.*}; the per-task head is {@code task.head.*}, fine-tuned with full-batch SGD for a
 * fixed number of steps from an initialisation drawn from a fixed seed (so evaluation is deterministic).
 * This is not a meta-learner: there is no meta-loss, only the pre-training loss.
 *
 * <pre>{@code
 * TransferBaseline b = TransferBaseline.baselinePlusPlus(body, 64);
 * Params p = b.initPretrain(body.init(rng), 964, rng);
 * p = b.pretrain(p, step -> nextBatch(), 1000, SGD.of(0.05));   // or nn's Trainer on b.classifier(964)
 * double acc = b.evaluate(p, task);
 * }</pre>
 */
public final class TransferBaseline implements FewShotLearner {
  /** Prefix of the pre-training classifier. */
  public static final String CLASSIFIER = "classifier.";
  /** Name of the per-task head weight {@code [ways, D]}. */
  public static final String HEAD_WEIGHT = "task.head.weight";
  /** Name of the per-task head bias {@code [ways]} (linear head only). */
  public static final String HEAD_BIAS = "task.head.bias";

  /** The classifier head. */
  public enum Head {
    /** Baseline: a linear layer. */
    LINEAR,
    /** Baseline++: scaled cosine similarity to per-class weight vectors. */
    COSINE
  }

  private final Module embedding;
  private final int embeddingDim;
  private final Head head;
  private final double cosineScale;
  private final int finetuneSteps;
  private final double finetuneLr;
  private final long seed;
  private final Mode mode;

  private TransferBaseline(Module embedding, int embeddingDim, Head head, double cosineScale, int finetuneSteps,
                           double finetuneLr, long seed, Mode mode) {
    if (embedding == null || head == null || mode == null) {
      throw new IllegalArgumentException("TransferBaseline: embedding, head and mode must not be null");
    }
    if (embeddingDim < 1 || finetuneSteps < 0 || !(finetuneLr >= 0) || !(cosineScale > 0)) {
      throw new IllegalArgumentException("TransferBaseline: need embeddingDim >= 1, finetuneSteps >= 0, "
          + "finetuneLr >= 0 and cosineScale > 0; got " + embeddingDim + ", " + finetuneSteps + ", " + finetuneLr
          + ", " + cosineScale);
    }
    this.embedding = embedding;
    this.embeddingDim = embeddingDim;
    this.head = head;
    this.cosineScale = cosineScale;
    this.finetuneSteps = finetuneSteps;
    this.finetuneLr = finetuneLr;
    this.seed = seed;
    this.mode = mode;
  }

  /** Baseline: linear head, 100 fine-tuning steps at learning rate 0.1. */
  public static TransferBaseline baseline(Module embedding, int embeddingDim) {
    return new TransferBaseline(embedding, embeddingDim, Head.LINEAR, 1, 100, 0.1, 1, Mode.train());
  }

  /** Baseline++: cosine head with scale 10, 100 fine-tuning steps at learning rate 0.1. */
  public static TransferBaseline baselinePlusPlus(Module embedding, int embeddingDim) {
    return new TransferBaseline(embedding, embeddingDim, Head.COSINE, 10, 100, 0.1, 1, Mode.train());
  }

  /** A copy with another fine-tuning schedule. */
  public TransferBaseline withFinetune(int steps, double lr) {
    return new TransferBaseline(embedding, embeddingDim, head, cosineScale, steps, lr, seed, mode);
  }

  /** A copy with another cosine scale (Baseline++ only). */
  public TransferBaseline withCosineScale(double s) {
    return new TransferBaseline(embedding, embeddingDim, head, s, finetuneSteps, finetuneLr, seed, mode);
  }

  /**
   * A copy whose embedding runs in {@code m} during pre-training; fine-tuning and prediction use
   * {@code m} too (pass {@code Mode.eval().withState(state)} to evaluate BN with running statistics).
   */
  public TransferBaseline withMode(Mode m) {
    return new TransferBaseline(embedding, embeddingDim, head, cosineScale, finetuneSteps, finetuneLr, seed, m);
  }

  private Params newHead(String prefix, int classes, DType dtype, Rng rng) {
    double bound = 1 / Math.sqrt(embeddingDim);
    Params p = Params.of(prefix + "weight", Tensor.uniform(rng, -bound, bound, dtype, classes, embeddingDim));
    return head == Head.LINEAR ? p.with(prefix + "bias", Tensor.zeros(dtype, classes)) : p;
  }

  /** The embedding parameters plus a pre-training classifier over {@code numClasses} classes. */
  public Params initPretrain(Params embeddingParams, int numClasses, Rng rng) {
    if (numClasses < 1) {
      throw new IllegalArgumentException("TransferBaseline: numClasses must be >= 1, got " + numClasses);
    }
    DType dtype = embeddingParams.size() == 0 ? DType.FLOAT32 : embeddingParams.values().get(0).dtype();
    return embeddingParams.merge(newHead(CLASSIFIER, numClasses, dtype, rng));
  }

  private static Params body(Params p) {
    return p.without(CLASSIFIER).without("task.");
  }

  private Tensor features(Params p, Tensor x) {
    Tensor z = Metric.embed(embedding, body(p), x, mode);
    if (z.size(1) != embeddingDim) {
      throw new IllegalArgumentException("TransferBaseline: embedding has " + z.size(1) + " features, configured "
          + embeddingDim);
    }
    return z;
  }

  /** Logits of the head under {@code prefix} ({@code classifier.} or {@code task.head.}) for features z. */
  private Tensor headLogits(Params p, String prefix, Tensor z) {
    Tensor w = p.get(prefix + "weight");
    if (head == Head.LINEAR) {
      return F.linear(z, w, p.get(prefix + "bias"));
    }
    return F.cosineSimilarity(z, w, 1e-8).mul(cosineScale);
  }

  /** Cross-entropy of the pre-training classifier on a labelled batch (differentiable). */
  public Tensor pretrainLoss(Params params, Tensor x, int[] labels) {
    return F.crossEntropy(headLogits(params, CLASSIFIER, features(params, x)), labels);
  }

  /**
   * The pre-training loss of a labelled batch (differentiable, as {@link #pretrainLoss}) with the classifier's
   * accuracy on it, as one item of {@code MetaTrainer}'s pre-training objective.
   */
  public MetaStep pretrainStep(Params params, Tensor x, int[] labels) {
    Tensor logits = headLogits(params, CLASSIFIER, features(params, x));
    double acc;
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      acc = Task.accuracy(logits.detach(), labels);
    }
    return new MetaStep(F.crossEntropy(logits, labels), acc);
  }

  /** The head: linear (Baseline) or cosine (Baseline++). */
  public Head head() {
    return head;
  }

  /** Fine-tuning steps per task. */
  public int finetuneSteps() {
    return finetuneSteps;
  }

  /** Fine-tuning learning rate. */
  public double finetuneLr() {
    return finetuneLr;
  }

  /**
   * Pre-training: {@code steps} optimizer updates on {@link #pretrainLoss} of {@code batches.apply(step)};
   * returns leaves with {@code requiresGrad(true)}.
   */
  public Params pretrain(Params params, IntFunction<Batch> batches, int steps, Optimizer optimizer) {
    Params p = params.detach().requiresGrad(true);
    OptimizerState state = optimizer.init(p);
    for (int s = 0; s < steps; s++) {
      Batch b = batches.apply(s);
      List<Tensor> g = Autograd.grad(pretrainLoss(p, b.x(), b.y()), p.values(),
          GradOptions.defaults().allowUnused(true));
      Step next = optimizer.step(p, g, state);
      p = next.params().detach().requiresGrad(true);
      state = next.state();
    }
    return p;
  }

  /**
   * The pre-training network as a {@link Module} (embedding then the {@code classifier.} head over
   * {@code numClasses} classes), e.g. for nn's {@code Trainer}; its parameters are those of
   * {@link #initPretrain}.
   */
  public Module classifier(int numClasses) {
    TransferBaseline self = this;
    return new Module() {
      @Override
      public Params init(Rng rng, DType dtype) {
        return self.initPretrain(embedding.init(rng, dtype), numClasses, rng);
      }

      @Override
      public Tensor apply(Params p, Tensor x, Mode m) {
        return headLogits(p, CLASSIFIER, Metric.embed(embedding, body(p), x, m));
      }
    };
  }

  /**
   * The embedding parameters (frozen) plus a new head fine-tuned on the support features; the pre-training
   * classifier is dropped.
   */
  @Override
  public Params adapt(Params params, FewShotTask task) {
    Task t = Metric.classification("TransferBaseline", task);
    Params frozen = body(params).detach();
    Tensor z;
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      z = features(frozen, t.supportX()).detach();
    }
    Params h = newHead("task.head.", t.ways(), z.dtype(), new Rng(seed)).map(x -> x.to(z.device()))
        .requiresGrad(true);
    int[] y = t.supportY();
    for (int s = 0; s < finetuneSteps; s++) {
      List<Tensor> g = Autograd.grad(F.crossEntropy(headLogits(h, "task.head.", z), y), h.values());
      h = h.zip(g, (p, gi) -> p.sub(gi.mul(finetuneLr)).detach().requiresGrad(true));
    }
    return frozen.merge(h.detach());
  }

  /** Logits of the fine-tuned head on the frozen features. */
  @Override
  public Tensor predict(Params adapted, Tensor x) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return headLogits(adapted, "task.head.", features(adapted, x));
    }
  }

  @Override
  public String toString() {
    return (head == Head.LINEAR ? "Baseline" : "Baseline++(scale " + cosineScale + ")") + "(finetune "
        + finetuneSteps + " x " + finetuneLr + ")";
  }
}
