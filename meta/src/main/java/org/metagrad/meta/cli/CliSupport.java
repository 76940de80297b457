package org.metagrad.meta.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.metagrad.meta.algo.AreaDownsample;
import org.metagrad.meta.algo.FewShotLearner;
import org.metagrad.meta.algo.ModelEnsemble;
import org.metagrad.meta.algo.ProtoNet;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.nn.Params;
import org.metagrad.nn.io.Checkpoints;

/** Helpers shared by the subcommands. */
final class CliSupport {
  private CliSupport() {}

  /** The system property that sizes the CPU backend's kernel threads (read when the backend is first opened). */
  static final String KERNEL_THREADS_PROPERTY = org.metagrad.Metagrad.THREADS_PROPERTY;

  /**
   * The kernel thread count a command with {@code --threads requested} sets, or null to leave it: at most
   * {@code requested} and the processor count, and nothing when {@code -Dmetagrad.threads} is already given (an
   * explicit setting wins) or when the cap is the processor count (the default anyway).
   */
  static Integer kernelThreads(int requested, String property, int processors) {
    if (property != null && !property.isBlank()) {
      return null;
    }
    int n = Math.max(1, Math.min(requested, processors));
    return n < processors ? n : null;
  }

  /**
   * Caps the CPU backend's kernel threads at the command's {@code --threads}, so that {@code --threads 1} keeps a
   * run on one core: without it a lone task (a ProtoNet episode, one evaluation episode at a time) splits each
   * kernel over every processor. Goes through {@link org.metagrad.Metagrad#configure()} and takes effect when the
   * backend has not been opened yet in this JVM (a command line run; a later command in the same JVM, as in tests,
   * keeps the open backend: results do not depend on the thread count).
   */
  static void capKernelThreads(int requested) {
    Integer n = kernelThreads(requested, System.getProperty(KERNEL_THREADS_PROPERTY),
        Runtime.getRuntime().availableProcessors());
    if (n != null && !org.metagrad.Metagrad.isCpuBackendOpen()) {
      org.metagrad.Metagrad.configure().threads(n).apply();
    }
  }

  /**
   * Makes {@code spec} ({@code cpu}, {@code opencl:N}, {@code cuda:N} or {@code auto}) the default device of new
   * tensors through {@link org.metagrad.Metagrad#configure()} and opens it at once, before any tensor is made, so
   * that a device that does not open stops the command here, naming the device and the reason. {@code cpu} with
   * nothing else configured changes nothing. Call after {@link #capKernelThreads} (which must come before the
   * CPU backend opens).
   *
   * @return the device new tensors now go to
   * @throws IllegalArgumentException when the device does not parse or does not open
   * @throws IllegalStateException when tensors already went to another device in this JVM
   */
  static org.metagrad.Device useDevice(String spec) {
    String t = spec.strip().toLowerCase(java.util.Locale.ROOT);
    if (!t.equals(org.metagrad.Metagrad.settings().device().strip().toLowerCase(java.util.Locale.ROOT))) {
      org.metagrad.Metagrad.configure().device(t).apply();
    }
    try {
      org.metagrad.Device d = org.metagrad.spi.Backends.defaultDevice();
      org.metagrad.spi.Backends.forDevice(d);
      if (!t.equals("cpu")) {
        System.err.println("device: " + d + (t.equals("auto") ? " (auto)" : ""));
      }
      return d;
    } catch (org.metagrad.spi.BackendException | LinkageError e) {
      throw new IllegalArgumentException("--device " + t + ": the device does not open: " + e.getMessage(), e);
    }
  }

  /** Description of the {@code --shift-ensemble} option of eval and oneshot. */
  static final String SHIFT_ENSEMBLE_HELP = "Test-time shift ensemble: every support and query image also enters"
      + " shifted by each whole-pixel offset up to R per axis ((2R+1)^2 views, e.g. 1 = 9), the query's logits"
      + " averaged over its views; 0 = off (default ${DEFAULT-VALUE}). Costs (2R+1)^2 times the test-time work.";

