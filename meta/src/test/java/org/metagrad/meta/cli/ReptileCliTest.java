package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.TrainConfig;

/** {@code --algorithm reptile} end to end on Omniglot (needs METAGRAD_DATA; fails without it). */
class ReptileCliTest {

  @Test
  void helpListsReptileAndGradcheckRefusesIt() {
    CliTest.Outcome help = CliTest.run("train", "--help");
    assertThat(help.status()).isZero();
    assertThat(help.out()).contains("reptile").contains("Nichol");
    CliTest.Outcome g = CliTest.run("gradcheck", "--algorithm", "reptile", "--synthetic", "--hidden", "2");
    assertThat(g.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(g.err()).contains("reptile is not a gradient method");
  }

  @Test
  void trainsEvaluatesAndWritesEveryOutput(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("reptile");
    CliTest.Outcome t = CliTest.run("train", "--algorithm", "reptile", "--data", DataPaths.root().toString(),
        "--hidden", "4", "--ways", "3", "--shots", "2", "--queries", "2", "--test-ways", "3", "--test-shots", "1",
        "--test-queries", "2", "--inner-steps", "2", "--inner-lr", "0.1", "--test-inner-steps", "3", "--meta-batch",
        "2", "--iterations", "4", "--val-every", "2", "--val-episodes", "2", "--test-episodes", "3",
        "--checkpoint-every", "2", "--threads", "2", "--out", dir.toString());
    assertThat(t.status()).as(t.out() + t.err()).isZero();
    assertThat(t.out()).contains("Reptile(steps 2, lr 0.1)").contains("validation accuracy")
        .contains("test: 3-way 1-shot").contains("(3 episodes)");
    for (String f : new String[] {"config.json", "metrics.csv", "metrics.json", "best.safetensors", "last.safetensors",
        "learning-curve.png", "loss-curve.png"}) {
      assertThat(dir.resolve(f)).exists();
    }
    TrainConfig c = TrainConfig.fromJson(Files.readString(dir.resolve("config.json")));
    assertThat(c.algorithm()).isEqualTo(Algorithm.REPTILE);
    assertThat(c.testInnerSteps()).isEqualTo(3);
    // The reported training loss is the adapted query loss: a cross-entropy over 3 classes, finite and positive.
    for (String row : Files.readAllLines(dir.resolve("metrics.csv")).subList(1, 5)) {
      double loss = Double.parseDouble(row.split(",")[1]);
      assertThat(loss).isPositive().isLessThan(20);
    }

    CliTest.Outcome e = CliTest.run("eval", "--run", dir.toString(), "--data", DataPaths.root().toString(),
        "--episodes", "3", "--test-inner-steps", "1", "--out", tmp.resolve("eval.json").toString());
    assertThat(e.status()).as(e.out() + e.err()).isZero();
    assertThat(e.out()).contains("reptile on test classes").contains("3-way 1-shot").contains("(3 episodes)");
    assertThat(Files.readString(tmp.resolve("eval.json"))).contains("\"test_inner_steps\": 1");
  }
}
