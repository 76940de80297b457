package org.metagrad.meta.train;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.meta.algo.Anil;
import org.metagrad.meta.algo.FewShotLearner;
import org.metagrad.meta.algo.Imaml;
import org.metagrad.meta.algo.Maml;
import org.metagrad.meta.algo.MatchingNet;
import org.metagrad.meta.algo.MetaLearner;
import org.metagrad.meta.algo.MetaLstm;
import org.metagrad.meta.algo.MetaSgd;
import org.metagrad.meta.algo.Order;
import org.metagrad.meta.algo.ProtoMaml;
import org.metagrad.meta.algo.ProtoNet;
import org.metagrad.meta.algo.RelationNet;
import org.metagrad.meta.algo.Reptile;
import org.metagrad.meta.algo.Siamese;
import org.metagrad.meta.algo.TransferBaseline;
import org.metagrad.meta.data.CharacterId;
import org.metagrad.meta.data.ClassSplit;
import org.metagrad.meta.data.EpisodeSampler;
import org.metagrad.meta.data.Framing;
import org.metagrad.meta.data.ImageClasses;
import org.metagrad.meta.data.OmniglotReader;
import org.metagrad.meta.data.OmniglotSet;
import org.metagrad.meta.data.OmniglotSplits;
import org.metagrad.meta.data.TaskSpec;
import org.metagrad.meta.eval.EvalResult;
import org.metagrad.meta.eval.Evaluator;
import org.metagrad.meta.report.LinePlot;
import org.metagrad.nn.Backbones;
import org.metagrad.nn.BnMode;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;
import org.metagrad.nn.io.AtomicFiles;
import org.metagrad.nn.io.Checkpoints;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.LrSchedule;

/**
 * An Omniglot meta-learning run from a {@link TrainConfig}: loads the split's images, builds the conv4
 * model and the algorithm, meta-trains with {@link MetaTrainer} (validating on the split's validation
 * classes), evaluates the best parameters on test episodes, and writes into the output folder
 * {@code config.json}, {@code metrics.csv}, {@code metrics.json}, {@code best.safetensors},
 * {@code last.safetensors}, {@code learning-curve.png} and {@code loss-curve.png}.
 *
 * <p>Models: ProtoNets, Matching nets, Siamese nets and Proto-MAML use the conv4 embedding of Snell et al.
 * (4 x [conv3x3, BN, ReLU, maxpool], 64 features at 28x28); MAML, first-order MAML, Meta-SGD, ANIL and the
 * meta-learner LSTM use the strided conv4 of Finn et al. with an N-way head. BatchNorm uses batch statistics (as the original
 * MAML and ProtoNets code in training mode), which also keeps workers free of shared mutable state.
 * Relation nets use their paper's embedding (see {@code RelationNet.embedding}).
 *
 * <pre>{@code
 * Experiment.Outcome o = new Experiment(config, System.out, System.err).run(false);
 * System.out.println(o.test());   // 98.10% ± 0.31% (600 episodes)
 * }</pre>
 */
public final class Experiment {
  /** File name of the configuration in the output folder. */
  public static final String CONFIG = "config.json";
  /** File name of the summary metrics in the output folder. */
  public static final String METRICS_JSON = "metrics.json";

  private final TrainConfig config;
  private final PrintStream out;
  private final PrintStream progress;
  private Workers workers;
  private MetaTrainer.Listener extraListener;

  /**
   * Where a run's per-task work is computed when it is not this process's worker threads, e.g. the executors
   * of a cluster. Implementations must compute exactly what the local path computes: each item's gradient
   * with {@link MetaTrainer#taskGradient} of {@link #training}'s objective, each episode's accuracy with
   * {@link Evaluator#episode} on {@link #testTasks}; the results are then the same bits.
   */
  public interface Workers {
    /**
     * The meta-batch gradients of training on a pool.
     *
     * @param train the training pool (as loaded by the run)
     * @return the computation the trainer uses instead of its worker threads
     */
    MetaTrainer.Gradients gradients(ImageClasses train);

    /**
     * Evaluates parameters on episodes {@code 0..episodes-1} of {@code testTasks(config, pool, seed)}.
     *
     * @param pool the validation or test pool
     * @param seed the episodes' seed
     * @param params the parameters, detached
     * @param episodes how many episodes
     * @return the per-episode accuracies in episode order, with their mean and interval
     */
    EvalResult evaluate(ImageClasses pool, long seed, Params params, int episodes);
  }

  /**
   * What meta-training optimises.
   *
   * @param init the initial parameters
   * @param objective the loss of item {@code i} (a task, or for transfer a labelled minibatch)
   */
  public record Training(Params init, MetaTrainer.Objective objective) {}

  /**
   * An experiment.
   *
   * @param config the run's settings
   * @param out where to print results (stdout)
   * @param progress where to draw progress bars, or null for none (stderr)
   */
  public Experiment(TrainConfig config, PrintStream out, PrintStream progress) {
    this.config = config;
    this.out = out;
    this.progress = progress;
  }

  /**
   * The outcome of a run.
   *
   * @param training the trainer's result (null for the few-labels algorithms: their results are in
   *     {@code metrics.json}, see {@code org.metagrad.meta.semi.SemiRun})
   * @param test the test accuracy of the best parameters (null for the few-labels algorithms)
   * @param seconds total wall time including data loading and testing
   */
  public record Outcome(MetaTrainer.Result training, EvalResult test, double seconds) {}

  /**
   * Computes this run's per-task work on {@code w} instead of local worker threads; the results are the same.
   *
   * @param w the workers, or null for this process's threads
   * @return this experiment
   */
  public Experiment withWorkers(Workers w) {
    this.workers = w;
    return this;
  }