  /** How a result line names an episode grouping: nothing for ANY. */
  static String groupingNote(org.metagrad.meta.data.ClassGrouping g) {
    return switch (g) {
      case ANY -> "";
      case SAME_ALPHABET -> " (each task within one alphabet)";
      case LAKE_RUN -> " (each task made as a Lake et al. run: one alphabet, upright, one drawer per position)";
    };
  }

  /** The learner wrapped in a {@link org.metagrad.meta.algo.ShiftEnsemble} of radius r, or as it is for 0. */
  static FewShotLearner shiftEnsemble(FewShotLearner learner, int r) {
    if (r < 0) {
      throw new IllegalArgumentException("--shift-ensemble must be >= 0, got " + r);
    }
    return r == 0 ? learner : org.metagrad.meta.algo.ShiftEnsemble.of(learner, r);
  }

  /** Description of the {@code --affine-ensemble} option of eval and oneshot. */
  static final String AFFINE_ENSEMBLE_HELP = "Test-time ensemble over rotations and scalings, DEGREES,SCALE (e.g."
      + " 5,0.1): every support and query image also enters rotated by -DEGREES, 0, +DEGREES and scaled by"
      + " 1-SCALE, 1, 1+SCALE about its centre (9 views; 3 with one component at 0), the query's logits averaged"
      + " over its views. Combines with --shift-ensemble (the views multiply). Default: off.";

  /** The learner wrapped in an {@link org.metagrad.meta.algo.AffineEnsemble} for {@code spec}, as it is for null. */
  static FewShotLearner affineEnsemble(FewShotLearner learner, String spec) {
    double[] ds = checkAffineEnsemble(spec);
    return ds == null ? learner : org.metagrad.meta.algo.AffineEnsemble.of(learner, ds[0], ds[1]);
  }

  /**
   * Checks an {@code --affine-ensemble} value before anything expensive runs.
   *
   * @return {@code {degrees, scale}}, or null for null (the option absent)
   * @throws IllegalArgumentException naming the option and the value
   */
  static double[] checkAffineEnsemble(String spec) {
    if (spec == null) {
      return null;
    }
    try {
      double[] ds = org.metagrad.meta.algo.AffineEnsemble.parse(spec);
      org.metagrad.meta.algo.AffineEnsemble.check(ds[0], ds[1]);
      return ds;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--affine-ensemble: " + e.getMessage(), e);
    }
  }

  /** How a result line names the test-time views: nothing without any. */
  static String viewsNote(int shiftRadius, String affine) {
    String s = shiftRadius > 0 ? " with a " + org.metagrad.meta.algo.ShiftEnsemble.views(shiftRadius)
        + "-view shift ensemble" : "";
    return affine == null ? s : s + (s.isEmpty() ? " with" : " and") + " an affine ensemble (" + affine + ")";
  }

  /** Description of the {@code --center-sets} option of eval and oneshot. */
  static final String CENTER_SETS_HELP = "ProtoNet models (and ensembles of them) only: centre the prototypes on"
      + " their mean and the queries on theirs before the distances, which aligns a support set drawn by one person"
      + " with queries drawn by another (as in Lake et al.'s runs). Transductive, like BatchNorm's batch statistics:"
      + " a query's result depends on the other queries of its task.";

  /**
   * The learner with every ProtoNet in it {@linkplain ProtoNet#centered(boolean) centred} (through model
   * ensembles and area downsampling); unchanged when {@code on} is false.
   *
   * @throws IllegalArgumentException when {@code on} and the learner holds a model that is not a ProtoNet
   */
  static FewShotLearner centerSets(FewShotLearner learner, boolean on) {
    if (!on) {
      return learner;
    }
    if (learner instanceof ProtoNet p) {
      return p.centered(true);
    }
    if (learner instanceof ModelEnsemble e) {
      return ModelEnsemble.of(e.members().stream().map(m -> centerSets(m, true)).toList());
    }
    if (learner instanceof AreaDownsample a) {
      return AreaDownsample.of(centerSets(a.inner(), true), a.factor());
    }
    throw new IllegalArgumentException("--center-sets needs ProtoNet models (algorithm protonet), got " + learner);
  }

