package org.metagrad.meta.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.metagrad.meta.data.ClassGrouping;
import org.metagrad.meta.data.Distortion;
import org.metagrad.meta.data.RotationMode;

class TrainConfigTest {

  @Test
  void jsonRoundTripKeepsEverySetting() {
    TrainConfig c = TrainConfig.builder().algorithm(Algorithm.METASGD).data(Path.of("/d a/\"q\"")).split("maml")
        .rotation(RotationMode.RANDOM_PER_TASK).ways(5).shots(1).queries(15).testWays(5).testShots(1).testQueries(3)
        .iterations(123).metaBatch(4).outerLr(2.5e-4).schedule("step").lrStep(50).lrGamma(0.3).innerSteps(2)
        .testInnerSteps(7).innerLr(0.05).hidden(16).seed(-9).threads(3).valEvery(10).valEpisodes(11)
        .testEpisodes(601).checkpointEvery(20).clipNorm(5).out(Path.of("runs/x")).build();
    TrainConfig back = TrainConfig.fromJson(c.toJson());
    // every setting but the machine's folders, which the reading command supplies
    assertThat(back.toBuilder().data(c.data()).out(c.out()).build()).isEqualTo(c);
    assertThat(c.toJson()).contains("\"algorithm\": \"metasgd\"").contains("\"outer_lr\": 2.5E-4");
    assertThat(back.fingerprint()).isEqualTo(c.toBuilder().threads(1).testEpisodes(5).build().fingerprint());
    assertThat(back.fingerprint()).isNotEqualTo(c.toBuilder().seed(1).build().fingerprint());
  }

  @Test
  void configJsonHoldsNoFolderOfTheMachineAndOldFilesWithThemStillLoad() {
    Path data = Path.of("/abs/data root").toAbsolutePath();
    Path out = Path.of("/abs/runs/pn").toAbsolutePath();
    TrainConfig c = TrainConfig.builder().algorithm(Algorithm.PROTONET).data(data).out(out).seed(7).build();
    String json = c.toJson();
    assertThat(org.metagrad.nn.io.JsonDocuments.object(json, "config.json")).doesNotContainKeys("data", "out");
    assertThat(json).doesNotContain("abs").doesNotContain("/");
    TrainConfig back = TrainConfig.fromJson(json);
    TrainConfig defaults = TrainConfig.builder().build();
    assertThat(back.data()).isEqualTo(defaults.data());
    assertThat(back.out()).isEqualTo(defaults.out());
    assertThat(back.fingerprint()).isEqualTo(c.fingerprint());
    // a config.json of an older version recorded both folders: accepted, and the folders ignored
    String old = json.replaceFirst("\\{", "{\n  \"data\": \"/old/machine/data\",\n  \"out\": \"/old/machine/run\",");
    assertThat(old).contains("\"data\": \"/old/machine/data\"");
    TrainConfig fromOld = TrainConfig.fromJson(old);
    assertThat(fromOld).isEqualTo(back);
    assertThat(fromOld.data()).isNotEqualTo(Path.of("/old/machine/data"));
  }

  @Test
  void groupingIsWrittenOnlyWhenWithinAlphabetAndReadBack() {
    TrainConfig any = TrainConfig.builder().algorithm(Algorithm.PROTONET).split("background").build();
    assertThat(any.grouping()).isEqualTo(ClassGrouping.ANY);
    // ANY is not written, so configurations of runs made before the option keep their fingerprint.
    assertThat(any.toJson()).doesNotContain("grouping");
    assertThat(TrainConfig.fromJson(any.toJson()).grouping()).isEqualTo(ClassGrouping.ANY);
    TrainConfig within = any.toBuilder().grouping(ClassGrouping.SAME_ALPHABET).build();
    assertThat(within.toJson()).contains("\"grouping\": \"SAME_ALPHABET\"");
    assertThat(TrainConfig.fromJson(within.toJson())).isEqualTo(within);
    assertThat(within.fingerprint()).isNotEqualTo(any.fingerprint());
    assertThat(within.toString()).endsWith("every episode within one alphabet");
    assertThat(TrainConfig.builder().grouping(null).build().grouping()).isEqualTo(ClassGrouping.ANY);
    assertThatThrownBy(() -> TrainConfig.fromJson(within.toJson().replace("SAME_ALPHABET", "SAME_STROKE")))
        .hasMessageContaining("unknown grouping 'SAME_STROKE'").hasMessageContaining("SAME_ALPHABET");
  }

