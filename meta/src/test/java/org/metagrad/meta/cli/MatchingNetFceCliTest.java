package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.algo.MatchingNet;
import org.metagrad.meta.algo.MetaLearner;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;

/** {@code metagrad train --algorithm matchingnet --fce [--fce-steps K]}: parsing, configuration, parameters. */
class MatchingNetFceCliTest {

  private static TrainConfig parse(Path tmp, String... args) {
    return CliTest.trainConfig(tmp, args);
  }

  @Test
  void fceOptionsReachTheLearnerAndItsParameters(@TempDir Path tmp) {
    TrainConfig c = parse(tmp, "--algorithm", "matchingnet", "--fce", "--fce-steps", "3", "--hidden", "8");
    assertThat(c.algorithm()).isEqualTo(Algorithm.MATCHINGNET);
    assertThat(c.fceSteps()).isEqualTo(3);
    assertThat(parse(tmp, "--algorithm", "matchingnet", "--fce").fceSteps()).isEqualTo(MatchingNet.DEFAULT_FCE_STEPS);
    assertThat(parse(tmp, "--algorithm", "matchingnet").fceSteps()).isZero();
    // config.json round trip; runs without FCE keep their old config.json (no fce_steps entry).
    assertThat(CliTest.readBack(c)).isEqualTo(c);
    assertThat(c.toJson()).contains("\"fce_steps\"");
    assertThat(parse(tmp, "--algorithm", "matchingnet").toJson()).doesNotContain("fce");
    Network model = Experiment.model(c);
    MetaLearner learner = Experiment.learner(c, model);
    assertThat(learner.toString()).contains("FCE").contains("3 read steps");
    Params p = Experiment.initialParams(c, model, learner);
    assertThat(p.names()).contains("fce.g.fwd.weight_ih", "fce.g.bwd.weight_ih", "fce.f.weight_ih");
    assertThat(p.get("fce.f.weight_ih").shape()).containsExactly(4 * model.featureDim(), 2 * model.featureDim());
    TrainConfig off = parse(tmp, "--algorithm", "matchingnet", "--hidden", "8");
    Params pOff = Experiment.initialParams(off, Experiment.model(off), Experiment.learner(off, Experiment.model(off)));
    assertThat(pOff.names()).noneMatch(n -> n.startsWith("fce."));
  }

  @Test
  void attentionScaleReachesTheLearnerAndConfigJsonOnlyWhenGiven(@TempDir Path tmp) {
    TrainConfig c = parse(tmp, "--algorithm", "matchingnet", "--fce", "--attention-scale", "10", "--hidden", "8");
    assertThat(c.attentionScale()).isEqualTo(10.0);
    assertThat(CliTest.readBack(c)).isEqualTo(c);
    assertThat(c.toJson()).contains("\"attention_scale\": 10.0");
    assertThat(Experiment.learner(c, Experiment.model(c)).toString()).contains("scale 10.0").contains("FCE");
    // the paper's 1 is the default, and runs made before the option keep their config.json (no entry)
    TrainConfig paper = parse(tmp, "--algorithm", "matchingnet", "--hidden", "8");
    assertThat(paper.attentionScale()).isEqualTo(1.0);
    assertThat(paper.toJson()).doesNotContain("attention_scale");
    assertThat(Experiment.learner(paper, Experiment.model(paper)).toString()).contains("scale 1.0");
    for (String bad : new String[] {"0", "-2", "Infinity", "NaN"}) {
      CliTest.Outcome o = CliTest.run("train", "--algorithm", "matchingnet", "--attention-scale", bad, "--data",
          tmp.toString());
      assertThat(o.status()).as(bad).isEqualTo(Main.USAGE_ERROR);
      assertThat(o.err()).as(bad).contains("--attention-scale must be finite and > 0");
    }
    CliTest.Outcome proto = CliTest.run("train", "--algorithm", "protonet", "--attention-scale", "10", "--data",
        tmp.toString());
    assertThat(proto.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(proto.err()).contains("--attention-scale applies only to --algorithm matchingnet, not protonet");
  }

  @Test
  void badFceArgumentsGiveAClearError(@TempDir Path tmp) {
    CliTest.Outcome zero = CliTest.run("train", "--algorithm", "matchingnet", "--fce", "--fce-steps", "0", "--data",
        tmp.toString());
    assertThat(zero.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(zero.err()).contains("--fce-steps must be >= 1, got 0");
    CliTest.Outcome noFce = CliTest.run("train", "--algorithm", "matchingnet", "--fce-steps", "3", "--data",
        tmp.toString());
    assertThat(noFce.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(noFce.err()).contains("--fce-steps needs --fce");
    CliTest.Outcome proto = CliTest.run("train", "--algorithm", "protonet", "--fce", "--data", tmp.toString());
    assertThat(proto.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(proto.err()).contains("--fce applies only to --algorithm matchingnet, not protonet");
  }
}
