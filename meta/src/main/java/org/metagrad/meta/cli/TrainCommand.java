package org.metagrad.meta.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.metagrad.meta.data.ClassGrouping;
import org.metagrad.meta.data.Distortion;
import org.metagrad.meta.data.RotationMode;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code metagrad train}: meta-trains an algorithm on Omniglot and evaluates it on test episodes; see
 * {@link Experiment} for what is written.
 *
 * <pre>{@code metagrad train --algorithm protonet --ways 20 --shots 5 --queries 5 --test-ways 5 --test-shots 1
 *     --iterations 2000 --out runs/protonet-5w1s}</pre>
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Meta-train an algorithm on Omniglot episodes, validate periodically, keep the best model, then "
        + "report test accuracy with a 95%% confidence interval. Writes config.json, metrics.csv, "
        + "metrics.json, best.safetensors, last.safetensors, learning-curve.png and loss-curve.png into "
        + "--out; a progress bar is drawn on stderr. With --algorithm transfer (Chen et al. 2019's baselines), "
        + "training instead pre-trains a classifier over ALL training classes of the split on labelled minibatches"
        + " (--batch-size images, --iterations Adam steps), and validation/test fine-tune a new --head (linear ="
        + " Baseline, cosine = Baseline++) on each episode's support set (--finetune-steps at --finetune-lr) on the"
        + " frozen embedding. With --algorithm reptile (Nichol et al. 2018), each task runs --inner-steps SGD steps"
        + " at --inner-lr on its support set and the outer Adam step moves the weights towards the adapted ones.")
public final class TrainCommand implements Callable<Integer> {
  @Option(names = {"-a", "--algorithm"}, paramLabel = "NAME", description = "Algorithm: ${COMPLETION-CANDIDATES}"
      + " (default ${DEFAULT-VALUE}).", completionCandidates = AlgorithmNames.class)
  String algorithm = "protonet";

  @Option(names = "--data", paramLabel = "DIR", description = "Data root holding omniglot/ (default: $METAGRAD_DATA).")
  Path data;

  @Option(names = "--split", paramLabel = "NAME", description = "Class split: vinyals (ProtoNets/Matching nets),"
      + " maml (Finn et al.'s sizes) or background (train on images_background, test on images_evaluation; for"
      + " the one-shot challenge) (default ${DEFAULT-VALUE}).")
  String split = "vinyals";

  @Option(names = "--rotation", paramLabel = "MODE", description = "Rotations: NONE, AS_NEW_CLASSES (x4 classes, as"
      + " ProtoNets) or RANDOM_PER_TASK (as MAML) (default ${DEFAULT-VALUE}).")
  RotationMode rotation = RotationMode.AS_NEW_CLASSES;

  @Option(names = "--grouping", paramLabel = "G", description = "Which classes one training, validation or test"
      + " episode may mix: ANY (the whole split, the usual benchmark) or SAME_ALPHABET (all N classes from one"
      + " alphabet, like Lake et al.'s one-shot runs; for a model meant for that challenge). With transfer, only"
      + " the validation and test episodes (default ${DEFAULT-VALUE}).")
  ClassGrouping grouping = ClassGrouping.ANY;

  @Option(names = "--distort", paramLabel = "D", description = "Random distortion of every training image (support"
      + " and query, or pre-training batch): none, or affine (Koch et al. 2015's augmentation: rotation up to 10"
      + " degrees, shear up to 0.3, scale 0.8-1.2 per axis, shift up to 2/105 of the side, each component with"
      + " probability 0.5, bilinear resampling). Validation and test images are never distorted; the maps are"
      + " seeded per episode, so runs stay reproducible and resumable (default: none).")
  String distort = "none";

  @Option(names = "--side", description = "Image side in pixels, 16 to 105 (the drawings' own size)"
      + " (default ${DEFAULT-VALUE}).")
  int side = 28;

  @Option(names = {"-n", "--ways"}, description = "Classes per training task N (default ${DEFAULT-VALUE}).")
  int ways = 20;

  @Option(names = {"-k", "--shots"}, description = "Support images per class K in training (default ${DEFAULT-VALUE}).")
  int shots = 5;

  @Option(names = {"-q", "--queries"}, description = "Query images per class in training (default ${DEFAULT-VALUE}).")
  int queries = 5;

  @Option(names = "--test-ways", description = "Classes per validation/test task (default ${DEFAULT-VALUE}).")
  int testWays = 5;

  @Option(names = "--test-shots", description = "Support images per class at test time (default ${DEFAULT-VALUE}).")
  int testShots = 1;