  /** Refuses {@code --center-sets} for a run that is not a ProtoNet, before anything is loaded. */
  static void centerSetsApplies(TrainConfig c, boolean centerSets) {
    if (centerSets && c.algorithm() != org.metagrad.meta.train.Algorithm.PROTONET) {
      throw new IllegalArgumentException("--center-sets needs ProtoNet models (algorithm protonet); the run is "
          + c.algorithm().cliName());
    }
  }

  /** Description of the {@code --ensemble-with} option of eval and oneshot. */
  static final String ENSEMBLE_WITH_HELP = "Model ensemble: also load this trained run (repeatable) and average the"
      + " members' log-probabilities (log-softmax of each member's logits) per query. Each run must have the same"
      + " --split (background and background-all mix, but not on validation classes) as --run, and a --side that"
      + " divides --run's (a member of smaller images sees the episode's images area-averaged down to its side:"
      + " exactly the images it was trained on); each uses its own config and the same --checkpoint (best or last)."
      + " Costs the sum of the members' test-time work.";

  /** A trained run's learner and parameters: one run's, or a {@link ModelEnsemble}'s over several runs. */
  record Loaded(FewShotLearner learner, Params params, List<Path> checkpoints) {}

  /**
   * The learner of the first run (its configuration with the command's test settings already applied) and its
   * parameters; with other runs, the {@link ModelEnsemble} of all of them, each member built from its own
   * configuration with {@code testSettings} applied.
   *
   * @param first the first run, as opened
   * @param firstTest the first run's configuration with the command's test settings
   * @param checkpoint best or last (a checkpoint file names one run's file and is refused with other runs)
   * @param others the runs of {@code --ensemble-with}, possibly empty
   * @param testSettings the command's test settings, applied to each other run's configuration
   * @throws IllegalArgumentException for a missing run or checkpoint, a checkpoint file with other runs, or a run
   *     whose split or image side differs from the first run's
   */
  static Loaded load(RunFolder first, TrainConfig firstTest, String checkpoint, List<Path> others,
      UnaryOperator<TrainConfig> testSettings) {
    return load(first, firstTest, checkpoint, others, testSettings, Checkpoints.LoadOptions.strict());
  }

  /** Description of the {@code --allow-non-finite} option of eval and oneshot. */
  static final String ALLOW_NON_FINITE_HELP = "Load checkpoints holding NaN or infinite values (a diverged"
      + " run's) instead of refusing them; the results will be meaningless, but a diverged model can be inspected.";

  /** The checkpoint load options of {@code --allow-non-finite}. */
  static Checkpoints.LoadOptions loadOptions(boolean allowNonFinite) {
    return allowNonFinite ? Checkpoints.LoadOptions.allowingNonFinite() : Checkpoints.LoadOptions.strict();
  }

