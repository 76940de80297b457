package org.metagrad.meta.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line text progress bar for long runs, redrawn in place with a carriage return:
 * {@code train [########------------]  40%  800/2000  3.1 it/s  ETA 6m27s  loss 0.412  acc 0.872}.
 * Redraws at most every {@code minIntervalMillis} (and always on the last step), so it costs nothing
 * measurable; meant for {@code System.err} so that stdout stays clean for results.
 *
 * <pre>{@code
 * ProgressBar bar = new ProgressBar(System.err, "train", 2000);
 * bar.update(k, "loss 0.41  acc 0.87");
 * bar.finish();
 * }</pre>
 */
public final class ProgressBar {
  private static final int WIDTH = 24;

  private final PrintStream out;
  private final String label;
  private final long total;
  private final long minIntervalNanos;
  private final long t0 = System.nanoTime();
  private long startCount = -1;
  private long lastDraw;
  private int lastLength;

  /**
   * A bar for {@code total} steps, redrawn at most 4 times a second.
   *
   * @param out where to draw (typically {@code System.err})
   * @param label a word in front of the bar
   * @param total the number of steps, >= 1
   */
  public ProgressBar(PrintStream out, String label, long total) {
    this(out, label, total, 250);
  }

  /**
   * A bar with a chosen redraw interval.
   *
   * @param out where to draw
   * @param label a word in front of the bar
   * @param total the number of steps, >= 1
   * @param minIntervalMillis least time between redraws
   */
  public ProgressBar(PrintStream out, String label, long total, long minIntervalMillis) {
    if (total < 1) {
      throw new IllegalArgumentException("ProgressBar: total must be >= 1, got " + total);
    }
    this.out = out;
    this.label = label;
    this.total = total;
    this.minIntervalNanos = minIntervalMillis * 1_000_000L;
  }

  /**
   * Records that {@code done} of the total steps are complete and redraws if due. The rate and ETA count
   * only the steps done since the first call (a resumed run does not count its earlier session).
   *
   * @param done completed steps, 0..total
   * @param extra text after the ETA (running loss and accuracy), may be empty
   */
  public void update(long done, String extra) {
    long now = System.nanoTime();
    if (startCount < 0) {
      startCount = done;
    }
    if (done < total && now - lastDraw < minIntervalNanos) {
      return;
    }
    lastDraw = now;
    out.print("\r" + render(done, (now - t0) / 1e9, extra));
    out.flush();
  }

  /** Ends the line (call once after the last update). */
  public void finish() {
    out.println();
    out.flush();
  }

  /** The text of the bar for {@code done} steps after {@code seconds} (package-private for tests). */
  String render(long done, double seconds, String extra) {
    double frac = Math.min(1.0, Math.max(0.0, (double) done / total));
    int filled = (int) Math.round(frac * WIDTH);
    long counted = Math.max(0, done - Math.max(0, startCount));
    double rate = seconds > 0 ? counted / seconds : 0;
    String eta = rate > 0 ? duration((total - done) / rate) : "?";
    String s = String.format(Locale.ROOT, "%s [%s%s] %3d%%  %d/%d  %.2f it/s  ETA %s  %s", label,
        "#".repeat(filled), "-".repeat(WIDTH - filled), Math.round(frac * 100), done, total, rate, eta,
        extra == null ? "" : extra).stripTrailing();
    // Pad over a longer previous line so no stale characters remain after the carriage return.
    int pad = Math.max(0, lastLength - s.length());
    lastLength = s.length();
    return s + " ".repeat(pad);
  }

  /** A duration as {@code 1h02m}, {@code 6m27s} or {@code 42s}. */
  static String duration(double seconds) {
    long s = Math.round(seconds);
    if (s >= 3600) {
      return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
    if (s >= 60) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    return s + "s";
  }
}
