package org.metagrad.meta.data;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Locates the data sets through the single documented setting, the environment variable
 * {@value #ENV}.
 *
 * <p>{@value #ENV} must name a folder that holds {@code omniglot/} (the standard
 * {@code images_background}/{@code images_evaluation} layout) and {@code omniglot-oneshot/}
 * (Lake et al.'s runs). In this repository's CI it is the absolute path of {@code ../shared/data}.
 * Every method throws {@link IllegalStateException} with a message saying what to set when the
 * variable is unset or points at the wrong place; nothing falls back silently.
 */
public final class DataPaths {

  /** Name of the environment variable that points at the data folder. */
  public static final String ENV = "METAGRAD_DATA";

  private static final String HINT =
      "set " + ENV + " to the folder holding omniglot/ and omniglot-oneshot/"
          + " (for example: export " + ENV + "=/abs/path/to/shared/data)";

  private DataPaths() {}

  /**
   * Returns the data root named by {@value #ENV}.
   *
   * @return an existing directory
   * @throws IllegalStateException when the variable is unset, blank, or not a directory
   */
  public static Path root() {
    return root(System.getenv(ENV));
  }

  /**
   * Returns {@code root()/omniglot}, the Omniglot images folder.
   *
   * @return an existing directory holding {@code images_background/} and {@code images_evaluation/}
   * @throws IllegalStateException when {@value #ENV} is unusable or the folder is missing
   */
  public static Path omniglot() {
    return child(root(), "omniglot");
  }

  /**
   * Returns {@code root()/omniglot-oneshot}, the folder of Lake et al.'s one-shot runs.
   *
   * @return an existing directory holding {@code runNN/} folders
   * @throws IllegalStateException when {@value #ENV} is unusable or the folder is missing
   */
  public static Path omniglotOneShot() {
    return child(root(), "omniglot-oneshot");
  }

  /** Resolves a raw variable value; package-private so that tests can exercise the failures. */
  static Path root(String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(ENV + " is not set: " + HINT);
    }
    Path p;
    try {
      p = Path.of(value.trim());
    } catch (InvalidPathException e) {
      throw new IllegalStateException(ENV + "=" + value + " is not a valid path: " + HINT, e);
    }
    if (!Files.isDirectory(p)) {
      throw new IllegalStateException(ENV + "=" + value + " is not an existing directory: " + HINT);
    }
    return p.toAbsolutePath();
  }

  /**
   * Checks that {@code file} is an existing regular file (or a link to one) before a reader opens it.
   * Opening a FIFO for reading blocks until some process writes to it, so a command handed one would hang;
   * a device or a folder is no data file either. Readers call this first so that such a path fails at once
   * with its name.
   *
   * @param file the file about to be read
   * @param what what the file is, for the message, e.g. {@code "image"}
   * @return {@code file}
   * @throws IllegalArgumentException "{@code <what> not found: <file>}" or
   *     "{@code <what> <file> is not a regular file (...)}"
   */
  public static Path requireRegularFile(Path file, String what) {
    if (!Files.exists(file)) {
      throw new IllegalArgumentException(what + " not found: " + file);
    }
    if (!Files.isRegularFile(file)) {
      String kind = Files.isDirectory(file) ? "a folder" : "a FIFO, socket or device";
      throw new IllegalArgumentException(what + " " + file + " is not a regular file (it is " + kind
          + "; only plain files are read)");
    }
    return file;
  }

  static Path child(Path root, String name) {
    Path p = root.resolve(name);
    if (!Files.isDirectory(p)) {
      throw new IllegalStateException(
          ENV + "=" + root + " has no " + name + "/ folder (looked for " + p + "): " + HINT);
    }
    return p;
  }
}
