package org.metagrad.meta.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.metagrad.meta.algo.FewShotLearner;
import org.metagrad.meta.data.ClassGrouping;
import org.metagrad.meta.data.ClassSplit;
import org.metagrad.meta.data.EpisodeSampler;
import org.metagrad.meta.data.ImageClasses;
import org.metagrad.meta.data.OmniglotReader;
import org.metagrad.meta.data.TaskSpec;
import org.metagrad.meta.eval.EvalResult;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.Json;
import org.metagrad.meta.train.TaskSource;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.nn.Params;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code metagrad eval}: evaluates a trained run on test (or validation) episodes: mean accuracy and 95%
 * confidence interval {@code 1.96 sigma / sqrt(n)}.
 *
 * <pre>{@code metagrad eval --run runs/protonet --ways 20 --shots 1 --episodes 1000}</pre>
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Evaluate a trained run (folder written by 'metagrad train') on few-shot episodes: mean query "
        + "accuracy with a 95%% confidence interval (1.96 * sigma / sqrt(n)). For a transfer run, a new head is"
        + " fine-tuned on each episode's support set (--finetune-steps, --finetune-lr).")
public final class EvalCommand implements Callable<Integer> {
  private final java.util.function.Function<TrainConfig, Experiment.Workers> workers;
  private final PoolLoader pools;

  /**
   * Decodes the pool of classes the episodes are drawn from. The command decodes them anew; a test evaluating many
   * models of one split (ShippedModelsTest) passes a loader that decodes each pool once per JVM.
   */
  @FunctionalInterface
  interface PoolLoader {
    /**
     * The images of {@code classes}, as {@code reader.load(classes)} decodes them.
     *
     * @param dataRoot the data root
     * @param side the image side
     * @param reader the reader of that root and side (and the run's framing: {@link OmniglotReader#framing()})
     * @param classes the classes
     * @return their images
     */
    ImageClasses load(Path dataRoot, int side, OmniglotReader reader, List<org.metagrad.meta.data.CharacterId> classes);
  }

  /** The command of {@code metagrad eval}: episodes on this process's threads. */
  public EvalCommand() {
    this((java.util.function.Function<TrainConfig, Experiment.Workers>) null);
  }

  /** The command of {@code metagrad eval} with its pools decoded by {@code pools}. */
  EvalCommand(PoolLoader pools) {
    this.workers = null;
    this.pools = pools;
  }

  /**
   * The same options, with the episodes evaluated by the workers of the evaluation's configuration (e.g. a
   * cluster's executors: {@code metagrad-spark eval}); ensembles are then refused.
   *
   * @param workers the workers for a configuration, or null for this process's threads
   */
  public EvalCommand(java.util.function.Function<TrainConfig, Experiment.Workers> workers) {
    this.workers = workers;
    this.pools = null;
  }

  @Option(names = {"-r", "--run"}, required = true, paramLabel = "DIR", description = "Run folder holding"
      + " config.json and the checkpoints, or a model folder written by 'metagrad export'.")
  Path run;

  @Option(names = "--checkpoint", paramLabel = "WHICH", description = "best, last or a checkpoint file"
      + " (default ${DEFAULT-VALUE}; in a model folder written by 'metagrad export', best loads its"
      + " model.safetensors).")
  String checkpoint = "best";

  @Option(names = "--allow-non-finite", description = CliSupport.ALLOW_NON_FINITE_HELP)
  boolean allowNonFinite;

  @Option(names = "--data", paramLabel = "DIR", description = "Data root holding omniglot/ (default: $METAGRAD_DATA).")
  Path data;

  @Option(names = "--on", paramLabel = "SPLIT", description = "Which classes: test or val (default ${DEFAULT-VALUE}).")
  String on = "test";

  @Option(names = {"-n", "--ways"}, description = "Classes per task (default: the run's test ways).")
  Integer ways;

  @Option(names = {"-k", "--shots"}, description = "Support images per class (default: the run's test shots).")
  Integer shots;

  @Option(names = {"-q", "--queries"}, description = "Query images per class (default: the run's test queries).")
  Integer queries;

  @Option(names = {"-e", "--episodes"}, description = "Episodes, >= 600 for a reportable number"
      + " (default ${DEFAULT-VALUE}).")
  int episodes = 600;

  @Option(names = "--test-inner-steps", description = "Inner gradient steps at test time, MAML family"
      + " (default: the run's).")
  Integer testInnerSteps;

  @Option(names = "--finetune-steps", description = "Transfer runs only: gradient steps fine-tuning the new head on"
      + " each episode's support set (default: the run's).")
  Integer finetuneSteps;