  /**
   * Also reports training progress to {@code l} (after the progress bar); an exception it throws stops the
   * run as it would stop {@link MetaTrainer#train} (the last checkpoint stays valid).
   *
   * @param l the listener, or null
   * @return this experiment
   */
  public Experiment withListener(MetaTrainer.Listener l) {
    this.extraListener = l;
    return this;
  }

  /**
   * What a configuration meta-trains on a training pool: the initial parameters and the per-item loss.
   * Transfer pre-trains a classifier over all classes of the pool on labelled minibatches; Reptile's item is
   * the surrogate whose gradient is {@code theta - phi}; the meta-learners' item is their meta-loss on task
   * {@code i} of the configuration's training sampler (seeded by the run's seed).
   *
   * @param c the configuration
   * @param model {@link #model}{@code (c)}
   * @param learner {@link #fewShotLearner}{@code (c, model)}
   * @param train the training pool
   * @return the initial parameters and the objective
   */
  public static Training training(TrainConfig c, Network model, FewShotLearner learner, ImageClasses train) {
    if (c.algorithm() == Algorithm.TRANSFER) {
      // Pre-training: each item of a meta-batch is a labelled minibatch drawn from all training classes.
      TransferBaseline b = (TransferBaseline) learner;
      PretrainBatches batches = new PretrainBatches(train, c.rotation(), c.batchSize(), c.seed())
          .withDistortion(c.distortion());
      return new Training(transferInit(c, model, batches.classes()), pretrainObjective(b, batches));
    }
    TaskSource tasks = TaskSource.of(new EpisodeSampler(train, TaskSpec.of(c.ways(), c.shots(), c.queries()),
        c.rotation(), c.grouping(), c.seed()).withDistortion(c.distortion()));
    if (learner instanceof Reptile reptile) {
      // Adam minimises a surrogate whose gradient is theta - phi: theta moves towards the adapted weights.
      return new Training(model.init(new Rng(c.seed()), DType.FLOAT32),
          (p, i) -> reptile.surrogateStep(p, tasks.task(i)));
    }
    MetaLearner ml = (MetaLearner) learner;
    return new Training(initialParams(c, model, ml), MetaTrainer.Objective.of(ml, tasks));
  }

  /**
   * The model of an algorithm: the conv4 embedding, or for the MAML family the strided conv4 with an N-way head
   * ({@code --blocks} blocks instead of 4 when given).
   */
  public static Network model(TrainConfig c) {
    if (c.algorithm() == Algorithm.RELATIONNET) {
      return RelationNet.embedding(1, c.hidden(), c.side(), BnMode.BATCH_STATS);
    }
    return c.algorithm().fixedWays()
        ? Backbones.convStrided(c.blocks(), 1, c.hidden(), c.side(), c.ways(), BnMode.BATCH_STATS)
        : Backbones.conv(c.blocks(), 1, c.hidden(), c.side(), 0, BnMode.BATCH_STATS);
  }

  /**
   * The meta-learner of the configuration, with its test-time inner steps.
   *
   * @throws IllegalArgumentException for {@code transfer}, which is not a meta-learner (see {@link #fewShotLearner})
   */
  public static MetaLearner learner(TrainConfig c, Network model) {
    return switch (c.algorithm()) {
      case TRANSFER -> throw new IllegalArgumentException("transfer is not a meta-learner (it has no meta-loss);"
          + " this command supports the meta-learning algorithms only");
      case MANN -> throw new IllegalArgumentException("mann learns from sequence episodes, not support/query tasks;"
          + " this command supports the episodic meta-learners (train and evaluate mann with train --algorithm mann)");
      case SUPERVISED, PIMODEL, MEANTEACHER, VAT, PSEUDOLABEL, FIXMATCH, SIMCLR, BYOL ->
          throw new IllegalArgumentException(c.algorithm().cliName() + " learns from few labels without episodes;"
              + " this command supports the episodic meta-learners (train it with train --algorithm "
              + c.algorithm().cliName() + ")");
      case REPTILE -> throw new IllegalArgumentException("reptile is not a gradient method (theta - phi is not the"
          + " gradient of any loss), so it has no meta-loss; this command supports the other meta-learners");
      case PROTONET -> ProtoNet.euclidean(model);
      case MATCHINGNET -> {
        MatchingNet mn = new MatchingNet(model, c.attentionScale());
        yield c.fceSteps() > 0 ? mn.withFce(model.featureDim(), c.fceSteps()) : mn;
      }
      case SIAMESE -> new Siamese(model, model.featureDim());
      case MAML -> new Maml(model, c.innerSteps(), c.innerLr(), Order.SECOND).withTestInnerSteps(c.testInnerSteps());
      case FOMAML -> new Maml(model, c.innerSteps(), c.innerLr(), Order.FIRST).withTestInnerSteps(c.testInnerSteps());
      case METASGD -> new MetaSgd(model, c.innerSteps(), c.innerLr(), Order.SECOND)
          .withTestInnerSteps(c.testInnerSteps());
      case ANIL -> new Anil(model, c.innerSteps(), c.innerLr(), Order.SECOND).withTestInnerSteps(c.testInnerSteps());
      case PROTOMAML -> new ProtoMaml(model, c.innerSteps(), c.innerLr(), Order.FIRST, ProtoMaml.Scope.ALL)
          .withTestInnerSteps(c.testInnerSteps());
      case IMAML -> new Imaml(model, c.innerSteps(), c.innerLr(), c.imamlLambda(), c.cgSteps(), c.cgDamping())
          .withTestInnerSteps(c.testInnerSteps());
      case RELATIONNET -> new RelationNet(model, c.hidden(), RelationNet.mapSide(c.side()), RELATION_HIDDEN);
      case METALSTM, METALSTM2 -> metaLstm(c, model);
    };
  }

