package org.metagrad.meta.train;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.metagrad.meta.algo.Mann;
import org.metagrad.meta.data.ClassGrouping;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.data.Distortion;
import org.metagrad.meta.data.Framing;
import org.metagrad.meta.data.RotationMode;
import org.metagrad.meta.train.TrainOption.Presence;

/**
 * Every setting of a training run, declared once: {@code config.json} key, command-line flag, type, default and
 * help text. {@link TrainConfig}, its builder, its JSON reader and writer and {@code metagrad train}'s options
 * are made from this table ({@link #all()}, in {@code config.json}'s order).
 *
 * <p>The defaults here are the only ones: the builder and the command line both take them. The data root
 * defaults to {@code $METAGRAD_DATA} (the working directory when unset; the command line then asks for
 * {@code --data}); the thread count to the processor count (results do not depend on it).
 */
public final class TrainOptions {
  private TrainOptions() {}

  private static TrainOption<Integer> integer(String key, String flag, int def, String description) {
    return TrainOption.of(key, flag, Integer.class, def, Integer::parseInt, v -> v, description);
  }

  private static TrainOption<Double> real(String key, String flag, double def, String description) {
    return TrainOption.of(key, flag, Double.class, def, Double::parseDouble, v -> v, description);
  }

  private static TrainOption<String> text(String key, String flag, String def, String description) {
    return TrainOption.of(key, flag, String.class, def, s -> s, v -> v, description);
  }

  private static <E extends Enum<E>> E constant(Class<E> type, String what, String text) {
    for (E e : type.getEnumConstants()) {
      if (e.name().equalsIgnoreCase(text)) {
        return e;
      }
    }
    throw new IllegalArgumentException("unknown " + what + " '" + text + "'; known: "
        + Arrays.toString(type.getEnumConstants()));
  }

  /** The few-labels (semi-/self-supervised) algorithms, from {@link Algorithm#SUPERVISED} on. */
  private static final Algorithm[] FEW_LABELS = java.util.Arrays.stream(Algorithm.values())
      .filter(Algorithm::fewLabels).toArray(Algorithm[]::new);

  /** The algorithms whose network is not {@code Experiment.model}'s conv net: relation nets, MANN, few labels. */
  private static final Algorithm[] NO_CONV_NET = java.util.stream.Stream.concat(
      java.util.stream.Stream.of(Algorithm.RELATIONNET, Algorithm.MANN), java.util.Arrays.stream(FEW_LABELS))
      .toArray(Algorithm[]::new);

  /** The semi-supervised ones (not supervised-only, not self-supervised). */
  private static final Algorithm[] SEMI = {Algorithm.PIMODEL, Algorithm.MEANTEACHER, Algorithm.VAT,
      Algorithm.PSEUDOLABEL, Algorithm.FIXMATCH};

  /** The meta-learning algorithm. */
  public static final TrainOption<Algorithm> ALGORITHM = TrainOption.of("algorithm", "--algorithm", Algorithm.class,
      Algorithm.PROTONET, Algorithm::parse, Algorithm::cliName, "Algorithm: " + Algorithm.names() + ".").alias("-a");

  /** The data root, the folder holding {@code omniglot/}. */
  public static final TrainOption<Path> DATA = TrainOption.of("data", "--data", Path.class, Path.of("."),
      Path::of, Path::toString, "Data root holding omniglot/.").notInFingerprint().presence(Presence.NEVER)
      .defaultFrom(TrainOptions::dataFromEnvironment, "$" + DataPaths.ENV);

  /** The class split. */
  public static final TrainOption<String> SPLIT = text("split", "--split", "vinyals", "Class split: vinyals"
      + " (ProtoNets/Matching nets), maml (Finn et al.'s sizes), background (train on images_background but the five"
      + " Vinyals validation alphabets, validate on those, test on images_evaluation; for the one-shot challenge) or"
      + " background-all (train on all 30 images_background alphabets, test on images_evaluation; no validation, so"
      + " the best checkpoint is the last: fix the length on a background run first).")
      .except(FEW_LABELS);

  /** The image side in pixels. */
  public static final TrainOption<Integer> SIDE = integer("side", "--side", 28, "Image side in pixels, 16 to 105"
      + " (the drawings' own size).")
      .except(FEW_LABELS);

