package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.data.CharacterId;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.data.Framing;
import org.metagrad.meta.data.ImageClasses;
import org.metagrad.meta.data.OmniglotReader;
import org.metagrad.meta.data.OmniglotSet;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.TrainConfig;

/**
 * {@code train --frame}: recorded in {@code config.json}, applied by the reader to every drawing, applied again by
 * {@code eval} and {@code oneshot} of the run; an ensemble of runs framed differently and an unknown framing are
 * refused by name.
 */
class FramingCliTest {

  private static String[] train(Path out, String... extra) {
    String[] base = {"train", "--algorithm", "protonet", "--data", CliTest.data(), "--split", "background",
        "--hidden", "4", "--ways", "5", "--shots", "1", "--queries", "2", "--test-ways", "5", "--test-shots", "1",
        "--test-queries", "2", "--iterations", "2", "--val-every", "0", "--test-episodes", "4", "--threads", "2",
        "--no-progress", "--seed", "5", "--out", out.toString()};
    String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return all;
  }

  private static double number(Path json, String key) throws java.io.IOException {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + key + "\": ([-0-9.eE]+)")
        .matcher(Files.readString(json));
    assertThat(m.find()).as(key + " in " + json).isTrue();
    return Double.parseDouble(m.group(1));
  }

  @Test
  void theReaderFramesEveryDrawingAsPreprocessDoes() {
    Path omni = DataPaths.omniglot();
    OmniglotReader plain = Experiment.reader(DataPaths.root(), 28, 1);
    OmniglotReader fit = Experiment.reader(DataPaths.root(), 28, Framing.FIT, 1);
    assertThat(plain.framing()).isEqualTo(Framing.NONE);
    assertThat(fit.framing()).isEqualTo(Framing.FIT);
    CharacterId id = plain.characters(OmniglotSet.EVALUATION).get(0);
    ImageClasses a = plain.decode(List.of(id));
    ImageClasses b = fit.decode(List.of(id));
    List<Path> files = plain.files(id);
    for (int i = 0; i < files.size(); i++) {
      assertThat(a.image(0, i)).containsExactly(OmniglotReader.preprocess(files.get(i), 28));
      assertThat(b.image(0, i)).containsExactly(OmniglotReader.preprocess(files.get(i), 28, Framing.FIT));
      assertThat(b.image(0, i)).isNotEqualTo(a.image(0, i));
    }
    assertThat(omni).isEqualTo(plain.root());
  }

  @Test
  void aFramedRunIsEvaluatedOnFramedDrawings(@TempDir Path tmp) throws Exception {
    Path run = tmp.resolve("fit");
    CliTest.Outcome t = CliTest.run(train(run, "--frame", "fit"));
    assertThat(t.status()).as(t.out() + t.err()).isZero();
    assertThat(t.out()).contains("drawings framed: fit");
    assertThat(TrainConfig.fromJson(Files.readString(run.resolve("config.json"))).framing()).isEqualTo(Framing.FIT);
    // eval draws the end-of-training test episodes again (same seed and count): the same accuracy, so it read the
    // test drawings framed as the training's own test did
    CliTest.Outcome e = CliTest.run("eval", "--run", run.toString(), "--data", CliTest.data(), "--episodes", "4",
        "--no-progress", "--out", tmp.resolve("e.json").toString());
    assertThat(e.status()).as(e.out() + e.err()).isZero();
    assertThat(number(tmp.resolve("e.json"), "accuracy"))
        .isCloseTo(number(run.resolve("metrics.json"), "test_accuracy"), within(1e-12));
    // an exported model keeps it (the shipped one-shot models are framed)
    Path model = tmp.resolve("model");
    CliTest.Outcome x = CliTest.run("export", "--run", run.toString(), "--out", model.toString());
    assertThat(x.status()).as(x.out() + x.err()).isZero();
    assertThat(TrainConfig.fromJson(Files.readString(model.resolve("config.json"))).framing()).isEqualTo(Framing.FIT);
    CliTest.Outcome em = CliTest.run("eval", "--run", model.toString(), "--data", CliTest.data(), "--episodes", "4",
        "--no-progress", "--out", tmp.resolve("m.json").toString());
    assertThat(em.status()).as(em.out() + em.err()).isZero();
    assertThat(number(tmp.resolve("m.json"), "accuracy")).isEqualTo(number(tmp.resolve("e.json"), "accuracy"));
    CliTest.Outcome o = CliTest.run("oneshot", "--run", model.toString(), "--data", CliTest.data());
    assertThat(o.status()).as(o.out() + o.err()).isZero();
    assertThat(o.out()).contains("run01").contains("overall");

    // without --frame nothing is recorded (configs written before the option read as none)
    Path plain = tmp.resolve("plain");
    CliTest.Outcome p = CliTest.run(train(plain));
    assertThat(p.status()).as(p.out() + p.err()).isZero();
    assertThat(Files.readString(plain.resolve("config.json"))).doesNotContain("\"frame\"");
    assertThat(p.out()).doesNotContain("framed");

    CliTest.Outcome mixed = CliTest.run("eval", "--run", run.toString(), "--data", CliTest.data(), "--episodes", "2",
        "--ensemble-with", plain.toString());
    assertThat(mixed.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(mixed.err()).contains("--ensemble-with " + plain).contains("framed 'none'").contains("'fit'")
        .contains("--frame");
    CliTest.Outcome bad = CliTest.run(train(tmp.resolve("bad"), "--frame", "middle"));
    assertThat(bad.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(bad.err()).contains("middle").contains("none, center, fit, mass");
    assertThat(tmp.resolve("bad")).doesNotExist();
  }
}
