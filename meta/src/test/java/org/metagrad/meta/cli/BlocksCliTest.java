package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.nn.io.Checkpoints;

/**
 * {@code train --blocks}: a conv net with more blocks for larger images, recorded in {@code config.json} so that
 * eval, oneshot, export and resume rebuild the same network; a mismatched ensemble member is refused by name.
 */
class BlocksCliTest {

  @Test
  void aFiveBlockRunAt32PixelsTrainsResumesAndLoadsEverywhere(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    String[] train = train(dir);
    CliTest.Outcome t = CliTest.run(train);
    assertThat(t.status()).as(t.out() + t.err()).isZero();
    assertThat(t.out()).contains("conv5(1->4, 32x32)").contains("32x32");
    TrainConfig c = TrainConfig.fromJson(Files.readString(dir.resolve("config.json")));
    assertThat(c.blocks()).isEqualTo(5);
    assertThat(Files.readString(dir.resolve("config.json"))).contains("\"blocks\": 5");
    // five blocks: 5 conv + 5 BatchNorm layers, weight and bias each
    assertThat(Checkpoints.load(dir.resolve("best.safetensors")).params().names())
        .contains("features.16.weight", "features.17.bias").doesNotContain("features.20.weight");

    CliTest.Outcome r = CliTest.run(CliTest.append(with(train, "--iterations", "3"), "--resume"));
    assertThat(r.status()).as(r.out() + r.err()).isZero();
    assertThat(Checkpoints.load(dir.resolve("last.safetensors")).metadata()).containsEntry("iteration", "3");
    // resuming with another block count is a different run
    CliTest.Outcome other = CliTest.run(CliTest.append(with(with(train, "--iterations", "4"), "--blocks", "4"),
        "--resume"));
    assertThat(other.status()).isNotZero();
    assertThat(other.err()).contains("blocks");

    CliTest.Outcome e = CliTest.run("eval", "--run", dir.toString(), "--data", CliTest.data(), "--episodes", "2",
        "--ways", "5", "--no-progress");
    assertThat(e.status()).as(e.out() + e.err()).isZero();
    assertThat(e.out()).contains("5-way 1-shot");
    CliTest.Outcome o = CliTest.run("oneshot", "--run", dir.toString(), "--data", CliTest.data());
    assertThat(o.status()).as(o.out() + o.err()).isZero();
    assertThat(o.out()).contains("run01").contains("overall");
    Path model = tmp.resolve("model");
    CliTest.Outcome x = CliTest.run("export", "--run", dir.toString(), "--out", model.toString());
    assertThat(x.status()).as(x.out() + x.err()).isZero();
    assertThat(Files.readString(model.resolve("config.json"))).contains("\"blocks\": 5");
    CliTest.Outcome em = CliTest.run("eval", "--run", model.toString(), "--data", CliTest.data(), "--episodes", "2",
        "--ways", "5", "--no-progress");
    assertThat(em.status()).as(em.out() + em.err()).isZero();
  }

  @Test
  void aRunOfSmallerImagesJoinsAnEnsembleOfLargerOnesAreaAveragedDown(@TempDir Path tmp) {
    Path big = tmp.resolve("big");
    Path small = tmp.resolve("small");
    String[] train = train(big);
    CliTest.Outcome tb = CliTest.run(train);
    assertThat(tb.status()).as(tb.out() + tb.err()).isZero();
    CliTest.Outcome ts = CliTest.run(with(with(with(train, "--side", "16"), "--blocks", "4"), "--out",
        small.toString()));
    assertThat(ts.status()).as(ts.out() + ts.err()).isZero();
    CliTest.Outcome e = CliTest.run("eval", "--run", big.toString(), "--ensemble-with", small.toString(), "--data",
        CliTest.data(), "--episodes", "2", "--ways", "5", "--no-progress");
    assertThat(e.status()).as(e.out() + e.err()).isZero();
    assertThat(e.out()).contains("ensemble of 2 runs");
    CliTest.Outcome o = CliTest.run("oneshot", "--run", big.toString(), "--ensemble-with", small.toString(),
        "--data", CliTest.data());
    assertThat(o.status()).as(o.out() + o.err()).isZero();
    assertThat(o.out()).contains("run01");
    // the other way round the small run's images cannot be made exactly: refused, naming the fix
    CliTest.Outcome r = CliTest.run("eval", "--run", small.toString(), "--ensemble-with", big.toString(), "--data",
        CliTest.data(), "--episodes", "2", "--ways", "5", "--no-progress");
    assertThat(r.status()).isNotZero();
    assertThat(r.err()).contains("images of side 32, the first run's 16").contains("must divide the first run's")
        .contains("give the run of the largest images as --run");
  }

  /** A 2-iteration ProtoNet run of 32-pixel images and a 5-block net, checkpointed every iteration, into out. */
  private static String[] train(Path out) {
    return new String[] {"train", "--algorithm", "protonet", "--data", CliTest.data(), "--split", "background",
        "--side", "32", "--blocks", "5", "--hidden", "4", "--ways", "5", "--shots", "1", "--queries", "2",
        "--test-ways", "5", "--test-shots", "1", "--test-queries", "2", "--iterations", "2", "--val-every", "2",
        "--val-episodes", "2", "--test-episodes", "2", "--checkpoint-every", "1", "--threads", "2", "--no-progress",
        "--out", out.toString()};
  }

  /** {@code args} with {@code flag}'s value replaced. */
  private static String[] with(String[] args, String flag, String value) {
    String[] r = args.clone();
    r[java.util.Arrays.asList(args).indexOf(flag) + 1] = value;
    return r;
  }
}
