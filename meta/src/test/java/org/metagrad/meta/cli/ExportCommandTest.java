package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.DType;
import org.metagrad.Tensor;
import org.metagrad.meta.data.RawPng;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.MetaTrainer;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.nn.Params;
import org.metagrad.nn.io.Checkpoints;
import org.metagrad.nn.io.JsonDocuments;

/**
 * {@code metagrad export} and the model folder: what it holds, that {@code eval} and {@code oneshot} load it with no
 * training file present, {@code eval --record-check} and the comparison {@link ShippedModelsTest} makes, and every
 * refusal (NaN weights, a config.json that does not parse, an existing folder). On a tiny synthetic Omniglot layout
 * (no METAGRAD_DATA needed), with a ProtoNet trained for one iteration.
 */
class ExportCommandTest {
  private static final String[] CHARS = {"character01", "character02", "character03"};

  @TempDir
  static Path tmp;

  private static Path data;
  private static Path runDir;
  private static Path oneShot;

  @BeforeAll
  static void fixture() throws Exception {
    data = tmp.resolve("data");
    for (String set : new String[] {"images_background/Hebrew", "images_background/Latin",
        "images_evaluation/Tengwar"}) {
      for (int c = 0; c < CHARS.length; c++) {
        for (int i = 1; i <= 4; i++) {
          int k = c * 4 + i + set.length();
          png(data.resolve("omniglot").resolve(set).resolve(CHARS[c]).resolve(String.format("%04d_%02d.png", c, i)),
              (x, y) -> (x * k + y) % 11 < 3);
        }
      }
    }
    oneShot = data.resolve("omniglot-oneshot");
    Path run01 = oneShot.resolve("run01");
    StringBuilder labels = new StringBuilder();
    for (int i = 1; i <= 3; i++) {
      int k = i;
      png(run01.resolve("training").resolve(String.format("class%02d.png", i)), (x, y) -> (x + k * y) % 9 < 3);
      png(run01.resolve("test").resolve(String.format("item%02d.png", i)), (x, y) -> (x + k * y) % 9 < 4);
      labels.append(String.format("run01/test/item%02d.png run01/training/class%02d.png%n", i, i));
    }
    Files.writeString(run01.resolve("class_labels.txt"), labels);
    runDir = tmp.resolve("run");
    CliTest.Outcome t = CliTest.run(train(runDir));
    assertThat(t.status()).as(t.out() + t.err()).isZero();
  }

