package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.TrainConfig;

/** {@code metagrad train/eval --algorithm transfer}; the end-to-end test needs METAGRAD_DATA and fails without it. */
class TransferCliTest {

  private static String data() {
    return DataPaths.root().toString();
  }

  @Test
  void helpExplainsTheTransferOptions() {
    CliTest.Outcome train = CliTest.run("train", "--help");
    assertThat(train.status()).isZero();
    assertThat(train.out()).contains("transfer", "--head", "linear", "cosine", "Baseline++", "--batch-size",
        "--finetune-steps", "--finetune-lr", "pre-training steps", "ALL training classes");
    CliTest.Outcome eval = CliTest.run("eval", "--help");
    assertThat(eval.status()).isZero();
    assertThat(eval.out()).contains("--finetune-steps", "--finetune-lr", "transfer run");
  }

  @Test
  void transferOptionsAreParsedIntoTheConfiguration(@TempDir Path tmp) {
    TrainCommand cmd = new TrainCommand();
    new picocli.CommandLine(cmd).parseArgs("--algorithm", "transfer", "--head", "cosine", "--batch-size", "48",
        "--finetune-steps", "20", "--finetune-lr", "0.05", "--iterations", "300", "--data", tmp.toString());
    TrainConfig c = cmd.config();
    assertThat(c.algorithm()).isEqualTo(Algorithm.TRANSFER);
    assertThat(c.head()).isEqualTo("cosine");
    assertThat(c.batchSize()).isEqualTo(48);
    assertThat(c.finetuneSteps()).isEqualTo(20);
    assertThat(c.finetuneLr()).isEqualTo(0.05);
    assertThat(c.iterations()).isEqualTo(300);
    TrainCommand defaults = new TrainCommand();
    new picocli.CommandLine(defaults).parseArgs("--algorithm", "transfer", "--data", tmp.toString());
    assertThat(defaults.config().head()).isEqualTo("linear");
    assertThat(defaults.config().batchSize()).isEqualTo(64);
    assertThat(defaults.config().finetuneSteps()).isEqualTo(100);
  }

  @Test
  void badTransferArgumentsGiveAClearError(@TempDir Path tmp) throws Exception {
    CliTest.Outcome headProto = CliTest.run("train", "--algorithm", "protonet", "--head", "cosine", "--data",
        tmp.toString());
    assertThat(headProto.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(headProto.err()).contains("--head applies only to --algorithm transfer, not protonet");
    CliTest.Outcome batchMaml = CliTest.run("train", "--algorithm", "maml", "--batch-size", "32", "--data",
        tmp.toString());
    assertThat(batchMaml.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(batchMaml.err()).contains("--batch-size applies only to --algorithm transfer,").contains("not maml");
    CliTest.Outcome unknownHead = CliTest.run("train", "--algorithm", "transfer", "--head", "square", "--data",
        tmp.toString());
    assertThat(unknownHead.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(unknownHead.err()).contains("unknown head 'square'").contains("linear").contains("cosine");
    CliTest.Outcome zeroBatch = CliTest.run("train", "--algorithm", "transfer", "--batch-size", "0", "--data",
        tmp.toString());
    assertThat(zeroBatch.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(zeroBatch.err()).contains("batch size must be >= 1");
    CliTest.Outcome noOmniglot = CliTest.run("train", "--algorithm", "transfer", "--data", tmp.toString(), "--out",
        tmp.resolve("o").toString());
    assertThat(noOmniglot.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(noOmniglot.err()).contains("Omniglot data folder not found").contains("METAGRAD_DATA");
    CliTest.Outcome noData = CliTest.run("train", "--algorithm", "transfer", "--data", tmp.resolve("gone").toString());
    assertThat(noData.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(noData.err()).contains("data folder not found");
    CliTest.Outcome grad = CliTest.run("gradcheck", "--algorithm", "transfer", "--synthetic", "--hidden", "2");
    assertThat(grad.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(grad.err()).contains("transfer is not a meta-learner");
    // Fine-tuning options on a run of another algorithm.
    Path run = tmp.resolve("protorun");
    Files.createDirectories(run);
    Files.writeString(run.resolve("config.json"), TrainConfig.builder().data(tmp).out(run).build().toJson());
    Files.writeString(run.resolve("best.safetensors"), "");
    CliTest.Outcome ft = CliTest.run("eval", "--run", run.toString(), "--data", tmp.toString(), "--finetune-steps", "5");
    assertThat(ft.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(ft.err()).contains("--finetune-steps applies only to --algorithm transfer, not protonet");
  }

  @Test
  void trainThenEvalATransferRunEndToEnd(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    String[] train = {"train", "--algorithm", "transfer", "--head", "cosine", "--data", data(), "--split",
        "background", "--hidden", "4", "--batch-size", "8", "--meta-batch", "2", "--test-ways", "5", "--test-shots",
        "1", "--test-queries", "2", "--iterations", "4", "--val-every", "2", "--val-episodes", "2",
        "--test-episodes", "3", "--finetune-steps", "5", "--checkpoint-every", "2", "--threads", "2", "--out",
        dir.toString()};
    CliTest.Outcome t = CliTest.run(train);
    assertThat(t.status()).as(t.out() + t.err()).isZero();
    assertThat(t.out()).contains("pre-training classifier over").contains("Baseline++")
        .contains("validation accuracy").contains("test: 5-way 1-shot").contains("(3 episodes)");
    assertThat(t.err()).contains("train [").contains("loss");
    for (String f : new String[] {"config.json", "metrics.csv", "metrics.json", "best.safetensors", "last.safetensors",
        "learning-curve.png", "loss-curve.png"}) {
      assertThat(dir.resolve(f)).exists();
    }
    TrainConfig c = TrainConfig.fromJson(Files.readString(dir.resolve("config.json")));
    assertThat(c.algorithm()).isEqualTo(Algorithm.TRANSFER);
    assertThat(c.head()).isEqualTo("cosine");
    assertThat(c.batchSize()).isEqualTo(8);
    assertThat(Files.readString(dir.resolve("metrics.json"))).contains("\"test_ci95\"").contains("\"head\": \"cosine\"");
    assertThat(Files.readAllLines(dir.resolve("metrics.csv"))).hasSize(5);

    CliTest.Outcome e = CliTest.run("eval", "--run", dir.toString(), "--data", data(), "--episodes", "3", "--ways",
        "3", "--shots", "2", "--finetune-steps", "3", "--out", tmp.resolve("eval.json").toString());
    assertThat(e.status()).as(e.out() + e.err()).isZero();
    assertThat(e.out()).contains("transfer (cosine head, fine-tuned 3 steps").contains("3-way 2-shot")
        .contains("\u00b1").contains("(3 episodes)");
    assertThat(Files.readString(tmp.resolve("eval.json"))).contains("\"accuracy\"").contains("\"ci95\"")
        .contains("\"finetune_steps\": 3");

    // Resuming with another head than the run's is refused before any work.
    String[] other = train.clone();
    other[java.util.Arrays.asList(train).indexOf("--head") + 1] = "linear";
    String[] resume = java.util.Arrays.copyOf(other, other.length + 1);
    resume[other.length] = "--resume";
    CliTest.Outcome mismatch = CliTest.run(resume);
    assertThat(mismatch.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(mismatch.err()).contains("settings differ").contains("head=linear");
  }
}