  /** As {@link #load(RunFolder, TrainConfig, String, List, UnaryOperator)}, loading with {@code options}. */
  static Loaded load(RunFolder first, TrainConfig firstTest, String checkpoint, List<Path> others,
      UnaryOperator<TrainConfig> testSettings, Checkpoints.LoadOptions options) {
    List<RunFolder> members = openMembers(first, checkpoint, others);
    List<TrainConfig> memberTests = new ArrayList<>();
    for (RunFolder rf : members) {
      memberTests.add(testSettings.apply(rf.config()));
    }
    FewShotLearner learner = Experiment.fewShotLearner(firstTest, Experiment.model(firstTest));
    Params params = Experiment.loadParams(first.config(), first.checkpoint(), options);
    if (members.isEmpty()) {
      return new Loaded(learner, params, List.of(first.checkpoint()));
    }
    List<FewShotLearner> learners = new ArrayList<>(List.of(learner));
    List<Params> ps = new ArrayList<>(List.of(params));
    List<Path> ckpts = new ArrayList<>(List.of(first.checkpoint()));
    for (int i = 0; i < members.size(); i++) {
      RunFolder rf = members.get(i);
      TrainConfig c = rf.config();
      TrainConfig t = memberTests.get(i);
      // a member of smaller images (checked by openMembers: the first run's side is a multiple of its side) sees
      // the episode's images area-averaged down to its own side, which is how the reader would have made them
      int factor = first.config().side() / c.side();
      learners.add(AreaDownsample.of(Experiment.fewShotLearner(t, Experiment.model(t)), factor));
      ps.add(Experiment.loadParams(c, rf.checkpoint(), options));
      ckpts.add(rf.checkpoint());
    }
    return new Loaded(ModelEnsemble.of(learners), ModelEnsemble.params(ps), List.copyOf(ckpts));
  }

  /**
   * Opens and checks the runs of {@code --ensemble-with} (cheap: their configs, and that the checkpoints exist),
   * so that a bad member fails before any checkpoint is loaded or any data read.
   *
   * @throws IllegalArgumentException as {@link #load}
   */
  static List<RunFolder> openMembers(RunFolder first, String checkpoint, List<Path> others) {
    if (others == null || others.isEmpty()) {
      return List.of();
    }
    if (!checkpoint.equals("best") && !checkpoint.equals("last")) {
      throw new IllegalArgumentException("--checkpoint " + checkpoint + " names one run's file; with --ensemble-with"
          + " use best or last, which every run has");
    }
    List<RunFolder> out = new ArrayList<>();
    TrainConfig c0 = first.config();
    for (Path o : others) {
      RunFolder rf = RunFolder.open(o, checkpoint);
      TrainConfig c = rf.config();
      // background and background-all share their test classes (images_evaluation) and train on images_background
      if (!c.split().equals(c0.split()) && !(c.backgroundOnly() && c0.backgroundOnly())) {
        throw new IllegalArgumentException("--ensemble-with " + o + ": trained on the '" + c.split() + "' split, the"
            + " first run on '" + c0.split() + "'; its training classes could be the first run's test classes");
      }
      if (c.framing() != c0.framing()) {
        throw new IllegalArgumentException("--ensemble-with " + o + ": trained on drawings framed '"
            + c.framing().cliName() + "', the first run on '" + c0.framing().cliName() + "'; the members of an"
            + " ensemble see the same images, so they must have been trained with the same --frame");
      }
      if (c0.side() % c.side() != 0) {
        throw new IllegalArgumentException("--ensemble-with " + o + ": images of side " + c.side() + ", the first"
            + " run's " + c0.side() + "; a member's side must divide the first run's (its images are then the first"
            + " run's, area-averaged down), so give the run of the largest images as --run");
      }
      out.add(rf);
    }
    return out;
  }

  /**
   * Refuses a transfer-only option given to another algorithm.
   *
   * @throws IllegalArgumentException when {@code value} is not null
   */
  static void transferOnly(org.metagrad.meta.train.Algorithm a, String option, Object value) {
    if (value != null) {
      throw new IllegalArgumentException(option + " applies only to --algorithm transfer, not " + a.cliName());
    }
  }

  /**
   * Refuses a count below {@code min}; commands call this for every count option before their first
   * expensive step, so a bad value fails at once instead of after loading data or training.
   *
   * @throws IllegalArgumentException "{@code <option> must be >= <min>, got <value>}"
   */
  static void atLeast(String option, long value, long min) {
    if (value < min) {
      throw new IllegalArgumentException(option + " must be >= " + min + ", got " + value);
    }
  }