  private static String[] train(Path out, String... more) {
    List<String> a = new java.util.ArrayList<>(List.of("train", "--algorithm", "protonet", "--data", data.toString(),
        "--split", "background", "--side", "28", "--hidden", "2", "--ways", "3", "--shots", "1", "--queries", "1",
        "--test-ways", "3", "--test-shots", "1", "--test-queries", "1", "--iterations", "2", "--val-every", "1",
        "--val-episodes", "1", "--test-episodes", "1", "--threads", "1", "--no-progress", "--out", out.toString()));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  @Test
  void aRunWhoseConfigJsonRecordsMachineFoldersStillResumes(@TempDir Path dir) throws Exception {
    Path old = copy(runDir, dir.resolve("old-run"));
    String cfg = Files.readString(old.resolve(Experiment.CONFIG));
    Files.writeString(old.resolve(Experiment.CONFIG), cfg.replaceFirst("\\{", "{\n  \"data\": \"/old/machine/data\","
        + "\n  \"out\": \"/old/machine/run\","));
    CliTest.Outcome r = CliTest.run(train(old, "--resume"));
    assertThat(r.status()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("test: 3-way 1-shot");
    // the resumed run rewrote its config.json, now without the folders
    assertThat(Files.readString(old.resolve(Experiment.CONFIG))).isEqualTo(cfg);
    // a different setting is still refused
    CliTest.Outcome other = CliTest.run(train(old, "--resume", "--seed", "9"));
    assertThat(other.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(other.err()).contains("--resume: the settings differ");
  }

  private interface Ink {
    boolean black(int x, int y);
  }

  private static void png(Path file, Ink ink) {
    RawPng.header(105, 105, 8, 0).data(RawPng.scanlines8(105, 105, (x, y) -> ink.black(x, y) ? 0 : 255)).write(file);
  }

  private static Path copy(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path q = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(q);
        } else {
          Files.copy(p, q, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    return to;
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void theCommandsExplainExportAndTheCheck() {
    assertThat(CliTest.run("--help").out()).contains("export");
    CliTest.Outcome h = CliTest.run("export", "--help");
    assertThat(h.status()).isZero();
    assertThat(h.out()).contains("--run", "--out", "--weights", "--overwrite", "model.safetensors");
    assertThat(CliTest.run("eval", "--help").out()).contains("--record-check");
    assertThat(CliTest.run("oneshot", "--help").out()).contains("model folder");
  }

  @Test
  void plotRedrawsTheCurvesOfAStoppedRunFromItsLog(@TempDir Path dir) throws Exception {
    Path stopped = copy(runDir, dir.resolve("stopped"));
    Files.delete(stopped.resolve("learning-curve.png"));
    Files.delete(stopped.resolve("loss-curve.png"));
    CliTest.Outcome p = CliTest.run("plot", "--run", stopped.toString());
    assertThat(p.status()).as(p.out() + p.err()).isZero();
    assertThat(p.out()).contains("from 2 rows (up to iteration 2)");
    for (String png : new String[] {"learning-curve.png", "loss-curve.png"}) {
      assertThat(javax.imageio.ImageIO.read(stopped.resolve(png).toFile())).as(png).isNotNull();
    }
    // a folder without a log is refused by name
    Files.delete(stopped.resolve("metrics.csv"));
    CliTest.Outcome bad = CliTest.run("plot", "--run", stopped.toString());
    assertThat(bad.status()).isNotZero();
    assertThat(bad.err()).contains("metrics.csv");
  }

  /** The fixture's training command with {@code --iterations n} and more options. */
  private static String[] trainFor(Path out, int n, String... more) {
    String[] a = train(out, more);
    for (int i = 0; i < a.length - 1; i++) {
      if (a[i].equals("--iterations")) {
        a[i + 1] = Integer.toString(n);
      }
    }
    return a;
  }

  private static List<String> rowsWithoutSeconds(Path run) throws IOException {
    return Files.readAllLines(run.resolve("metrics.csv")).stream()
        .map(l -> l.substring(0, l.lastIndexOf(','))).toList();
  }

  @Test
  void aResumedRunMayChangeItsLengthUnlessItsScheduleDependsOnIt(@TempDir Path dir) throws Exception {
    // 2 iterations, then resumed to 4: the same rows (losses, accuracies, learning rates, validations) as 4 at once
    Path extended = copy(runDir, dir.resolve("extended"));
    CliTest.Outcome r = CliTest.run(trainFor(extended, 4, "--resume"));
    assertThat(r.status()).as(r.out() + r.err()).isZero();
    Path straight = dir.resolve("straight");
    CliTest.Outcome s = CliTest.run(trainFor(straight, 4));
    assertThat(s.status()).as(s.out() + s.err()).isZero();
    assertThat(rowsWithoutSeconds(extended)).hasSize(5).isEqualTo(rowsWithoutSeconds(straight));
    assertThat(Files.readString(extended.resolve(Experiment.CONFIG))).contains("\"iterations\": 4");
    // the summary counts the tasks and the time of both sessions (the sum itself: MetaTrainerTest; these sessions
    // last milliseconds, so their restart is not always visible in metrics.csv's 3 decimals)
    String summary = Files.readString(extended.resolve(Experiment.METRICS_JSON));
    assertThat(summary).contains("\"tasks_seen\": 4").contains("\"tasks_per_second\": ")
        .contains("\"train_seconds_all_sessions\": ");

    // a run stopped after its checkpoint ends there when resumed with the checkpoint's iteration: the test, the
    // summary and the curves are written, nothing is trained
    Path stopped = copy(straight, dir.resolve("stopped"));
    for (String f : new String[] {Experiment.METRICS_JSON, "learning-curve.png", "loss-curve.png"}) {
      Files.delete(stopped.resolve(f));
    }
    CliTest.Outcome end = CliTest.run(trainFor(stopped, 4, "--resume"));
    assertThat(end.status()).as(end.out() + end.err()).isZero();
    assertThat(stopped.resolve(Experiment.METRICS_JSON)).isRegularFile();
    assertThat(stopped.resolve("learning-curve.png")).isRegularFile();
    assertThat(rowsWithoutSeconds(stopped)).isEqualTo(rowsWithoutSeconds(straight));

    // with the cosine schedule the length sets every learning rate: refused, and the message says why
    Path cos = dir.resolve("cosine");
    CliTest.Outcome c = CliTest.run(trainFor(cos, 2, "--schedule", "cosine"));
    assertThat(c.status()).as(c.out() + c.err()).isZero();
    CliTest.Outcome bad = CliTest.run(trainFor(cos, 4, "--schedule", "cosine", "--resume"));
    assertThat(bad.status()).isNotZero();
    assertThat(bad.err()).contains("the settings differ").contains("cosine schedule's length");
  }

  @Test
  void configJsonOfARunHoldsNoMachineFolder() throws IOException {
    Map<String, Object> cfg = JsonDocuments.object(Files.readString(runDir.resolve(Experiment.CONFIG)), "config.json");
    assertThat(cfg).doesNotContainKeys("data", "out").containsKeys("algorithm", "split", "seed");
    ShippedModelsTest.assertNoAbsolutePath(runDir.resolve(Experiment.CONFIG), cfg);
    Path metrics = runDir.resolve(Experiment.METRICS_JSON);
    ShippedModelsTest.assertNoAbsolutePath(metrics, JsonDocuments.object(Files.readString(metrics), "metrics.json"));
  }

  @Test
  void anAbsoluteInitFromIsExportedRelativeToTheWorkingFolderOrByItsName(@TempDir Path dir) throws Exception {
    Path base = runDir.toAbsolutePath().normalize();
    Path tuned = dir.resolve("tuned");
    CliTest.Outcome t = CliTest.run(train(tuned, "--init-from", base.toString()));
    assertThat(t.status()).as(t.out() + t.err()).isZero();
    TrainConfig c = TrainConfig.read(tuned.resolve(Experiment.CONFIG));
    assertThat(c.initFrom()).isEqualTo(base.toString());   // the run records the path as given
    // inside the folder export runs in: relative to it; outside: the folder's name; relative: unchanged
    Path top = base.getParent().getParent();
    assertThat(ExportCommand.portable(c, top).initFrom())
        .isEqualTo(base.getParent().getFileName() + "/" + base.getFileName());
    assertThat(ExportCommand.portable(c, dir.toAbsolutePath().normalize()).initFrom())
        .isEqualTo(base.getFileName().toString());
    TrainConfig relative = c.toBuilder().initFrom("models/base").build();
    assertThat(ExportCommand.portable(relative, top)).isSameAs(relative);
    TrainConfig seeded = c.toBuilder().initFrom("").build();
    assertThat(ExportCommand.portable(seeded, top)).isSameAs(seeded);

    // through the command (run from the module folder, outside the temporary folders): the name, said so
    Path model = dir.resolve("models").resolve("tuned");
    CliTest.Outcome e = CliTest.run("export", "--run", tuned.toString(), "--out", model.toString());
    assertThat(e.status()).as(e.out() + e.err()).isZero();
    assertThat(e.out()).contains("init_from " + base + " recorded as " + base.getFileName());
    Path cfg = model.resolve(Experiment.CONFIG);
    ShippedModelsTest.assertNoAbsolutePath(cfg, JsonDocuments.object(Files.readString(cfg), "config.json"));
    TrainConfig exported = TrainConfig.read(cfg);
    assertThat(exported.initFrom()).isEqualTo(base.getFileName().toString());
    // nothing else changed
    assertThat(exported.toBuilder().initFrom(c.initFrom()).build().fingerprint()).isEqualTo(c.fingerprint());
  }

  @Test
  void anEnsemblesCheckNamesItsMembersBesideTheFolderAndIsReproduced(@TempDir Path dir) throws Exception {
    Path models = dir.resolve("models");
    Path head = models.resolve("head");
    Path member = models.resolve("member");
    assertThat(CliTest.run("export", "--run", runDir.toString(), "--out", head.toString()).status()).isZero();
    assertThat(CliTest.run("export", "--run", runDir.toString(), "--out", member.toString(), "--weights", "last")
        .status()).isZero();
    String[] episodes = {"--data", data.toString(), "--ways", "3", "--shots", "1", "--queries", "1", "--episodes", "5",
        "--seed", "12345", "--threads", "1", "--no-progress"};
    // a member that is not a model folder beside the head is refused before anything is written
    Path elsewhere = dir.resolve("elsewhere");
    assertThat(CliTest.run("export", "--run", runDir.toString(), "--out", elsewhere.toString()).status()).isZero();
    CliTest.Outcome far = CliTest.run(concat(new String[] {"eval", "--run", head.toString(), "--ensemble-with",
        elsewhere.toString(), "--record-check"}, episodes));
    assertThat(far.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(far.err()).contains("--ensemble-with").contains("beside");
    assertThat(head.resolve(ExportCommand.CHECK)).doesNotExist();

    CliTest.Outcome rec = CliTest.run(concat(new String[] {"eval", "--run", head.toString(), "--ensemble-with",
        member.toString(), "--record-check"}, episodes));
    assertThat(rec.status()).as(rec.out() + rec.err()).isZero();
    assertThat(rec.out()).contains("ensemble of 2 runs");
    ShippedCheck check = ShippedCheck.read(head.resolve(ExportCommand.CHECK));
    assertThat(check.ensembleWith()).containsExactly("member");
    assertThat(check.ensembleSha256()).containsExactly(ShippedCheck.sha256(member.resolve(ExportCommand.MODEL)));
    String json = Files.readString(head.resolve(ExportCommand.CHECK));
    assertThat(json).contains("--ensemble-with member --record-check");
    ShippedModelsTest.assertNoAbsolutePath(head.resolve(ExportCommand.CHECK), JsonDocuments.object(json, "check"));
    ShippedModelsTest.Verification v = ShippedModelsTest.verify(head, data, dir);
    assertThat(v.flips()).isZero();
    assertThat(v.accuracy()).isEqualTo(check.accuracy());

    // a member whose weights changed fails the check, naming the member
    Params p = Checkpoints.load(member.resolve(ExportCommand.MODEL)).params();
    String first = p.names().get(0);
    Checkpoints.save(member.resolve(ExportCommand.MODEL), p.with(first, p.get(first).mul(
        Tensor.full(1.5, DType.FLOAT32))), null, null, Map.of());
    assertThatThrownBy(() -> ShippedModelsTest.verify(head, data, dir)).isInstanceOf(AssertionError.class)
        .hasMessageContaining("member").hasMessageContaining("record the check again");
    // a hand-edited member name that leaves the models folder is refused when the check is read
    Files.writeString(head.resolve(ExportCommand.CHECK), json.replace("\"ensemble_with\": [\"member\"]",
        "\"ensemble_with\": [\"../member\"]"));
    assertThatThrownBy(() -> ShippedCheck.read(head.resolve(ExportCommand.CHECK)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("plain names");
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Test
  void aModelFolderLoadsInEvalAndOneshotAndItsRecordedCheckIsReproduced(@TempDir Path dir) throws Exception {
    // a run folder of an older version: its config.json records the machine's folders
    Path old = copy(runDir, dir.resolve("old-run"));
    String cfg = Files.readString(old.resolve(Experiment.CONFIG));
    Files.writeString(old.resolve(Experiment.CONFIG), cfg.replaceFirst("\\{", "{\n  \"data\": \"/old/machine/data\","
        + "\n  \"out\": \"/old/machine/run\","));
    Path model = dir.resolve("models").resolve("tiny");
    CliTest.Outcome e = CliTest.run("export", "--run", old.toString(), "--out", model.toString());
    assertThat(e.status()).as(e.out() + e.err()).isZero();
    assertThat(e.out()).contains("exported protonet").contains("eval --run").contains("--record-check");
    assertThat(names(model)).containsExactly(Experiment.CONFIG, Experiment.METRICS_JSON, ExportCommand.MODEL);
    assertThat(names(model.getParent())).containsExactly("tiny");   // no temporary folder left
    String exported = Files.readString(model.resolve(Experiment.CONFIG));
    assertThat(exported).doesNotContain("\"data\"").doesNotContain("\"out\"").doesNotContain("/old/machine");
    assertThat(TrainConfig.fromJson(exported).fingerprint()).isEqualTo(TrainConfig.fromJson(cfg).fingerprint());
    assertThat(Files.readString(model.resolve(Experiment.METRICS_JSON)))
        .isEqualTo(Files.readString(old.resolve(Experiment.METRICS_JSON)));
    // the weights: the best checkpoint's parameters, bit for bit, without the optimizer state
    Checkpoints.Loaded m = Checkpoints.load(model.resolve(ExportCommand.MODEL));
    Checkpoints.Loaded best = Checkpoints.load(old.resolve(MetaTrainer.BEST));
    assertThat(m.optimizer()).isNull();
    assertThat(m.params().names()).isEqualTo(best.params().names());
    for (String n : m.params().names()) {
      assertThat(m.params().get(n).dtype()).isEqualTo(DType.FLOAT32);
      assertThat(m.params().get(n).toFloatArray()).as(n).isEqualTo(best.params().get(n).toFloatArray());
    }
    assertThat(m.metadata()).containsEntry(ExportCommand.EXPORTED_FROM, "best")
        .containsEntry("iteration", best.metadata().get("iteration"));

    // eval and oneshot load the folder as it is (no metrics.csv, best or last)
    CliTest.Outcome ev = CliTest.run("eval", "--run", model.toString(), "--data", data.toString(), "--ways", "3",
        "--shots", "1", "--queries", "1", "--episodes", "5", "--seed", "12345", "--threads", "1", "--no-progress",
        "--record-check");
    assertThat(ev.status()).as(ev.out() + ev.err()).isZero();
    assertThat(ev.out()).contains("3-way 1-shot").contains("(5 episodes)").contains("recorded");
    ShippedCheck check = ShippedCheck.read(model.resolve(ExportCommand.CHECK));
    assertThat(check.episodes()).isEqualTo(5);
    assertThat(check.seed()).isEqualTo(12345);
    assertThat(check.ways()).isEqualTo(3);
    assertThat(check.algorithm()).isEqualTo("protonet");
    assertThat(check.backend()).isNotBlank();
    assertThat(check.modelSha256()).hasSize(64).isEqualTo(ShippedCheck.sha256(model.resolve(ExportCommand.MODEL)));
    String checkJson = Files.readString(model.resolve(ExportCommand.CHECK));
    assertThat(checkJson).contains("\"command\": \"metagrad eval --run tiny --on test --grouping ANY --ways 3 --shots"
        + " 1 --queries 1 --episodes 5 --seed 12345 --record-check\"");
    ShippedModelsTest.assertNoAbsolutePath(model.resolve(ExportCommand.CHECK),
        JsonDocuments.object(checkJson, "check.json"));
    ShippedModelsTest.Verification v = ShippedModelsTest.verify(model, data, dir);
    assertThat(v.flips()).isZero();
    assertThat(v.accuracy()).isEqualTo(check.accuracy());

    CliTest.Outcome os = CliTest.run("oneshot", "--run", model.toString(), "--runs", oneShot.toString());
    assertThat(os.status()).as(os.out() + os.err()).isZero();
    assertThat(os.out()).contains(ExportCommand.MODEL).contains("run01").contains("overall");

    // a model folder has one set of weights
    CliTest.Outcome last = CliTest.run("eval", "--run", model.toString(), "--data", data.toString(), "--checkpoint",
        "last", "--episodes", "1");
    assertThat(last.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(last.err()).contains("is a model folder").contains("no last checkpoint");

    // a check that does not match: a hand-edited number, another record, changed weights
    Path edited = copy(model, dir.resolve("edited"));
    Files.writeString(edited.resolve(ExportCommand.CHECK), checkJson.replace("\"correct\": " + check.correct(),
        "\"correct\": " + (check.correct() + 1)));
    assertThatThrownBy(() -> ShippedModelsTest.verify(edited, data, dir)).isInstanceOf(AssertionError.class)
        .hasMessageContaining("correct queries");
    for (int flipped = 1; flipped <= 2; flipped++) {
      double[] accs = check.episodeAccuracies().clone();
      long correct = check.correct();
      for (int i = 0; i < flipped; i++) {
        long k = Math.round(accs[i] * 3);   // 3 queries per episode
        long changed = k > 0 ? k - 1 : k + 1;
        correct += changed - k;
        accs[i] = changed / 3.0;
      }
      double mean = 0;
      for (double a : accs) {
        mean += a;
      }
      Path other = copy(model, dir.resolve("other-record-" + flipped));
      ShippedCheck.write(other, new ShippedCheck(check.algorithm(), check.split(), check.classes(), check.grouping(),
          check.ways(), check.shots(), check.queries(), check.episodes(), check.seed(), check.testInnerSteps(),
          check.finetuneSteps(), check.finetuneLr(), check.shiftEnsemble(), mean / accs.length, correct, accs,
          check.modelSha256(), check.backend(), check.java(), check.arch(), List.of(), List.of()));
      ShippedModelsTest.Verification w = ShippedModelsTest.verify(other, data, dir);
      assertThat(w.flips()).isEqualTo(flipped);
      assertThat(w.episodesDiffering()).isEqualTo(flipped);
      assertThat(w.accuracy()).isEqualTo(check.accuracy());
    }
    assertThat(ShippedModelsTest.allowedFlips(5)).isEqualTo(1);
    assertThat(ShippedModelsTest.allowedFlips(100)).isEqualTo(1);
    assertThat(ShippedModelsTest.allowedFlips(1000)).isEqualTo(10);
    Path reweighted = copy(model, dir.resolve("reweighted"));
    Params p = Checkpoints.load(model.resolve(ExportCommand.MODEL)).params();
    String first = p.names().get(0);
    Checkpoints.save(reweighted.resolve(ExportCommand.MODEL), p.with(first, p.get(first).mul(
        Tensor.full(1.5, DType.FLOAT32))), null, null, m.metadata());
    assertThatThrownBy(() -> ShippedModelsTest.verify(reweighted, data, dir)).isInstanceOf(AssertionError.class)
        .hasMessageContaining("record the check again");
  }

  @Test
  void exportRefusesWhatWouldNotLoadAndNeverReplacesAFolderUnasked(@TempDir Path dir) throws Exception {
    Path model = dir.resolve("m");
    assertThat(CliTest.run("export", "--run", runDir.toString(), "--out", model.toString()).status()).isZero();
    Files.writeString(model.resolve(ExportCommand.CHECK), "{}");
    CliTest.Outcome again = CliTest.run("export", "--run", runDir.toString(), "--out", model.toString());
    assertThat(again.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(again.err()).contains("exists; pass --overwrite");
    // --overwrite replaces the folder: a check recorded for earlier weights goes with them
    CliTest.Outcome last = CliTest.run("export", "--run", runDir.toString(), "--out", model.toString(), "--weights",
        "last", "--overwrite");
    assertThat(last.status()).as(last.out() + last.err()).isZero();
    assertThat(names(model)).containsExactly(Experiment.CONFIG, Experiment.METRICS_JSON, ExportCommand.MODEL);
    Checkpoints.Loaded fromLast = Checkpoints.load(model.resolve(ExportCommand.MODEL));
    assertThat(fromLast.metadata()).containsEntry(ExportCommand.EXPORTED_FROM, "last");
    // the last checkpoint holds Adam's moments to resume training; a model folder only the parameters
    assertThat(Checkpoints.load(runDir.resolve(MetaTrainer.LAST)).optimizer()).isNotNull();
    assertThat(fromLast.optimizer()).isNull();
    assertThat(Files.size(model.resolve(ExportCommand.MODEL))).isLessThan(Files.size(runDir.resolve(MetaTrainer.LAST)));
    // ... but only a model folder
    Path other = dir.resolve("other");
    Files.createDirectories(other);
    Files.writeString(other.resolve("notes.txt"), "mine");
    CliTest.Outcome foreign = CliTest.run("export", "--run", runDir.toString(), "--out", other.toString(),
        "--overwrite");
    assertThat(foreign.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(foreign.err()).contains("holds notes.txt").contains("model folders only");
    assertThat(other.resolve("notes.txt")).hasContent("mine");

    // weights holding NaN
    Path nan = copy(runDir, dir.resolve("nan-run"));
    Checkpoints.Loaded b = Checkpoints.load(nan.resolve(MetaTrainer.BEST));
    String name = b.params().names().get(1);
    Tensor t = b.params().get(name);
    float[] v = t.toFloatArray();
    v[v.length - 1] = Float.NaN;
    Checkpoints.save(nan.resolve(MetaTrainer.BEST), b.params().with(name, Tensor.of(v, t.shape())), null, null,
        b.metadata());
    CliTest.Outcome n = CliTest.run("export", "--run", nan.toString(), "--out", dir.resolve("nan-model").toString());
    assertThat(n.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(n.err()).contains(name).contains("NaN").contains("best.safetensors");
    assertThat(dir.resolve("nan-model")).doesNotExist();

    // a config.json that does not parse, or describes another model
    Path bad = copy(runDir, dir.resolve("bad-run"));
    Files.writeString(bad.resolve(Experiment.CONFIG), Files.readString(runDir.resolve(Experiment.CONFIG))
        .replace("\"ways\": 3", "\"ways\": \"three\""));
    CliTest.Outcome c = CliTest.run("export", "--run", bad.toString(), "--out", dir.resolve("bad-model").toString());
    assertThat(c.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(c.err()).contains("config.json").contains("'three' is not an integer");
    assertThat(dir.resolve("bad-model")).doesNotExist();
    Files.writeString(bad.resolve(Experiment.CONFIG), Files.readString(runDir.resolve(Experiment.CONFIG))
        .replace("\"hidden\": 2", "\"hidden\": 3"));
    CliTest.Outcome wrong = CliTest.run("export", "--run", bad.toString(), "--out", dir.resolve("bad-model").toString());
    assertThat(wrong.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(wrong.err()).contains("shape");
    assertThat(dir.resolve("bad-model")).doesNotExist();

    // options
    CliTest.Outcome w = CliTest.run("export", "--run", runDir.toString(), "--out", dir.resolve("x").toString(),
        "--weights", "worst");
    assertThat(w.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(w.err()).contains("--weights must be best or last");
    CliTest.Outcome inside = CliTest.run("export", "--run", runDir.toString(), "--out",
        runDir.resolve("model").toString());
    assertThat(inside.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(inside.err()).contains("must be a folder of its own");
    CliTest.Outcome record = CliTest.run("eval", "--run", runDir.toString(), "--data", data.toString(), "--episodes",
        "1", "--record-check");
    assertThat(record.status()).isEqualTo(Main.USAGE_ERROR);
    assertThat(record.err()).contains("--record-check").contains("is not a model folder");
    assertThat(runDir.resolve(ExportCommand.CHECK)).doesNotExist();
  }
}
