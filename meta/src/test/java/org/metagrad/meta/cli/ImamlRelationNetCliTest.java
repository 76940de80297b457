package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.algo.Imaml;
import org.metagrad.meta.algo.MetaLearner;
import org.metagrad.meta.algo.RelationNet;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;

/** {@code metagrad train --algorithm imaml|relationnet}: parsing, configuration, learner and parameters. */
class ImamlRelationNetCliTest {

  private static TrainConfig parse(Path tmp, String... args) {
    return CliTest.trainConfig(tmp, args);
  }

  @Test
  void imamlOptionsReachTheLearner(@TempDir Path tmp) {
    TrainConfig c = parse(tmp, "--algorithm", "imaml", "--ways", "5", "--test-ways", "5", "--inner-steps", "7", "--inner-lr", "0.3", "--lambda", "0.5",
        "--cg-steps", "4", "--cg-damping", "0.1", "--hidden", "8");
    assertThat(c.algorithm()).isEqualTo(Algorithm.IMAML);
    assertThat(CliTest.readBack(c)).isEqualTo(c);
    Network model = Experiment.model(c);
    MetaLearner learner = Experiment.learner(c, model);
    assertThat(learner).isInstanceOf(Imaml.class);
    assertThat(learner.toString()).contains("steps 7", "lr 0.3", "lambda 0.5", "CG 4 steps", "damping 0.1");
    TrainConfig d = parse(tmp, "--algorithm", "imaml", "--ways", "5", "--test-ways", "5");
    assertThat(d.imamlLambda()).isEqualTo(2.0);
    assertThat(d.cgSteps()).isEqualTo(5);
    assertThat(d.cgDamping()).isZero();
  }

  @Test
  void relationNetGetsItsEmbeddingAndRelationModule(@TempDir Path tmp) {
    TrainConfig c = parse(tmp, "--algorithm", "relationnet", "--hidden", "8");
    Network model = Experiment.model(c);
    assertThat(model.featureDim()).isEqualTo(8 * 5 * 5);
    MetaLearner learner = Experiment.learner(c, model);
    assertThat(learner).isInstanceOf(RelationNet.class);
    Params p = Experiment.initialParams(c, model, learner);
    assertThat(p.names()).anyMatch(n -> n.startsWith("relation.")).anyMatch(n -> n.startsWith("features."));
  }

  @Test
  void imamlOptionsAreRefusedForOtherAlgorithmsAndBadValuesNamed(@TempDir Path tmp) {
    CliTest.Outcome proto = CliTest.run("train", "--algorithm", "maml", "--lambda", "1", "--data", tmp.toString());
    assertThat(proto.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(proto.err()).contains("--lambda applies only to --algorithm imaml");
    CliTest.Outcome bad = CliTest.run("train", "--algorithm", "imaml", "--cg-steps", "0", "--data", tmp.toString());
    assertThat(bad.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(bad.err()).contains("--cg-steps must be >= 1, got 0");
  }
}