  @Test
  void distortionIsWrittenOnlyWhenOnAndReadBack() {
    TrainConfig plain = TrainConfig.builder().algorithm(Algorithm.PROTONET).split("background").build();
    assertThat(plain.distortion()).isEqualTo(Distortion.NONE);
    // none is not written, so configurations of runs made before the option keep their fingerprint.
    assertThat(plain.toJson()).doesNotContain("distortion");
    TrainConfig warped = plain.toBuilder().distortion(Distortion.AFFINE).build();
    assertThat(warped.toJson()).contains("\"distortion\": \"affine\"");
    assertThat(TrainConfig.fromJson(warped.toJson())).isEqualTo(warped);
    assertThat(warped.fingerprint()).isNotEqualTo(plain.fingerprint());
    assertThat(warped.toString()).endsWith("training images distorted (affine)");
    assertThat(TrainConfig.builder().distortion(null).build().distortion()).isEqualTo(Distortion.NONE);
    assertThatThrownBy(() -> TrainConfig.fromJson(warped.toJson().replace("\"affine\"", "\"elastic\"")))
        .hasMessageContaining("config.json: entry 'distortion': unknown distortion 'elastic'");
    assertThatThrownBy(() -> plain.toBuilder().distortion(new Distortion(5, 0, 1, 1, 0, 1)).build())
        .hasMessageContaining("must be none or affine");
  }

  @Test
  void badValuesAreNamed() {
    assertThatThrownBy(() -> TrainConfig.builder().shots(0).build()).hasMessageContaining("shots must be >= 1");
    assertThatThrownBy(() -> TrainConfig.builder().split("imagenet").build()).hasMessageContaining("unknown split");
    assertThatThrownBy(() -> TrainConfig.builder().schedule("linear").build()).hasMessageContaining("unknown schedule");
    assertThatThrownBy(() -> TrainConfig.builder().side(8).build()).hasMessageContaining("side must be >= 16");
    assertThatThrownBy(() -> TrainConfig.builder().outerLr(0).build()).hasMessageContaining("learning rates");
    assertThatThrownBy(() -> TrainConfig.builder().blocks(0).build()).hasMessageContaining("blocks must be in [1, 6]");
    assertThatThrownBy(() -> TrainConfig.builder().blocks(7).build()).hasMessageContaining("got 7");
    assertThatThrownBy(() -> TrainConfig.builder().blocks(6).side(56).build())
        .hasMessageContaining("side must be >= 64 for the 6-block conv net, got 56");
    assertThatThrownBy(() -> TrainConfig.fromJson("{\"algorithm\": \"protonet\"}")).hasMessageContaining("missing entry");
    assertThatThrownBy(() -> Algorithm.parse("snail")).hasMessageContaining("unknown algorithm 'snail'")
        .hasMessageContaining("protonet, maml").hasMessageContaining("reptile");
    assertThat(Algorithm.parse("Reptile")).isEqualTo(Algorithm.REPTILE);
    assertThat(Algorithm.parse("Proto-Net")).isEqualTo(Algorithm.PROTONET);
  }

