package org.metagrad.meta.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.meta.train.TrainOption;
import org.metagrad.meta.train.TrainOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code metagrad train}: meta-trains an algorithm on Omniglot and evaluates it on test episodes; see
 * {@link Experiment} for what is written.
 *
 * <pre>{@code metagrad train --algorithm protonet --ways 20 --shots 5 --queries 5 --test-ways 5 --test-shots 1
 *     --iterations 2000 --out runs/protonet-5w1s}</pre>
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    modelTransformer = TrainCommand.TableOptions.class,
    description = "Meta-train an algorithm on Omniglot episodes, validate periodically, keep the best model, then "
        + "report test accuracy with a 95%% confidence interval. Writes config.json, metrics.csv, "
        + "metrics.json, best.safetensors, last.safetensors, learning-curve.png and loss-curve.png into "
        + "--out; a progress bar is drawn on stderr. With --algorithm transfer (Chen et al. 2019's baselines), "
        + "training instead pre-trains a classifier over ALL training classes of the split on labelled minibatches"
        + " (--batch-size images, --iterations Adam steps), and validation/test fine-tune a new --head (linear ="
        + " Baseline, cosine = Baseline++) on each episode's support set (--finetune-steps at --finetune-lr) on the"
        + " frozen embedding. With --algorithm reptile (Nichol et al. 2018), each task runs --inner-steps SGD steps"
        + " at --inner-lr on its support set and the outer Adam step moves the weights towards the adapted ones."
        + " With --algorithm metalstm (Ravi and Larochelle 2017's meta-learner LSTM, first order as the paper;"
        + " metalstm2: second order) the learner takes --inner-steps updates whose step size and decay are the gates"
        + " of a coordinate-wise LSTM, and --inner-lr is the initial step size (input gate).")
public final class TrainCommand implements Callable<Integer> {
  /** What runs the experiment once the options are parsed: by default {@code e.run(resume, overwrite)}. */
  @FunctionalInterface
  public interface Runner {
    /**
     * Runs the experiment of the parsed options.
     *
     * @param config the configuration of the options
     * @param experiment its experiment (printing to stdout, progress on stderr unless --no-progress)
     * @param resume --resume
     * @param overwrite --overwrite
     */
    void run(TrainConfig config, Experiment experiment, boolean resume, boolean overwrite);
  }

  private final Runner runner;

  /** The command of {@code metagrad train}. */
  public TrainCommand() {
    this((c, e, resume, overwrite) -> e.run(resume, overwrite));
  }

  /**
   * The same options, run by {@code runner} (e.g. on a cluster: {@code metagrad-spark train}).
   *
   * @param runner what runs the experiment
   */
  public TrainCommand(Runner runner) {
    this.runner = runner;
  }

  @Spec
  CommandSpec spec;

  @Option(names = "--fce", description = "Matchingnet only: full-context embeddings (Vinyals et al. 2016, appendix"
      + " A.2): a bidirectional LSTM over the support set (in the episode's order) and an attention LSTM reading"
      + " the support set for each query; their parameters are trained and checkpointed with the embedding.")
  boolean fce;

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

  /**
   * Adds one command-line option per {@link TrainOptions} entry, with the table's flag, aliases, help and default:
   * the command line has no defaults of its own. Values are parsed by the option itself, so a malformed value is
   * reported like any other bad setting.
   */
  public static final class TableOptions implements IModelTransformer {
    @Override
    public CommandSpec transform(CommandSpec spec) {
      for (TrainOption<?> o : TrainOptions.all()) {
        List<String> names = new ArrayList<>(o.aliases());
        names.add(o.flag());
        String only = o.onlyFor().isEmpty() ? "" : " Only for --algorithm " + String.join(", ", o.onlyFor()) + ".";
        spec.addOption(OptionSpec.builder(names.toArray(String[]::new)).type(String.class)
            .paramLabel(o.type().isEnum() || o.type() == String.class || o.type() == Path.class
                ? o.key().toUpperCase(java.util.Locale.ROOT).replace("_", "-") : "<" + o.key() + ">")
            .description(o.description().replace("%", "%%") + only + " (default: "
                + o.defaultText().replace("%", "%%") + ")")
            .build());
      }
      return spec;
    }
  }

  private String given(TrainOption<?> o) {
    OptionSpec os = spec.findOption(o.flag());
    return os == null ? null : os.getValue();
  }

  /** The configuration these options describe; options not given take {@link TrainOptions}' defaults. */
  TrainConfig config() {
    TrainConfig.Builder b = TrainConfig.builder();
    String algorithmName = given(TrainOptions.ALGORITHM);
    Algorithm a = algorithmName == null ? TrainOptions.ALGORITHM.defaultValue(null)
        : TrainOptions.ALGORITHM.parse(algorithmName);
    for (TrainOption<?> o : TrainOptions.all()) {
      String v = given(o);
      if (v == null) {
        continue;
      }
      if (!o.appliesTo(a)) {
        throw new IllegalArgumentException(o.notApplicable(a, null));
      }
      b.parse(o, v);
    }
    // The data root must exist; without --data the command line insists on $METAGRAD_DATA being set.
    String data = given(TrainOptions.DATA);
    b.data(CliSupport.dataRoot(data == null ? null : Path.of(data)));
    String fceText = given(TrainOptions.FCE_STEPS);
    Integer fceSteps = fceText == null ? null : TrainOptions.FCE_STEPS.parse(fceText);
    if (fce && a != Algorithm.MATCHINGNET) {
      throw new IllegalArgumentException("--fce applies only to --algorithm matchingnet, not " + a.cliName());
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
    return b.build();
  }

  @Override
  public Integer call() {
    TrainConfig c = config();
    CliSupport.capKernelThreads(c.threads());
    CliSupport.useDevice(c.get(TrainOptions.DEVICE));
    runner.run(c, new Experiment(c, System.out, noProgress ? null : System.err), resume, overwrite);
    return 0;
  }
}
