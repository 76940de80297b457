package org.metagrad.meta.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads and writes the training log {@code metrics.csv}: header
 * {@code iteration,loss,accuracy,lr,val_accuracy,seconds}, one {@link MetaTrainer.Row} per line, NaN written
 * as an empty field. Writes go to a temporary file that is then moved into place, so a crash never leaves
 * a half-written log beside a valid checkpoint.
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
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, sb.toString());
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("metrics: cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The rows of a log with {@code iteration <= upTo}; an empty list if the file does not exist.
   *
   * @throws UncheckedIOException when the file exists but cannot be read
   * @throws IllegalArgumentException when a line is malformed (naming the file and line)
   */
  public static List<MetaTrainer.Row> readCsv(Path file, long upTo) {
    List<MetaTrainer.Row> rows = new ArrayList<>();
    if (!Files.exists(file)) {
      return rows;
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
