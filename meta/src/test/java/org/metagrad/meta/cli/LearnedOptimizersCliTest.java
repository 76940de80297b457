package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.data.DataPaths;

/** The command-line paths of the meta-learner LSTM ({@code train/gradcheck --algorithm metalstm}) and learn-optimizer. */
class LearnedOptimizersCliTest {

  @Test
  void learnOptimizerWritesARunFolderWithTheComparison(@TempDir Path tmp) throws Exception {
    CliTest.Outcome help = CliTest.run("learn-optimizer", "--help");
    assertThat(help.status()).isZero();
    assertThat(help.out()).contains("--task", "--order", "--horizon", "--unroll", "--eval-horizon", "--out");
    assertThat(CliTest.run("--help").out()).contains("learn-optimizer");
    Path out = tmp.resolve("q");
    CliTest.Outcome o = CliTest.run("learn-optimizer", "--task", "quadratic", "--order", "both", "--iterations", "2",
        "--functions", "4", "--horizon", "6", "--unroll", "3", "--eval-horizon", "9", "--eval-functions", "5",
        "--tune-functions", "2", "--hidden", "4", "--out", out.toString());
    assertThat(o.status()).as(o.out() + o.err()).isZero();
    for (String f : new String[] {"config.json", "metrics.csv", "metrics.json", "optimizer-first.safetensors",
        "optimizer-second.safetensors", "loss-curves.png", "training-curve.png"}) {
      assertThat(out.resolve(f)).exists();
    }
    String metrics = Files.readString(out.resolve("metrics.json"));
    assertThat(metrics).contains("LSTM (first order)", "LSTM (second order)", "SGD (lr", "RMSprop (lr", "Adam (lr",
        "loss_at_eval_horizon_ci95", "second_vs_first_order", "log10_ratio_at_eval_horizon_mean");
    assertThat(Files.readAllLines(out.resolve("metrics.csv"))).hasSize(1 + 2 * 2);
    // A used folder is refused, and bad options are named.
    CliTest.Outcome again = CliTest.run("learn-optimizer", "--iterations", "1", "--out", out.toString());
    assertThat(again.status()).isNotZero();
    assertThat(again.err()).contains("not an empty folder");
    CliTest.Outcome badOrder = CliTest.run("learn-optimizer", "--order", "third", "--out", tmp.resolve("x").toString());
    assertThat(badOrder.status()).isNotZero();
    assertThat(badOrder.err()).contains("--order");
    CliTest.Outcome badHorizon = CliTest.run("learn-optimizer", "--horizon", "50", "--eval-horizon", "20", "--out",
        tmp.resolve("y").toString());
    assertThat(badHorizon.status()).isNotZero();
    assertThat(badHorizon.err()).contains("--eval-horizon");
    assertThat(tmp.resolve("x")).doesNotExist();
  }

  @Test
  void gradcheckOfTheMetaLearnerLstmPassesAtBothOrders(@TempDir Path tmp) {
    CliTest.Outcome second = CliTest.run("gradcheck", "--algorithm", "metalstm2", "--synthetic", "--hidden", "2",
        "--inner-steps", "2", "--inner-lr", "0.3", "--max-elements", "3");
    assertThat(second.status()).as(second.out() + second.err()).isZero();
    assertThat(second.out()).contains("passed meta-gradient check").contains("metalstm.input.bias")
        .contains("metalstm.lstm.weight_hh").contains("head.weight");
    CliTest.Outcome first = CliTest.run("gradcheck", "--algorithm", "metalstm", "--synthetic", "--hidden", "2",
        "--inner-lr", "0.3", "--max-elements", "2");
    assertThat(first.status()).as(first.out() + first.err()).isZero();
    assertThat(first.out()).contains("first-order meta-gradient by design").contains("passed");
    CliTest.Outcome bad = CliTest.run("train", "--algorithm", "metalstm", "--ways", "5", "--inner-lr", "1.5", "--data",
        DataPaths.root().toString(), "--out", tmp.resolve("m").toString());
    assertThat(bad.status()).isNotZero();
    assertThat(bad.err()).contains("--inner-lr").contains("(0, 1)");
  }
}