  /** How rotations are used. */
  public static final TrainOption<RotationMode> ROTATION = TrainOption.of("rotation", "--rotation",
      RotationMode.class, RotationMode.AS_NEW_CLASSES, s -> constant(RotationMode.class, "rotation", s),
      RotationMode::name, "Rotations: NONE, AS_NEW_CLASSES (x4 classes, as ProtoNets) or RANDOM_PER_TASK (as MAML).")
      .except(FEW_LABELS);

  /** Training classes per task. */
  public static final TrainOption<Integer> WAYS = integer("ways", "--ways", 20, "Classes per training task N"
      + " (algorithms with an N-way head train at the test way count, 5, unless told otherwise).").alias("-n")
      .defaultPer(a -> a.fixedWays() ? 5 : 20)
      .except(FEW_LABELS);

  /** Training support images per class. */
  public static final TrainOption<Integer> SHOTS = integer("shots", "--shots", 5, "Support images per class K in"
      + " training.").alias("-k")
      .except(FEW_LABELS);

  /** Training query images per class. */
  public static final TrainOption<Integer> QUERIES = integer("queries", "--queries", 5, "Query images per class in"
      + " training.").alias("-q")
      .except(FEW_LABELS);

  /** Validation/test classes per task. */
  public static final TrainOption<Integer> TEST_WAYS = integer("test_ways", "--test-ways", 5, "Classes per"
      + " validation/test task.")
      .except(FEW_LABELS);

  /** Validation/test support images per class. */
  public static final TrainOption<Integer> TEST_SHOTS = integer("test_shots", "--test-shots", 1, "Support images per"
      + " class at test time.")
      .except(FEW_LABELS);

  /** Validation/test query images per class. */
  public static final TrainOption<Integer> TEST_QUERIES = integer("test_queries", "--test-queries", 15, "Query"
      + " images per class at test time.")
      .except(FEW_LABELS);

  /** Meta-iterations. */
  public static final TrainOption<Integer> ITERATIONS = integer("iterations", "--iterations", 1000, "Meta-iterations,"
      + " i.e. outer Adam steps; for transfer the pre-training steps; for the few-labels methods the optimizer"
      + " steps (300 by default).").alias("-i").defaultPer(a -> a.fewLabels() ? 300 : 1000);

  /** Tasks per meta-iteration. */
  public static final TrainOption<Integer> META_BATCH = integer("meta_batch", "--meta-batch", 1, "Tasks per"
      + " meta-iteration, processed in parallel threads; for transfer the minibatches of --batch-size images per"
      + " step.").alias("-b")
      .except(FEW_LABELS);

  /** Adam's (initial) learning rate. */
  public static final TrainOption<Double> OUTER_LR = real("outer_lr", "--outer-lr", 1e-3, "Adam learning rate of the"
      + " meta-update (of the few-labels methods' training, cosine-decayed, 3e-3 by default).")
      .defaultPer(a -> a.fewLabels() ? 3e-3 : 1e-3);

  /** The learning-rate schedule. */
  public static final TrainOption<String> SCHEDULE = text("schedule", "--schedule", "constant", "Outer learning-rate"
      + " schedule: constant, cosine (to 0 at the last iteration) or step (x --lr-gamma every --lr-step iterations).")
      .except(FEW_LABELS);

  /** Iterations between step decays. */
  public static final TrainOption<Integer> LR_STEP = integer("lr_step", "--lr-step", 2000, "Iterations between step"
      + " decays.")
      .except(FEW_LABELS);

  /** The step-decay factor. */
  public static final TrainOption<Double> LR_GAMMA = real("lr_gamma", "--lr-gamma", 0.5, "Step decay factor.")
      .except(FEW_LABELS);

  /** Inner gradient steps in training. */
  public static final TrainOption<Integer> INNER_STEPS = integer("inner_steps", "--inner-steps", 1, "Inner gradient"
      + " steps in training (MAML family, Reptile).")
      .except(FEW_LABELS);

  /** Inner gradient steps at validation/test time. */
  public static final TrainOption<Integer> TEST_INNER_STEPS = integer("test_inner_steps", "--test-inner-steps", 3,
      "Inner gradient steps at validation/test time (MAML family, Reptile).").notInFingerprint()
      .except(FEW_LABELS);

