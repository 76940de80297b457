package org.metagrad.meta.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.metagrad.Tensor;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.nn.Params;
import org.metagrad.nn.io.AtomicFiles;
import org.metagrad.nn.io.CheckpointException;
import org.metagrad.nn.io.Checkpoints;
import org.metagrad.nn.io.JsonDocuments;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code metagrad export}: makes a model folder, what a user needs to use a trained run and nothing else, from a
 * run folder written by {@code metagrad train}.
 *
 * <p>A model folder holds:
 * <ul>
 *   <li>{@code config.json}: the run's settings, without any folder of the machine it was trained on (an older
 *       run's {@code data} and {@code out} entries are dropped; an absolute {@code init_from} is recorded
 *       relative to the folder the export runs in, or by its name when it lies outside, see {@link #portable});
 *   <li>{@code model.safetensors} ({@link #MODEL}): the parameters of the chosen checkpoint, float32 as trained,
 *       without the optimizer state (a third of a training checkpoint's size); its metadata names the
 *       checkpoint ({@code exported_from}: best or last) and keeps the training's iteration entries;
 *   <li>{@code metrics.json}: the run's summary (validation and test accuracy, iterations, times), copied
 *       unchanged when the run has one;
 *   <li>{@code check.json} (not written here): the record of {@code metagrad eval --record-check}, the accuracy on
 *       a fixed set of seeded episodes that CI reproduces.
 * </ul>
 * {@code metagrad eval --run MODEL_DIR} and {@code metagrad oneshot --run MODEL_DIR} load such a folder (their
 * default {@code --checkpoint best} loads {@code model.safetensors} where no {@code best.safetensors} exists).
 *
 * <p>The folder is written atomically: into a hidden temporary folder beside it, each file forced to disk, then
 * renamed to {@code --out}; an existing {@code --out} is replaced only with {@code --overwrite}. A run whose
 * configuration does not parse, whose checkpoint does not match it, or whose weights hold NaN or an infinity is
 * refused, so a shipped folder always loads.
 *
 * <pre>{@code metagrad export --run runs/protonet-5w1s --out meta/models/protonet-5w1s}</pre>
 */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Copy what a user needs from a training run folder into a model folder: config.json (no machine"
        + " paths), metrics.json and model.safetensors (the chosen weights, without optimizer state). The folder is"
        + " written atomically; eval and oneshot load it with --run. Refuses weights holding NaN or infinities and a"
        + " config.json that does not parse or does not describe the weights.")
public final class ExportCommand implements Callable<Integer> {
  /** The weights file of a model folder. */
  public static final String MODEL = "model.safetensors";
  /** The record of {@code metagrad eval --record-check} in a model folder. */
  public static final String CHECK = "check.json";
  /** The files a model folder may hold (a {@code README.md} may describe it). */
  public static final java.util.List<String> FOLDER_FILES = java.util.List.of(Experiment.CONFIG, MODEL,
      Experiment.METRICS_JSON, CHECK, "README.md");
  /** The checkpoint metadata key naming which checkpoint of the run was exported (best or last). */
  public static final String EXPORTED_FROM = "exported_from";

  @Option(names = {"-r", "--run"}, required = true, paramLabel = "RUN_DIR", description = "Run folder written by"
      + " 'metagrad train' (config.json and the checkpoints).")
  Path run;

  @Option(names = {"-o", "--out"}, required = true, paramLabel = "MODEL_DIR", description = "The model folder to"
      + " write.")
  Path out;

  @Option(names = "--weights", paramLabel = "WHICH", description = "best (the best validation accuracy's) or last"
      + " (default ${DEFAULT-VALUE}).")
  String weights = "best";

  @Option(names = "--overwrite", description = "Replace an existing --out folder (its files are deleted).")
  boolean overwrite;

  @Override
  public Integer call() {
    if (!weights.equals("best") && !weights.equals("last")) {
      throw new IllegalArgumentException("--weights must be best or last, got '" + weights + "'");
    }
    Path src = run.toAbsolutePath().normalize();
    Path dst = out.toAbsolutePath().normalize();
    if (dst.equals(src) || dst.startsWith(src) || src.startsWith(dst)) {
      throw new IllegalArgumentException("--out " + out + " must be a folder of its own, not the run folder " + run
          + " or inside it (or around it)");
    }
    if (Files.exists(dst) && !overwrite) {
      throw new IllegalArgumentException("--out " + out + " exists; pass --overwrite to replace it");
    }
    if (Files.exists(dst) && !Files.isDirectory(dst)) {
      throw new IllegalArgumentException("--out " + out + " exists and is not a folder");
    }
    if (Files.isDirectory(dst)) {
      // --overwrite deletes the folder: only ever a model folder, never a folder given by mistake
      try (Stream<Path> s = Files.list(dst)) {
        for (Path p : (Iterable<Path>) s::iterator) {
          String name = p.getFileName().toString();
          if (!FOLDER_FILES.contains(name) || !Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("--out " + out + " holds " + name + ", which a model folder does not"
                + " (" + String.join(", ", FOLDER_FILES) + "); --overwrite replaces model folders only");
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list " + out + ": " + e.getMessage(), e);
      }
    }
    CliSupport.checkOutputFolder("--out", dst);
    RunFolder rf = RunFolder.open(run, weights);
    if (rf.checkpoint().getFileName().toString().equals(MODEL)) {
      throw new IllegalArgumentException("--run " + run + " is already a model folder (it holds " + MODEL + ")");
    }
    TrainConfig c = rf.config();
    if (c.algorithm() == Algorithm.MANN || c.algorithm().fewLabels()) {
      throw new IllegalArgumentException("export makes folders for 'metagrad eval' and 'oneshot', which do not load "
          + c.algorithm().cliName() + " runs");
    }
    // Strict loading refuses NaN and infinities (naming the tensor and element); loading against the model the
    // configuration describes checks every name, shape and dtype, so the folder written loads with eval.
    Params params = Experiment.loadParams(c, rf.checkpoint());
    for (Map.Entry<String, Tensor> e : params.asMap().entrySet()) {
      int bad = e.getValue().firstNonFiniteIndex();
      if (bad >= 0) {
        throw new CheckpointException(rf.checkpoint() + ": tensor '" + e.getKey() + "' holds a non-finite value at"
            + " flat index " + bad + "; a diverged run is not exported", e.getKey(), null);
      }
    }
    Map<String, String> meta = new LinkedHashMap<>();
    try {
      meta.putAll(Checkpoints.load(rf.checkpoint()).metadata());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read checkpoint " + rf.checkpoint() + ": " + e.getMessage(), e);
    }
    meta.remove(Checkpoints.FORMAT_KEY);
    meta.remove(Checkpoints.STATE_KEY);
    meta.put(EXPORTED_FROM, weights);
    byte[] metrics = null;
    Path metricsFile = run.resolve(Experiment.METRICS_JSON);
    try {
      if (Files.exists(metricsFile)) {
        org.metagrad.meta.data.DataPaths.requireRegularFile(metricsFile.toAbsolutePath(), "run metrics");
        metrics = Files.readAllBytes(metricsFile);
        JsonDocuments.object(new String(metrics, StandardCharsets.UTF_8), metricsFile.toString());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + metricsFile + ": " + e.getMessage(), e);
    }
    TrainConfig shipped = portable(c, Path.of("").toAbsolutePath().normalize());
    if (!shipped.initFrom().equals(c.initFrom())) {
      System.out.println("config.json: init_from " + c.initFrom() + " recorded as " + shipped.initFrom()
          + " (no folder of this machine in a model folder)");
    }
    write(dst, shipped.toJson().getBytes(StandardCharsets.UTF_8), params, meta, metrics);
    System.out.println("exported " + c.algorithm().cliName() + " (" + params.numel() + " parameters, " + weights
        + (weights.equals("best") && !c.validated() ? " = last (the run has no validation)" : "")
        + " checkpoint) to " + out + ": " + Experiment.CONFIG + ", " + MODEL
        + (metrics != null ? ", " + Experiment.METRICS_JSON : " (the run has no " + Experiment.METRICS_JSON
        + ": it did not finish)"));
    System.out.println("record its CI check with: metagrad eval --run " + out + " --episodes 100 --seed 12345"
        + " --record-check");
    return 0;
  }

  /**
   * The configuration a model folder records: a run's {@code init_from} as given, unless it is an absolute path (a
   * folder of the machine the run was trained on, which a shipped folder must not name): then it is made relative to
   * {@code workDir} when it lies inside it (the repository, for the shipped models), else reduced to its last name.
   * Only the recorded text changes; the weights were read when the run started.
   *
   * @param c the run's configuration
   * @param workDir the absolute, normalised folder the export runs in
   * @return {@code c}, or a copy with the portable {@code init_from}
   */
  static TrainConfig portable(TrainConfig c, Path workDir) {
    String from = c.initFrom();
    Path p;
    try {
      p = Path.of(from);
    } catch (java.nio.file.InvalidPathException e) {
      return c;
    }
    if (from.isEmpty() || !p.isAbsolute()) {
      return c;
    }
    p = p.normalize();
    Path name = p.getFileName();
    String rel = p.startsWith(workDir) && !p.equals(workDir)
        ? workDir.relativize(p).toString().replace(java.io.File.separatorChar, '/')
        : name == null ? "" : name.toString();
    return c.toBuilder().initFrom(rel).build();
  }

  /** Writes the folder's files into a temporary folder beside {@code dst}, then renames it to {@code dst}. */
  private static void write(Path dst, byte[] config, Params params, Map<String, String> meta, byte[] metrics) {
    Path parent = dst.getParent();
    Path tmp = parent.resolve("." + dst.getFileName() + ".export-" + ProcessHandle.current().pid() + ".tmp");
    Path old = parent.resolve("." + dst.getFileName() + ".replaced-" + ProcessHandle.current().pid() + ".tmp");
    try {
      Files.createDirectories(parent);
      deleteTree(tmp);
      Files.createDirectory(tmp);
      AtomicFiles.write(tmp.resolve(Experiment.CONFIG), config);
      Checkpoints.save(tmp.resolve(MODEL), params, null, null, meta);
      if (metrics != null) {
        AtomicFiles.write(tmp.resolve(Experiment.METRICS_JSON), metrics);
      }
      if (Files.exists(dst)) {
        deleteTree(old);
        move(dst, old);
        try {
          move(tmp, dst);
        } catch (IOException e) {
          move(old, dst);   // put the previous folder back
          throw e;
        }
        deleteTree(old);
      } else {
        move(tmp, dst);
      }
    } catch (IOException e) {
      try {
        deleteTree(tmp);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new UncheckedIOException("cannot write model folder " + dst + ": " + e.getMessage(), e);
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }
}
