package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.meta.train.TrainOption;
import org.metagrad.meta.train.TrainOptions;

/**
 * Issue 27: {@code TrainConfig}'s options were written five times (record component, builder field and setter,
 * JSON writer, JSON reader, command line), and the builder's defaults disagreed with the command line's
 * ({@code valEvery} 0 vs 200, {@code checkpointEvery} 0 vs 200, {@code threads} 1 vs the processor count). Now
 * one table ({@link TrainOptions}) declares each option once; these tests hold every consumer to it.
 */
class TrainOptionTableTest {

  private static TrainConfig parse(String... args) {
    return CliTest.trainConfig(args);
  }

  @Test
  void theCommandLineAndTheBuilderHaveTheSameDefaults(@TempDir Path tmp) {
    for (Algorithm a : Algorithm.values()) {
      TrainConfig cli = parse("--algorithm", a.cliName(), "--data", tmp.toString());
      TrainConfig lib = TrainConfig.builder().algorithm(a).data(tmp).build();
      assertThat(cli).as(a.cliName()).isEqualTo(lib);
      // every algorithm's defaults make a valid run (MAML's N-way head used to need --ways 5 spelled out)
      assertThat(lib.ways()).isEqualTo(a.fixedWays() ? lib.testWays() : 20);
    }
    TrainConfig lib = TrainConfig.builder().build();
    // the three that used to differ
    assertThat(lib.valEvery()).isEqualTo(200);
    assertThat(lib.checkpointEvery()).isEqualTo(200);
    assertThat(lib.threads()).isEqualTo(Runtime.getRuntime().availableProcessors());
  }

  @Test
  void everyOptionIsOnTheCommandLineWithItsDefaultInTheHelp() {
    CliTest.Outcome help = CliTest.run("train", "--help");
    assertThat(help.status()).isZero();
    String text = help.out().replaceAll("\\s+", " ");
    for (TrainOption<?> o : TrainOptions.all()) {
      assertThat(text).as(o.key()).contains(o.flag());
      for (String alias : o.aliases()) {
        assertThat(text).as(o.key()).contains(alias + ", " + o.flag());
      }
    }
    assertThat(text).contains("(default: 200)").contains("(default: " + TrainOptions.OUTER_LR.defaultText() + ")");
  }

  @Test
  void everyOptionSurvivesTheCommandLineAndConfigJson(@TempDir Path tmp) {
    // a non-default value for every option that applies to transfer, given on the command line, read back
    TrainConfig c = parse("--algorithm", "transfer", "--data", tmp.toString(), "--split", "maml", "--side", "32",
        "--rotation", "random_per_task", "-n", "7", "-k", "2", "-q", "3", "--test-ways", "6", "--test-shots", "2",
        "--test-queries", "4", "-i", "11", "-b", "3", "--outer-lr", "0.002", "--schedule", "step", "--lr-step", "5",
        "--lr-gamma", "0.25", "--inner-steps", "2", "--test-inner-steps", "4", "--inner-lr", "0.3", "--hidden", "8",
        "--blocks", "5", "--seed", "-4", "-t", "3", "--val-every", "7", "--val-episodes", "9", "--test-episodes", "13",
        "--checkpoint-every", "6", "--clip", "1.5", "-o", tmp.resolve("o").toString(), "--head", "cosine",
        "--batch-size", "16", "--finetune-steps", "7", "--finetune-lr", "0.2", "--grouping", "same_alphabet",
        "--distort", "affine", "--frame", "center", "--device", "opencl:0");
    TrainConfig d = TrainConfig.builder().algorithm(Algorithm.TRANSFER).data(tmp).build();
    Set<String> same = new HashSet<>();
    for (TrainOption<?> o : TrainOptions.all()) {
      if (c.get(o).equals(d.get(o))) {
        same.add(o.key());
      }
    }
    // only the options transfer cannot set (other algorithms' own) keep their defaults; the data root is the one
    // given, the algorithm compared with itself
    Set<String> notTransfer = new HashSet<>(Set.of("algorithm", "data"));
    TrainOptions.all().stream().filter(o -> !o.appliesTo(Algorithm.TRANSFER)).forEach(o -> notTransfer.add(o.key()));
    assertThat(same).containsExactlyInAnyOrderElementsOf(notTransfer).contains("fce_steps");
    // config.json holds every setting but the machine's folders (the reading command supplies them)
    assertThat(CliTest.readBack(c)).isEqualTo(c);
    TrainConfig im = parse("--algorithm", "imaml", "-n", "5", "--test-ways", "5", "--lambda", "0.5", "--cg-steps", "3",
        "--cg-damping", "10", "--data", tmp.toString());
    assertThat(CliTest.readBack(im)).isEqualTo(im);
    assertThat(im.imamlLambda()).isEqualTo(0.5);
    assertThat(im.cgSteps()).isEqualTo(3);
    assertThat(im.cgDamping()).isEqualTo(10.0);
    TrainConfig m = parse("--algorithm", "matchingnet", "--fce", "--fce-steps", "2", "--data", tmp.toString());
    assertThat(CliTest.readBack(m)).isEqualTo(m);
    // --blocks: written only when not 4, so the runs made before it keep their config.json and fingerprint
    TrainConfig b5 = parse("--blocks", "5", "--side", "56", "--data", tmp.toString());
    assertThat(b5.blocks()).isEqualTo(5);
    assertThat(b5.toMap()).containsEntry("blocks", 5);
    assertThat(CliTest.readBack(b5)).isEqualTo(b5);
    assertThat(b5.fingerprint()).isNotEqualTo(b5.toBuilder().blocks(4).build().fingerprint());
    TrainConfig b4 = parse("--blocks", "4", "--data", tmp.toString());
    assertThat(b4.toMap()).doesNotContainKey("blocks");
    assertThat(b4.fingerprint()).isEqualTo(parse("--data", tmp.toString()).fingerprint());
    assertThat(Experiment.model(b5).toString()).contains("conv5(1->64, 56x56)");
    assertThat(Experiment.model(b5).featureDim()).isEqualTo(64);
    TrainConfig maml5 = parse("--algorithm", "maml", "-n", "5", "--test-ways", "5", "--blocks", "5", "--side", "56",
        "--data", tmp.toString());
    assertThat(Experiment.model(maml5).toString()).contains("conv5Strided(1->64, 56x56)");
  }

