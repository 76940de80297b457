package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.data.OmniglotReader;
import org.metagrad.meta.semi.SemiConfig;
import org.metagrad.meta.semi.SemiMethod;
import org.metagrad.meta.semi.SemiRun;
import org.metagrad.meta.semi.SemiSplit;

/**
 * {@code metagrad train --algorithm fixmatch|simclr|...}: a tiny end-to-end run writes the run folder; bad
 * combinations are usage errors. Needs METAGRAD_DATA and fails without it.
 */
class SemiCliTest {

  @Test
  void aSemiSupervisedRunWritesItsRunFolder(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("fm");
    CliTest.Outcome o = CliTest.run("train", "--algorithm", "fixmatch", "--labels-per-class", "2", "--classes", "10",
        "--iterations", "3", "--batch-size", "4", "--hidden", "8", "--data", DataPaths.root().toString(),
        "--out", out.toString());
    assertThat(o.status()).as(o.err()).isZero();
    for (String f : SemiRun.RUN_FILES) {
      assertThat(out.resolve(f)).as(f).isRegularFile();
    }
    assertThat(Files.readString(out.resolve("config.json"))).contains("\"algorithm\": \"fixmatch\"",
        "\"labels_per_class\": 2", "\"classes\": 10");
    // config.json is the shared strict format: it reads back to the same configuration
    assertThat(org.metagrad.meta.train.TrainConfig.read(out.resolve("config.json")).get(
        org.metagrad.meta.train.TrainOptions.LABELS_PER_CLASS)).isEqualTo(2);
    assertThat(o.out()).contains("fixmatch, 2 labels/class: test");
    // the command line's run is the library's: SemiConfig's own names (the benchmark driver's) give the same bits
    SemiConfig lib = SemiConfig.defaults(SemiMethod.FIXMATCH).with("labels", "2").with("classes", "10")
        .with("steps", "3").with("batch-size", "4").with("hidden", "8");
    OmniglotReader reader = new OmniglotReader(DataPaths.root().resolve("omniglot"), 28, 2);
    SemiSplit split = SemiSplit.of(SemiRun.load(reader, lib.classes(), lib.splitSeed()), lib.labelsPerClass(),
        lib.splitSeed());
    Path viaLibrary = tmp.resolve("lib");
    SemiRun.run(lib, split, viaLibrary, false, null);
    assertThat(Files.readAllBytes(viaLibrary.resolve("last.safetensors")))
        .isEqualTo(Files.readAllBytes(out.resolve("last.safetensors")));
    // a second run into the same folder is refused without --overwrite
    CliTest.Outcome again = CliTest.run("train", "--algorithm", "fixmatch", "--classes", "10", "--iterations", "1",
        "--data", DataPaths.root().toString(), "--out", out.toString());
    assertThat(again.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(again.err()).contains("not empty");
  }

  @Test
  void badCombinationsAreUsageErrors(@TempDir Path tmp) {
    CliTest.Outcome proto = CliTest.run("train", "--algorithm", "protonet", "--labels-per-class", "2", "--data",
        tmp.toString());
    assertThat(proto.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(proto.err()).contains("--labels-per-class applies only to --algorithm supervised, pimodel");
    CliTest.Outcome vatOnly = CliTest.run("train", "--algorithm", "fixmatch", "--vat-eps", "1", "--data",
        tmp.toString());
    assertThat(vatOnly.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(vatOnly.err()).contains("--vat-eps applies only to --algorithm vat, not fixmatch");
    CliTest.Outcome bad = CliTest.run("train", "--algorithm", "byol", "--ema-decay", "2", "--data",
        tmp.toString());
    assertThat(bad.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(bad.err()).contains("--ema-decay must be in [0, 1]");
    CliTest.Outcome resume = CliTest.run("train", "--algorithm", "meanteacher", "--resume", "--data", tmp.toString());
    assertThat(resume.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(resume.err()).contains("--resume is not supported for meanteacher");
    CliTest.Outcome ways = CliTest.run("train", "--algorithm", "fixmatch", "--ways", "5", "--data", tmp.toString());
    assertThat(ways.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(ways.err()).contains("--ways does not apply to --algorithm fixmatch");
    CliTest.Outcome help = CliTest.run("train", "--help");
    assertThat(help.out()).contains("fixmatch", "simclr", "--labels-per-class", "--threshold", "--vat-eps");
  }
}
