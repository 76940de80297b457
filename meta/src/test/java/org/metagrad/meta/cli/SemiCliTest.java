package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.semi.SemiRun;

/**
 * {@code metagrad train --algorithm fixmatch|simclr|...}: a tiny end-to-end run writes the run folder; bad
 * combinations are usage errors. Needs METAGRAD_DATA and fails without it.
 */
class SemiCliTest {

  @Test
  void aSemiSupervisedRunWritesItsRunFolder(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("fm");
    CliTest.Outcome o = CliTest.run("train", "--algorithm", "fixmatch", "--labels", "2", "--semi", "classes=10",
        "--semi", "steps=3", "--semi", "batch-size=4", "--semi", "hidden=8", "--data", DataPaths.root().toString(),
        "--out", out.toString());
    assertThat(o.status()).as(o.err()).isZero();
    for (String f : SemiRun.RUN_FILES) {
      assertThat(out.resolve(f)).as(f).isRegularFile();
    }
    assertThat(Files.readString(out.resolve("config.json"))).contains("\"method\": \"fixmatch\"", "\"labels\": 2",
        "\"classes\": 10");
    assertThat(o.out()).contains("fixmatch, 2 labels/class: test");
    // a second run into the same folder is refused without --overwrite
    CliTest.Outcome again = CliTest.run("train", "--algorithm", "fixmatch", "--semi", "classes=10", "--semi",
        "steps=1", "--data", DataPaths.root().toString(), "--out", out.toString());
    assertThat(again.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(again.err()).contains("not empty");
  }

  @Test
  void badCombinationsAreUsageErrors(@TempDir Path tmp) {
    CliTest.Outcome proto = CliTest.run("train", "--algorithm", "protonet", "--labels", "2", "--data", tmp.toString());
    assertThat(proto.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(proto.err()).contains("--labels and --semi apply to the semi-/self-supervised methods only");
    CliTest.Outcome bad = CliTest.run("train", "--algorithm", "byol", "--semi", "ema-decay=2", "--data",
        tmp.toString());
    assertThat(bad.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(bad.err()).contains("--ema-decay must be in [0, 1]");
    CliTest.Outcome resume = CliTest.run("train", "--algorithm", "meanteacher", "--resume", "--data", tmp.toString());
    assertThat(resume.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(resume.err()).contains("--resume is not supported for meanteacher");
    CliTest.Outcome ways = CliTest.run("train", "--algorithm", "fixmatch", "--ways", "5", "--data", tmp.toString());
    assertThat(ways.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(ways.err()).contains("--ways applies to the meta-learners, not to fixmatch");
    CliTest.Outcome help = CliTest.run("train", "--help");
    assertThat(help.out()).contains("fixmatch", "simclr", "--labels", "--semi");
  }
}
