package org.metagrad.meta.semi;

import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.MetaStep;
import org.metagrad.meta.task.Task;
import org.metagrad.meta.train.MetaTrainer;
import org.metagrad.nn.Backbones;
import org.metagrad.nn.BatchNorm1d;
import org.metagrad.nn.BnMode;
import org.metagrad.nn.Linear;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;
import org.metagrad.nn.ReLU;
import org.metagrad.nn.Sequential;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.Ema;
import org.metagrad.nn.optim.LrSchedule;
import org.metagrad.nn.optim.OptimizerState;
import org.metagrad.nn.optim.Step;

/**
 * The models, per-step objectives and evaluations of the semi- and self-supervised methods. Every objective is
 * a {@link MetaTrainer.Objective} (one item per iteration: run it with meta-batch 1), so training gets
 * {@link MetaTrainer}'s run folder (metrics, atomic best/last checkpoints, divergence stop).
 *
 * <p>Model: the conv4 of Snell et al. (4 x [conv3x3, BN, ReLU, maxpool]) with {@code hidden} channels,
 * BatchNorm on batch statistics (also at test time, as the meta-learners here do: a test batch is normalised
 * by its own statistics), then a linear head over the classes. All images of a step (labelled and unlabelled
 * views) go through the network as one batch, as in FixMatch's code, so BatchNorm sees them together.
 *
 * <p>Step {@code i}'s minibatches are drawn by {@link SemiSplit#draw} from {@code (seed, i)} and augmented with
 * seeds from {@code (seed, i)}; the step is a pure function of the parameters and {@code i}, except for the
 * Mean Teacher and BYOL targets, the exponential average of the parameters the objective has been called with
 * (updated when the step index advances; so these objectives are stateful, need meta-batch 1, and a resumed
 * run starts its average again from the resumed parameters).
 */
public final class SemiTraining {
  private SemiTraining() {}

  /** Width of the SimCLR/BYOL projection and prediction MLPs' hidden layer. */
  public static final int MLP_HIDDEN = 64;
  /** Output width of the SimCLR/BYOL projection and prediction. */
  public static final int PROJECTION = 32;

  /**
   * The classifier: conv4 with {@code hidden} channels (batch-statistics BatchNorm) and a linear head.
   *
   * @param c the settings
   * @param side the image side
   * @param classes head outputs (0 for the encoder alone)
   * @return the network
   */
  public static Network network(SemiConfig c, int side, int classes) {
    return Backbones.conv4(1, c.hidden(), side, classes, BnMode.BATCH_STATS);
  }

  /**
   * The SimCLR/BYOL MLP {@code in -> 64 -> BN -> ReLU -> 32}.
   *
   * @param in input width
   * @return the module (names {@code 0.*}, {@code 1.*}, {@code 3.*})
   */
  public static Module mlp(int in) {
    return Sequential.of(new Linear(in, MLP_HIDDEN), new BatchNorm1d(MLP_HIDDEN, BnMode.BATCH_STATS), new ReLU(),
        new Linear(MLP_HIDDEN, PROJECTION));
  }

  /**
   * Initial parameters of a method: the classifier's for the semi-supervised ones, the encoder's plus
   * {@code proj.*} (and {@code pred.*} for BYOL) for the self-supervised ones; FLOAT32 from the seed.
   *
   * @param c the settings
   * @param side the image side
   * @param classes the number of classes
   * @return the parameters
   */
  public static Params init(SemiConfig c, int side, int classes) {
    Rng rng = new Rng(c.seed());
    if (!c.method().selfSupervised()) {
      return network(c, side, classes).init(rng, DType.FLOAT32);
    }
    Network enc = network(c, side, 0);
    Params p = enc.init(rng, DType.FLOAT32).merge(mlp(enc.featureDim()).init(rng, DType.FLOAT32).prefixed("proj"));
    return c.method() == SemiMethod.BYOL ? p.merge(mlp(PROJECTION).init(rng, DType.FLOAT32).prefixed("pred")) : p;
  }

  /** Seed of augmentation stream {@code k} of step {@code i}. */
  static long viewSeed(long seed, long i, int k) {
    return Augmentations.mix64(seed * 0x9E3779B97F4A7C15L ^ Augmentations.mix64(i * 31 + k + 0x1234567L));
  }