  @Option(names = "--finetune-lr", description = "Transfer runs only: step size of that fine-tuning (default: the"
      + " run's).")
  Double finetuneLr;

  @Option(names = "--grouping", paramLabel = "G", description = "Which classes one episode may mix: ANY (the whole"
      + " split, the usual benchmark), SAME_ALPHABET (all N classes from one alphabet, a harder task) or LAKE_RUN (made"
      + " as Lake et al.'s one-shot runs are: N upright characters of one alphabet, every support image by one drawer"
      + " and every query image by another; the estimate of the challenge's held-out runs) (default: the run's, ANY"
      + " unless it was trained with --grouping).")
  ClassGrouping grouping;

  @Option(names = "--rotation", paramLabel = "MODE", description = "How the test episodes use rotations: NONE"
      + " (upright characters only), AS_NEW_CLASSES or RANDOM_PER_TASK (default: the run's; the model is the run's"
      + " whatever this says). LAKE_RUN episodes are always upright.")
  org.metagrad.meta.data.RotationMode rotation;

  @Option(names = "--shift-ensemble", paramLabel = "R", description = CliSupport.SHIFT_ENSEMBLE_HELP)
  int shiftEnsemble = 0;

  @Option(names = "--affine-ensemble", paramLabel = "DEG,SCALE", description = CliSupport.AFFINE_ENSEMBLE_HELP)
  String affineEnsemble;

  @Option(names = "--ensemble-with", paramLabel = "DIR", description = CliSupport.ENSEMBLE_WITH_HELP)
  List<Path> ensembleWith = new ArrayList<>();

  @Option(names = "--center-sets", description = CliSupport.CENTER_SETS_HELP)
  boolean centerSets;

  @Option(names = "--seed", description = "Seed of the episodes (default: the run's test seed).")
  Long seed;

  @Option(names = {"-t", "--threads"}, description = "Worker threads: episodes side by side, each one's kernels on"
      + " its thread, and at most this many threads for a lone episode's kernels (unless -Dmetagrad.threads is"
      + " given); results do not depend on it (default: the processor count, ${DEFAULT-VALUE}).")
  int threads = Runtime.getRuntime().availableProcessors();

  @Option(names = "--device", paramLabel = "DEVICE", description = "Device of the evaluation's tensors: cpu,"
      + " opencl:N, cuda:N or auto, as train's --device (whatever device the run was trained on); a device that does"
      + " not open is an error naming it and why (default: cpu, or -Dmetagrad.device when given).")
  String device;

