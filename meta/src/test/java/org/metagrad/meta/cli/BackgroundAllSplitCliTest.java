package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.data.CharacterId;
import org.metagrad.meta.data.ClassSplit;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.data.OmniglotReader;
import org.metagrad.meta.data.OmniglotSet;
import org.metagrad.meta.data.OmniglotSplits;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.nn.io.Checkpoints;

/**
 * {@code --split background-all}: all 30 images_background alphabets train, none validates, images_evaluation
 * tests; the run's {@code best} is its last checkpoint, for eval, oneshot, export and resume alike.
 */
class BackgroundAllSplitCliTest {

  @Test
  void theSplitTrainsOnEveryBackgroundCharacterAndHasNoValidationClasses(@TempDir Path tmp) {
    OmniglotReader reader = Experiment.reader(DataPaths.root(), 28, 1);
    ClassSplit all = Experiment.split(CliTest.trainConfig(tmp, "--split", "background-all"), reader);
    ClassSplit held = Experiment.split(CliTest.trainConfig(tmp, "--split", "background"), reader);
    List<CharacterId> background = reader.characters(OmniglotSet.BACKGROUND);
    assertThat(all.train()).containsExactlyElementsOf(background).hasSize(964);
    assertThat(all.val()).isEmpty();
    assertThat(all.test()).containsExactlyElementsOf(held.test()).hasSize(659);
    // background-all = background's training and validation classes, the five Vinyals alphabets included
    Set<CharacterId> union = new HashSet<>(held.train());
    union.addAll(held.val());
    assertThat(new HashSet<>(all.train())).isEqualTo(union);
    assertThat(all.train()).anyMatch(id -> OmniglotSplits.VINYALS_VAL_ALPHABETS.contains(id.alphabet()));
    assertThat(all.train()).noneMatch(id -> id.set() == OmniglotSet.EVALUATION);
  }

