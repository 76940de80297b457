package org.metagrad.meta.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.metagrad.meta.data.ClassGrouping;
import org.metagrad.meta.eval.EvalResult;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.Json;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.nn.io.AtomicFiles;
import org.metagrad.nn.io.CheckpointException;
import org.metagrad.nn.io.JsonDocuments;

/**
 * A model folder's {@code check.json}, written by {@code metagrad eval --record-check}: which episodes were
 * evaluated (settings and seed: the same seed draws the same episodes on every machine), the accuracy of each and
 * their mean, the number of correctly classified queries, what computed it (backend, Java, architecture) and the
 * SHA-256 of the {@code model.safetensors} it was computed with. A test evaluates the same episodes again with
 * {@link #evalArgs()} and compares (CI's {@code ShippedModelsTest}).
 *
 * @param algorithm the run's algorithm (CLI name)
 * @param split the run's class split
 * @param classes test or val
 * @param grouping the episodes' class grouping
 * @param ways classes per episode
 * @param shots support images per class
 * @param queries query images per class
 * @param episodes how many episodes
 * @param seed the episodes' seed
 * @param testInnerSteps the test-time inner steps (gradient-based algorithms), else null
 * @param finetuneSteps the head's fine-tuning steps (transfer), else null
 * @param finetuneLr the head's fine-tuning step size (transfer), else null
 * @param shiftEnsemble the shift ensemble's radius, 0 for none
 * @param accuracy the mean of the episodes' accuracies
 * @param correct the correctly classified queries over all episodes
 * @param episodeAccuracies each episode's accuracy, in episode order
 * @param modelSha256 the SHA-256 of the weights file, lower-case hex
 * @param backend the CPU backend that computed it
 * @param java the Java version
 * @param arch the processor architecture ({@code os.arch})
 * @param ensembleWith the other members of a model ensemble ({@code eval --ensemble-with}), as names of model folders
 *     beside this one (siblings in {@code meta/models/}); empty for a single model
 * @param ensembleSha256 the SHA-256 of each member's {@code model.safetensors}, in the order of {@code ensembleWith}
 */