  /** Width of the relation module's hidden layer: 8, the paper's Omniglot model (Sung et al. 2018). */
  static final int RELATION_HIDDEN = 8;


  /**
   * The meta-learner LSTM of the configuration: {@code innerLr} is its initial step size (input gate, in (0, 1)),
   * first order for {@code metalstm}, second order for {@code metalstm2}.
   */
  static MetaLstm metaLstm(TrainConfig c, Network model) {
    if (!(c.innerLr() > 0 && c.innerLr() < 1)) {
      throw new IllegalArgumentException("--inner-lr " + c.innerLr() + ": for " + c.algorithm().cliName() + " it is"
          + " the initial input gate sigmoid(b_I), which must be in (0, 1) (the paper's is about 0.011)");
    }
    return new MetaLstm(model, c.innerSteps(), c.innerLr(),
        c.algorithm() == Algorithm.METALSTM2 ? Order.SECOND : Order.FIRST).withTestInnerSteps(c.testInnerSteps());
  }

  /** The learner used for validation and testing: the transfer baseline, or the meta-learner. */
  public static FewShotLearner fewShotLearner(TrainConfig c, Network model) {
    return switch (c.algorithm()) {
      case TRANSFER -> transfer(c, model);
      case REPTILE -> reptile(c, model);
      default -> learner(c, model);
    };
  }

  /** Reptile with the configuration's inner steps and step size (SGD) and its test-time inner steps. */
  public static Reptile reptile(TrainConfig c, Network model) {
    return new Reptile(model, c.innerSteps(), c.innerLr()).withTestInnerSteps(c.testInnerSteps());
  }

  /** The transfer baseline of the configuration: its head and fine-tuning schedule on the conv4 embedding. */
  public static TransferBaseline transfer(TrainConfig c, Network model) {
    TransferBaseline b = c.head().equals("cosine") ? TransferBaseline.baselinePlusPlus(model, model.featureDim())
        : TransferBaseline.baseline(model, model.featureDim());
    return b.withFinetune(c.finetuneSteps(), c.finetuneLr());
  }

  /** The initial transfer parameters: the embedding's initialisation plus a classifier over {@code classes}. */
  static Params transferInit(TrainConfig c, Network model, int classes) {
    Rng rng = new Rng(c.seed());
    return transfer(c, model).initPretrain(model.init(rng, DType.FLOAT32), classes, rng);
  }

  /** The pre-training objective of a transfer baseline: item {@code i} is the classifier's loss on batch {@code i}. */
  public static MetaTrainer.Objective pretrainObjective(TransferBaseline b, PretrainBatches batches) {
    return (p, i) -> {
      org.metagrad.nn.train.Batch mb = batches.batch(i);
      return b.pretrainStep(p, mb.x(), mb.y());
    };
  }

  /**
   * The initial meta-parameters: the weights of {@code --init-from} when given, else the model's initialisation
   * plus the learner's own, from the seed.
   *
   * @throws IllegalArgumentException when the {@code --init-from} folder holds no weights, or weights of another model
   */
  public static Params initialParams(TrainConfig c, Network model, MetaLearner learner) {
    if (!c.initFrom().isEmpty()) {
      Path file = initWeights(Path.of(c.initFrom()));
      try {
        return loadParams(c, file);
      } catch (org.metagrad.nn.io.CheckpointException | UncheckedIOException e) {
        throw new IllegalArgumentException("--init-from " + c.initFrom() + ": " + e.getMessage(), e);
      }
    }
    return seedParams(c, model, learner);
  }

  /** The model's initialisation plus the learner's own, from the seed (the template of every checkpoint). */
  private static Params seedParams(TrainConfig c, Network model, MetaLearner learner) {
    Rng rng = new Rng(c.seed());
    return learner.initMetaParams(model.init(rng, DType.FLOAT32), rng);
  }

  /** The weights file of an {@code --init-from} folder: a model folder's model.safetensors, a run's best. */
  static Path initWeights(Path dir) {
    for (String name : new String[] {"model.safetensors", "best.safetensors"}) {
      Path f = dir.resolve(name);
      if (Files.isRegularFile(f)) {
        return f;
      }
    }
    throw new IllegalArgumentException("--init-from " + dir + ": no model.safetensors (a model folder written by"
        + " 'metagrad export') or best.safetensors (a training run) there");
  }

  /** The outer learning-rate schedule of the configuration. */
  public static LrSchedule schedule(TrainConfig c) {
    return switch (c.schedule()) {
      case "cosine" -> LrSchedule.cosine(c.outerLr(), 0, c.iterations(), 0);
      case "step" -> LrSchedule.stepDecay(c.outerLr(), c.lrStep(), c.lrGamma());
      default -> LrSchedule.constant(c.outerLr());
    };
  }