  @Option(names = "--test-queries", description = "Query images per class at test time (default ${DEFAULT-VALUE}).")
  int testQueries = 15;

  @Option(names = {"-i", "--iterations"}, description = "Meta-iterations, i.e. outer Adam steps; for transfer the"
      + " pre-training steps (default ${DEFAULT-VALUE}).")
  int iterations = 1000;

  @Option(names = {"-b", "--meta-batch"}, description = "Tasks per meta-iteration, processed in parallel threads;"
      + " for transfer the minibatches of --batch-size images per step (default ${DEFAULT-VALUE}).")
  int metaBatch = 1;

  @Option(names = "--outer-lr", description = "Adam learning rate of the meta-update (default ${DEFAULT-VALUE}).")
  double outerLr = 1e-3;

  @Option(names = "--schedule", paramLabel = "NAME", description = "Outer learning-rate schedule: constant, cosine"
      + " (to 0 at the last iteration) or step (x --lr-gamma every --lr-step iterations) (default ${DEFAULT-VALUE}).")
  String schedule = "constant";

  @Option(names = "--lr-step", description = "Iterations between step decays (default ${DEFAULT-VALUE}).")
  int lrStep = 2000;

  @Option(names = "--lr-gamma", description = "Step decay factor (default ${DEFAULT-VALUE}).")
  double lrGamma = 0.5;

  @Option(names = "--inner-steps", description = "Inner gradient steps in training (MAML family, Reptile)"
      + " (default ${DEFAULT-VALUE}).")
  int innerSteps = 1;

  @Option(names = "--test-inner-steps", description = "Inner gradient steps at validation/test time (MAML family, Reptile)"
      + " (default ${DEFAULT-VALUE}).")
  int testInnerSteps = 3;

  @Option(names = "--inner-lr", description = "Inner step size (MAML family, Reptile; Meta-SGD's initial one)"
      + " (default ${DEFAULT-VALUE}).")
  double innerLr = 0.4;

  @Option(names = "--hidden", description = "Channels of the conv4 network (default ${DEFAULT-VALUE}).")
  int hidden = 64;

  @Option(names = "--seed", description = "Seed of initialisation and task sequences (default ${DEFAULT-VALUE}).")
  long seed = 1;

  @Option(names = {"-t", "--threads"}, description = "Worker threads for meta-batches and evaluation: tasks side by"
      + " side, each one's kernels on its thread, and at most this many threads for a lone task's kernels (unless"
      + " -Dmetagrad.threads is given); results do not depend on it (default: the processor count, ${DEFAULT-VALUE}).")
  int threads = Runtime.getRuntime().availableProcessors();

  @Option(names = "--val-every", description = "Validate every this many iterations; 0 = at the end only"
      + " (default ${DEFAULT-VALUE}).")
  int valEvery = 200;

  @Option(names = "--val-episodes", description = "Validation episodes per validation (default ${DEFAULT-VALUE}).")
  int valEpisodes = 100;

  @Option(names = "--test-episodes", description = "Test episodes after training; >= 600 for a reportable"
      + " number (default ${DEFAULT-VALUE}).")
  int testEpisodes = 600;

  @Option(names = "--checkpoint-every", description = "Write last.safetensors every this many iterations"
      + " (default ${DEFAULT-VALUE}).")
  int checkpointEvery = 200;

  @Option(names = "--clip", description = "Clip the meta-gradient to this global norm; 0 = off"
      + " (default ${DEFAULT-VALUE}).")
  double clip = 0;

  @Option(names = "--head", paramLabel = "HEAD", description = "Transfer only: the classifier head, linear"
      + " (Baseline: W z + b) or cosine (Baseline++: 10 * cos(z, w_k)), used in pre-training and fine-tuned anew per"
      + " task (default: linear).")
  String head;

  @Option(names = "--batch-size", description = "Transfer only: images per pre-training minibatch, each drawn from"
      + " all training classes of the split (x4 with AS_NEW_CLASSES rotation) (default: 64).")
  Integer batchSize;

  @Option(names = "--finetune-steps", description = "Transfer only: gradient steps fine-tuning the new head on each"
      + " validation/test episode's support set, embedding frozen (default: 100).")
  Integer finetuneSteps;

  @Option(names = "--finetune-lr", description = "Transfer only: step size of that fine-tuning (full-batch gradient"
      + " descent) (default: 0.1).")
  Double finetuneLr;

  @Option(names = "--fce", description = "Matchingnet only: full-context embeddings (Vinyals et al. 2016, appendix"
      + " A.2): a bidirectional LSTM over the support set (in the episode's order) and an attention LSTM reading"
      + " the support set for each query; their parameters are trained and checkpointed with the embedding.")
  boolean fce;

