package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.Tensor;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.nn.Params;
import org.metagrad.nn.io.Checkpoints;

/**
 * {@code train --init-from}: a run that starts from another run's (or an exported model's) weights, recorded in
 * {@code config.json}; a folder without weights, weights of another model and algorithms that cannot take them
 * are refused by name.
 */
class InitFromCliTest {

  private static String[] train(Path out, String hidden, String lr, String... extra) {
    String[] base = {"train", "--algorithm", "protonet", "--data", CliTest.data(), "--split", "background",
        "--hidden", hidden, "--ways", "5", "--shots", "1", "--queries", "1", "--test-ways", "5", "--test-shots", "1",
        "--test-queries", "1", "--iterations", "2", "--outer-lr", lr, "--val-every", "0", "--test-episodes", "2",
        "--threads", "2", "--no-progress", "--out", out.toString()};
    String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return all;
  }

  /** The largest absolute difference between two parameter sets of the same names and shapes. */
  private static double maxDiff(Params a, Params b) {
    double m = 0;
    for (String n : a.names()) {
      Tensor d = a.get(n).sub(b.get(n)).abs();
      m = Math.max(m, d.numel() == 0 ? 0 : d.max().item());
    }
    return m;
  }

  @Test
  void aRunStartsFromAnotherRunsOrAModelsWeights(@TempDir Path tmp) throws Exception {
    Path a = tmp.resolve("a");
    CliTest.Outcome ta = CliTest.run(train(a, "4", "0.01", "--seed", "3"));
    assertThat(ta.status()).as(ta.out() + ta.err()).isZero();
    Params start = Checkpoints.load(a.resolve("best.safetensors")).params();

    // a tiny learning rate: two Adam steps move each weight by about 2e-12, so b's weights are a's
    Path b = tmp.resolve("b");
    CliTest.Outcome tb = CliTest.run(train(b, "4", "1e-12", "--init-from", a.toString()));
    assertThat(tb.status()).as(tb.out() + tb.err()).isZero();
    assertThat(tb.out()).contains("initialised from " + a);
    assertThat(TrainConfig.fromJson(Files.readString(b.resolve("config.json"))).initFrom()).isEqualTo(a.toString());
    assertThat(maxDiff(Checkpoints.load(b.resolve("last.safetensors")).params(), start)).isLessThan(1e-9);
    // without it, the seed's initialisation: far from a's trained weights
    Path c = tmp.resolve("c");
    CliTest.Outcome tc = CliTest.run(train(c, "4", "1e-12"));
    assertThat(tc.status()).as(tc.out() + tc.err()).isZero();
    assertThat(maxDiff(Checkpoints.load(c.resolve("last.safetensors")).params(), start)).isGreaterThan(1e-3);
    assertThat(Files.readString(c.resolve("config.json"))).doesNotContain("init_from");

    // an exported model folder serves too
    Path model = tmp.resolve("model");
    CliTest.Outcome x = CliTest.run("export", "--run", a.toString(), "--out", model.toString());
    assertThat(x.status()).as(x.out() + x.err()).isZero();
    Path d = tmp.resolve("d");
    CliTest.Outcome td = CliTest.run(train(d, "4", "1e-12", "--init-from", model.toString()));
    assertThat(td.status()).as(td.out() + td.err()).isZero();
    assertThat(maxDiff(Checkpoints.load(d.resolve("last.safetensors")).params(), start)).isLessThan(1e-9);
  }

  @Test
  void missingOrMismatchedWeightsAndOtherAlgorithmsAreRefused(@TempDir Path tmp) {
    Path a = tmp.resolve("a");
    CliTest.Outcome ta = CliTest.run(train(a, "4", "0.01"));
    assertThat(ta.status()).as(ta.out() + ta.err()).isZero();
    CliTest.Outcome none = CliTest.run(train(tmp.resolve("none"), "4", "0.01", "--init-from",
        tmp.resolve("nowhere").toString()));
    assertThat(none.status()).isNotZero();
    assertThat(none.err()).contains("--init-from").contains("nowhere").contains("no model.safetensors");
    CliTest.Outcome wide = CliTest.run(train(tmp.resolve("wide"), "8", "0.01", "--init-from", a.toString()));
    assertThat(wide.status()).isNotZero();
    assertThat(wide.err()).contains("--init-from").contains("features.0.weight");
    CliTest.Outcome reptile = CliTest.run("train", "--algorithm", "reptile", "--data", CliTest.data(), "--init-from",
        a.toString(), "--iterations", "1", "--no-progress", "--out", tmp.resolve("reptile").toString());
    assertThat(reptile.status()).isNotZero();
    assertThat(reptile.err()).contains("--init-from").contains("reptile");
  }
}