  /**
   * The configuration's class split: {@code vinyals} and {@code maml} as {@link OmniglotSplits};
   * {@code background} trains on images_background without the five Vinyals validation alphabets, validates
   * on those, and tests on all of images_evaluation (for Lake et al.'s one-shot challenge, whose runs are
   * drawn from the evaluation alphabets); {@code background-all} trains on all 30 images_background alphabets
   * (the five validation alphabets too: 964 characters), has no validation classes and tests as
   * {@code background} (a length fixed on a {@code background} run; its best checkpoint is its last).
   */
  public static ClassSplit split(TrainConfig c, OmniglotReader reader) {
    return switch (c.split()) {
      case "maml" -> OmniglotSplits.maml(reader.allCharacters());
      case "background" -> {
        List<CharacterId> train = new ArrayList<>();
        List<CharacterId> val = new ArrayList<>();
        for (CharacterId id : reader.characters(OmniglotSet.BACKGROUND)) {
          (OmniglotSplits.VINYALS_VAL_ALPHABETS.contains(id.alphabet()) ? val : train).add(id);
        }
        yield new ClassSplit("background", train, val, reader.characters(OmniglotSet.EVALUATION));
      }
      case TrainConfig.BACKGROUND_ALL -> new ClassSplit(TrainConfig.BACKGROUND_ALL,
          reader.characters(OmniglotSet.BACKGROUND), List.of(), reader.characters(OmniglotSet.EVALUATION));
      default -> OmniglotSplits.vinyals(reader.allCharacters());
    };
  }

  /**
   * The Omniglot reader of the data root, with a clear error when {@code root/omniglot} is missing.
   *
   * @throws IllegalArgumentException naming the folder and how to fix it
   */
  public static OmniglotReader reader(Path dataRoot, int side, int threads) {
    return reader(dataRoot, side, Framing.NONE, threads);
  }

  /**
   * As {@link #reader(Path, int, int)}, placing each drawing on its canvas as {@code framing} says before the
   * resize (a run's {@link TrainConfig#framing()}: its evaluation must read the images as its training did).
   *
   * @throws IllegalArgumentException naming the folder and how to fix it
   */
  public static OmniglotReader reader(Path dataRoot, int side, Framing framing, int threads) {
    Path omni = dataRoot.resolve("omniglot");
    if (!Files.isDirectory(omni)) {
      throw new IllegalArgumentException("Omniglot data folder not found: " + omni.toAbsolutePath()
          + " (set METAGRAD_DATA or pass --data to the folder holding omniglot/)");
    }
    return new OmniglotReader(omni, side, Math.max(1, threads), framing);
  }

  /** The test-time task sampler over a pool (seeded so every evaluation sees the same episodes). */
  public static TaskSource testTasks(TrainConfig c, ImageClasses pool, long seed) {
    return TaskSource.of(new EpisodeSampler(pool, TaskSpec.of(c.testWays(), c.testShots(), c.testQueries()),
        c.rotation(), c.grouping(), seed));
  }

  /** The seed of the validation episodes. */
  public static long valSeed(TrainConfig c) {
    return c.seed() * 1_000_003L + 11;
  }

  /** The seed of the test episodes. */
  public static long testSeed(TrainConfig c) {
    return c.seed() * 1_000_003L + 29;
  }

  /** The files a run writes into its folder (besides the temporary files of its atomic writes). */
  public static final List<String> RUN_FILES = List.of(CONFIG, MetaTrainer.METRICS_CSV, METRICS_JSON,
      MetaTrainer.BEST, MetaTrainer.LAST, "learning-curve.png", "loss-curve.png");

  /**
   * Runs the experiment into a new (empty or absent) output folder, or resumes the run in it.
   *
   * @param resume continue from {@code out/last.safetensors} (the configuration must match the one in
   *     {@code out/config.json} except for threads and evaluation settings)
   * @throws IllegalArgumentException for a bad configuration, missing data, a non-empty output folder
   *     without {@code resume}, or a mismatched resume
   * @throws UncheckedIOException when an output cannot be written
   * @throws TrainingDivergedException when an iteration's loss, gradient or parameters are not finite
   */
  public Outcome run(boolean resume) {
    return run(resume, false);
  }

  /** The decoded training, validation and test classes of a run. */
  record Pools(ImageClasses train, ImageClasses val, ImageClasses test) {}