  /**
   * The training objective of a method on a split: item {@code i} is step {@code i}'s loss and labelled-batch
   * accuracy (the contrastive top-1 accuracy for SimCLR, NaN for BYOL).
   *
   * @param c the settings
   * @param split the data
   * @return the objective (stateful for Mean Teacher and BYOL: use one per run)
   */
  public static MetaTrainer.Objective objective(SemiConfig c, SemiSplit split) {
    return c.method().selfSupervised() ? new SslObjective(c, split) : new SemiObjective(c, split);
  }

  /** The semi-supervised objectives (and the supervised-only baseline). */
  static final class SemiObjective implements MetaTrainer.Objective {
    private final SemiConfig c;
    private final SemiSplit split;
    private final Network net;
    private final Augment weak = Augmentations.weak();
    private final Augment strong = Augmentations.strong();
    private final Ema ema;
    private Params teacher;
    private long teacherIndex = -1;

    SemiObjective(SemiConfig c, SemiSplit split) {
      this.c = c;
      this.split = split;
      this.net = network(c, split.labelled().side(), split.classes());
      this.ema = new Ema(c.emaDecay(), true);
    }

    @Override
    public MetaStep loss(Params p, long index) {
      SemiSplit.Part lab = split.labelled();
      int b = c.batchSize();
      int[] li = SemiSplit.draw(lab.size(), b, c.seed(), 0, index);
      Tensor xl = weak.applyBatch(lab.images(li), viewSeed(c.seed(), index, 0));
      int[] yl = lab.labels(li);
      Mode m = Mode.train();
      if (c.method() == SemiMethod.SUPERVISED) {
        Tensor logits = net.apply(p, xl, m);
        return step(F.crossEntropy(logits, yl), logits, yl);
      }
      SemiSplit.Part un = split.unlabelled();
      Tensor u = un.images(SemiSplit.draw(un.size(), b * c.unlabelledRatio(), c.seed(), 1, index));
      double w = c.unsupWeight() * SemiLosses.rampUp(index, (long) (c.rampFraction() * c.steps()));
      Tensor u1 = weak.applyBatch(u, viewSeed(c.seed(), index, 1));
      int nu = u.size(0);
      switch (c.method()) {
        case PIMODEL: {
          Tensor u2 = weak.applyBatch(u, viewSeed(c.seed(), index, 2));
          Tensor out = net.apply(p, Tensor.concat(List.of(xl, u1, u2), 0), m);
          Tensor ll = out.slice(0, 0, b);
          Tensor unsup = SemiLosses.consistency(out.slice(0, b, b + nu), out.slice(0, b + nu, b + 2 * nu));
          return step(F.crossEntropy(ll, yl).add(unsup.mul(w)), ll, yl);
        }
        case MEANTEACHER: {
          Params t = teacher(p, index);
          Tensor u2 = weak.applyBatch(u, viewSeed(c.seed(), index, 2));
          Tensor out = net.apply(p, Tensor.concat(List.of(xl, u1), 0), m);
          Tensor target;
          try (Autograd.NoGrad g = Autograd.noGrad()) {
            target = net.apply(t, u2, m).detach();
          }
          Tensor ll = out.slice(0, 0, b);
          Tensor unsup = SemiLosses.consistency(out.slice(0, b, b + nu), target);
          return step(F.crossEntropy(ll, yl).add(unsup.mul(w)), ll, yl);
        }
        case VAT: {
          Tensor out = net.apply(p, Tensor.concat(List.of(xl, u1), 0), m);
          Tensor ll = out.slice(0, 0, b);
          Tensor clean = out.slice(0, b, b + nu).detach();
          Tensor r = SemiLosses.vatPerturbation(x -> net.apply(p, x, m), u1, clean, c.vatXi(), c.vatEps(), 1,
              SemiLosses.Direction.FINITE_DIFFERENCE, new Rng(viewSeed(c.seed(), index, 3)));
          Tensor unsup = SemiLosses.kl(clean, net.apply(p, u1.add(r), m));
          return step(F.crossEntropy(ll, yl).add(unsup.mul(w)), ll, yl);
        }
        case PSEUDOLABEL: {
          Tensor out = net.apply(p, Tensor.concat(List.of(xl, u1), 0), m);
          Tensor ll = out.slice(0, 0, b);
          Tensor unsup = SemiLosses.pseudoLabel(out.slice(0, b, b + nu), c.threshold());
          return step(F.crossEntropy(ll, yl).add(unsup.mul(w)), ll, yl);
        }
        case FIXMATCH: {
          Tensor us = strong.applyBatch(u, viewSeed(c.seed(), index, 2));
          Tensor out = net.apply(p, Tensor.concat(List.of(xl, u1, us), 0), m);
          Tensor ll = out.slice(0, 0, b);
          Tensor unsup = SemiLosses.fixMatch(out.slice(0, b, b + nu), out.slice(0, b + nu, b + 2 * nu),
              c.threshold());
          return step(F.crossEntropy(ll, yl).add(unsup.mul(w)), ll, yl);
        }
        default:
          throw new IllegalArgumentException(c.method().cliName() + " is not a semi-supervised method");
      }
    }

