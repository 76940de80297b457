package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.train.TrainConfig;

/** Command-line smoke tests; those touching Omniglot need METAGRAD_DATA and fail without it. */
class CliTest {

  /** Exit status, stdout and stderr of one command line. */
  record Outcome(int status, String out, String err) {}

  static synchronized Outcome run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int status = Main.run(args);
      return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  /** The configuration {@code metagrad train <args>} parses to (the command's own parsing, nothing run). */
  static org.metagrad.meta.train.TrainConfig trainConfig(String... args) {
    TrainCommand cmd = new TrainCommand();
    new picocli.CommandLine(cmd).parseArgs(args);
    return cmd.config();
  }

  /** As {@link #trainConfig(String...)} with {@code --data dataRoot} appended. */
  static org.metagrad.meta.train.TrainConfig trainConfig(java.nio.file.Path dataRoot, String... args) {
    String[] all = java.util.Arrays.copyOf(args, args.length + 2);
    all[args.length] = "--data";
    all[args.length + 1] = dataRoot.toString();
    return trainConfig(all);
  }

  /**
   * {@code c} written to config.json and read back, with the machine's folders (data root, output folder, which
   * config.json does not hold) set to {@code c}'s again: equal to {@code c} when every other setting survives.
   */
  static org.metagrad.meta.train.TrainConfig readBack(org.metagrad.meta.train.TrainConfig c) {
    return org.metagrad.meta.train.TrainConfig.fromJson(c.toJson()).toBuilder().data(c.data()).out(c.out()).build();
  }

  /** The data root the Omniglot tests read ($METAGRAD_DATA). */
  static String data() {
    return DataPaths.root().toString();
  }

  @Test
  void everySubcommandExplainsItsOptions() {
    Outcome top = run("--help");
    assertThat(top.status()).isZero();
    assertThat(top.out()).contains("train").contains("eval").contains("oneshot").contains("gradcheck")
        .contains("sine").contains("METAGRAD_DATA");
    Outcome train = run("train", "--help");
    assertThat(train.status()).isZero();
    assertThat(train.out()).contains("--algorithm", "protonet, maml, fomaml", "--data", "--ways", "--shots",
        "--queries", "--iterations", "--meta-batch", "--outer-lr", "--inner-lr", "--inner-steps",
        "--test-inner-steps", "--schedule", "--seed", "--out", "--resume", "--threads", "--val-every");
    Outcome eval = run("eval", "--help");
    assertThat(eval.status()).isZero();
    assertThat(eval.out()).contains("--run", "--episodes", "--ways", "--shots", "--test-inner-steps", "--grouping",
        "SAME_ALPHABET", "95%");
    // A '%' that is not escaped as '%%' in a description makes picocli print a warning instead of the text.
    for (Outcome help : new Outcome[] {top, train, eval}) {
      assertThat(help.out() + help.err()).doesNotContain("picocli WARN");
    }
    Outcome oneshot = run("oneshot", "--help");
    assertThat(oneshot.status()).isZero();
    assertThat(oneshot.out()).contains("--run", "--runs", "images_background", "95.5%");
    Outcome grad = run("gradcheck", "--help");
    assertThat(grad.status()).isZero();
    assertThat(grad.out()).contains("--algorithm", "--model", "--inner-steps", "--tolerance", "--synthetic");
    assertThat(run("sine", "--help").status()).isZero();
  }

  @Test
  void gradcheckOnATinyModelPassesAndReportsEveryTensor() {
    Outcome maml = run("gradcheck", "--algorithm", "maml", "--synthetic", "--hidden", "2", "--inner-steps", "2",
        "--max-elements", "3");
    assertThat(maml.status()).as(maml.out() + maml.err()).isZero();
    assertThat(maml.out()).contains("passed meta-gradient check").contains("features.0.weight")
        .contains("features.10.weight").contains("head.weight").contains("worst rel");
    Outcome fo = run("gradcheck", "--algorithm", "fomaml", "--synthetic", "--hidden", "2", "--max-elements", "2");
    assertThat(fo.status()).as(fo.out() + fo.err()).isZero();
    assertThat(fo.out()).contains("first-order approximation").contains("passed");
    Outcome proto = run("gradcheck", "--algorithm", "protonet", "--data", data(), "--hidden", "2",
        "--max-elements", "3");
    assertThat(proto.status()).as(proto.out() + proto.err()).isZero();
    assertThat(proto.out()).contains("Omniglot task").contains("passed").contains("features.12.weight");
  }