  /**
   * Decodes a run's split (checking that its pools can feed the run's tasks), writes its {@code config.json}
   * atomically, and prints one line about the data; the run folder must have been prepared by
   * {@link #openRunFolder}.
   */
  static Pools loadRun(TrainConfig c, PrintStream out) {
    Path dir = c.out();
    OmniglotReader reader = reader(c.data(), c.side(), c.framing(), c.threads());
    ClassSplit split = split(c, reader);
    checkPools(c, split);
    try {
      Files.createDirectories(dir);
      AtomicFiles.write(dir.resolve(CONFIG), c.toJson().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write to output folder " + dir + ": " + e.getMessage(), e);
    }
    long tl = System.nanoTime();
    Pools p = new Pools(reader.load(split.train()), reader.load(split.val()), reader.load(split.test()));
    out.printf(Locale.ROOT, "data: %s split, %d/%d/%d characters (train/val/test), rotation %s, %dx%d%s, loaded in"
        + " %.1f s%n", split.name(), split.train().size(), split.val().size(), split.test().size(), c.rotation(),
        c.side(), c.side(), c.framing() == Framing.NONE ? "" : " (drawings framed: " + c.framing().cliName() + ")",
        (System.nanoTime() - tl) / 1e9);
    return p;
  }

  /**
   * Makes the run's output folder ready, before any data is decoded: with {@code resume}, checks that it holds the
   * same run ({@code config.json} with an equal fingerprint, and {@code last.safetensors}) and returns the
   * checkpoint to resume from; otherwise claims the folder ({@link #claimFolder}: it must be new or empty unless
   * {@code overwrite}, which deletes the run's own files) and returns null.
   *
   * @param c the run's configuration
   * @param resume continue the run in the folder
   * @param overwrite replace the run in the folder
   * @param runFiles the files a run of this kind writes (all must be regular files when resuming)
   * @param lengthMayChange whether a resumed run may be given another {@code --iterations} (the episodic trainer,
   *     whose tasks and learning rate, but for the cosine schedule, do not depend on the run's length)
   * @return the checkpoint to resume from, or null
   * @throws IllegalArgumentException naming what is wrong with the folder or the settings
   */
  static Path openRunFolder(TrainConfig c, boolean resume, boolean overwrite, List<String> runFiles,
                            boolean lengthMayChange) {
    Path dir = c.out();
    Path resumeFrom = null;
    if (resume && overwrite) {
      throw new IllegalArgumentException("--resume continues the run in " + dir + " and --overwrite replaces it;"
          + " give one of them");
    }
    try {
      if (Files.exists(dir) && !Files.isDirectory(dir)) {
        throw new IllegalArgumentException("--out " + dir + " exists and is not a folder");
      }
      if (resume) {
        Path cfg = dir.resolve(CONFIG);
        resumeFrom = dir.resolve(MetaTrainer.LAST);
        if (!Files.exists(cfg) || !Files.exists(resumeFrom)) {
          throw new IllegalArgumentException("--resume: " + dir + " holds no " + CONFIG + " and "
              + MetaTrainer.LAST + " of an earlier run (a run killed before its first checkpoint cannot be"
              + " resumed: start it again with --overwrite)");
        }
        for (String f : runFiles) {
          Path p = dir.resolve(f);
          if (Files.exists(p) && !Files.isRegularFile(p)) {
            throw new IllegalArgumentException("--resume: " + p + " is not a regular file");
          }
        }
        TrainConfig before = TrainConfig.read(cfg);
        // A run whose learning rate does not depend on its length (every schedule but cosine) may be given another
        // --iterations when resumed: longer to continue it, or the checkpoint's own iteration to end it there (the
        // test episodes, metrics.json and the curves). Its first iterations are the same bits either way.
        boolean lengthFree = lengthMayChange && !before.schedule().equals("cosine") && !c.schedule().equals("cosine");
        TrainConfig compared = lengthFree
            ? before.toBuilder().set(TrainOptions.ITERATIONS, c.iterations()).build() : before;
        if (!compared.fingerprint().equals(c.fingerprint())) {
          String why = before.iterations() != c.iterations() && c.schedule().equals("cosine") && lengthMayChange
              ? "\n  (--iterations sets the cosine schedule's length: it can change on resume only with --schedule"
                  + " constant or step)" : "";
          throw new IllegalArgumentException("--resume: the settings differ from the run in " + dir
              + "\n  then: " + before.fingerprint() + "\n  now:  " + c.fingerprint() + why);
        }
      } else {
        claimFolder(dir, overwrite);
        if (overwrite) {
          for (String f : runFiles) {
            Files.deleteIfExists(dir.resolve(f));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot use output folder " + dir + ": " + e.getMessage(), e);
    }
    return resumeFrom;
  }

  /**
   * Runs the experiment. A run folder belongs to one run: without {@code resume} the output folder must be
   * absent or empty, unless {@code overwrite}, which first deletes the files a run writes ({@link #RUN_FILES}
   * and leftovers of interrupted writes; other files are left alone), so no file of an earlier run can be
   * mistaken for this one's. With {@code resume} the folder's {@code config.json} must match this
   * configuration (except threads, folders and evaluation settings). Every setting, the folder and the split's
   * class counts are checked before the images are loaded.
   *
   * @param resume continue from {@code out/last.safetensors}
   * @param overwrite replace the run in a non-empty output folder (not with {@code resume})
   * @throws IllegalArgumentException for a bad configuration or folder, missing data or a mismatched resume
   * @throws UncheckedIOException when an output cannot be written
   * @throws TrainingDivergedException when an iteration's loss, gradient or parameters are not finite
   */
  public Outcome run(boolean resume, boolean overwrite) {
    if (config.algorithm().fewLabels()) {
      // Few labels, no episodes: the semi-/self-supervised run on the few-labels split of images_background.
      if (resume) {
        throw new IllegalArgumentException("--resume is not supported for " + config.algorithm().cliName() + ": the"
            + " runs are short, and the Mean Teacher/BYOL averages are not in the checkpoint; start again with"
            + " --overwrite");
      }
      long t0 = System.nanoTime();
      org.metagrad.meta.semi.SemiConfig sc = org.metagrad.meta.semi.SemiConfig.of(config);
      OmniglotReader reader = reader(config.data(), 28, config.threads());
      org.metagrad.meta.semi.SemiSplit split = org.metagrad.meta.semi.SemiSplit.of(
          org.metagrad.meta.semi.SemiRun.load(reader, sc.classes(), sc.splitSeed()), sc.labelsPerClass(),
          sc.splitSeed());
      out.println("training: " + sc.describe());
      org.metagrad.meta.semi.SemiRun.run(config, split, overwrite, out);
      out.println("wrote " + config.out().toAbsolutePath() + "/{"
          + String.join(", ", org.metagrad.meta.semi.SemiRun.RUN_FILES) + "}");
      return new Outcome(null, null, (System.nanoTime() - t0) / 1e9);
    }
    if (config.algorithm() == Algorithm.MANN) {
      // Sequence episodes, not support/query tasks: MannExperiment, with the paper's MANN settings.
      MannExperiment.Outcome o = new MannExperiment(MannConfig.of(config), out, progress).run(resume, overwrite);
      return new Outcome(o.training(), o.test().overall(), o.seconds());
    }
    long t0 = System.nanoTime();
    TrainConfig c = config;
    Path dir = c.out();
    Path resumeFrom = openRunFolder(c, resume, overwrite, RUN_FILES, true);
    if (c.algorithm() == Algorithm.METALSTM || c.algorithm() == Algorithm.METALSTM2) {
      metaLstm(c, model(c));   // its --inner-lr range, before any image is decoded
    }
    Pools pools = loadRun(c, out);
    ImageClasses train = pools.train();
    ImageClasses val = pools.val();
    ImageClasses test = pools.test();

    Network model = model(c);
    FewShotLearner learner = fewShotLearner(c, model);
    Training training = training(c, model, learner, train);
    Params init = training.init();
    MetaTrainer.Objective objective = training.objective();
    if (c.algorithm() == Algorithm.TRANSFER) {
      out.printf(Locale.ROOT, "pre-training classifier over %d classes (%d characters, rotation %s)%n",
          init.get(TransferBaseline.CLASSIFIER + "weight").size(0), train.size(), c.rotation());
    }
    out.printf(Locale.ROOT, "model: %s, %d parameters; algorithm: %s%n", model, init.numel(), learner);
    out.println("training: " + c);
    // Both samplers check their pool now (e.g. a within-alphabet task needs an alphabet that large), not
    // after the training.
    TaskSource valTasks = c.validated() ? testTasks(c, val, valSeed(c)) : null;
    TaskSource testTasks = testTasks(c, test, testSeed(c));
    MetaTrainer.Options opt = MetaTrainer.Options.of(c.iterations(), c.metaBatch()).threads(c.threads())
        .validateEvery(c.valEvery()).checkpointEvery(c.checkpointEvery()).clipNorm(c.clipNorm()).outDir(dir);
    MetaTrainer trainer = new MetaTrainer(objective, Adam.of(c.outerLr()), schedule(c), opt);
    MetaTrainer.Validator validator = valTasks == null ? null
        : p -> Evaluator.evaluate(learner, p, valTasks, c.valEpisodes(), c.threads(), null).mean();
    if (workers != null) {
      trainer = trainer.withGradients(workers.gradients(train));
      validator = valTasks == null ? null : p -> workers.evaluate(val, valSeed(c), p, c.valEpisodes()).mean();
    }
    if (validator == null) {
      out.println("no validation: the " + c.split() + " split has no validation classes (--val-every and"
          + " --val-episodes are unused); the model tested and loaded as 'best' is the last iteration's");
    }
    ProgressListener listener = new ProgressListener(progress, c.iterations(), out);
    MetaTrainer.Listener l = extraListener == null ? listener : new MetaTrainer.Listener() {
      @Override
      public void iteration(MetaTrainer.Row row, MetaTrainer.Options options) {
        listener.iteration(row, options);
        extraListener.iteration(row, options);
      }

      @Override
      public void validated(long iteration, double score, boolean best) {
        listener.validated(iteration, score, best);
        extraListener.validated(iteration, score, best);
      }

      @Override
      public void notice(String message) {
        listener.notice(message);
        extraListener.notice(message);
      }
    };
    MetaTrainer.Result r = trainer.train(init, validator, resumeFrom, l);
    listener.finish();
    if (validator != null) {
      out.printf(Locale.ROOT, "trained %d iterations in %.1f s; best validation accuracy %.2f%% at iteration %d%n",
          c.iterations(), r.seconds(), 100 * r.bestScore(), r.bestIteration());
    } else {
      out.printf(Locale.ROOT, "trained %d iterations in %.1f s%n", c.iterations(), r.seconds());
    }

    EvalResult testResult = workers != null ? workers.evaluate(test, testSeed(c), r.best(), c.testEpisodes())
        : evaluate(learner, r.best(), testTasks, c.testEpisodes(), c.threads(), progress);
    out.printf(Locale.ROOT, "test: %d-way %d-shot, %s%n", c.testWays(), c.testShots(), testResult);
    double seconds = (System.nanoTime() - t0) / 1e9;
    writeOutputs(c, r, testResult, seconds);
    out.println("wrote " + dir.toAbsolutePath() + "/{config.json, metrics.csv, metrics.json, "
        + (validator != null ? "best.safetensors, " : "") + "last.safetensors, learning-curve.png, loss-curve.png}");
    return new Outcome(r, testResult, seconds);
  }

  /**
   * Makes {@code dir} this run's: absent or empty is fine; a non-empty folder is an error naming it, unless
   * {@code overwrite}, which deletes the run files and temporary leftovers in it.
   */
  static void claimFolder(Path dir, boolean overwrite) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    List<String> entries;
    try (java.util.stream.Stream<Path> s = Files.list(dir)) {
      entries = s.map(p -> p.getFileName().toString()).sorted().toList();
    }
    if (entries.isEmpty()) {
      return;
    }
    if (!overwrite) {
      throw new IllegalArgumentException("--out " + dir + " is not empty (it holds "
          + (entries.size() <= 5 ? String.join(", ", entries) : String.join(", ", entries.subList(0, 5)) + ", ...")
          + "); a run folder holds one run: pass --resume to continue the run in it, --overwrite to replace it,"
          + " or choose another --out");
    }
    for (String f : RUN_FILES) {
      Path p = dir.resolve(f);
      Files.deleteIfExists(p);
      AtomicFiles.deleteTempFiles(p);
    }
  }

  /**
   * Checks, from the split's character lists alone (before any image is decoded), that each pool has
   * enough classes for its tasks: training for {@code --ways}, validation and test for {@code --test-ways}.
   */
  static void checkPools(TrainConfig c, ClassSplit split) {
    int per = c.rotation() == org.metagrad.meta.data.RotationMode.AS_NEW_CLASSES ? 4 : 1;
    String times = per == 4 ? " characters x 4 rotations" : " characters";
    if (c.algorithm() != Algorithm.TRANSFER && split.train().size() * per < c.ways()) {
      throw new IllegalArgumentException("--ways " + c.ways() + ": the " + split.name() + " split's training pool has"
          + " only " + split.train().size() + times + " (" + split.train().size() * per + " classes)");
    }
    if (c.validated() && split.val().size() * per < c.testWays()) {
      throw new IllegalArgumentException("--test-ways " + c.testWays() + ": the " + split.name() + " split's"
          + " validation pool has only " + split.val().size() + times + " (" + split.val().size() * per
          + " classes)");
    }
    if (split.test().size() * per < c.testWays()) {
      throw new IllegalArgumentException("--test-ways " + c.testWays() + ": the " + split.name() + " split's test"
          + " pool has only " + split.test().size() + times + " (" + split.test().size() * per + " classes)");
    }
  }

  /** Evaluates with a progress bar on {@code progress} (if not null). */
  public static EvalResult evaluate(FewShotLearner learner, Params params, TaskSource tasks, int episodes, int threads,
                                    PrintStream progress) {
    ProgressBar bar = progress == null ? null : new ProgressBar(progress, "test ", episodes);
    EvalResult res = Evaluator.evaluate(learner, params, tasks, episodes, threads,
        bar == null ? null : k -> bar.update(k, ""));
    if (bar != null) {
      bar.finish();
    }
    return res;
  }

  /** Loads the parameters of a checkpoint written by a run of this configuration, refusing non-finite values. */
  public static Params loadParams(TrainConfig c, Path checkpoint) {
    return loadParams(c, checkpoint, Checkpoints.LoadOptions.strict());
  }

  /**
   * Loads the parameters of a checkpoint written by a run of this configuration.
   *
   * @param options whether NaN and infinities are refused (the default) or loaded (inspecting a diverged run)
   * @throws org.metagrad.nn.io.CheckpointException naming the file and tensor of a bad or mismatched entry
   */
  public static Params loadParams(TrainConfig c, Path checkpoint, Checkpoints.LoadOptions options) {
    Network model = model(c);
    try {
      Checkpoints.Loaded loaded = Checkpoints.load(checkpoint, options);
      Params template;
      if (c.algorithm() == Algorithm.TRANSFER) {
        // The classifier's class count depends on the split's data; take it from the checkpoint.
        String w = TransferBaseline.CLASSIFIER + "weight";
        int classes = loaded.params().contains(w) ? loaded.params().get(w).size(0) : 1;
        template = transferInit(c, model, classes);
      } else if (c.algorithm() == Algorithm.REPTILE) {
        template = model.init(new Rng(c.seed()), DType.FLOAT32);
      } else {
        template = seedParams(c, model, learner(c, model));
      }
      return loaded.paramsLike(template);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read checkpoint " + checkpoint + ": " + e.getMessage(), e);
    } catch (org.metagrad.nn.io.CheckpointException e) {
      // paramsLike knows the tensors, not the file: name it (a run's config.json that describes another model)
      if (e.getMessage() != null && e.getMessage().contains(checkpoint.toString())) {
        throw e;
      }
      throw new org.metagrad.nn.io.CheckpointException(checkpoint + ": " + e.getMessage()
          + " (does the run's config.json describe the model this checkpoint was saved from?)",
          e.tensor().orElse(null), e);
    }
  }

  private void writeOutputs(TrainConfig c, MetaTrainer.Result r, EvalResult test, double seconds) {
    Path dir = c.out();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("algorithm", c.algorithm().cliName());
    m.put("train_task", c.algorithm() == Algorithm.TRANSFER
        ? "pre-training: " + c.metaBatch() + " x " + c.batchSize() + " images per step over all training classes"
        : c.ways() + "-way " + c.shots() + "-shot " + c.queries() + "-query");
    m.put("test_task", c.testWays() + "-way " + c.testShots() + "-shot " + c.testQueries() + "-query");
    m.put("iterations", c.iterations());
    m.put("meta_batch", c.metaBatch());
    m.put("train_seconds_this_session", r.seconds());
    m.put("total_seconds_this_session", seconds);
    m.put("best_val_accuracy", r.bestScore());
    m.put("best_iteration", r.bestIteration());
    m.put("test_accuracy", test.mean());
    m.put("test_ci95", test.ci95());
    m.put("test_std", test.std());
    m.put("test_episodes", test.episodes());
    m.put("test_inner_steps", c.algorithm().gradientBased() ? c.testInnerSteps() : 0);
    if (c.algorithm() == Algorithm.TRANSFER) {
      m.put("head", c.head());
      m.put("batch_size", c.batchSize());
      m.put("finetune_steps", c.finetuneSteps());
      m.put("finetune_lr", c.finetuneLr());
    }
    List<MetaTrainer.Row> h = r.history();
    double allSessions = secondsOverSessions(h);
    if (allSessions > 0) {
      m.put("train_seconds_all_sessions", allSessions);
      if (c.algorithm() != Algorithm.TRANSFER) {
        long tasks = (long) h.get(h.size() - 1).iteration() * c.metaBatch();
        m.put("tasks_seen", tasks);
        m.put("tasks_per_second", tasks / allSessions);
      }
    }
    if (!h.isEmpty()) {
      m.put("final_train_loss", smoothed(h, false)[h.size() - 1]);
      m.put("final_train_accuracy", smoothed(h, true)[h.size() - 1]);
    }
    m.put("java", System.getProperty("java.version"));
    m.put("cpus", Runtime.getRuntime().availableProcessors());
    try {
      AtomicFiles.write(dir.resolve(METRICS_JSON), Json.object(m).getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir.resolve(METRICS_JSON) + ": " + e.getMessage(), e);
    }
    writeCurves(dir, h, c.algorithm().cliName(), c.algorithm() == Algorithm.TRANSFER ? 1 : c.metaBatch());
  }

  /**
   * Wall seconds of training over every session of a run (validations included): the log's {@code seconds} column
   * restarts at each {@code --resume}, so this adds up the last time of each session, a session's end being seen as
   * a row whose time is below the previous row's. A session stopped between checkpoints counts up to the last row
   * kept (the rows after the checkpoint it resumed from are dropped). A resumed session's first row normally logs one
   * iteration's time, far below the previous session's total; only a session shorter than the next one's first
   * iteration goes unseen, and its time is then left out (a lower bound).
   *
   * @param h the rows of {@code metrics.csv}
   * @return the seconds; 0 for no rows
   */
  public static double secondsOverSessions(List<MetaTrainer.Row> h) {
    double total = 0;
    double prev = 0;
    for (MetaTrainer.Row row : h) {
      if (row.seconds() < prev) {
        total += prev;
      }
      prev = row.seconds();
    }
    return total + prev;
  }

  /**
   * Writes {@code learning-curve.png} (accuracies) and {@code loss-curve.png} from the log rows, against iterations.
   *
   * @param dir the run folder
   * @param h the rows of its {@code metrics.csv}
   * @param name the algorithm's command-line name (the plots' title)
   */
  public static void writeCurves(Path dir, List<MetaTrainer.Row> h, String name) {
    writeCurves(dir, h, name, 1);
  }

  /**
   * Writes {@code learning-curve.png} (accuracies) and {@code loss-curve.png} from the log rows. With more than one
   * task per iteration (a meta-batch) the x axis is the tasks seen, so that runs of different meta-batches compare.
   *
   * @param dir the run folder
   * @param h the rows of its {@code metrics.csv}
   * @param name the algorithm's command-line name (the plots' title)
   * @param tasksPerIteration the meta-batch (1: the x axis is the iteration)
   */
  public static void writeCurves(Path dir, List<MetaTrainer.Row> h, String name, int tasksPerIteration) {
    if (h.isEmpty()) {
      return;
    }
    if (tasksPerIteration < 1) {
      throw new IllegalArgumentException("writeCurves: tasksPerIteration must be >= 1, got " + tasksPerIteration);
    }
    double[] x = h.stream().mapToDouble(row -> (double) row.iteration() * tasksPerIteration).toArray();
    String xLabel = tasksPerIteration == 1 ? "iteration"
        : "tasks seen (" + tasksPerIteration + " per iteration)";
    boolean pretrain = name.equals(Algorithm.TRANSFER.cliName());
    String train = pretrain ? "pre-training batch" : "train query";
    List<MetaTrainer.Row> v = h.stream().filter(row -> !Double.isNaN(row.valAccuracy())).toList();
    LinePlot acc = new LinePlot(name + ": accuracy", xLabel, "accuracy")
        .line(train + " accuracy (EMA)", x, smoothed(h, true));
    if (!v.isEmpty()) {
      double[] vx = v.stream().mapToDouble(row -> (double) row.iteration() * tasksPerIteration).toArray();
      double[] vy = v.stream().mapToDouble(MetaTrainer.Row::valAccuracy).toArray();
      if (v.size() == 1) {
        acc.points("validation accuracy", vx, vy);
      } else {
        acc.line("validation accuracy", vx, vy).points("validations", vx, vy);
      }
    }
    acc.write(dir.resolve("learning-curve.png"));
    new LinePlot(name + (pretrain ? ": pre-training loss" : ": meta-training loss"), xLabel,
        pretrain ? "cross-entropy" : "query loss").line(train + " loss (EMA)", x, smoothed(h, false))
        .write(dir.resolve("loss-curve.png"));
  }

  /** Exponential moving average (0.95) of the log's accuracy or loss. */
  static double[] smoothed(List<MetaTrainer.Row> h, boolean accuracy) {
    double[] y = new double[h.size()];
    double ema = Double.NaN;
    for (int i = 0; i < y.length; i++) {
      double v = accuracy ? h.get(i).accuracy() : h.get(i).loss();
      ema = Double.isNaN(ema) ? v : 0.95 * ema + 0.05 * v;
      y[i] = ema;
    }
    return y;
  }

  /** Draws the training progress bar and prints validation results. */
  static final class ProgressListener implements MetaTrainer.Listener {
    private final ProgressBar bar;
    private final PrintStream out;
    private double loss = Double.NaN;
    private double acc = Double.NaN;

    ProgressListener(PrintStream progress, long total, PrintStream out) {
      this.bar = progress == null ? null : new ProgressBar(progress, "train", total);
      this.out = out;
    }

    @Override
    public void iteration(MetaTrainer.Row row, MetaTrainer.Options options) {
      loss = Double.isNaN(loss) ? row.loss() : 0.95 * loss + 0.05 * row.loss();
      acc = Double.isNaN(acc) ? row.accuracy() : 0.95 * acc + 0.05 * row.accuracy();
      if (bar != null) {
        bar.update(row.iteration(), String.format(Locale.ROOT, "loss %.3f  acc %.3f", loss, acc));
      }
    }

    @Override
    public void validated(long iteration, double score, boolean best) {
      if (bar != null) {
        bar.finish();
      }
      out.printf(Locale.ROOT, "iteration %d: validation accuracy %.2f%%%s (train loss %.3f, acc %.3f)%n", iteration,
          100 * score, best ? " (best)" : "", loss, acc);
    }

    @Override
    public void notice(String message) {
      out.println(message);
    }

    void finish() {
      if (bar != null) {
        bar.finish();
      }
    }
  }
}