  /** The inner step size. */
  public static final TrainOption<Double> INNER_LR = real("inner_lr", "--inner-lr", 0.4, "Inner step size (MAML"
      + " family, Reptile; Meta-SGD's initial one; the meta-learner LSTM's initial input gate, in (0, 1)).")
      .except(FEW_LABELS);

  /** The conv4 width. */
  public static final TrainOption<Integer> HIDDEN = integer("hidden", "--hidden", 64, "Channels of the conv4"
      + " network (32 by default for the few-labels methods).").defaultPer(a -> a.fewLabels() ? 32 : 64);

  /** Conv blocks of the network. */
  public static final TrainOption<Integer> BLOCKS = integer("blocks", "--blocks", 4, "Conv blocks of the conv4"
      + " network, 1 to 6 (each halves the maps; --side must be at least 2^blocks): 5 sizes the embedding for"
      + " --side 56 as 4 does for 28.").presence(Presence.IF_NOT_DEFAULT)
      .except(NO_CONV_NET);

  /** Initial weights from a trained run or model folder instead of the seed's initialisation. */
  public static final TrainOption<String> INIT_FROM = text("init_from", "--init-from", "", "Start from the weights"
      + " of a trained run folder (its best.safetensors) or a model folder written by 'metagrad export' (its"
      + " model.safetensors), e.g. to fine-tune a model on other episodes, instead of the seed's initialisation"
      + " (the seed still draws the episodes). The model's settings must match the weights' (a mismatch names the"
      + " tensor). config.json records the path as given, so give it relative to where the command runs.")
      .presence(Presence.IF_NOT_DEFAULT)
      .only(Algorithm.PROTONET, Algorithm.MATCHINGNET, Algorithm.MAML, Algorithm.FOMAML, Algorithm.METASGD,
          Algorithm.ANIL, Algorithm.PROTOMAML);

  /** The seed of initialisation and task sequences. */
  public static final TrainOption<Long> SEED = TrainOption.of("seed", "--seed", Long.class, 1L, Long::parseLong,
      v -> v, "Seed of initialisation and task sequences.");

  /** Worker threads. */
  public static final TrainOption<Integer> THREADS = integer("threads", "--threads", 1, "Worker threads for"
      + " meta-batches and evaluation: tasks side by side, each one's kernels on its thread, and at most this many"
      + " threads for a lone task's kernels (unless -Dmetagrad.threads is given); results do not depend on it.")
      .alias("-t").notInFingerprint()
      .defaultFrom(() -> Runtime.getRuntime().availableProcessors(), "the processor count, "
          + Runtime.getRuntime().availableProcessors());

  /**
   * The device the run's tensors live on. Not in the fingerprint: a device changes only the float rounding of the
   * same computation (same seed, same tasks, same steps), so a run may resume, or be evaluated, on another device,
   * like with another thread count. The default is {@code -Dmetagrad.device} when given (the engine's own setting,
   * which the command line must not silently override), else {@code cpu}. Written to {@code config.json} only when
   * not the default, so configurations made before the option existed keep reading.
   */
  public static final TrainOption<String> DEVICE = TrainOption.of("device", "--device", String.class, "cpu",
      TrainOptions::device, v -> v, "Device of the run's tensors: cpu (the CPU backend), opencl:N, cuda:N or auto"
          + " (cuda:0 if it opens, else the first OpenCL device that opens and is not the host CPU, else cpu); a device that does not open is an error naming"
          + " it and why. Results agree with the CPU's within float rounding.")
      .notInFingerprint().presence(Presence.IF_NOT_DEFAULT)
      .defaultFrom(TrainOptions::deviceFromProperty, "cpu, or -D" + org.metagrad.Metagrad.DEVICE_PROPERTY
          + " when given");

  /** Validation interval. */
  public static final TrainOption<Integer> VAL_EVERY = integer("val_every", "--val-every", 200, "Validate every this"
      + " many iterations; 0 = at the end only.")
      .except(FEW_LABELS);

  /** Validation episodes. */
  public static final TrainOption<Integer> VAL_EPISODES = integer("val_episodes", "--val-episodes", 100, "Validation"
      + " episodes per validation.")
      .except(FEW_LABELS);

  /** Test episodes after training. */
  public static final TrainOption<Integer> TEST_EPISODES = integer("test_episodes", "--test-episodes", 600, "Test"
      + " episodes after training; >= 600 for a reportable number.").notInFingerprint()
      .except(FEW_LABELS);

