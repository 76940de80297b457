package org.metagrad.meta.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.metagrad.DType;
import org.metagrad.GradCheck;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.report.LinePlot;
import org.metagrad.meta.sine.SineMaml;
import org.metagrad.meta.task.RegressionTask;
import org.metagrad.meta.task.SineWave;
import org.metagrad.nn.Backbones;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;
import org.metagrad.spi.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The embedded default job: meta-trains the 1-40-40-1 ReLU network {@code Backbones.sineMlp()} with
 * second-order MAML ({@link SineMaml}: {@code algo.Maml}, {@code train.MetaTrainer}, {@code nn.optim.Adam}) on sine-wave
 * tasks, reports query MSE before and after adaptation on held-out tasks, checks one meta-gradient
 * against finite differences in FLOAT64, and draws the fit before and after adaptation.
 */
@Command(name = "sine", mixinStandardHelpOptions = true,
    description = "Second-order MAML on sine-wave regression (Finn et al. 2017, sec. 5.1); needs no data.")
public final class SineCommand implements Callable<Integer> {
  @Option(names = "--iterations", description = "Meta-training iterations (default ${DEFAULT-VALUE}).")
  int iterations = 3000;

  @Option(names = "--meta-batch", description = "Tasks per meta-batch (default ${DEFAULT-VALUE}).")
  int metaBatch = 4;

  @Option(names = "--shots", description = "Support points K per task (default ${DEFAULT-VALUE}).")
  int shots = 10;

  @Option(names = "--inner-steps", description = "Inner SGD steps (default ${DEFAULT-VALUE}).")
  int innerSteps = 1;

  @Option(names = "--inner-lr", description = "Inner step size (default ${DEFAULT-VALUE}).")
  double innerLr = 0.01;

  @Option(names = "--outer-lr", description = "Adam learning rate of the meta-update (default ${DEFAULT-VALUE}).")
  double outerLr = 1e-3;

  @Option(names = "--seed", description = "Random seed (default ${DEFAULT-VALUE}).")
  long seed = 1;

  @Option(names = "--eval-tasks", description = "Held-out tasks for the before/after report (default ${DEFAULT-VALUE}).")
  int evalTasks = 100;

  @Option(names = "--out", description = "Output folder for the plots and metrics (default ${DEFAULT-VALUE}).")
  Path out = Path.of("runs", "sine-demo");

  @Override
  public Integer call() {
    // every option before training: a bad one used to surface only after the whole run (--eval-tasks 0 divided
    // by zero into NaN, then a NullPointerException when drawing the plot; --out after computing)
    CliSupport.atLeast("--iterations", iterations, 1);
    CliSupport.atLeast("--meta-batch", metaBatch, 1);
    CliSupport.atLeast("--shots", shots, 1);
    CliSupport.atLeast("--inner-steps", innerSteps, 1);
    CliSupport.finite("--inner-lr", innerLr, 0, true);
    CliSupport.finite("--outer-lr", outerLr, 0, false);
    CliSupport.atLeast("--eval-tasks", evalTasks, 1);
    CliSupport.checkOutputFolder("--out", out);
    System.out.println("metagrad sine: second-order MAML on sine waves; CPU backend: " + Backends.cpu().name());
    SineMaml.Config cfg = new SineMaml.Config(iterations, metaBatch, shots, shots, innerSteps, innerLr, outerLr, seed);
    Network net = Backbones.sineMlp();
    SineMaml maml = new SineMaml(net, cfg);
    Params init = net.init(new Rng(seed), DType.FLOAT32);
    List<double[]> curve = new ArrayList<>();
    long t0 = System.nanoTime();
    double[] ema = {Double.NaN};
    Params learned = maml.train(init, (loss, it) -> {
      ema[0] = Double.isNaN(ema[0]) ? loss : 0.98 * ema[0] + 0.02 * loss;
      if (it % 10 == 0) {
        curve.add(new double[] {it, ema[0]});
      }
      if (it % Math.max(1, iterations / 10) == 0 || it == iterations) {
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "  iteration %5d/%d  meta-loss (EMA) %.4f  %.1f it/s%n", it, iterations,
            ema[0], it / s);
      }
    });
    double seconds = (System.nanoTime() - t0) / 1e9;