  @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "Also write the result as JSON to this file.")
  Path out;

  @Option(names = "--no-progress", description = "Do not draw a progress bar on stderr.")
  boolean noProgress;

  @Option(names = "--record-check", description = "Record this evaluation as the model folder's check.json (--run"
      + " must be a model folder written by 'metagrad export'): the episodes' settings and seed, the accuracy of each"
      + " episode and their mean, the backend, and the SHA-256 of model.safetensors. CI (ShippedModelsTest) evaluates"
      + " the same episodes and compares. With --ensemble-with every member must be a model folder beside --run (in"
      + " the same folder): the check records their names and SHA-256s and evaluates the ensemble.")
  boolean recordCheck;

  /** A trained run's configuration with this command's test settings (the options given, else the run's). */
  private TrainConfig testSettings(TrainConfig trained, Path dataRoot) {
    return trained.toBuilder().data(dataRoot)
        .testWays(ways == null ? trained.testWays() : ways).testShots(shots == null ? trained.testShots() : shots)
        .testQueries(queries == null ? trained.testQueries() : queries)
        .testInnerSteps(testInnerSteps == null ? trained.testInnerSteps() : testInnerSteps)
        .finetuneSteps(finetuneSteps == null ? trained.finetuneSteps() : finetuneSteps)
        .finetuneLr(finetuneLr == null ? trained.finetuneLr() : finetuneLr)
        .testEpisodes(episodes).threads(threads).grouping(grouping == null ? trained.grouping() : grouping).build();
  }

  /** The rotation mode of the test episodes: --rotation, else the run's; LAKE_RUN episodes are upright. */
  private org.metagrad.meta.data.RotationMode episodeRotation(TrainConfig c) {
    if (c.grouping() == ClassGrouping.LAKE_RUN) {
      return org.metagrad.meta.data.RotationMode.NONE;
    }
    return rotation == null ? c.rotation() : rotation;
  }

  /**
   * Every option that can be checked without the run or the data, so that a bad one fails before any
   * checkpoint is loaded or image decoded (the run's own settings are checked when its config is read).
   */
  private void validateOptions() {
    if (!on.equals("test") && !on.equals("val")) {
      throw new IllegalArgumentException("--on must be test or val, got '" + on + "'");
    }
    if (threads < 1) {
      throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
    }
    CliSupport.atLeast("--episodes", episodes, 1);
    if (ways != null) {
      CliSupport.atLeast("--ways", ways, 2);
    }
    if (shots != null) {
      CliSupport.atLeast("--shots", shots, 1);
    }
    if (queries != null) {
      CliSupport.atLeast("--queries", queries, 1);
    }
    if (testInnerSteps != null) {
      CliSupport.atLeast("--test-inner-steps", testInnerSteps, 0);
    }
    if (finetuneSteps != null) {
      CliSupport.atLeast("--finetune-steps", finetuneSteps, 0);
    }
    if (finetuneLr != null) {
      CliSupport.finite("--finetune-lr", finetuneLr, 0, false);
    }
    CliSupport.atLeast("--shift-ensemble", shiftEnsemble, 0);
    CliSupport.checkAffineEnsemble(affineEnsemble);
    CliSupport.checkOutputFile("--out", out);
  }

  @Override
  public Integer call() {
    validateOptions();
    if (workers != null && (shiftEnsemble > 0 || affineEnsemble != null || !ensembleWith.isEmpty())) {
      throw new IllegalArgumentException("--shift-ensemble, --affine-ensemble and --ensemble-with are not supported"
          + " by the distributed evaluation; run 'metagrad eval' for ensembles");
    }
    if (workers != null && centerSets) {
      throw new IllegalArgumentException("--center-sets is not supported by the distributed evaluation; run"
          + " 'metagrad eval'");
    }
    if (recordCheck && affineEnsemble != null) {
      throw new IllegalArgumentException("--record-check records a model's plain evaluation; not with"
          + " --affine-ensemble");
    }
    if (recordCheck && centerSets) {
      throw new IllegalArgumentException("--record-check records a model's plain evaluation; not with --center-sets");
    }
    if (workers != null && rotation != null) {
      throw new IllegalArgumentException("--rotation is not supported by the distributed evaluation; run"
          + " 'metagrad eval'");
    }
    if (recordCheck && workers != null) {
      throw new IllegalArgumentException("--record-check records a model folder's own evaluation; not with"
          + " a distributed evaluation");
    }
    CliSupport.capKernelThreads(threads);
    CliSupport.useDevice(device == null ? org.metagrad.meta.train.TrainOptions.deviceFromProperty()
        : org.metagrad.meta.train.TrainOptions.DEVICE.parse(device));
    RunFolder rf = RunFolder.open(run, checkpoint);
    if (on.equals("val")) {
      if (!rf.config().validated()) {
        throw new IllegalArgumentException("--on val: " + run + " was trained on the '" + rf.config().split()
            + "' split, which has no validation classes (its images_background alphabets are all training classes)");
      }
      // a background-all member trained on the background split's validation classes
      for (RunFolder m : CliSupport.openMembers(rf, checkpoint, ensembleWith)) {
        if (!m.config().split().equals(rf.config().split())) {
          throw new IllegalArgumentException("--on val with --ensemble-with: a member was trained on the '"
              + m.config().split() + "' split, --run on '" + rf.config().split() + "'; the member's training"
              + " classes include --run's validation classes");
        }
      }
    }
    if (recordCheck && !rf.checkpoint().toAbsolutePath().normalize().equals(
        run.resolve(ExportCommand.MODEL).toAbsolutePath().normalize())) {
      throw new IllegalArgumentException("--record-check: " + run + " is not a model folder (it has no "
          + ExportCommand.MODEL + "; write one with 'metagrad export --run RUN_DIR --out MODEL_DIR')");
    }
    if (recordCheck) {
      Path parent = run.toAbsolutePath().normalize().getParent();
      for (Path member : ensembleWith) {
        Path m = member.toAbsolutePath().normalize();
        if (!java.util.Objects.equals(m.getParent(), parent) || !Files.isRegularFile(m.resolve(ExportCommand.MODEL))) {
          throw new IllegalArgumentException("--record-check with --ensemble-with: " + member + " must be a model"
              + " folder (with " + ExportCommand.MODEL + ") beside " + run + ", so that the check names it by its"
              + " folder name");
        }
      }
    }
    TrainConfig trained = rf.config();
    CliSupport.centerSetsApplies(trained, centerSets);
    if (trained.algorithm() != Algorithm.TRANSFER) {
      CliSupport.transferOnly(trained.algorithm(), "--finetune-steps", finetuneSteps);
      CliSupport.transferOnly(trained.algorithm(), "--finetune-lr", finetuneLr);
    }
    Path dataRoot = CliSupport.dataRoot(data);
    TrainConfig c = testSettings(trained, dataRoot);
    CliSupport.Loaded loaded = CliSupport.load(rf, c, checkpoint, ensembleWith, t -> testSettings(t, dataRoot),
        CliSupport.loadOptions(allowNonFinite));
    Params params = loaded.params();
    FewShotLearner learner = CliSupport.shiftEnsemble(CliSupport.affineEnsemble(
        CliSupport.centerSets(loaded.learner(), centerSets), affineEnsemble), shiftEnsemble);
    OmniglotReader reader = Experiment.reader(c.data(), c.side(), c.framing(), threads);
    ClassSplit split = Experiment.split(c, reader);
    List<org.metagrad.meta.data.CharacterId> classes = on.equals("test") ? split.test() : split.val();
    ImageClasses pool = pools == null ? reader.load(classes) : pools.load(c.data(), c.side(), reader, classes);
    long s = seed == null ? Experiment.testSeed(c) : seed;
    TaskSource tasks = TaskSource.of(new EpisodeSampler(pool,
        TaskSpec.of(c.testWays(), c.testShots(), c.testQueries()), episodeRotation(c), c.grouping(), s));
    EvalResult r = workers != null ? workers.apply(c).evaluate(pool, s, params, episodes)
        : Experiment.evaluate(learner, params, tasks, episodes, threads, noProgress ? null : System.err);
    String what = c.algorithm() == Algorithm.TRANSFER ? "transfer (" + c.head() + " head, fine-tuned "
        + c.finetuneSteps() + " steps at lr " + c.finetuneLr() + ")" : c.algorithm().cliName();
    if (!ensembleWith.isEmpty()) {
      what = "ensemble of " + loaded.checkpoints().size() + " runs (" + what + " first)";
    }
    String rotationNote = rotation == null || c.grouping() == ClassGrouping.LAKE_RUN ? ""
        : " (rotations: " + rotation + ")";
    System.out.printf(Locale.ROOT, "%s%s on %s classes of the %s split%s%s%s: %d-way %d-shot (%d queries): %s%n",
        what, CliSupport.viewsNote(shiftEnsemble, affineEnsemble), on,
        c.split(), CliSupport.groupingNote(c.grouping()), centerSets ? " (sets centred)" : "", rotationNote,
        c.testWays(), c.testShots(), c.testQueries(), r);
    if (recordCheck) {
      ShippedCheck.write(run, ShippedCheck.of(c, on, s, shiftEnsemble, r, run.resolve(ExportCommand.MODEL),
          ensembleWith));
      System.out.println("recorded " + run.resolve(ExportCommand.CHECK));
    }
    if (out != null) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("run", run.toString());
      m.put("checkpoint", rf.checkpoint().toString());
      if (!ensembleWith.isEmpty()) {
        m.put("ensemble_checkpoints", loaded.checkpoints().stream().map(Path::toString).toList());
      }
      m.put("algorithm", c.algorithm().cliName());
      m.put("classes", on);
      m.put("grouping", c.grouping().name());
      m.put("rotation", episodeRotation(c).name());
      m.put("ways", c.testWays());
      m.put("shots", c.testShots());
      m.put("queries", c.testQueries());
      m.put("shift_ensemble_radius", shiftEnsemble);
      if (affineEnsemble != null) {
        m.put("affine_ensemble", affineEnsemble);
      }
      m.put("center_sets", centerSets);
      m.put("test_inner_steps", c.algorithm().gradientBased() ? c.testInnerSteps() : 0);
      if (c.algorithm() == Algorithm.TRANSFER) {
        m.put("head", c.head());
        m.put("finetune_steps", c.finetuneSteps());
        m.put("finetune_lr", c.finetuneLr());
      }
      m.put("episodes", r.episodes());
      m.put("accuracy", r.mean());
      m.put("ci95", r.ci95());
      m.put("std", r.std());
      // Per episode, in episode order: with the same --seed two evaluations see the same tasks, so their
      // difference can be tested episode by episode (paired) rather than through the two intervals.
      m.put("episode_accuracies", r.accuracies());
      try {
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Files.writeString(out, Json.object(m));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
      }
    }
    return 0;
  }
}
