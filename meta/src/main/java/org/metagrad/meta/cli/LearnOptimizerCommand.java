package org.metagrad.meta.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.metagrad.meta.algo.Order;
import org.metagrad.meta.l2l.LearnToOptimize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code metagrad learn-optimizer}: trains Andrychowicz et al.'s coordinate-wise LSTM optimizer on random quadratics
 * or small Omniglot MLPs and compares it with tuned SGD, RMSprop and Adam on held-out problems
 * ({@link LearnToOptimize}).
 */
@Command(name = "learn-optimizer", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Learning to learn by gradient descent by gradient descent (Andrychowicz et al. 2016): meta-train a"
        + " coordinate-wise two-layer LSTM optimizer by truncated backpropagation through the unrolled optimisation"
        + " (first order as the paper, second order, or both), tune SGD/RMSprop/Adam learning rates on a grid, and"
        + " compare all on held-out problems over --eval-horizon steps. Writes config.json, metrics.csv,"
        + " metrics.json, optimizer-<order>.safetensors, loss-curves.png (log scale) and training-curve.png into --out.")
public final class LearnOptimizerCommand implements Callable<Integer> {
  @Option(names = "--task", description = "Problems: quadratic (random 10-d ||W theta - y||^2) or mlp (one hidden"
      + " sigmoid layer classifying --classes Omniglot characters) (default ${DEFAULT-VALUE}).")
  String task = "quadratic";

  @Option(names = "--order", description = "first (the paper: no second derivatives of the optimizee), second, or"
      + " both (the same budget each) (default ${DEFAULT-VALUE}).")
  String order = "first";

  @Option(names = "--iterations", description = "Meta-training iterations per variant (default ${DEFAULT-VALUE}).")
  int iterations = 100;

  @Option(names = "--functions", description = "Problems per meta-training iteration (default ${DEFAULT-VALUE}).")
  int functions = 64;

  @Option(names = "--horizon", description = "Optimisation steps per problem in training (default ${DEFAULT-VALUE}).")
  int horizon = 100;

  @Option(names = "--unroll", description = "Truncated-BPTT segment length (default ${DEFAULT-VALUE}).")
  int unroll = 20;

  @Option(names = "--eval-horizon", description = "Steps of the held-out comparison (default ${DEFAULT-VALUE}).")
  int evalHorizon = 200;

  @Option(names = "--eval-functions", description = "Held-out problems (default ${DEFAULT-VALUE}).")
  int evalFunctions = 100;

  @Option(names = "--tune-functions", description = "Problems for tuning the baselines' learning rates (default"
      + " ${DEFAULT-VALUE}).")
  int tuneFunctions = 32;

  @Option(names = "--hidden", description = "LSTM units per layer (default ${DEFAULT-VALUE}).")
  int hidden = 20;

  @Option(names = "--scale", description = "Output scale of the LSTM (default ${DEFAULT-VALUE}).")
  double scale = 0.1;

  @Option(names = "--lr", description = "Adam learning rate of the optimizer's weights (default ${DEFAULT-VALUE}).")
  double lr = 3e-3;

  @Option(names = "--clip", description = "Global-norm clip of the meta-gradient, 0 = off (default ${DEFAULT-VALUE}).")
  double clip = 1;

  @Option(names = "--seed", description = "Seed (default ${DEFAULT-VALUE}).")
  long seed = 1;

  @Option(names = "--data", paramLabel = "DIR", description = "Data root holding omniglot/ (mlp; default:"
      + " $METAGRAD_DATA).")
  Path data;

  @Option(names = "--side", description = "Image side of the mlp problems (default ${DEFAULT-VALUE}).")
  int side = 14;

  @Option(names = "--classes", description = "Classes per mlp problem (default ${DEFAULT-VALUE}).")
  int classes = 10;

  @Option(names = "--mlp-hidden", description = "Hidden sigmoid units of the mlp (default ${DEFAULT-VALUE}).")
  int mlpHidden = 20;

  @Option(names = "--batch", description = "Minibatch size of the mlp (default ${DEFAULT-VALUE}).")
  int batch = 64;

  @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output folder (absent or empty).")
  Path out;

  @Override
  public Integer call() {
    List<Order> orders = switch (order) {
      case "first" -> List.of(Order.FIRST);
      case "second" -> List.of(Order.SECOND);
      case "both" -> List.of(Order.FIRST, Order.SECOND);
      default -> throw new IllegalArgumentException("--order must be first, second or both, got '" + order + "'");
    };
    Path root = task.equals("mlp") ? CliSupport.dataRoot(data) : null;
    CliSupport.checkOutputFolder("--out", out);
    LearnToOptimize.Config c = new LearnToOptimize.Config(task, orders, iterations, functions, horizon, unroll,
        evalHorizon, evalFunctions, tuneFunctions, hidden, scale, lr, clip, seed, root, side, classes, mlpHidden, batch,
        out);
    new LearnToOptimize(c).run(System.out);
    return 0;
  }
}