  @Test
  void trainWithoutValidationThenEvalOneshotExportAndResumeUseTheLastCheckpoint(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    String[] train = {"train", "--algorithm", "protonet", "--data", CliTest.data(), "--split", "background-all",
        "--hidden", "4", "--ways", "5", "--shots", "1", "--queries", "2", "--test-ways", "5", "--test-shots", "1",
        "--test-queries", "2", "--iterations", "4", "--test-episodes", "3", "--checkpoint-every", "2", "--threads", "2",
        "--no-progress", "--out", dir.toString()};
    String[] firstHalf = train.clone();
    firstHalf[List.of(train).indexOf("--iterations") + 1] = "2";
    CliTest.Outcome t = CliTest.run(firstHalf);
    assertThat(t.status()).as(t.out() + t.err()).isZero();
    assertThat(t.out()).contains("background-all split, 964/0/659 characters").contains("no validation")
        .contains("test: 5-way 1-shot").doesNotContain("best validation");
    assertThat(dir.resolve("best.safetensors")).doesNotExist();
    assertThat(dir.resolve("last.safetensors")).exists();
    // resumed to 4 iterations: no validation column, the last checkpoint is the model
    CliTest.Outcome r = CliTest.run(CliTest.append(train, "--resume"));
    assertThat(r.status()).as(r.out() + r.err()).isZero();
    assertThat(dir.resolve("best.safetensors")).doesNotExist();
    assertThat(Checkpoints.load(dir.resolve("last.safetensors")).metadata()).containsEntry("iteration", "4");
    List<String> rows = Files.readAllLines(dir.resolve("metrics.csv"));
    assertThat(rows).hasSize(5);
    assertThat(rows.subList(1, 5)).allSatisfy(line -> assertThat(line.split(",", -1)[4]).isEmpty());
    assertThat(Files.readString(dir.resolve("metrics.json"))).contains("\"best_val_accuracy\": null")
        .contains("\"best_iteration\": 4");
    TrainConfig c = TrainConfig.fromJson(Files.readString(dir.resolve("config.json")));
    assertThat(c.split()).isEqualTo("background-all");
    assertThat(c.validated()).isFalse();
    assertThat(c.backgroundOnly()).isTrue();

    assertThat(RunFolder.open(dir, "best").checkpoint()).isEqualTo(dir.resolve("last.safetensors"));
    CliTest.Outcome best = CliTest.run("eval", "--run", dir.toString(), "--data", CliTest.data(), "--episodes", "3",
        "--no-progress", "--out", tmp.resolve("best.json").toString());
    CliTest.Outcome last = CliTest.run("eval", "--run", dir.toString(), "--data", CliTest.data(), "--episodes", "3",
        "--no-progress", "--checkpoint", "last", "--out", tmp.resolve("last.json").toString());
    assertThat(best.status()).as(best.out() + best.err()).isZero();
    assertThat(last.status()).as(last.out() + last.err()).isZero();
    assertThat(best.out()).contains("test classes of the background-all split");
    assertThat(scores(tmp.resolve("best.json"))).isEqualTo(scores(tmp.resolve("last.json")));
    CliTest.Outcome val = CliTest.run("eval", "--run", dir.toString(), "--data", CliTest.data(), "--episodes", "3",
        "--on", "val");
    assertThat(val.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(val.err()).contains("--on val").contains("'background-all' split, which has no validation classes");

    CliTest.Outcome o = CliTest.run("oneshot", "--run", dir.toString(), "--data", CliTest.data());
    assertThat(o.status()).as(o.out() + o.err()).isZero();
    assertThat(o.out()).contains("run01").contains("overall").contains("last.safetensors");
    Path model = tmp.resolve("model");
    CliTest.Outcome x = CliTest.run("export", "--run", dir.toString(), "--out", model.toString());
    assertThat(x.status()).as(x.out() + x.err()).isZero();
    assertThat(x.out()).contains("best = last (the run has no validation) checkpoint");
    CliTest.Outcome fromModel = CliTest.run("eval", "--run", model.toString(), "--data", CliTest.data(), "--episodes",
        "3", "--no-progress", "--out", tmp.resolve("model.json").toString());
    assertThat(fromModel.status()).as(fromModel.out() + fromModel.err()).isZero();
    assertThat(scores(tmp.resolve("model.json"))).isEqualTo(scores(tmp.resolve("last.json")));
  }

  @Test
  void backgroundAndBackgroundAllRunsEnsembleOnTestClassesButNotOnValidationClasses(@TempDir Path tmp) {
    Path held = tmp.resolve("background");
    Path all = tmp.resolve("all");
    for (String[] run : new String[][] {{"background", held.toString()}, {"background-all", all.toString()}}) {
      CliTest.Outcome t = CliTest.run("train", "--algorithm", "protonet", "--data", CliTest.data(), "--split", run[0],
          "--hidden", "4", "--ways", "5", "--queries", "2", "--test-ways", "5", "--test-queries", "2", "--iterations",
          "2", "--val-episodes", "2", "--test-episodes", "2", "--threads", "2", "--no-progress", "--out", run[1]);
      assertThat(t.status()).as(t.out() + t.err()).isZero();
    }
    CliTest.Outcome e = CliTest.run("eval", "--run", held.toString(), "--ensemble-with", all.toString(), "--data",
        CliTest.data(), "--episodes", "2", "--no-progress");
    assertThat(e.status()).as(e.out() + e.err()).isZero();
    assertThat(e.out()).contains("ensemble of 2 runs").contains("test classes of the background split");
    CliTest.Outcome o = CliTest.run("oneshot", "--run", all.toString(), "--ensemble-with", held.toString(), "--data",
        CliTest.data());
    assertThat(o.status()).as(o.out() + o.err()).isZero();
    assertThat(o.out()).contains("(ensemble of 2 runs)").contains("run01");
    // the background-all member trained on the background run's validation alphabets
    CliTest.Outcome val = CliTest.run("eval", "--run", held.toString(), "--ensemble-with", all.toString(), "--data",
        CliTest.data(), "--episodes", "2", "--on", "val", "--no-progress");
    assertThat(val.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(val.err()).contains("a member was trained on the 'background-all' split, --run on 'background'");
  }

  @Test
  void mannAndAnUnknownSplitAreRefused(@TempDir Path tmp) {
    CliTest.Outcome mann = CliTest.run("train", "--algorithm", "mann", "--split", "background-all", "--data",
        tmp.toString());
    assertThat(mann.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(mann.err()).contains("--split background-all has no validation classes");
    CliTest.Outcome unknown = CliTest.run("train", "--algorithm", "protonet", "--split", "everything", "--data",
        tmp.toString());
    assertThat(unknown.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(unknown.err()).contains("unknown split 'everything'; known: vinyals, maml, background, background-all");
  }

  /** An eval report from its episode count on: the scores, without the run and checkpoint paths. */
  private static String scores(Path json) throws java.io.IOException {
    String s = Files.readString(json);
    assertThat(s).contains("\"episode_accuracies\"");
    return s.substring(s.indexOf("\"episodes\""));
  }
}