  /** Checkpoint interval. */
  public static final TrainOption<Integer> CHECKPOINT_EVERY = integer("checkpoint_every", "--checkpoint-every", 200,
      "Write last.safetensors every this many iterations; 0 = at the end only.")
      .except(FEW_LABELS);

  /** Global-norm clipping of the meta-gradient. */
  public static final TrainOption<Double> CLIP_NORM = real("clip_norm", "--clip", 0, "Clip the meta-gradient to this"
      + " global norm; 0 = off.")
      .except(FEW_LABELS);

  /** The output folder. */
  public static final TrainOption<Path> OUT = TrainOption.of("out", "--out", Path.class, Path.of("runs", "train"),
      Path::of, Path::toString, "Output folder.").alias("-o").notInFingerprint().presence(Presence.NEVER);

  /** The transfer baselines' classifier head. */
  public static final TrainOption<String> HEAD = text("head", "--head", "linear", "Transfer only: the classifier"
      + " head, linear (Baseline: W z + b) or cosine (Baseline++: 10 * cos(z, w_k)), used in pre-training and"
      + " fine-tuned anew per task.").only(Algorithm.TRANSFER)
      .defaultPer(a -> a == Algorithm.TRANSFER ? "linear" : "none");

  /** Transfer pre-training minibatch size. */
  public static final TrainOption<Integer> BATCH_SIZE = integer("batch_size", "--batch-size", 64, "Transfer and the"
      + " few-labels methods: images per pre-training minibatch, each drawn from all training classes of the split"
      + " (x4 with AS_NEW_CLASSES rotation); labelled images per step (images per step for SimCLR and BYOL).")
      .only(Algorithm.TRANSFER, FEW_LABELS);

  /** Transfer fine-tuning steps per task. */
  public static final TrainOption<Integer> FINETUNE_STEPS = integer("finetune_steps", "--finetune-steps", 100,
      "Transfer: gradient steps fine-tuning the new head on each validation/test episode's support set, embedding"
          + " frozen; SimCLR and BYOL: steps fine-tuning the pre-trained network on the labelled drawings (300 by"
          + " default).").only(Algorithm.TRANSFER, Algorithm.SIMCLR, Algorithm.BYOL)
      .defaultPer(a -> a.fewLabels() ? 300 : 100);

  /** Transfer fine-tuning step size. */
  public static final TrainOption<Double> FINETUNE_LR = real("finetune_lr", "--finetune-lr", 0.1, "Transfer only:"
      + " step size of that fine-tuning (full-batch gradient descent).").only(Algorithm.TRANSFER);

  /** Matching nets' full-context-embedding read steps (0: no FCE). */
  public static final TrainOption<Integer> FCE_STEPS = integer("fce_steps", "--fce-steps", 0, "Matchingnet only:"
      + " read steps K of the full-context embeddings' attention LSTM (0: no FCE; --fce alone means 5).")
      .presence(Presence.IF_NOT_DEFAULT).only(Algorithm.MATCHINGNET);

  /** Matching nets' attention sharpening: the cosine similarities are multiplied by it before the softmax. */
  public static final TrainOption<Double> ATTENTION_SCALE = real("attention_scale", "--attention-scale", 1.0,
      "Matchingnet only: factor on the cosine similarities before the attention softmax (1: Vinyals et al. 2016;"
          + " a cosine lies in [-1, 1], so at 1 an N-way 1-shot softmax is never sharper than e^2 : 1 and its loss"
          + " never below log(1 + (N - 1) e^-2), 1.59 at 30 ways).")
      .presence(Presence.IF_NOT_DEFAULT).only(Algorithm.MATCHINGNET);

  /** Which classes one episode may mix. */
  public static final TrainOption<ClassGrouping> GROUPING = TrainOption.of("grouping", "--grouping",
      ClassGrouping.class, ClassGrouping.ANY, s -> constant(ClassGrouping.class, "grouping", s), ClassGrouping::name,
      "Which classes one training, validation or test episode may mix: ANY (the whole split, the usual benchmark)"
          + ", SAME_ALPHABET (all N classes from one alphabet, like Lake et al.'s one-shot runs; for a model meant"
          + " for that challenge) or LAKE_RUN (as Lake et al. made their runs: N upright characters of one alphabet,"
          + " rotations unused, each support position drawn by one drawer for all classes, each query position by"
          + " another). With transfer, only the validation and test episodes.")
      .presence(Presence.IF_NOT_DEFAULT)
      .except(FEW_LABELS);