  @Test
  void progressBarShowsRateEtaAndExtras() {
    ProgressBar bar = new ProgressBar(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()), "train", 100);
    bar.update(0, "");
    String s = bar.render(40, 20.0, "loss 0.500  acc 0.900");
    assertThat(s).startsWith("train [##########--------------]  40%  40/100  2.00 it/s  ETA 30s  loss 0.500  acc 0.900");
    assertThat(ProgressBar.duration(3725)).isEqualTo("1h02m");
    assertThat(ProgressBar.duration(387)).isEqualTo("6m27s");
  }

  @Test
  void configJsonIsReadStrictlyAndUnknownEntriesAreRefused() {
    TrainConfig within = TrainConfig.builder().algorithm(Algorithm.PROTONET).split("background")
        .grouping(ClassGrouping.SAME_ALPHABET).build();
    String json = within.toJson();
    assertThat(TrainConfig.fromJson(json)).isEqualTo(within);
    // A misspelled optional entry used to fall back to its default (here: episodes across alphabets) silently.
    assertThatThrownBy(() -> TrainConfig.fromJson(json.replace("\"grouping\"", "\"gruoping\"")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown entry 'gruoping'");
    assertThatThrownBy(() -> TrainConfig.fromJson(json.replace("\"AS_NEW_CLASSES\"", "\"SIDEWAYS\"")))
        .hasMessageContaining("unknown rotation 'SIDEWAYS'").hasMessageNotContaining("No enum constant");
    assertThatThrownBy(() -> TrainConfig.fromJson(json + " trailing")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("config.json");
    assertThatThrownBy(() -> TrainConfig.fromJson(json.replace("{", "{\"side\": 28, "))).isInstanceOf(
        IllegalArgumentException.class).hasMessageContaining("side");
    assertThatThrownBy(() -> TrainConfig.fromJson(json.replace("\"split\": \"background\"", "\"split\": [1]")))
        .hasMessageContaining("'split' must be a string or a number");
  }

  @Test
  void imamlSettingsRoundTripThroughConfigJsonAndAreCheckedAndOmittedForOtherAlgorithms() {
    TrainConfig c = TrainConfig.builder().algorithm(Algorithm.IMAML).ways(5).testWays(5).imamlLambda(0.5).cgSteps(7)
        .cgDamping(0.25).build();
    TrainConfig back = TrainConfig.fromJson(c.toJson());
    assertThat(back.imamlLambda()).isEqualTo(0.5);
    assertThat(back.cgSteps()).isEqualTo(7);
    assertThat(back.cgDamping()).isEqualTo(0.25);
    assertThat(back.fingerprint()).isEqualTo(c.fingerprint());
    assertThat(TrainConfig.builder().algorithm(Algorithm.IMAML).ways(5).testWays(5).imamlLambda(2).build().fingerprint())
        .isNotEqualTo(c.fingerprint());
    assertThat(TrainConfig.builder().algorithm(Algorithm.PROTONET).build().toJson()).doesNotContain("cg_steps");
    assertThat(TrainConfig.fromJson(TrainConfig.builder().algorithm(Algorithm.RELATIONNET).build().toJson()).algorithm())
        .isEqualTo(Algorithm.RELATIONNET);
    TrainConfig.Builder im = TrainConfig.builder().algorithm(Algorithm.IMAML).ways(5).testWays(5);
    assertThatThrownBy(() -> im.imamlLambda(0).build()).hasMessageContaining("--lambda (iMAML's proximal"
        + " regularisation) must be finite and > 0, got 0.0");
    assertThatThrownBy(() -> TrainConfig.builder().algorithm(Algorithm.IMAML).ways(5).testWays(5).cgSteps(0).build())
        .hasMessageContaining("--cg-steps must be >= 1, got 0");
    assertThatThrownBy(() -> TrainConfig.builder().algorithm(Algorithm.IMAML).ways(5).testWays(5).cgDamping(-1).build())
        .hasMessageContaining("--cg-damping must be finite and >= 0");
    assertThatThrownBy(() -> TrainConfig.builder().cgSteps(3).build()).hasMessageContaining("applies only to"
        + " --algorithm imaml");
  }
}
