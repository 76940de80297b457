package org.metagrad.meta.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.nn.io.JsonDocuments;

/**
 * Every model shipped in the repository's {@code meta/models/} (one folder each, written by {@code metagrad export},
 * its {@code check.json} by {@code metagrad eval --record-check}) loads with {@code eval} and reproduces its recorded
 * accuracy on its recorded episodes of the real Omniglot (METAGRAD_DATA; fails, does not skip, without it).
 *
 * <p><b>Tolerance.</b> The same seed draws the same episodes on every machine, and on one machine the same backend
 * gives the same bits, so the accuracy is normally equal to the recorded one exactly. Across machines the CPU
 * kernels may differ in the last bits of a float32 sum (AVX2 and AVX-512 hosts choose different vector widths and
 * tilings), which can flip a query whose two nearest classes are tied to within those bits. The test therefore
 * allows at most one flipped query per 100 episodes ({@link #allowedFlips}), counted episode by episode (a flip in one
 * episode cannot hide behind an opposite flip in another); anything more means the weights, the data pipeline, the
 * sampler or an op changed, and the model's figures in meta/RESULTS.md would no longer be reproduced. Measured on
 * the smoke model's 7,500 queries: the AVX2 kernel set, the scalar CPU path and the reference backend (double
 * accumulation) flipped none (meta/models/README.md).
 */
class ShippedModelsTest {

  /** Largest model folder the repository accepts. */
  static final long MAX_FOLDER_BYTES = 1_000_000;

  /**
   * The repository's {@code meta/models/}, found from the working directory (the meta module's folder under Maven,
   * the repository root in an IDE), or fails naming where it looked.
   */
  static Path modelsFolder() {
    return modelsFolder(Path.of("").toAbsolutePath());
  }

  /** {@link #modelsFolder()} as seen from {@code cwd}. */
  static Path modelsFolder(Path cwd) {
    for (Path p = cwd; p != null; p = p.getParent()) {
      if (isMetaModule(p)) {
        return p.resolve("models");
      }
      if (isMetaModule(p.resolve("meta"))) {
        return p.resolve("meta").resolve("models");
      }
    }
    return fail("no meta module (pom.xml of metagrad-meta) at or above " + cwd + ", so no meta/models/ to check");
  }

  private static boolean isMetaModule(Path dir) {
    Path pom = dir.resolve("pom.xml");
    try {
      // the module's own pom (the root pom names metagrad-meta too, in its dependency management)
      return Files.isRegularFile(pom) && Files.readString(pom).contains("<artifactId>metagrad-meta</artifactId>")
          && Files.isDirectory(dir.resolve("src/main/java/org/metagrad/meta"));
    } catch (IOException e) {
      return false;
    }
  }

  /** The model folders under {@code models}: every sub-folder (a stray one fails the checks below). */
  static List<Path> modelFolders(Path models) throws IOException {
    if (!Files.isDirectory(models)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(models)) {
      return s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
    }
  }