  /** Distortion of training images. */
  public static final TrainOption<Distortion> DISTORTION = TrainOption.of("distortion", "--distort", Distortion.class,
      Distortion.NONE, Distortion::parse, Distortion::name, "Random distortion of every training image (support and"
          + " query, or pre-training batch): none, or affine (Koch et al. 2015's augmentation: rotation up to 10"
          + " degrees, shear up to 0.3, scale 0.8-1.2 per axis, shift up to 2/105 of the side, each component with"
          + " probability 0.5, bilinear resampling). Validation and test images are never distorted; the maps are"
          + " seeded per episode, so runs stay reproducible and resumable.")
      .presence(Presence.IF_NOT_DEFAULT)
      .except(FEW_LABELS);

  /** How each drawing is placed on its canvas before the resize. */
  public static final TrainOption<Framing> FRAMING = TrainOption.of("frame", "--frame", Framing.class,
      Framing.NONE, Framing::parse, Framing::cliName, "Placement of every drawing (training, validation and test, and"
          + " the one-shot runs when the model is evaluated) before the resize: none (as drawn, the papers'"
          + " preprocessing), center (the ink's bounding box moved to the canvas centre), fit (centred and scaled so"
          + " that the box's longer side spans 0.8 of the canvas) or mass (scaled as fit, the ink's centre of mass"
          + " moved to the canvas centre).")
      .presence(Presence.IF_NOT_DEFAULT)
      .except(FEW_LABELS);

  /** iMAML's proximal regularisation strength lambda. */
  public static final TrainOption<Double> IMAML_LAMBDA = real("imaml_lambda", "--lambda", 2.0, "Imaml only: proximal"
      + " regularisation strength of the inner problem, L_support(phi) + (lambda/2)|phi - theta|^2 (Rajeswaran et al."
      + " 2019 use 2.0 on Omniglot).").only(Algorithm.IMAML);

  /** iMAML's conjugate-gradient steps. */
  public static final TrainOption<Integer> CG_STEPS = integer("cg_steps", "--cg-steps", 5, "Imaml only: conjugate-"
      + "gradient steps solving (I + (H + damping I)/lambda) g = grad L_query for the implicit meta-gradient.")
      .only(Algorithm.IMAML);

  /** iMAML's CG damping. */
  public static final TrainOption<Double> CG_DAMPING = real("cg_damping", "--cg-damping", 0, "Imaml only: damping"
      + " added to the support-loss Hessian in the CG system (0: the exact implicit gradient; the Hessian is often"
      + " indefinite, and 10 trained well on Omniglot, see meta/RESULTS.md).").only(Algorithm.IMAML);

  /** MANN: the controller. */
  public static final TrainOption<Mann.Controller> MANN_CONTROLLER = TrainOption.of("mann_controller", "--controller",
      Mann.Controller.class, Mann.Controller.MANN, Mann.Controller::parse, Mann.Controller::cliName, "Mann only: mann"
          + " (LSTM controller with the LRUA external memory, Santoro et al. 2016), lstm (the LSTM-only baseline;"
          + " lstm-only is accepted) or ff (the feed-forward baseline).").only(Algorithm.MANN);

  /** MANN: how labels are coded. */
  public static final TrainOption<Mann.Labels> MANN_LABELS = TrainOption.of("mann_labels", "--labels",
      Mann.Labels.class, Mann.Labels.ONE_HOT, Mann.Labels::parse, Mann.Labels::cliName, "Mann only: onehot (over the"
          + " --ways classes) or string (5 characters over 5 symbols, drawn per episode, as the paper's 15-class"
          + " runs).").only(Algorithm.MANN);

  /** MANN: images of each class per episode. */
  public static final TrainOption<Integer> MANN_INSTANCES = integer("mann_instances", "--instances", 10, "Mann only:"
      + " images of each class per episode; an episode is --ways x --instances steps in random order, labels one"
      + " step late.").only(Algorithm.MANN);

  /** MANN: episodes per batch. */
  public static final TrainOption<Integer> MANN_EPISODES = integer("mann_episodes", "--episodes", 16, "Mann only:"
      + " episodes per batch (run side by side in one tensor); a step averages --meta-batch such batches.")
      .only(Algorithm.MANN);

