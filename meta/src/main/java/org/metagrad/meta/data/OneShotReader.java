package org.metagrad.meta.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads Lake et al.'s one-shot challenge runs: a folder of {@code runNN/} folders, each with
 * {@code training/classMM.png}, {@code test/itemNN.png} and {@code class_labels.txt}.
 *
 * <p>{@code class_labels.txt} has one line per test item, two whitespace-separated paths,
 * {@code "<run>/test/itemNN.png <run>/training/classMM.png"}: the item and its correct class. The
 * {@code <run>/} prefix is optional (both forms occur), backslashes are accepted as separators,
 * blank lines are ignored. Every test image must appear exactly once and every path must name an
 * existing file of the run, and every training image must be the answer of exactly one test image;
 * otherwise {@link IllegalArgumentException} names the file and line. {@code training/} and
 * {@code test/} hold nothing but regular {@code .png} files (hidden files aside): anything else there,
 * a FIFO included, is an error naming it rather than skipped.
 * Images get the same preprocessing as {@link OmniglotReader#preprocess}.
 *
 * <pre>{@code
 * List<OneShotRun> runs = OneShotReader.readAll(DataPaths.omniglotOneShot(), 28);
 * }</pre>
 */
public final class OneShotReader {

  /** Name of the answer file inside a run folder. */
  public static final String LABELS = "class_labels.txt";

  private OneShotReader() {}

  /**
   * Reads every {@code run*} folder of {@code folder}, sorted by name.
   *
   * @param folder the folder holding the runs
   * @param side output image side, e.g. 28
   * @return the runs, at least one
   * @throws IllegalArgumentException when the folder is missing, holds no run, or a run is malformed
   * @throws UncheckedIOException when a file cannot be read or decoded
   */
  public static List<OneShotRun> readAll(Path folder, int side) {
    return readAll(folder, side, Framing.NONE);
  }

  /**
   * As {@link #readAll(Path, int)}, framing every drawing first (as the model's training did).
   *
   * @param folder the folder holding the runs
   * @param side output image side, e.g. 28
   * @param framing how each drawing is placed on its canvas before the resize
   * @return the runs, at least one
   * @throws IllegalArgumentException when the folder is missing, holds no run, or a run is malformed
   * @throws UncheckedIOException when a file cannot be read or decoded
   */
  public static List<OneShotRun> readAll(Path folder, int side, Framing framing) {
    if (!Files.isDirectory(folder)) {
      throw new IllegalArgumentException("one-shot runs folder not found: " + folder);
    }
    List<Path> runs = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(folder, "run*")) {
      for (Path p : ds) {
        if (Files.isDirectory(p)) {
          runs.add(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list one-shot runs folder " + folder, e);
    }
    if (runs.isEmpty()) {
      throw new IllegalArgumentException("one-shot runs folder " + folder + " holds no run* folder");
    }
    runs.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
    List<OneShotRun> out = new ArrayList<>();
    for (Path r : runs) {
      out.add(readRun(r, side, framing));
    }
    return out;
  }

  /**
   * Reads one run folder.
   *
   * @param runDir e.g. {@code .../omniglot-oneshot/run01}
   * @param side output image side
   * @return the run
   * @throws IllegalArgumentException when a part is missing or {@code class_labels.txt} is malformed
   * @throws UncheckedIOException when a file cannot be read or decoded
   */
  public static OneShotRun readRun(Path runDir, int side) {
    return readRun(runDir, side, Framing.NONE);
  }

  /**
   * As {@link #readRun(Path, int)}, framing every drawing first.
   *
   * @param runDir e.g. {@code .../omniglot-oneshot/run01}
   * @param side output image side
   * @param framing how each drawing is placed on its canvas before the resize
   * @return the run
   * @throws IllegalArgumentException when a part is missing or {@code class_labels.txt} is malformed
   * @throws UncheckedIOException when a file cannot be read or decoded
   */
  public static OneShotRun readRun(Path runDir, int side, Framing framing) {
    if (side <= 0) {
      throw new IllegalArgumentException("OneShotReader: side must be positive, got " + side);
    }
    String name = runDir.getFileName().toString();
    List<String> trainingFiles = pngs(runDir.resolve("training"));
    List<String> testFiles = pngs(runDir.resolve("test"));
    Path labels = runDir.resolve(LABELS);
    if (!Files.exists(labels)) {
      throw new IllegalArgumentException("one-shot run " + runDir + " has no " + LABELS);
    }
    DataPaths.requireRegularFile(labels, "one-shot answer file");
    List<String> lines;
    try {
      lines = Files.readAllLines(labels, StandardCharsets.UTF_8);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalArgumentException("one-shot run " + runDir + " has no " + LABELS, e);
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new IllegalArgumentException(labels + " is not UTF-8 text (expected lines of"
          + " 'test/itemNN.png training/classMM.png')", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + labels + ": " + e.getMessage(), e);
    }
    int[] answers = parseLabels(lines, name, trainingFiles, testFiles, labels);
    int p = side * side;
    float[] training = new float[trainingFiles.size() * p];
    for (int i = 0; i < trainingFiles.size(); i++) {
      Path f = runDir.resolve("training").resolve(trainingFiles.get(i));
      System.arraycopy(OmniglotReader.preprocess(f, side, framing), 0, training, i * p, p);
    }
    float[] test = new float[testFiles.size() * p];
    for (int t = 0; t < testFiles.size(); t++) {
      Path f = runDir.resolve("test").resolve(testFiles.get(t));
      System.arraycopy(OmniglotReader.preprocess(f, side, framing), 0, test, t * p, p);
    }
    return new OneShotRun(name, side, trainingFiles, training, testFiles, test, answers);
  }

  /**
   * Parses the lines of a {@code class_labels.txt} into, for each test file, its training index.
   *
   * @throws IllegalArgumentException naming {@code file} and the line when the content is malformed
   */
  static int[] parseLabels(List<String> lines, String runName, List<String> trainingFiles,
      List<String> testFiles, Path file) {
    Map<String, Integer> trainIdx = indexOf(trainingFiles);
    Map<String, Integer> testIdx = indexOf(testFiles);
    int[] answers = new int[testFiles.size()];
    java.util.Arrays.fill(answers, -1);
    for (int ln = 0; ln < lines.size(); ln++) {
      String line = lines.get(ln).strip();
      if (line.isEmpty()) {
        continue;
      }
      String where = file + " line " + (ln + 1);
      String[] tok = line.split("\\s+");
      if (tok.length != 2) {
        throw new IllegalArgumentException(
            where + ": expected two paths '" + runName + "/test/itemNN.png " + runName
                + "/training/classMM.png', got '" + line + "'");
      }
      String item = fileIn(tok[0], "test", runName, where);
      String cls = fileIn(tok[1], "training", runName, where);
      Integer t = testIdx.get(item);
      if (t == null) {
        throw new IllegalArgumentException(where + ": test image " + item + " does not exist in test/");
      }
      Integer c = trainIdx.get(cls);
      if (c == null) {
        throw new IllegalArgumentException(where + ": training image " + cls + " does not exist in training/");
      }
      if (answers[t] >= 0) {
        throw new IllegalArgumentException(where + ": test image " + item + " is labelled twice");
      }
      answers[t] = c;
    }
    for (int t = 0; t < answers.length; t++) {
      if (answers[t] < 0) {
        throw new IllegalArgumentException(file + ": no label for test image " + testFiles.get(t));
      }
    }
    // Each training class is the answer of exactly one test item (the format: "one example of each of 20
    // characters" and "a new drawing of each of the same characters"); an unlabelled extra class would
    // silently make the task wider (an extra class21.png: 21-way).
    int[] uses = new int[trainingFiles.size()];
    for (int a : answers) {
      uses[a]++;
    }
    for (int c = 0; c < uses.length; c++) {
      if (uses[c] == 0) {
        throw new IllegalArgumentException(file + ": training image training/" + trainingFiles.get(c)
            + " is the answer of no test image (each training class must be the answer of exactly one;"
            + " remove the image or label it)");
      }
    }
    for (int c = 0; c < uses.length; c++) {
      if (uses[c] > 1) {
        throw new IllegalArgumentException(file + ": training image training/" + trainingFiles.get(c)
            + " is the answer of " + uses[c] + " test images (each training class must be the answer of"
            + " exactly one)");
      }
    }
    return answers;
  }

  /** Strips an optional run prefix and checks the path is {@code <folder>/<file>}. */
  private static String fileIn(String token, String folder, String runName, String where) {
    String path = token.replace('\\', '/');
    if (path.startsWith(runName + "/")) {
      path = path.substring(runName.length() + 1);
    }
    if (!path.startsWith(folder + "/") || path.indexOf('/', folder.length() + 1) >= 0
        || path.length() == folder.length() + 1) {
      throw new IllegalArgumentException(
          where + ": expected a path of the form [" + runName + "/]" + folder + "/<file>.png, got '"
              + token + "'");
    }
    return path.substring(folder.length() + 1);
  }

  private static Map<String, Integer> indexOf(List<String> names) {
    Map<String, Integer> m = new HashMap<>();
    for (int i = 0; i < names.size(); i++) {
      m.put(names.get(i), i);
    }
    return m;
  }

  private static List<String> pngs(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("one-shot run folder not found: " + dir);
    }
    List<String> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (n.startsWith(".")) {
          continue;
        }
        // anything else is an error, not skipped: a run is exactly its images (see the class comment)
        if (!n.toLowerCase(Locale.ROOT).endsWith(".png")) {
          throw new IllegalArgumentException("one-shot run folder " + dir + " holds " + p
              + ", which is not a .png image (a run holds training/classNN.png, test/itemNN.png and "
              + LABELS + " only)");
        }
        out.add(n);
        DataPaths.requireRegularFile(p, "one-shot image");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("one-shot run folder " + dir + " holds no .png image");
    }
    out.sort(null);
    return out;
  }
}