    Rng evalRng = new Rng(seed + 1000);
    double before = 0;
    double after1 = 0;
    double after10 = 0;
    SineWave shownWave = null;
    RegressionTask shown = null;
    for (int i = 0; i < evalTasks; i++) {
      SineWave w = SineWave.sample(evalRng);
      RegressionTask t = w.task(evalRng, shots, 100, DType.FLOAT32);
      if (shown == null) {
        shown = t;
        shownWave = w;
      }
      before += maml.adaptedQueryLoss(learned, t, 0).item();
      after1 += maml.adaptedQueryLoss(learned, t, 1).item();
      after10 += maml.adaptedQueryLoss(learned, t, 10).item();
    }
    before /= evalTasks;
    after1 /= evalTasks;
    after10 /= evalTasks;
    System.out.printf(Locale.ROOT, "Meta-training: %d iterations in %.1f s%n", iterations, seconds);
    System.out.printf(Locale.ROOT, "Held-out query MSE over %d tasks (K=%d): before adaptation %.4f, after 1 step %.4f,"
        + " after 10 steps %.4f%n", evalTasks, shots, before, after1, after10);

    GradCheck.Report rep = maml.checkMetaGradient(learned, shown);
    System.out.printf(Locale.ROOT, "Meta-gradient vs central finite differences (FLOAT64, %d elements): worst relative"
        + " error %.2e -> %s%n", rep.elementsChecked(), rep.worstRelError(), rep.passed() ? "OK" : "MISMATCH");

    try {
      Files.createDirectories(out);
      Tensor[] truth = shownWave.curve(200, DType.FLOAT32);
      double[] gx = truth[0].toDoubleArray();
      double[] pre = net.apply(learned, truth[0], Mode.EVAL).toDoubleArray();
      double[] post = net.apply(maml.adapt(learned, shown, 10), truth[0], Mode.EVAL).toDoubleArray();
      new LinePlot(String.format(Locale.ROOT, "MAML sine fit (A=%.2f, phase=%.2f, K=%d)", shownWave.amplitude(),
          shownWave.phase(), shots), "x", "y")
          .line("ground truth", gx, truth[1].toDoubleArray())
          .points("support points", shown.supportX().toDoubleArray(), shown.supportY().toDoubleArray())
          .line("before adaptation", gx, pre)
          .line("after 10 steps", gx, post)
          .write(out.resolve("sine-fit.png"));
      double[] cx = curve.stream().mapToDouble(c -> c[0]).toArray();
      double[] cy = curve.stream().mapToDouble(c -> c[1]).toArray();
      new LinePlot("Meta-training query loss (EMA)", "iteration", "MSE").line("meta-loss", cx, cy)
          .write(out.resolve("learning-curve.png"));
      String json = String.format(Locale.ROOT, "{\"iterations\": %d, \"seconds\": %.3f, \"mse_before\": %.6f,"
          + " \"mse_after_1\": %.6f, \"mse_after_10\": %.6f, \"gradcheck_worst_rel_error\": %.3e,"
          + " \"gradcheck_passed\": %b}%n", iterations, seconds, before, after1, after10, rep.worstRelError(),
          rep.passed());
      Files.writeString(out.resolve("metrics.json"), json);
    } catch (IOException e) {
      throw new UncheckedIOException("sine: cannot write to " + out + ": " + e.getMessage(), e);
    }
    System.out.println("Wrote " + out.resolve("sine-fit.png") + ", " + out.resolve("learning-curve.png") + ", "
        + out.resolve("metrics.json"));
    return rep.passed() ? 0 : 1;
  }
}
