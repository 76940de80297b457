package org.metagrad.meta.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.meta.algo.Maml;
import org.metagrad.meta.algo.MetaGradCheck;
import org.metagrad.meta.algo.MetaLearner;
import org.metagrad.meta.algo.Order;
import org.metagrad.meta.algo.ProtoMaml;
import org.metagrad.meta.data.CharacterId;
import org.metagrad.meta.data.EpisodeSampler;
import org.metagrad.meta.data.ImageClasses;
import org.metagrad.meta.data.OmniglotReader;
import org.metagrad.meta.data.OmniglotSet;
import org.metagrad.meta.data.RotationMode;
import org.metagrad.meta.data.TaskSpec;
import org.metagrad.meta.task.Task;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.nn.Backbones;
import org.metagrad.nn.BnMode;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code metagrad gradcheck}: verifies an algorithm's meta-gradient against central finite differences in
 * FLOAT64 on a small model and one sampled task, and reports the worst relative error per parameter tensor
 * ({@link MetaGradCheck}). Exit status 0 when every tensor is within tolerance, 1 otherwise.
 *
 * <pre>{@code metagrad gradcheck --algorithm maml --inner-steps 2 --hidden 4 --side 16}</pre>
 */
@Command(name = "gradcheck", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Check an algorithm's meta-gradient (through its inner loop) against central finite differences "
        + "in FLOAT64 on a small model and one sampled Omniglot task (or a synthetic one); prints the "
        + "worst relative error per parameter tensor. Exit status 1 if any exceeds the tolerance.")
public final class GradcheckCommand implements Callable<Integer> {
  @Option(names = {"-a", "--algorithm"}, paramLabel = "NAME", description = "Algorithm: ${COMPLETION-CANDIDATES}"
      + " (default ${DEFAULT-VALUE}).", completionCandidates = AlgorithmNames.class)
  String algorithm = "maml";

  @Option(names = "--model", paramLabel = "NAME", description = "Model: conv4 (4 conv blocks with BatchNorm, strided"
      + " with an N-way head for the MAML family) or mlp (one hidden layer) (default ${DEFAULT-VALUE}).")
  String model = "conv4";

  @Option(names = "--hidden", description = "Channels / hidden units of the model (default ${DEFAULT-VALUE}).")
  int hidden = 4;

  @Option(names = "--side", description = "Image side in pixels, >= 16 (default ${DEFAULT-VALUE}).")
  int side = 16;

  @Option(names = {"-n", "--ways"}, description = "Classes of the task (default ${DEFAULT-VALUE}).")
  int ways = 3;

  @Option(names = {"-k", "--shots"}, description = "Support images per class (default ${DEFAULT-VALUE}).")
  int shots = 1;

  @Option(names = {"-q", "--queries"}, description = "Query images per class (default ${DEFAULT-VALUE}).")
  int queries = 2;

  @Option(names = "--inner-steps", description = "Inner gradient steps (MAML family) (default ${DEFAULT-VALUE}).")
  int innerSteps = 1;

  @Option(names = "--inner-lr", description = "Inner step size (MAML family) (default ${DEFAULT-VALUE}).")
  double innerLr = 0.1;

  @Option(names = "--max-elements", description = "Elements checked per parameter tensor (a seeded random subset)"
      + " (default ${DEFAULT-VALUE}).")
  int maxElements = 10;

  @Option(names = "--tolerance", description = "Largest relative error that passes (default ${DEFAULT-VALUE}).")
  double tolerance = 1e-5;

  @Option(names = "--floor", description = "Denominator floor of the relative error: differences on gradients smaller"
      + " than this are measured against it, since central differences carry about 1e-9 of rounding noise (conv"
      + " biases before BatchNorm have an exact gradient of 0) (default ${DEFAULT-VALUE}).")
  double floor = 1e-3;

  @Option(names = "--seed", description = "Seed of the model, the task and the checked elements"
      + " (default ${DEFAULT-VALUE}).")
  long seed = 1;

  @Option(names = "--synthetic", description = "Use a random synthetic task instead of Omniglot (needs no data).")
  boolean synthetic;

  @Option(names = "--data", paramLabel = "DIR", description = "Data root holding omniglot/ (default: $METAGRAD_DATA).")
  Path data;

  /** Largest --side: see the check in {@link #call}. */
  static final int MAX_SIDE = 256;