  @Test
  void optionsOfOtherAlgorithmsAndMalformedValuesAreRefusedByName(@TempDir Path tmp) {
    assertThatThrownBy(() -> parse("--algorithm", "maml", "--finetune-lr", "0.1", "--data", tmp.toString()))
        .hasMessage("--finetune-lr applies only to --algorithm transfer, not maml");
    assertThatThrownBy(() -> TrainConfig.builder().algorithm(Algorithm.MAML).batchSize(32).build())
        .hasMessageStartingWith("--batch-size 32 applies only to --algorithm transfer, supervised,")
        .hasMessageEndingWith(", not maml");
    assertThatThrownBy(() -> parse("--algorithm", "relationnet", "--blocks", "5", "--side", "56", "--data",
        tmp.toString())).hasMessage("--blocks does not apply to --algorithm relationnet");
    assertThatThrownBy(() -> parse("--ways", "five", "--data", tmp.toString()))
        .hasMessage("--ways: 'five' is not an integer");
    assertThatThrownBy(() -> parse("--outer-lr", "fast", "--data", tmp.toString()))
        .hasMessage("--outer-lr: 'fast' is not a number");
    assertThatThrownBy(() -> parse("--rotation", "sideways", "--data", tmp.toString()))
        .hasMessageContaining("unknown rotation 'sideways'").hasMessageContaining("RANDOM_PER_TASK");
    String json = TrainConfig.builder().data(tmp).build().toJson();
    assertThatThrownBy(() -> TrainConfig.fromJson(json.replace("\"ways\": 20", "\"ways\": \"many\"")))
        .hasMessage("config.json: entry 'ways': 'many' is not an integer");
  }

  @Test
  void onlyTheRequiredOptionsMustBeInConfigJsonAndTheOthersAreWrittenWhenTheyApply(@TempDir Path tmp) {
    TrainConfig proto = TrainConfig.builder().data(tmp).build();
    for (TrainOption<?> o : TrainOptions.all()) {
      boolean written = proto.toMap().containsKey(o.key());
      assertThat(written).as(o.key()).isEqualTo(o.presence() == TrainOption.Presence.REQUIRED);
    }
    TrainConfig transfer = TrainConfig.builder().algorithm(Algorithm.TRANSFER).data(tmp).build();
    assertThat(transfer.toMap()).containsKeys("head", "batch_size", "finetune_steps", "finetune_lr")
        .doesNotContainKeys("fce_steps", "grouping", "distortion");
  }
}