  @Test
  void badArgumentsGiveAClearErrorAndANonZeroStatus(@TempDir Path tmp) {
    Outcome unknown = run("train", "--algorithm", "nope", "--data", data(), "--out", tmp.toString());
    assertThat(unknown.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(unknown.err()).contains("unknown algorithm 'nope'").contains("protonet");
    Outcome oneWay = run("train", "--ways", "1", "--data", data(), "--out", tmp.toString());
    assertThat(oneWay.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(oneWay.err()).contains("ways must be >= 2");
    Outcome tooMany = run("train", "--shots", "15", "--queries", "10", "--data", data(), "--out", tmp.toString());
    assertThat(tooMany.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(tooMany.err()).contains("shots + queries must be <= 20");
    Outcome notNumber = run("train", "--ways", "abc");
    assertThat(notNumber.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(notNumber.err()).contains("--ways").contains("abc");
    Outcome noData = run("train", "--data", tmp.resolve("missing").toString());
    assertThat(noData.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(noData.err()).contains("data folder not found").contains("missing");
    Outcome noOmniglot = run("train", "--data", tmp.toString(), "--out", tmp.resolve("o").toString());
    assertThat(noOmniglot.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(noOmniglot.err()).contains("Omniglot data folder not found").contains("METAGRAD_DATA");
    Outcome mamlWays = run("train", "--algorithm", "maml", "--ways", "5", "--test-ways", "20", "--data", data());
    assertThat(mamlWays.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(mamlWays.err()).contains("--test-ways (20) must equal --ways (5)");
    Outcome noRun = run("eval", "--run", tmp.resolve("nothing").toString(), "--data", data());
    assertThat(noRun.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(noRun.err()).contains("not a training run folder");
    Outcome badModel = run("gradcheck", "--model", "transformer", "--synthetic");
    assertThat(badModel.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(badModel.err()).contains("unknown model 'transformer'");
    Outcome unknownOption = run("train", "--wayz", "5");
    assertThat(unknownOption.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(unknownOption.err()).contains("--wayz");
    Outcome noThreads = run("eval", "--run", tmp.toString(), "--threads", "0", "--data", data());
    assertThat(noThreads.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(noThreads.err()).contains("--threads must be at least 1, got 0");
  }

  @Test
  void threadsCapsTheKernelThreadsUnlessTheyAreSetExplicitly() {
    // --threads 1 on 2 processors: one kernel thread, so two runs side by side take one core each.
    assertThat(CliSupport.kernelThreads(1, null, 2)).isEqualTo(1);
    assertThat(CliSupport.kernelThreads(3, "", 8)).isEqualTo(3);
    // At or above the processor count: the backend's default, nothing set.
    assertThat(CliSupport.kernelThreads(2, null, 2)).isNull();
    assertThat(CliSupport.kernelThreads(16, null, 2)).isNull();
    // An explicit -Dmetagrad.threads wins.
    assertThat(CliSupport.kernelThreads(1, "2", 2)).isNull();
  }

  @Test
  void trainEvalOneshotAndResumeEndToEnd(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    String[] train = {"train", "--algorithm", "protonet", "--data", data(), "--split", "background", "--hidden", "4",
        "--ways", "5", "--shots", "1", "--queries", "2", "--test-ways", "5", "--test-shots", "1", "--test-queries", "2",
        "--iterations", "4", "--val-every", "2", "--val-episodes", "2", "--test-episodes", "3", "--checkpoint-every",
        "2", "--threads", "2", "--out", dir.toString()};
    Outcome t = run(train);
    assertThat(t.status()).as(t.out() + t.err()).isZero();
    assertThat(t.out()).contains("validation accuracy").contains("test: 5-way 1-shot").contains("(3 episodes)");
    assertThat(t.err()).contains("train [").contains("it/s").contains("ETA").contains("loss").contains("acc");
    for (String f : new String[] {"config.json", "metrics.csv", "metrics.json", "best.safetensors", "last.safetensors",
        "learning-curve.png", "loss-curve.png"}) {
      assertThat(dir.resolve(f)).exists();
    }
    TrainConfig c = TrainConfig.fromJson(Files.readString(dir.resolve("config.json")));
    assertThat(c.hidden()).isEqualTo(4);
    assertThat(c.split()).isEqualTo("background");
    assertThat(Files.readString(dir.resolve("metrics.json"))).contains("\"test_accuracy\"").contains("\"test_ci95\"");
    assertThat(Files.readAllLines(dir.resolve("metrics.csv"))).hasSize(5);

    Outcome e = run("eval", "--run", dir.toString(), "--data", data(), "--episodes", "3", "--ways", "3",
        "--out", tmp.resolve("eval.json").toString());
    assertThat(e.status()).as(e.out() + e.err()).isZero();
    assertThat(e.out()).contains("3-way 1-shot").contains("\u00b1").contains("(3 episodes)");
    assertThat(Files.readString(tmp.resolve("eval.json"))).contains("\"accuracy\"").contains("\"ci95\"");
    Outcome within = run("eval", "--run", dir.toString(), "--data", data(), "--episodes", "3", "--ways", "20",
        "--queries", "1", "--grouping", "same_alphabet", "--out", tmp.resolve("within.json").toString());
    assertThat(within.status()).as(within.out() + within.err()).isZero();
    assertThat(within.out()).contains("within one alphabet").contains("20-way 1-shot").contains("(3 episodes)");
    assertThat(Files.readString(tmp.resolve("within.json"))).contains("\"grouping\": \"SAME_ALPHABET\"");
    // Episodes made as Lake et al.'s runs (upright, one drawer per position) and upright within-alphabet ones.
    Outcome lake = run("eval", "--run", dir.toString(), "--data", data(), "--episodes", "3", "--ways", "20",
        "--queries", "1", "--grouping", "lake_run", "--no-progress", "--out", tmp.resolve("lake.json").toString());
    assertThat(lake.status()).as(lake.out() + lake.err()).isZero();
    assertThat(lake.out()).contains("made as a Lake et al. run").contains("20-way 1-shot").contains("(3 episodes)");
    assertThat(Files.readString(tmp.resolve("lake.json"))).contains("\"grouping\": \"LAKE_RUN\"")
        .contains("\"rotation\": \"NONE\"");
    Outcome upright = run("eval", "--run", dir.toString(), "--data", data(), "--episodes", "3", "--ways", "20",
        "--queries", "1", "--grouping", "same_alphabet", "--rotation", "none", "--no-progress", "--out",
        tmp.resolve("upright.json").toString());
    assertThat(upright.status()).as(upright.out() + upright.err()).isZero();
    assertThat(upright.out()).contains("within one alphabet").contains("(rotations: NONE)");
    assertThat(Files.readString(tmp.resolve("upright.json"))).contains("\"rotation\": \"NONE\"");
    assertThat(Files.readString(tmp.resolve("within.json"))).contains("\"rotation\": \"AS_NEW_CLASSES\"");
    Outcome badRotation = run("eval", "--run", dir.toString(), "--data", data(), "--episodes", "3", "--rotation",
        "sideways");
    assertThat(badRotation.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(badRotation.err()).contains("--rotation").contains("sideways");

    Outcome o = run("oneshot", "--run", dir.toString(), "--data", data(), "--out", tmp.resolve("os.json").toString());
    assertThat(o.status()).as(o.out() + o.err()).isZero();
    assertThat(o.out()).contains("run01").contains("/20").contains("overall");
    assertThat(Files.readString(tmp.resolve("os.json"))).contains("\"run01\"").contains("\"trials\": 20");
    // The test-time shift ensemble on both commands; a negative radius is named.
    Outcome os9 = run("oneshot", "--run", dir.toString(), "--data", data(), "--shift-ensemble", "1", "--out",
        tmp.resolve("os9.json").toString());
    assertThat(os9.status()).as(os9.out() + os9.err()).isZero();
    assertThat(os9.out()).contains("shift ensemble, radius 1").contains("run01").contains("overall");
    assertThat(Files.readString(tmp.resolve("os9.json"))).contains("\"shift_ensemble_radius\": 1");
    Outcome e9 = run("eval", "--run", dir.toString(), "--data", data(), "--episodes", "2", "--ways", "3",
        "--shift-ensemble", "1", "--no-progress", "--out", tmp.resolve("eval9.json").toString());
    assertThat(e9.status()).as(e9.out() + e9.err()).isZero();
    assertThat(e9.out()).contains("with a 9-view shift ensemble").contains("3-way 1-shot").contains("(2 episodes)");
    assertThat(Files.readString(tmp.resolve("eval9.json"))).contains("\"shift_ensemble_radius\": 1")
        .containsPattern("\"episode_accuracies\": \\[[0-9.e-]+, [0-9.e-]+\\]");
    Outcome negative = run("eval", "--run", dir.toString(), "--data", data(), "--episodes", "2", "--shift-ensemble",
        "-1");
    assertThat(negative.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(negative.err()).contains("--shift-ensemble must be >= 0, got -1");
    // The test-time rotation and scaling ensemble, alone and with shifts; bad values named before any work.
    Outcome osA = run("oneshot", "--run", dir.toString(), "--data", data(), "--affine-ensemble", "5,0.1", "--out",
        tmp.resolve("osA.json").toString());
    assertThat(osA.status()).as(osA.out() + osA.err()).isZero();
    assertThat(osA.out()).contains("affine ensemble, 5,0.1").contains("run01").contains("overall");
    assertThat(Files.readString(tmp.resolve("osA.json"))).contains("\"affine_ensemble\": \"5,0.1\"");
    Outcome eA = run("eval", "--run", dir.toString(), "--data", data(), "--episodes", "2", "--ways", "3",
        "--shift-ensemble", "1", "--affine-ensemble", "0,0.2", "--no-progress", "--out",
        tmp.resolve("evalA.json").toString());
    assertThat(eA.status()).as(eA.out() + eA.err()).isZero();
    assertThat(eA.out()).contains("with a 9-view shift ensemble and an affine ensemble (0,0.2)").contains("3-way");
    assertThat(Files.readString(tmp.resolve("evalA.json"))).contains("\"affine_ensemble\": \"0,0.2\"")
        .contains("\"shift_ensemble_radius\": 1");
    Outcome recA = run("eval", "--run", dir.toString(), "--data", data(), "--episodes", "2", "--record-check",
        "--affine-ensemble", "5,0.1");
    assertThat(recA.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(recA.err()).contains("not with --affine-ensemble");
    for (String bad : new String[] {"5", "5,x", "-1,0", "0,1"}) {
      Outcome badA = run("eval", "--run", dir.toString(), "--data", data(), "--episodes", "2", "--affine-ensemble",
          bad);
      assertThat(badA.status()).as(bad).isEqualTo(Main.USAGE_ERROR);
      assertThat(badA.err()).as(bad).contains("--affine-ensemble");
      Outcome badO = run("oneshot", "--run", dir.toString(), "--data", data(), "--affine-ensemble", bad);
      assertThat(badO.status()).as(bad).isEqualTo(Main.USAGE_ERROR);
      assertThat(badO.err()).as(bad).contains("--affine-ensemble");
    }

    // Resuming with other settings than the run's is refused.
    String[] other = train.clone();
    other[java.util.Arrays.asList(train).indexOf("--hidden") + 1] = "8";
    Outcome mismatch = run(append(other, "--resume"));
    assertThat(mismatch.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(mismatch.err()).contains("settings differ");
  }

  @Test
  void withinAlphabetTrainingIsRecordedAndIsEvalsDefault(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("within");
    Outcome t = run("train", "--algorithm", "protonet", "--data", data(), "--split", "background", "--hidden", "4",
        "--grouping", "same_alphabet", "--ways", "20", "--shots", "1", "--queries", "1", "--test-ways", "20",
        "--test-shots", "1", "--test-queries", "1", "--iterations", "2", "--val-every", "0", "--val-episodes", "2",
        "--test-episodes", "2", "--threads", "2", "--no-progress", "--out", dir.toString());
    assertThat(t.status()).as(t.out() + t.err()).isZero();
    assertThat(t.out()).contains("every episode within one alphabet");
    assertThat(Files.readString(dir.resolve("config.json"))).contains("\"grouping\": \"SAME_ALPHABET\"");
    // eval takes the run's grouping unless told otherwise.
    Outcome e = run("eval", "--run", dir.toString(), "--data", data(), "--episodes", "2", "--no-progress");
    assertThat(e.status()).as(e.out() + e.err()).isZero();
    assertThat(e.out()).contains("within one alphabet").contains("20-way 1-shot");
    Outcome any = run("eval", "--run", dir.toString(), "--data", data(), "--episodes", "2", "--grouping", "any",
        "--no-progress");
    assertThat(any.status()).as(any.out() + any.err()).isZero();
    assertThat(any.out()).doesNotContain("within one alphabet");
    // 30 background alphabets x 4 rotations: no alphabet has 2000 classes.
    Outcome tooWide = run("train", "--algorithm", "protonet", "--data", data(), "--split", "background", "--hidden",
        "4", "--grouping", "same_alphabet", "--ways", "2000", "--shots", "1", "--queries", "1", "--iterations", "1",
        "--no-progress", "--out", tmp.resolve("wide").toString());
    assertThat(tooWide.status()).isNotZero();
    assertThat(tooWide.err()).contains("within-alphabet task needs an alphabet with 2000 classes");
  }

  @Test
  void distortedTrainingIsRecordedAndBadNamesAreRefused(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("warped");
    Outcome t = run("train", "--algorithm", "protonet", "--data", data(), "--split", "background", "--hidden", "4",
        "--distort", "affine", "--ways", "5", "--shots", "1", "--queries", "1", "--test-ways", "5",
        "--test-shots", "1", "--test-queries", "1", "--iterations", "2", "--val-every", "0", "--val-episodes", "2",
        "--test-episodes", "2", "--threads", "2", "--no-progress", "--out", dir.toString());
    assertThat(t.status()).as(t.out() + t.err()).isZero();
    assertThat(t.out()).contains("training images distorted (affine)");
    assertThat(Files.readString(dir.resolve("config.json"))).contains("\"distortion\": \"affine\"");
    Outcome bad = run("train", "--algorithm", "protonet", "--data", data(), "--distort", "elastic", "--iterations",
        "1", "--no-progress", "--out", tmp.resolve("bad").toString());
    assertThat(bad.status()).isNotZero();
    assertThat(bad.err()).contains("unknown distortion 'elastic'").contains("none, affine");
    assertThat(tmp.resolve("bad")).doesNotExist();
  }

  @Test
  void modelEnsembleOnEvalAndOneshotAndMismatchedRunsAreRefused(@TempDir Path tmp) throws Exception {
    Path a = tmp.resolve("a");
    Path b = tmp.resolve("b");
    for (String[] args : new String[][] {{a.toString(), "4", "1"}, {b.toString(), "6", "2"}}) {
      Outcome t = run("train", "--algorithm", "protonet", "--data", data(), "--split", "background", "--hidden", args[1],
          "--seed", args[2], "--ways", "5", "--shots", "1", "--queries", "1", "--test-ways", "5", "--test-shots", "1",
          "--test-queries", "1", "--iterations", "2", "--val-every", "0", "--val-episodes", "2", "--test-episodes", "2",
          "--threads", "2", "--no-progress", "--out", args[0]);
      assertThat(t.status()).as(t.out() + t.err()).isZero();
    }
    Outcome e = run("eval", "--run", a.toString(), "--ensemble-with", b.toString(), "--data", data(), "--episodes",
        "2", "--ways", "3", "--no-progress", "--out", tmp.resolve("ens.json").toString());
    assertThat(e.status()).as(e.out() + e.err()).isZero();
    assertThat(e.out()).contains("ensemble of 2 runs (protonet first)").contains("3-way 1-shot").contains("(2 episodes)");
    assertThat(Files.readString(tmp.resolve("ens.json"))).contains("\"ensemble_checkpoints\"")
        .contains(a.resolve("best.safetensors").toString()).contains(b.resolve("best.safetensors").toString());
    Outcome o = run("oneshot", "--run", a.toString(), "--ensemble-with", b.toString(), "--checkpoint", "last",
        "--data", data(), "--shift-ensemble", "1", "--out", tmp.resolve("os.json").toString());
    assertThat(o.status()).as(o.out() + o.err()).isZero();
    assertThat(o.out()).contains("(ensemble of 2 runs)").contains("shift ensemble, radius 1").contains("run01")
        .contains(b.resolve("last.safetensors").toString());
    assertThat(Files.readString(tmp.resolve("os.json"))).contains("\"checkpoints\"").contains("\"trials\": 20");
    // Centred sets on both commands, through the ensemble (and its members); refused for other learners.
    Outcome ce = run("eval", "--run", a.toString(), "--ensemble-with", b.toString(), "--data", data(), "--episodes",
        "2", "--ways", "3", "--center-sets", "--no-progress", "--out", tmp.resolve("centred.json").toString());
    assertThat(ce.status()).as(ce.out() + ce.err()).isZero();
    assertThat(ce.out()).contains("(sets centred)").contains("ensemble of 2 runs");
    assertThat(Files.readString(tmp.resolve("centred.json"))).contains("\"center_sets\": true");
    assertThat(Files.readString(tmp.resolve("ens.json"))).contains("\"center_sets\": false");
    Outcome co = run("oneshot", "--run", a.toString(), "--ensemble-with", b.toString(), "--data", data(),
        "--center-sets", "--out", tmp.resolve("os-centred.json").toString());
    assertThat(co.status()).as(co.out() + co.err()).isZero();
    assertThat(co.out()).contains("(sets centred)").contains("run01");
    assertThat(Files.readString(tmp.resolve("os-centred.json"))).contains("\"center_sets\": true");
    org.metagrad.meta.algo.FewShotLearner centred = CliSupport.centerSets(org.metagrad.meta.algo.ModelEnsemble.of(
        java.util.List.of(org.metagrad.meta.algo.ProtoNet.euclidean(org.metagrad.nn.Backbones.conv4(1, 4, 28, 0,
            org.metagrad.nn.BnMode.BATCH_STATS)))), true);
    assertThat(centred.toString()).contains("centred");
    org.metagrad.meta.algo.FewShotLearner matching = new org.metagrad.meta.algo.MatchingNet(
        org.metagrad.nn.Backbones.conv4(1, 4, 28, 0, org.metagrad.nn.BnMode.BATCH_STATS), 1);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> CliSupport.centerSets(matching, true))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--center-sets needs ProtoNet models");
    assertThat(CliSupport.centerSets(matching, false)).isSameAs(matching);
    // A member trained on another split could have trained on the first run's test classes (a copy of run b whose
    // config says so: the check comes before any checkpoint is read).
    Path other = Files.createDirectories(tmp.resolve("vinyals"));
    Files.writeString(other.resolve("config.json"), Files.readString(b.resolve("config.json"))
        .replace("\"split\": \"background\"", "\"split\": \"vinyals\""));
    Files.copy(b.resolve("best.safetensors"), other.resolve("best.safetensors"));
    Outcome split = run("eval", "--run", a.toString(), "--ensemble-with", other.toString(), "--data", data(),
        "--episodes", "2", "--no-progress");
    assertThat(split.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(split.err()).contains("trained on the 'vinyals' split, the first run on 'background'");
    Outcome file = run("eval", "--run", a.toString(), "--ensemble-with", b.toString(), "--checkpoint",
        a.resolve("best.safetensors").toString(), "--data", data(), "--episodes", "2", "--no-progress");
    assertThat(file.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(file.err()).contains("names one run's file; with --ensemble-with use best or last");
    Outcome missing = run("oneshot", "--run", a.toString(), "--ensemble-with", tmp.resolve("nope").toString(),
        "--data", data());
    assertThat(missing.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(missing.err()).contains("not a training run folder").contains("nope");
  }

  /** {@code a} with {@code s} appended. */
  static String[] append(String[] a, String s) {
    String[] r = java.util.Arrays.copyOf(a, a.length + 1);
    r[a.length] = s;
    return r;
  }
}