record ShippedCheck(String algorithm, String split, String classes, ClassGrouping grouping, int ways, int shots,
                    int queries, int episodes, long seed, Integer testInnerSteps, Integer finetuneSteps,
                    Double finetuneLr, int shiftEnsemble, double accuracy, long correct, double[] episodeAccuracies,
                    String modelSha256, String backend, String java, String arch, List<String> ensembleWith,
                    List<String> ensembleSha256) {

  /** Copies the lists and checks that every member has its SHA-256. */
  ShippedCheck {
    ensembleWith = List.copyOf(ensembleWith);
    ensembleSha256 = List.copyOf(ensembleSha256);
    if (ensembleWith.size() != ensembleSha256.size()) {
      throw new IllegalArgumentException("ensemble_with names " + ensembleWith.size() + " folders but"
          + " ensemble_model_sha256 has " + ensembleSha256.size() + " entries");
    }
  }

  /** What a check.json says it is. */
  static final String WHAT = "metagrad eval --record-check: the accuracy of this folder's model.safetensors on fixed"
      + " seeded episodes, reproduced by CI (ShippedModelsTest)";

  /**
   * The record of an evaluation.
   *
   * @param c the configuration evaluated (the run's with the command's test settings)
   * @param on test or val
   * @param seed the episodes' seed
   * @param shiftEnsemble the shift ensemble's radius
   * @param r the result
   * @param model the weights file evaluated
   * @param ensembleWith the other members' model folders (siblings of the model's folder), empty for none
   */
  static ShippedCheck of(TrainConfig c, String on, long seed, int shiftEnsemble, EvalResult r, Path model,
                         List<Path> ensembleWith) {
    int perEpisode = c.testWays() * c.testQueries();
    long correct = 0;
    for (double a : r.accuracies()) {
      correct += Math.round(a * perEpisode);
    }
    boolean transfer = c.algorithm() == Algorithm.TRANSFER;
    return new ShippedCheck(c.algorithm().cliName(), c.split(), on, c.grouping(), c.testWays(), c.testShots(),
        c.testQueries(), r.episodes(), seed, c.algorithm().gradientBased() ? c.testInnerSteps() : null,
        transfer ? c.finetuneSteps() : null, transfer ? c.finetuneLr() : null, shiftEnsemble, r.mean(), correct,
        r.accuracies().clone(), sha256(model), org.metagrad.Metagrad.cpuBackend().name(),
        System.getProperty("java.version"), System.getProperty("os.arch"),
        ensembleWith.stream().map(p -> p.toAbsolutePath().normalize().getFileName().toString()).toList(),
        ensembleWith.stream().map(p -> sha256(p.resolve(ExportCommand.MODEL))).toList());
  }

  /** The queries over all episodes. */
  long totalQueries() {
    return (long) episodes * ways * queries;
  }

  /**
   * The options of {@code metagrad eval} (after {@code --run DIR}) that evaluate these episodes again: every
   * setting given explicitly, so that the result does not depend on the run's defaults.
   *
   * @param models the folder holding the model folders, against which the ensemble's members are resolved; null
   *     to name them as they are recorded (relative to that folder)
   */
  List<String> evalArgs(Path models) {
    List<String> a = new ArrayList<>(List.of("--on", classes, "--grouping", grouping.name(), "--ways",
        Integer.toString(ways), "--shots", Integer.toString(shots), "--queries", Integer.toString(queries),
        "--episodes", Integer.toString(episodes), "--seed", Long.toString(seed)));
    if (testInnerSteps != null) {
      a.addAll(List.of("--test-inner-steps", testInnerSteps.toString()));
    }
    if (finetuneSteps != null) {
      a.addAll(List.of("--finetune-steps", finetuneSteps.toString()));
    }
    if (finetuneLr != null) {
      a.addAll(List.of("--finetune-lr", Double.toString(finetuneLr)));
    }
    if (shiftEnsemble > 0) {
      a.addAll(List.of("--shift-ensemble", Integer.toString(shiftEnsemble)));
    }
    for (String member : ensembleWith) {
      a.addAll(List.of("--ensemble-with", models == null ? member : models.resolve(member).toString()));
    }
    return a;
  }

  /** The entries of check.json, in order. */
  Map<String, Object> toMap(String folderName) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("what", WHAT);
    m.put("command", "metagrad eval --run " + folderName + " " + String.join(" ", evalArgs(null)) + " --record-check");
    m.put("algorithm", algorithm);
    m.put("split", split);
    m.put("classes", classes);
    m.put("grouping", grouping.name());
    m.put("ways", ways);
    m.put("shots", shots);
    m.put("queries", queries);
    m.put("episodes", episodes);
    m.put("seed", seed);
    if (testInnerSteps != null) {
      m.put("test_inner_steps", testInnerSteps);
    }
    if (finetuneSteps != null) {
      m.put("finetune_steps", finetuneSteps);
    }
    if (finetuneLr != null) {
      m.put("finetune_lr", finetuneLr);
    }
    m.put("shift_ensemble_radius", shiftEnsemble);
    m.put("accuracy", accuracy);
    m.put("correct", correct);
    m.put("total_queries", totalQueries());
    m.put("model_sha256", modelSha256);
    m.put("backend", backend);
    m.put("java", java);
    m.put("arch", arch);
    if (!ensembleWith.isEmpty()) {
      m.put("ensemble_with", ensembleWith);
      m.put("ensemble_model_sha256", ensembleSha256);
    }
    m.put("episode_accuracies", episodeAccuracies);
    return m;
  }

  /** Writes {@code dir/check.json} atomically. */
  static void write(Path dir, ShippedCheck check) {
    Path f = dir.resolve(ExportCommand.CHECK);
    String name = dir.toAbsolutePath().normalize().getFileName().toString();
    try {
      AtomicFiles.write(f, Json.object(check.toMap(name)).getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + f + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads a check.json.
   *
   * @throws IllegalArgumentException naming the file and the missing or malformed entry
   */
  static ShippedCheck read(Path file) {
    Map<String, Object> m;
    try {
      m = JsonDocuments.object(Files.readString(file), file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (CheckpointException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    try {
      Object accs = m.get("episode_accuracies");
      if (!(accs instanceof List<?> l)) {
        throw new IllegalArgumentException("entry 'episode_accuracies' must be an array");
      }
      double[] a = new double[l.size()];
      for (int i = 0; i < a.length; i++) {
        a[i] = Double.parseDouble(String.valueOf(l.get(i)));
      }
      return new ShippedCheck(text(m, "algorithm"), text(m, "split"), text(m, "classes"),
          ClassGrouping.valueOf(text(m, "grouping").toUpperCase(Locale.ROOT)), (int) integer(m, "ways"),
          (int) integer(m, "shots"), (int) integer(m, "queries"), (int) integer(m, "episodes"), integer(m, "seed"),
          m.containsKey("test_inner_steps") ? (int) integer(m, "test_inner_steps") : null,
          m.containsKey("finetune_steps") ? (int) integer(m, "finetune_steps") : null,
          m.containsKey("finetune_lr") ? real(m, "finetune_lr") : null, (int) integer(m, "shift_ensemble_radius"),
          real(m, "accuracy"), integer(m, "correct"), a, text(m, "model_sha256"), text(m, "backend"),
          text(m, "java"), text(m, "arch"), texts(m, "ensemble_with"), texts(m, "ensemble_model_sha256"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  private static Object entry(Map<String, Object> m, String key) {
    Object v = m.get(key);
    if (v == null || v == JsonDocuments.NULL) {
      throw new IllegalArgumentException("missing entry '" + key + "'");
    }
    return v;
  }

  private static String text(Map<String, Object> m, String key) {
    if (!(entry(m, key) instanceof String s)) {
      throw new IllegalArgumentException("entry '" + key + "' must be a string");
    }
    return s;
  }

  /** An optional array of strings (absent: empty); a member name must be a plain folder name. */
  private static List<String> texts(Map<String, Object> m, String key) {
    Object v = m.get(key);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> l)) {
      throw new IllegalArgumentException("entry '" + key + "' must be an array of strings");
    }
    List<String> out = new ArrayList<>();
    for (Object o : l) {
      if (!(o instanceof String t) || t.isEmpty() || t.contains("/") || t.contains("\\") || t.equals("..")
          || t.equals(".")) {
        throw new IllegalArgumentException("entry '" + key + "' must hold plain names (a model folder beside this"
            + " one, a SHA-256), got '" + o + "'");
      }
      out.add(t);
    }
    return out;
  }

  private static long integer(Map<String, Object> m, String key) {
    if (!(entry(m, key) instanceof Long v)) {
      throw new IllegalArgumentException("entry '" + key + "' must be an integer");
    }
    return v;
  }

  private static double real(Map<String, Object> m, String key) {
    Object v = entry(m, key);
    try {
      return Double.parseDouble(v.toString());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("entry '" + key + "' must be a number, got '" + v + "'", e);
    }
  }

  /** The SHA-256 of a file, lower-case hex. */
  static String sha256(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        d.update(buf, 0, n);
      }
      StringBuilder sb = new StringBuilder();
      for (byte b : d.digest()) {
        sb.append(String.format(Locale.ROOT, "%02x", b));
      }
      return sb.toString();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