    /** The teacher for step {@code index}: updated once per new index with the parameters of that step. */
    private Params teacher(Params p, long index) {
      if (teacher == null) {
        teacher = ema.init(p);
      } else if (index > teacherIndex) {
        teacher = ema.update(teacher, p, index);
      }
      teacherIndex = Math.max(teacherIndex, index);
      return teacher;
    }

    /** The current EMA teacher (null before the first step). */
    Params teacher() {
      return teacher;
    }

    private static MetaStep step(Tensor loss, Tensor logits, int[] y) {
      double acc;
      try (Autograd.NoGrad g = Autograd.noGrad()) {
        acc = Task.accuracy(logits.detach(), y);
      }
      return new MetaStep(loss, acc);
    }
  }

  /** SimCLR and BYOL pre-training on all training drawings (labels unused). */
  static final class SslObjective implements MetaTrainer.Objective {
    private final SemiConfig c;
    private final SemiSplit.Part all;
    private final Network enc;
    private final Module proj;
    private final Module pred;
    private final Augment view = Augmentations.contrastive();
    private final Ema ema;
    private Params target;
    private long targetIndex = -1;

    SslObjective(SemiConfig c, SemiSplit split) {
      this.c = c;
      this.all = split.allTraining();
      this.enc = network(c, split.labelled().side(), 0);
      this.proj = mlp(enc.featureDim());
      this.pred = mlp(PROJECTION);
      this.ema = Ema.of(c.emaDecay());
    }

    @Override
    public MetaStep loss(Params p, long index) {
      int b = c.batchSize();
      Tensor x = all.images(SemiSplit.draw(all.size(), b, c.seed(), 2, index));
      Tensor v = Tensor.concat(List.of(view.applyBatch(x, viewSeed(c.seed(), index, 4)),
          view.applyBatch(x, viewSeed(c.seed(), index, 5))), 0);
      Mode m = Mode.train();
      Tensor z = proj.apply(p.sub("proj"), enc.apply(p, v, m), m);
      if (c.method() == SemiMethod.SIMCLR) {
        Tensor loss = SemiLosses.ntXent(z.slice(0, 0, b), z.slice(0, b, 2 * b), c.temperature());
        return new MetaStep(loss, positiveTop1(z.detach(), b));
      }
      Params online = p.without("pred.");
      if (target == null) {
        target = ema.init(online);
      } else if (index > targetIndex) {
        target = ema.update(target, online, index);
      }
      targetIndex = Math.max(targetIndex, index);
      Tensor q = pred.apply(p.sub("pred"), z, m);
      Tensor zt;
      try (Autograd.NoGrad g = Autograd.noGrad()) {
        zt = proj.apply(target.sub("proj"), enc.apply(target, v, m), m).detach();
      }
      Tensor loss = SemiLosses.byol(q.slice(0, 0, b), zt.slice(0, b, 2 * b))
          .add(SemiLosses.byol(q.slice(0, b, 2 * b), zt.slice(0, 0, b)));
      return new MetaStep(loss, Double.NaN);
    }
  }