  /** {@link #atLeast} and an upper bound, for sizes that would not fit memory or make sense above it. */
  static void between(String option, long value, long min, long max, String why) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(option + " must be between " + min + " and " + max + " (" + why + "), got "
          + value);
    }
  }

  /**
   * Refuses a non-finite value or one not above {@code min} (at or above it when {@code orEqual}).
   *
   * @throws IllegalArgumentException "{@code <option> must be a finite number > <min>, got <value>}"
   */
  static void finite(String option, double value, double min, boolean orEqual) {
    if (!Double.isFinite(value) || value < min || (!orEqual && value == min)) {
      throw new IllegalArgumentException(option + " must be a finite number " + (orEqual ? ">= " : "> ") + min
          + ", got " + value);
    }
  }

  /**
   * Checks, before any work, that {@code file} can be written as an output file later: it is not an existing
   * folder or other non-regular file, and its nearest existing ancestor is a writable folder (the missing ones
   * are created when the file is written). Nothing is created here.
   *
   * @throws IllegalArgumentException naming the option and the path
   */
  static void checkOutputFile(String option, Path file) {
    if (file == null) {
      return;
    }
    Path abs = file.toAbsolutePath();
    if (Files.isDirectory(abs)) {
      throw new IllegalArgumentException(option + " " + file + " is a folder; give the name of the file to write");
    }
    if (Files.exists(abs) && !Files.isRegularFile(abs)) {
      throw new IllegalArgumentException(option + " " + file + " exists and is not a regular file (a FIFO or device)");
    }
    if (Files.exists(abs) && !Files.isWritable(abs)) {
      throw new IllegalArgumentException(option + " " + file + " exists and is not writable");
    }
    checkAncestor(option, file, abs.getParent());
  }

  /**
   * Checks, before any work, that {@code dir} can be used as an output folder later: an existing writable folder,
   * or a path whose nearest existing ancestor is a writable folder. Nothing is created here.
   *
   * @throws IllegalArgumentException naming the option and the path
   */
  static void checkOutputFolder(String option, Path dir) {
    Path abs = dir.toAbsolutePath();
    if (Files.exists(abs)) {
      if (!Files.isDirectory(abs)) {
        throw new IllegalArgumentException(option + " " + dir + " exists and is not a folder");
      }
      if (!Files.isWritable(abs)) {
        throw new IllegalArgumentException(option + " " + dir + " is not writable");
      }
      return;
    }
    checkAncestor(option, dir, abs.getParent());
  }

  private static void checkAncestor(String option, Path given, Path parent) {
    Path p = parent;
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    if (p == null) {
      return;
    }
    if (!Files.isDirectory(p)) {
      throw new IllegalArgumentException(option + " " + given + ": " + p + " is a file, so nothing can be written"
          + " under it");
    }
    if (!Files.isWritable(p)) {
      throw new IllegalArgumentException(option + " " + given + ": folder " + p + " is not writable");
    }
  }

  /**
   * The data root: {@code --data} if given, else {@code $METAGRAD_DATA}.
   *
   * @throws IllegalArgumentException when neither is set or the folder does not exist
   */
  static Path dataRoot(Path option) {
    Path root;
    if (option != null) {
      root = option;
    } else {
      String env = System.getenv(DataPaths.ENV);
      if (env == null || env.isBlank()) {
        throw new IllegalArgumentException("no data folder: set " + DataPaths.ENV
            + " to the folder holding omniglot/ and omniglot-oneshot/, or pass --data DIR");
      }
      root = Path.of(env);
    }
    if (!Files.isDirectory(root)) {
      throw new IllegalArgumentException("data folder not found: " + root.toAbsolutePath()
          + (option != null ? " (from --data)" : " (from " + DataPaths.ENV + ")"));
    }
    return root;
  }
}