  /** Pools decoded once per JVM: models of one split share its test classes (decoding them is most of a check). */
  private static final Map<List<Object>, org.metagrad.meta.data.ImageClasses> POOLS =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** {@code metagrad eval <args>}: the command itself, its pools decoded once per JVM ({@link #POOLS}). */
  static CliTest.Outcome eval(String... args) {
    synchronized (CliTest.class) {   // CliTest.run's lock: one command at a time owns System.out
      return evalLocked(args);
    }
  }

  private static CliTest.Outcome evalLocked(String... args) {
    java.io.PrintStream oldOut = System.out;
    java.io.PrintStream oldErr = System.err;
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    EvalCommand cmd = new EvalCommand((root, side, reader, classes) -> POOLS.computeIfAbsent(
        List.of(root.toAbsolutePath().normalize(), side, reader.framing(), List.copyOf(classes)),
        k -> reader.load(classes)));
    try {
      System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
      System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
      int status = Main.execute(new picocli.CommandLine(cmd), args);
      return new CliTest.Outcome(status, out.toString(java.nio.charset.StandardCharsets.UTF_8),
          err.toString(java.nio.charset.StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  /** At most one query flipped per 100 episodes (at least one): see the class comment. */
  static int allowedFlips(int episodes) {
    return Math.max(1, episodes / 100);
  }

  /**
   * How an evaluation compares with a check.
   *
   * @param flips queries classified differently, summed over episodes of |correct now - correct recorded|
   * @param episodesDiffering how many episodes differ
   * @param accuracy the mean accuracy now
   * @param seconds the evaluation's wall time
   */
  record Verification(long flips, int episodesDiffering, double accuracy, double seconds) {}

  /**
   * Evaluates a model folder on its check's episodes with {@code metagrad eval} and compares episode by episode.
   *
   * @param dir the model folder
   * @param dataRoot the data root holding omniglot/
   * @param tmp a folder for the evaluation's JSON
   */
  static Verification verify(Path dir, Path dataRoot, Path tmp) throws IOException {
    ShippedCheck check = ShippedCheck.read(dir.resolve(ExportCommand.CHECK));
    assertThat(ShippedCheck.sha256(dir.resolve(ExportCommand.MODEL))).as(dir + ": " + ExportCommand.MODEL
        + " is not the file its check was recorded with; record the check again (eval --record-check)")
        .isEqualTo(check.modelSha256());
    for (int i = 0; i < check.ensembleWith().size(); i++) {
      Path member = dir.toAbsolutePath().normalize().resolveSibling(check.ensembleWith().get(i));
      assertThat(member.resolve(ExportCommand.MODEL)).as(dir + ": the ensemble's member " + member.getFileName())
          .isRegularFile();
      assertThat(ShippedCheck.sha256(member.resolve(ExportCommand.MODEL))).as(dir + ": the ensemble's member "
          + member.getFileName() + " is not the model the check was recorded with; record the check again")
          .isEqualTo(check.ensembleSha256().get(i));
    }
    // the record is consistent with itself (it was written by the command, not edited)
    int perEpisode = check.ways() * check.queries();
    assertThat(check.episodeAccuracies()).as(dir + ": episodes").hasSize(check.episodes());
    long correct = 0;
    double sum = 0;
    for (double a : check.episodeAccuracies()) {
      correct += Math.round(a * perEpisode);
      sum += a;
    }
    assertThat(check.correct()).as(dir + ": correct queries").isEqualTo(correct);
    assertThat(check.accuracy()).as(dir + ": mean accuracy").isCloseTo(sum / check.episodes(),
        org.assertj.core.data.Offset.offset(1e-12));

    Path json = tmp.resolve(dir.getFileName() + "-eval.json");
    List<String> args = new ArrayList<>(List.of("eval", "--run", dir.toString(), "--data", dataRoot.toString()));
    args.addAll(check.evalArgs(dir.toAbsolutePath().normalize().getParent()));
    args.addAll(List.of("--threads", "2", "--no-progress", "--out", json.toString()));
    long t0 = System.nanoTime();
    CliTest.Outcome o = eval(args.subList(1, args.size()).toArray(String[]::new));
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertThat(o.status()).as(String.join(" ", args) + "\n" + o.out() + o.err()).isZero();
    Map<String, Object> m = JsonDocuments.object(Files.readString(json), json.toString());
    List<?> now = (List<?>) m.get("episode_accuracies");
    assertThat(now).hasSize(check.episodes());
    long flips = 0;
    int differing = 0;
    for (int i = 0; i < now.size(); i++) {
      long a = Math.round(Double.parseDouble(now.get(i).toString()) * perEpisode);
      long b = Math.round(check.episodeAccuracies()[i] * perEpisode);
      flips += Math.abs(a - b);
      differing += a != b ? 1 : 0;
    }
    return new Verification(flips, differing, Double.parseDouble(m.get("accuracy").toString()), seconds);
  }

  @Test
  void everyShippedModelReproducesItsRecordedAccuracy(@TempDir Path tmp) throws IOException {
    Path dataRoot = DataPaths.root();
    List<Path> models = modelFolders(modelsFolder());
    assertThat(models).as("model folders in " + modelsFolder() + " (the shipped models)")
        .isNotEmpty();
    for (Path dir : models) {
      ShippedCheck check = ShippedCheck.read(dir.resolve(ExportCommand.CHECK));
      Verification v = verify(dir, dataRoot, tmp);
      System.out.printf(Locale.ROOT, "%s: %d-way %d-shot, %d episodes (seed %d): %.4f%% now, %.4f%% recorded (%s,"
          + " %s); %d queries differ in %d episodes; %.1f s%n", dir.getFileName(), check.ways(), check.shots(),
          check.episodes(), check.seed(), 100 * v.accuracy(), 100 * check.accuracy(), check.backend(), check.arch(),
          v.flips(), v.episodesDiffering(), v.seconds());
      assertThat(v.flips()).as(dir.getFileName() + ": queries classified differently from the record (" + check.correct()
          + " of " + check.totalQueries() + " correct then, " + check.backend() + " on " + check.arch() + ")")
          .isLessThanOrEqualTo(allowedFlips(check.episodes()));
      if (v.flips() == 0) {
        // the same episodes' accuracies, summed in the same order: the same mean, to the bit
        assertThat(v.accuracy()).as(dir.getFileName() + ": mean accuracy").isEqualTo(check.accuracy());
      }
    }
  }

  @Test
  void everyShippedModelIsACompleteSmallFolderWithoutMachinePaths() throws IOException {
    List<Path> models = modelFolders(modelsFolder());
    assertThat(models).as("model folders in " + modelsFolder()).isNotEmpty();
    for (Path dir : models) {
      long bytes = 0;
      try (Stream<Path> s = Files.list(dir)) {
        for (Path f : s.toList()) {
          assertThat(ExportCommand.FOLDER_FILES).as(dir + ": unexpected " + f.getFileName())
              .contains(f.getFileName().toString());
          assertThat(f).isRegularFile();
          bytes += Files.size(f);
        }
      }
      assertThat(bytes).as(dir + ": bytes (a shipped model must stay under 1 MB)").isLessThan(MAX_FOLDER_BYTES);
      for (String f : List.of(Experiment.CONFIG, ExportCommand.MODEL, ExportCommand.CHECK)) {
        assertThat(dir.resolve(f)).as(dir + ": " + f).isRegularFile();
      }
      String config = Files.readString(dir.resolve(Experiment.CONFIG));
      Map<String, Object> cfg = JsonDocuments.object(config, dir.resolve(Experiment.CONFIG).toString());
      assertThat(cfg).as(dir + ": config.json").doesNotContainKeys("data", "out");
      assertNoAbsolutePath(dir.resolve(Experiment.CONFIG), cfg);
      TrainConfig.read(dir.resolve(Experiment.CONFIG));
      for (String f : List.of(Experiment.METRICS_JSON, ExportCommand.CHECK)) {
        Path p = dir.resolve(f);
        if (Files.exists(p)) {
          assertNoAbsolutePath(p, JsonDocuments.object(Files.readString(p), p.toString()));
        }
      }
      ShippedCheck check = ShippedCheck.read(dir.resolve(ExportCommand.CHECK));
      assertThat(check.classes()).as(dir + ": the check's episodes are test episodes").isEqualTo("test");
      assertThat(check.episodes()).as(dir + ": the check's episodes").isGreaterThanOrEqualTo(100);
    }
  }

  /** No string value anywhere in {@code json} looks like an absolute path (Unix, Windows or a home folder). */
  static void assertNoAbsolutePath(Path file, Object json) {
    if (json instanceof Map<?, ?> m) {
      for (Object v : m.values()) {
        assertNoAbsolutePath(file, v);
      }
    } else if (json instanceof List<?> l) {
      for (Object v : l) {
        assertNoAbsolutePath(file, v);
      }
    } else if (json instanceof String s) {
      assertThat(s.startsWith("/") || s.startsWith("~") || s.matches("^[A-Za-z]:[\\\\/].*") || s.startsWith("\\\\"))
          .as(file + ": value '" + s + "' is an absolute path").isFalse();
    }
  }

  @Test
  void theModelsFolderIsFoundFromTheModuleTheRepositoryRootAndBelow() {
    Path models = modelsFolder();
    assertThat(models.getFileName().toString()).isEqualTo("models");
    assertThat(models.getParent().resolve("src/main/java/org/metagrad/meta")).isDirectory();
    Path module = models.getParent();
    assertThat(modelsFolder(module)).isEqualTo(models);
    assertThat(modelsFolder(module.getParent())).isEqualTo(models);   // the repository root, whose pom names meta too
    assertThat(modelsFolder(module.resolve("src/test"))).isEqualTo(models);
  }

  @Test
  void theAbsolutePathCheckCatchesPaths() {
    Path f = Path.of("config.json");
    assertNoAbsolutePath(f, Map.of("split", "vinyals", "n", 3L));
    for (String bad : List.of("/home/someone/omniglot-data", "C:\\data", "~/data", "\\\\server\\share")) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> assertNoAbsolutePath(f, Map.of("x", List.of(bad))))
          .isInstanceOf(AssertionError.class).hasMessageContaining("absolute path");
    }
  }
}