  /** MANN: external memory rows x row width. */
  public static final TrainOption<String> MANN_MEMORY = TrainOption.of("mann_memory", "--memory", String.class,
      "128x40", TrainOptions::memory, v -> v, "Mann only: external memory rows x row width, SLOTSxWIDTH.")
      .only(Algorithm.MANN);

  /** MANN: read heads. */
  public static final TrainOption<Integer> MANN_READS = integer("mann_reads", "--read-heads", 4, "Mann only: read"
      + " heads, each with its LRUA write head.").only(Algorithm.MANN);

  /** MANN: usage decay. */
  public static final TrainOption<Double> MANN_GAMMA = real("mann_gamma", "--gamma", 0.95, "Mann only: usage decay"
      + " in [0, 1].").only(Algorithm.MANN);

  /** Few labels: labelled drawings per class. */
  public static final TrainOption<Integer> LABELS_PER_CLASS = integer("labels_per_class", "--labels-per-class", 1,
      "Few-labels methods: labelled drawings per images_background character; one more is held out for test, the"
          + " rest are unlabelled.").only(Algorithm.SUPERVISED, FEW_LABELS);

  /** Few labels: characters used. */
  public static final TrainOption<Integer> CLASSES = integer("classes", "--classes", 0, "Few-labels methods:"
      + " characters used (the first ones of a seeded shuffle of images_background), 0 for all 964.")
      .only(Algorithm.SUPERVISED, FEW_LABELS);

  /** Few labels: seed of the labelled/unlabelled/test split. */
  public static final TrainOption<Long> SPLIT_SEED = TrainOption.of("split_seed", "--split-seed", Long.class, 0L,
      Long::parseLong, v -> v, "Few-labels methods: seed of the labelled/unlabelled/test split.")
      .only(Algorithm.SUPERVISED, FEW_LABELS);

  /** Few labels: unlabelled images per labelled image. */
  public static final TrainOption<Integer> MU = integer("mu", "--mu", 2, "Semi-supervised methods: unlabelled images"
      + " per labelled image in a step (FixMatch's mu).").only(Algorithm.PIMODEL, SEMI);

  /** Few labels: weight of the unlabelled loss. */
  public static final TrainOption<Double> UNSUP_WEIGHT = real("unsup_weight", "--unsup-weight", 1, "Semi-supervised"
      + " methods: weight lambda of the unlabelled loss (10 for the Pi-model and Mean Teacher, whose squared error"
      + " is summed over classes; 1 for the others).").only(Algorithm.PIMODEL, SEMI)
      .defaultPer(a -> a == Algorithm.PIMODEL || a == Algorithm.MEANTEACHER ? 10.0 : 1.0);

  /** Few labels: ramp-up fraction. */
  public static final TrainOption<Double> RAMP = real("ramp", "--ramp", 0, "Semi-supervised methods: fraction of the"
      + " steps over which lambda ramps up as exp(-5(1-t)^2) (0.4 for the Pi-model, Mean Teacher and"
      + " pseudo-labels, 0 for the others).").only(Algorithm.PIMODEL, SEMI)
      .defaultPer(a -> a == Algorithm.PIMODEL || a == Algorithm.MEANTEACHER || a == Algorithm.PSEUDOLABEL ? 0.4 : 0.0);

  /** Few labels: confidence threshold. */
  public static final TrainOption<Double> THRESHOLD = real("threshold", "--threshold", 0.95, "Pseudolabel and"
      + " fixmatch: confidence threshold of the pseudo-labels, in [0, 1].")
      .only(Algorithm.PSEUDOLABEL, Algorithm.FIXMATCH);

  /** Few labels: EMA decay. */
  public static final TrainOption<Double> EMA_DECAY = real("ema_decay", "--ema-decay", 0.99, "Meanteacher and byol:"
      + " decay of the teacher/target average, in [0, 1].").only(Algorithm.MEANTEACHER, Algorithm.BYOL);

  /** Few labels: VAT's xi. */
  public static final TrainOption<Double> VAT_XI = real("vat_xi", "--vat-xi", 0.01, "Vat only: finite-difference"
      + " step xi of the power iteration.").only(Algorithm.VAT);