  @Override
  public Integer call() {
    Algorithm a = Algorithm.parse(algorithm);
    if (!model.equals("conv4") && !model.equals("mlp")) {
      throw new IllegalArgumentException("unknown model '" + model + "'; known: conv4, mlp");
    }
    // every option before the model is built or any image decoded
    CliSupport.atLeast("--max-elements", maxElements, 1);
    CliSupport.finite("--tolerance", tolerance, 0, false);
    CliSupport.finite("--floor", floor, 0, false);
    CliSupport.atLeast("--hidden", hidden, 1);
    CliSupport.between("--side", side, 16, MAX_SIDE, "the 4-block conv net needs 16; finite differences in FLOAT64"
        + " are for small models, and Omniglot's images are 105 pixels wide");
    CliSupport.atLeast("--ways", ways, 2);
    CliSupport.atLeast("--shots", shots, 1);
    CliSupport.atLeast("--queries", queries, 1);
    CliSupport.atLeast("--inner-steps", innerSteps, 0);
    CliSupport.finite("--inner-lr", innerLr, 0, true);
    if (!synthetic) {
      CliSupport.dataRoot(data);
    }
    TrainConfig c = TrainConfig.builder().algorithm(a).data(Path.of(".")).side(side).ways(ways).shots(shots)
        .queries(queries).testWays(ways).testShots(shots).testQueries(queries).innerSteps(innerSteps)
        .testInnerSteps(innerSteps).innerLr(innerLr).hidden(hidden).seed(seed).build();
    Network net = network(c);
    MetaLearner learner = Experiment.learner(c, net);
    if (a == Algorithm.METALSTM) {
      System.out.println("note: metalstm uses the paper's first-order meta-gradient by design; checking the exact"
          + " (second-order, metalstm2) meta-gradient of the same meta-learner");
      learner = ((org.metagrad.meta.algo.MetaLstm) learner).withOrder(Order.SECOND);
    }
    if (a == Algorithm.FOMAML || a == Algorithm.PROTOMAML) {
      // A first-order meta-gradient drops the second-order terms on purpose, so it cannot match finite
      // differences of the meta-loss; check the exact gradient of the same inner loop instead.
      System.out.println("note: " + a.cliName() + " uses a first-order approximation of the meta-gradient by design;"
          + " checking the exact (second-order) meta-gradient of the same inner loop");
      learner = a == Algorithm.FOMAML
          ? new Maml(net, innerSteps, innerLr, Order.SECOND)
          : new ProtoMaml(net, innerSteps, innerLr, Order.SECOND, ProtoMaml.Scope.ALL);
    }
    if (a == Algorithm.IMAML) {
      System.out.println("note: imaml's implicit meta-gradient is the derivative of the query loss only at a converged"
          + " inner solution; with few --inner-steps a mismatch is expected (the exact checks are in ImamlTest)");
    }
    Rng rng = new Rng(seed);
    Params p = learner.initMetaParams(net.init(rng, DType.FLOAT64), rng);
    Task task = (synthetic ? syntheticTask(c) : omniglotTask(c)).to(DType.FLOAT64);
    System.out.printf(Locale.ROOT, "gradcheck: %s on %s (%d parameters in %d tensors), %s task %d-way %d-shot %d-query,"
        + " FLOAT64 central differences, up to %d elements per tensor%n", learner, net, p.numel(), p.size(),
        synthetic ? "synthetic" : "Omniglot", ways, shots, queries, maxElements);
    MetaGradCheck.Report r = MetaGradCheck.verify(learner, p, task,
        new MetaGradCheck.Options(MetaGradCheck.Options.defaults().eps(), tolerance, floor, maxElements, seed));
    System.out.println(r);
    return r.passed() ? 0 : 1;
  }

  private Network network(TrainConfig c) {
    if (c.algorithm() == Algorithm.RELATIONNET) {
      if (!model.equals("conv4")) {
        throw new IllegalArgumentException("relationnet has its own conv4 embedding; --model mlp does not apply");
      }
      return Experiment.model(c);
    }
    boolean head = c.algorithm().fixedWays();
    if (model.equals("mlp")) {
      if (side != 28) {
        throw new IllegalArgumentException("--model mlp is MAML's 784-256-128-64-64 network and needs --side 28, got "
            + side);
      }
      return Backbones.omniglotMlp(head ? ways : 0, BnMode.BATCH_STATS);
    }
    return head ? Backbones.conv4Strided(1, hidden, side, ways, BnMode.BATCH_STATS)
        : Backbones.conv4(1, hidden, side, 0, BnMode.BATCH_STATS);
  }

  private Task omniglotTask(TrainConfig c) {
    OmniglotReader reader = Experiment.reader(CliSupport.dataRoot(data), side, 1);
    List<CharacterId> all = new ArrayList<>(reader.characters(OmniglotSet.EVALUATION));
    int[] order = new int[all.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    new Rng(seed).shuffle(order);
    List<CharacterId> chosen = new ArrayList<>();
    for (int i = 0; i < ways; i++) {
      chosen.add(all.get(order[i]));
    }
    ImageClasses pool = reader.load(chosen);
    return Task.fromEpisode(new EpisodeSampler(pool, TaskSpec.of(ways, shots, queries), RotationMode.NONE, seed)
        .episode(0));
  }

  private Task syntheticTask(TrainConfig c) {
    Rng rng = new Rng(seed + 1);
    int px = side * side;
    float[][] protos = new float[ways][px];
    for (float[] p : protos) {
      for (int i = 0; i < px; i++) {
        p[i] = (float) rng.nextDouble();
      }
    }
    float[] sx = new float[ways * shots * px];
    int[] sy = new int[ways * shots];
    float[] qx = new float[ways * queries * px];
    int[] qy = new int[ways * queries];
    fill(rng, protos, shots, sx, sy);
    fill(rng, protos, queries, qx, qy);
    return Task.of(sx, new int[] {ways * shots, 1, side, side}, sy, qx, new int[] {ways * queries, 1, side, side}, qy,
        ways);
  }

  private static void fill(Rng rng, float[][] protos, int per, float[] x, int[] y) {
    int px = protos[0].length;
    for (int k = 0; k < protos.length; k++) {
      for (int j = 0; j < per; j++) {
        int row = k * per + j;
        y[row] = k;
        for (int i = 0; i < px; i++) {
          x[row * px + i] = (float) (protos[k][i] + 0.3 * rng.nextGaussian());
        }
      }
    }
  }
}
