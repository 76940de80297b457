package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.algo.Mann;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.MannConfig;
import org.metagrad.meta.train.TrainConfig;

/** {@code metagrad train --algorithm mann}: options, config.json and errors (the training itself: MannOmniglotTrainingTest). */
class MannCliTest {

  @Test
  void helpExplainsTheMannOptions() {
    CliTest.Outcome train = CliTest.run("train", "--help");
    assertThat(train.status()).isZero();
    assertThat(train.out()).contains("mann", "--controller", "lstm-only", "--labels", "--instances", "--episodes",
        "--memory", "--read-heads", "--gamma", "Only for --algorithm mann");
  }

  @Test
  void mannOptionsAreParsedIntoTheConfigurationAndConfigJsonRoundTrips(@TempDir Path tmp) {
    TrainCommand cmd = new TrainCommand();
    new picocli.CommandLine(cmd).parseArgs("--algorithm", "mann", "--ways", "15", "--test-ways", "15", "--controller",
        "lstm-only", "--labels", "string", "--instances", "8", "--episodes", "4", "--memory", "64x20",
        "--read-heads", "2", "--gamma", "0.9", "--side", "20", "--hidden", "50", "--data",
        tmp.toString(), "--out", tmp.toString());
    TrainConfig tc = cmd.config();
    MannConfig c = MannConfig.of(tc);
    assertThat(c.base().algorithm()).isEqualTo(Algorithm.MANN);
    assertThat(c.controller()).isEqualTo(Mann.Controller.LSTM);
    assertThat(c.labels()).isEqualTo(Mann.Labels.STRING);
    assertThat(c.instances()).isEqualTo(8);
    assertThat(c.episodes()).isEqualTo(4);
    assertThat(c.slots()).isEqualTo(64);
    assertThat(c.width()).isEqualTo(20);
    assertThat(c.reads()).isEqualTo(2);
    assertThat(c.gamma()).isEqualTo(0.9);
    assertThat(c.mann().inputSize()).isEqualTo(400);
    assertThat(c.mann().hidden()).isEqualTo(50);
    assertThat(c.steps()).isEqualTo(120);
    assertThat(tc.toJson()).contains("\"mann_controller\"", "\"mann_memory\": \"64x20\"");
    TrainConfig back = CliTest.readBack(tc);   // config.json holds no machine folder; the reader supplies them
    assertThat(MannConfig.of(back)).isEqualTo(c);
    assertThat(back.fingerprint()).isEqualTo(tc.fingerprint()).contains("mann_memory");
    TrainCommand defaults = new TrainCommand();
    new picocli.CommandLine(defaults).parseArgs("--algorithm", "mann", "--data", tmp.toString());
    MannConfig d = MannConfig.of(defaults.config());
    assertThat(d.base().ways()).isEqualTo(5);
    assertThat(d.controller()).isEqualTo(Mann.Controller.MANN);
    assertThat(d.labels()).isEqualTo(Mann.Labels.ONE_HOT);
    assertThat(d.instances()).isEqualTo(10);
    assertThat(d.episodes()).isEqualTo(16);
    assertThat(d.slots()).isEqualTo(128);
    assertThat(d.width()).isEqualTo(40);
    assertThat(d.reads()).isEqualTo(4);
    assertThat(d.gamma()).isEqualTo(0.95);
    // Other algorithms' config.json holds no MANN entry.
    TrainCommand proto = new TrainCommand();
    new picocli.CommandLine(proto).parseArgs("--algorithm", "protonet", "--data", tmp.toString());
    assertThat(proto.config().toJson()).doesNotContain("mann_");
  }

  @Test
  void badMannArgumentsGiveAClearError(@TempDir Path tmp) {
    CliTest.Outcome proto = CliTest.run("train", "--algorithm", "protonet", "--controller", "lstm", "--data",
        tmp.toString(), "--out", tmp.resolve("a").toString());
    assertThat(proto.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(proto.err()).contains("--controller applies only to --algorithm mann, not protonet");
    CliTest.Outcome memory = CliTest.run("train", "--algorithm", "mann", "--memory", "many", "--data",
        tmp.toString(), "--out", tmp.resolve("b").toString());
    assertThat(memory.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(memory.err()).contains("many");
    CliTest.Outcome ctl = CliTest.run("train", "--algorithm", "mann", "--controller", "gru", "--data",
        tmp.toString(), "--out", tmp.resolve("c").toString());
    assertThat(ctl.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(ctl.err()).contains("unknown controller 'gru'");
    CliTest.Outcome reads = CliTest.run("train", "--algorithm", "mann", "--memory", "2x40", "--read-heads", "4",
        "--data", tmp.toString(), "--out", tmp.resolve("d").toString());
    assertThat(reads.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(reads.err()).contains("4 read heads need at least as many memory slots");
    CliTest.Outcome gamma = CliTest.run("train", "--algorithm", "mann", "--gamma", "2", "--data", tmp.toString(),
        "--out", tmp.resolve("e").toString());
    assertThat(gamma.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(gamma.err()).contains("gamma must be in [0, 1]");
  }
}
