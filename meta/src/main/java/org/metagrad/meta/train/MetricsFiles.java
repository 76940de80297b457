package org.metagrad.meta.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.metagrad.nn.io.AtomicFiles;

/**
 * Reads and writes the training log {@code metrics.csv}: header
 * {@code iteration,loss,accuracy,lr,val_accuracy,seconds}, one {@link MetaTrainer.Row} per line, NaN written
 * as an empty field. Writes replace the file atomically and durably ({@link AtomicFiles#write}: temporary
 * file, fsync, rename), so a crash never leaves a half-written log.
 *
 * <pre>{@code MetricsFiles.writeCsv(dir.resolve("metrics.csv"), result.history()); }</pre>
 */
public final class MetricsFiles {
  /** The CSV header line. */
  public static final String HEADER = "iteration,loss,accuracy,lr,val_accuracy,seconds";

  private MetricsFiles() {}

  /**
   * Writes all rows (atomically replacing the file).
   *
   * @throws UncheckedIOException when the file cannot be written
   */
  public static void writeCsv(Path file, List<MetaTrainer.Row> rows) {
    StringBuilder sb = new StringBuilder(HEADER).append('\n');
    for (MetaTrainer.Row r : rows) {
      sb.append(r.iteration()).append(',').append(num(r.loss())).append(',').append(num(r.accuracy())).append(',')
          .append(num(r.lr())).append(',').append(num(r.valAccuracy())).append(',')
          .append(String.format(Locale.ROOT, "%.3f", r.seconds())).append('\n');
    }
    try {
      AtomicFiles.write(file, sb.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("metrics: cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The rows of a log with {@code iteration <= upTo}; an empty list if the file does not exist.
   *
   * @throws UncheckedIOException when the file exists but cannot be read
   * @throws IllegalArgumentException when the file is not a regular file or a line is malformed (naming the
   *     file and line)
   */
  public static List<MetaTrainer.Row> readCsv(Path file, long upTo) {
    List<MetaTrainer.Row> rows = new ArrayList<>();
    if (!Files.exists(file)) {
      return rows;
    }
    if (!Files.isRegularFile(file)) {
      // A FIFO would block the read forever; a directory or device is not a log.
      throw new IllegalArgumentException("metrics: " + file + " is not a regular file");
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException("metrics: cannot read " + file + ": " + e.getMessage(), e);
    }
    for (int i = 1; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.split(",", -1);
      if (f.length != 6) {
        throw new IllegalArgumentException("metrics: " + file + " line " + (i + 1) + " has " + f.length
            + " fields, expected 6 (" + HEADER + ")");
      }
      try {
        MetaTrainer.Row r = new MetaTrainer.Row(Long.parseLong(f[0]), parse(f[1]), parse(f[2]), parse(f[3]),
            parse(f[4]), parse(f[5]));
        if (r.iteration() <= upTo) {
          rows.add(r);
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("metrics: " + file + " line " + (i + 1) + " is not numeric: " + line, e);
      }
    }
    return rows;
  }

  /** A number for CSV/JSON: shortest round-trip form, empty for NaN. */
  static String num(double v) {
    return Double.isNaN(v) ? "" : Double.toString(v);
  }

  private static double parse(String s) {
    return s.isEmpty() ? Double.NaN : Double.parseDouble(s);
  }
}