  /** Few labels: VAT's eps. */
  public static final TrainOption<Double> VAT_EPS = real("vat_eps", "--vat-eps", 2.0, "Vat only: norm eps of the"
      + " adversarial perturbation.").only(Algorithm.VAT);

  /** Few labels: SimCLR's temperature. */
  public static final TrainOption<Double> TEMPERATURE = real("temperature", "--temperature", 0.5, "Simclr only:"
      + " temperature of the NT-Xent loss.").only(Algorithm.SIMCLR);

  /** Few labels: linear-probe steps. */
  public static final TrainOption<Integer> PROBE_STEPS = integer("probe_steps", "--probe-steps", 300, "Simclr and"
      + " byol: full-batch Adam steps of the linear probe.").only(Algorithm.SIMCLR, Algorithm.BYOL);

  private static final List<TrainOption<?>> ALL = List.of(ALGORITHM, DATA, SPLIT, SIDE, ROTATION, WAYS, SHOTS,
      QUERIES, TEST_WAYS, TEST_SHOTS, TEST_QUERIES, ITERATIONS, META_BATCH, OUTER_LR, SCHEDULE, LR_STEP, LR_GAMMA,
      INNER_STEPS, TEST_INNER_STEPS, INNER_LR, HIDDEN, BLOCKS, INIT_FROM, SEED, THREADS, DEVICE, VAL_EVERY, VAL_EPISODES, TEST_EPISODES,
      CHECKPOINT_EVERY, CLIP_NORM, OUT, HEAD, BATCH_SIZE, FINETUNE_STEPS, FINETUNE_LR, FCE_STEPS, ATTENTION_SCALE,
      GROUPING, DISTORTION, FRAMING, IMAML_LAMBDA, CG_STEPS, CG_DAMPING, MANN_CONTROLLER, MANN_LABELS, MANN_INSTANCES,
      MANN_EPISODES, MANN_MEMORY, MANN_READS, MANN_GAMMA, LABELS_PER_CLASS, CLASSES, SPLIT_SEED, MU, UNSUP_WEIGHT,
      RAMP, THRESHOLD, EMA_DECAY, VAT_XI, VAT_EPS, TEMPERATURE, PROBE_STEPS);

  /** Every option, in {@code config.json}'s order (an unmodifiable list). */
  public static List<TrainOption<?>> all() {
    return ALL;
  }

  /**
   * The option with this {@code config.json} key.
   *
   * @throws IllegalArgumentException naming the known keys when there is none
   */
  public static TrainOption<?> byKey(String key) {
    for (TrainOption<?> o : ALL) {
      if (o.key().equals(key)) {
        return o;
      }
    }
    throw new IllegalArgumentException("unknown entry '" + key + "' (known: "
        + String.join(", ", ALL.stream().map(TrainOption::key).toList()) + ")");
  }

  /** Checks a MANN memory size, {@code SLOTSxWIDTH}, and returns it in lower case. */
  private static String memory(String text) {
    String t = text.strip().toLowerCase(java.util.Locale.ROOT);
    if (!t.matches("[0-9]{1,9}x[0-9]{1,9}")) {
      throw new IllegalArgumentException("--memory must be SLOTSxWIDTH, e.g. 128x40, got '" + text + "'");
    }
    return t;
  }

  /** Checks a device name, {@code cpu}, {@code auto}, {@code opencl:N} or {@code cuda:N}, and returns it in lower case. */
  private static String device(String text) {
    String t = text.strip().toLowerCase(java.util.Locale.ROOT);
    if (!t.matches("cpu|auto|(opencl|cuda)(:[0-9]{1,4})?")) {
      throw new IllegalArgumentException("--device must be cpu, auto, opencl:N or cuda:N, got '" + text + "'");
    }
    return t;
  }

  /** {@code -Dmetagrad.device} (checked as {@code --device} is) when given, else {@code cpu}. */
  public static String deviceFromProperty() {
    String p = System.getProperty(org.metagrad.Metagrad.DEVICE_PROPERTY);
    if (p == null || p.isBlank()) {
      return "cpu";
    }
    try {
      return device(p);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("-D" + org.metagrad.Metagrad.DEVICE_PROPERTY + " (the default of --device): "
          + e.getMessage(), e);
    }
  }

  private static Path dataFromEnvironment() {
    String env = System.getenv(DataPaths.ENV);
    return env == null || env.isBlank() ? Path.of(".") : Path.of(env.strip());
  }
}