  /**
   * The fraction of the {@code 2b} rows of {@code z} whose most similar other row (cosine) is their positive
   * (row {@code i +- b}): SimCLR's contrastive accuracy.
   */
  static double positiveTop1(Tensor z, int b) {
    double[] s;
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      Tensor zn = SemiLosses.normalise(z);
      s = zn.matmul(zn.mT()).toDoubleArray();
    }
    int n = 2 * b;
    int hit = 0;
    for (int i = 0; i < n; i++) {
      int best = -1;
      for (int j = 0; j < n; j++) {
        if (j != i && (best < 0 || s[i * n + j] > s[i * n + best])) {
          best = j;
        }
      }
      hit += best == (i + b) % n ? 1 : 0;
    }
    return (double) hit / n;
  }

  /**
   * Logits of a part's images in one batch (BatchNorm on that batch's statistics), without gradients.
   *
   * @param net the network
   * @param p its parameters
   * @param part the images
   * @return logits (or features for a network without head) {@code [n, K]}
   */
  public static Tensor outputs(Network net, Params p, SemiSplit.Part part) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return net.apply(p.detach(), part.x(), Mode.train()).detach();
    }
  }

  /**
   * Classification accuracy of a classifier on a part.
   *
   * @param net the classifier
   * @param p its parameters
   * @param part the images and labels
   * @return the fraction classified correctly
   */
  public static double accuracy(Network net, Params p, SemiSplit.Part part) {
    return Task.accuracy(outputs(net, p, part), part.labels());
  }

  /**
   * The normal-approximation 95% interval half-width of an accuracy measured on n independent test images:
   * {@code 1.96 sqrt(a (1 - a) / n)} (the variation over test drawings only, not over seeds).
   *
   * @param acc the accuracy
   * @param n the number of test images
   * @return the half-width
   */
  public static double ci95(double acc, int n) {
    return 1.96 * Math.sqrt(acc * (1 - acc) / Math.max(1, n));
  }

  /**
   * A linear probe: a linear classifier trained by full-batch Adam (lr 0.01, {@code steps} steps, from zeros)
   * on the frozen encoder's features of the labelled drawings, then its accuracy on the test drawings.
   *
   * @param c the settings (probe steps, hidden)
   * @param encoderParams the encoder's {@code features.*} parameters (others ignored)
   * @param split the data
   * @return test accuracy
   */
  public static double linearProbe(SemiConfig c, Params encoderParams, SemiSplit split) {
    Network enc = network(c, split.labelled().side(), 0);
    Tensor zl = outputs(enc, encoderParams, split.labelled());
    Tensor zt = outputs(enc, encoderParams, split.test());
    int d = zl.size(1);
    Params h = Params.of("weight", Tensor.zeros(DType.FLOAT32, split.classes(), d))
        .with("bias", Tensor.zeros(DType.FLOAT32, split.classes())).requiresGrad(true);
    Adam adam = Adam.of(0.01);
    OptimizerState st = adam.init(h);
    int[] y = split.labelled().labels();
    for (int s = 0; s < c.probeSteps(); s++) {
      Tensor loss = F.crossEntropy(F.linear(zl, h.get("weight"), h.get("bias")), y);
      List<Tensor> g = Autograd.grad(loss, h.values());
      Step next = adam.step(h, Params.of(zip(h.names(), g)), st);
      h = next.params().detach().requiresGrad(true);
      st = next.state();
    }
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return Task.accuracy(F.linear(zt, h.get("weight"), h.get("bias")), split.test().labels());
    }
  }

  private static java.util.Map<String, Tensor> zip(List<String> names, List<Tensor> values) {
    java.util.LinkedHashMap<String, Tensor> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      m.put(names.get(i), values.get(i));
    }
    return m;
  }

  /**
   * Fine-tuning after self-supervised pre-training: the supervised-only objective (weak augmentation, the
   * labelled drawings) for {@code finetuneSteps} steps from the pre-trained encoder and a new head, Adam with
   * the configured lr on a cosine schedule; returns the classifier's parameters.
   *
   * @param c the settings of the pre-training run
   * @param encoderParams the encoder's {@code features.*} parameters
   * @param split the data
   * @return the fine-tuned classifier parameters
   */
  public static Params fineTune(SemiConfig c, Params encoderParams, SemiSplit split) {
    SemiConfig ft = new SemiConfig(SemiMethod.SUPERVISED, c.labelsPerClass(), c.classes(), Math.max(1,
        c.finetuneSteps()), c.batchSize(), c.unlabelledRatio(), c.lr(), c.seed(), c.splitSeed(), c.hidden(), 0, 0,
        c.threshold(), c.emaDecay(), c.vatXi(), c.vatEps(), c.temperature(), c.probeSteps(), c.finetuneSteps());
    Params init = init(ft, split.labelled().side(), split.classes());
    Params start = init.without("features.").merge(encoderParams.sub("features").prefixed("features"));
    start = init.zip(start.select(init.names()), (a, bb) -> bb);
    if (c.finetuneSteps() == 0) {
      return start;
    }
    MetaTrainer t = new MetaTrainer(objective(ft, split), Adam.of(ft.lr()), LrSchedule.cosine(ft.lr(), 0,
        ft.steps(), 0), MetaTrainer.Options.of(ft.steps(), 1));
    return t.train(start, null, null, null).last();
  }
}