  @Option(names = "--fce-steps", paramLabel = "K", description = "With --fce: read steps K of the attention LSTM"
      + " (default: 5).")
  Integer fceSteps;

  @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "Output folder (default ${DEFAULT-VALUE}).")
  Path out = Path.of("runs", "train");

  @Option(names = "--resume", description = "Continue the interrupted run in --out from its last.safetensors; the"
      + " settings must be the run's (config.json), and the result is bit-identical to an uninterrupted run. A"
      + " missing or stale best.safetensors is not trusted: the best model is then chosen again from the"
      + " validations after the resumed iteration.")
  boolean resume;

  @Option(names = "--overwrite", description = "Replace the run in a non-empty --out: delete its config.json,"
      + " metrics, checkpoints and curves first (other files are left alone). Without it, training into a"
      + " non-empty folder is an error, so two runs are never mixed in one folder.")
  boolean overwrite;

  @Option(names = "--no-progress", description = "Do not draw progress bars on stderr.")
  boolean noProgress;

  @Option(names = "--labels", description = "Semi-/self-supervised methods (supervised, pimodel, meanteacher, vat,"
      + " pseudolabel, fixmatch, simclr, byol) only: labelled drawings per images_background character; one more is"
      + " held out for test, the rest are unlabelled (default 1).")
  Integer labels;

  @Option(names = "--semi", paramLabel = "KEY=VALUE", description = "Semi-/self-supervised methods only: a setting"
      + " of org.metagrad.meta.semi.SemiConfig by name (classes, steps, batch-size, mu, lr, split-seed, hidden,"
      + " unsup-weight, ramp, threshold, ema-decay, vat-xi, vat-eps, temperature, probe-steps, finetune-steps);"
      + " repeatable, e.g. --semi steps=300 --semi classes=200.")
  java.util.Map<String, String> semi = new java.util.LinkedHashMap<>();

  /** The configuration these options describe. */
  TrainConfig config() {
    Algorithm a = Algorithm.parse(algorithm);
    if (a != Algorithm.TRANSFER) {
      CliSupport.transferOnly(a, "--head", head);
      CliSupport.transferOnly(a, "--batch-size", batchSize);
      CliSupport.transferOnly(a, "--finetune-steps", finetuneSteps);
      CliSupport.transferOnly(a, "--finetune-lr", finetuneLr);
    }
    TrainConfig.Builder b = TrainConfig.builder().head(head);
    if (batchSize != null) {
      b.batchSize(batchSize);
    }
    if (finetuneSteps != null) {
      b.finetuneSteps(finetuneSteps);
    }
    if (finetuneLr != null) {
      b.finetuneLr(finetuneLr);
    }
    if (fceSteps != null && !fce) {
      throw new IllegalArgumentException("--fce-steps needs --fce");
    }
    if (fce) {
      int k = fceSteps == null ? org.metagrad.meta.algo.MatchingNet.DEFAULT_FCE_STEPS : fceSteps;
      if (k < 1) {
        throw new IllegalArgumentException("--fce-steps must be >= 1, got " + k);
      }
      b.fceSteps(k);
    }
    return b.algorithm(a).data(CliSupport.dataRoot(data)).split(split)
        .rotation(rotation).grouping(grouping).distortion(Distortion.parse(distort)).side(side).ways(ways).shots(shots).queries(queries).testWays(testWays)
        .testShots(testShots).testQueries(testQueries).iterations(iterations).metaBatch(metaBatch).outerLr(outerLr)
        .schedule(schedule).lrStep(lrStep).lrGamma(lrGamma).innerSteps(innerSteps).testInnerSteps(testInnerSteps)
        .innerLr(innerLr).hidden(hidden).seed(seed).threads(threads).valEvery(valEvery).valEpisodes(valEpisodes)
        .testEpisodes(testEpisodes).checkpointEvery(checkpointEvery).clipNorm(clip).out(out).build();
  }

  @Override
  public Integer call() {
    if (SemiTrain.handles(algorithm)) {
      CliSupport.capKernelThreads(threads);
      return SemiTrain.run(algorithm, CliSupport.dataRoot(data), out, seed, threads, labels, semi, resume, overwrite);
    }
    if (labels != null || !semi.isEmpty()) {
      throw new IllegalArgumentException("--labels and --semi apply to the semi-/self-supervised methods only, not"
          + " to " + algorithm);
    }
    TrainConfig c = config();
    CliSupport.capKernelThreads(threads);
    new Experiment(c, System.out, noProgress ? null : System.err).run(resume, overwrite);
    return 0;
  }
}
