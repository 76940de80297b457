package org.metagrad.meta.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A minimal line and scatter plot written as PNG with Java2D (headless), for learning curves and the
 * sine-wave fits: axes with tick labels, a legend, and one colour per series.
 *
 * <pre>{@code new LinePlot("loss", "step", "loss").line("train", xs, ys).write(Path.of("curve.png")); }</pre>
 */
public final class LinePlot {
  private static final Color[] COLORS = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
      new Color(214, 39, 40), new Color(148, 103, 189), new Color(140, 86, 75)};

  private record Series(String name, double[] x, double[] y, boolean points) {}

  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final List<Series> series = new ArrayList<>();
  private boolean logY;

  /** A plot with a title and axis labels. */
  public LinePlot(String title, String xLabel, String yLabel) {
    this.title = title;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
  }

  /** Adds a line series (x and y of equal length). */
  public LinePlot line(String name, double[] x, double[] y) {
    return add(new Series(name, x, y, false));
  }

  /** Adds a scatter series. */
  public LinePlot points(String name, double[] x, double[] y) {
    return add(new Series(name, x, y, true));
  }

  /**
   * Draws the y axis on a log10 scale (for loss curves spanning decades); non-positive values are left out,
   * tick labels show the values themselves. Returns this plot.
   */
  public LinePlot logY() {
    logY = true;
    return this;
  }

  private LinePlot add(Series s) {
    if (s.x().length != s.y().length) {
      throw new IllegalArgumentException("LinePlot: series '" + s.name() + "' has " + s.x().length + " x and "
          + s.y().length + " y values");
    }
    series.add(s);
    return this;
  }

  /** Renders 800x500 PNG atomically (temporary file, then rename). */
  public void write(Path file) {
    List<Series> series = this.series;
    if (logY) {
      series = new ArrayList<>();
      for (Series s : this.series) {
        double[] ly = new double[s.y().length];
        for (int i = 0; i < ly.length; i++) {
          ly[i] = s.y()[i] > 0 ? StrictMath.log10(s.y()[i]) : Double.NaN;
        }
        series.add(new Series(s.name(), s.x(), ly, s.points()));
      }
    }
    int w = 800;
    int h = 500;
    int left = 70;
    int right = 20;
    int top = 40;
    int bottom = 50;
    double minX = Double.POSITIVE_INFINITY;
    double maxX = Double.NEGATIVE_INFINITY;
    double minY = Double.POSITIVE_INFINITY;
    double maxY = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
          minX = Math.min(minX, s.x()[i]);
          maxX = Math.max(maxX, s.x()[i]);
          minY = Math.min(minY, s.y()[i]);
          maxY = Math.max(maxY, s.y()[i]);
        }
      }
    }
    if (!(minX <= maxX)) {
      minX = 0;
      maxX = 1;
      minY = 0;
      maxY = 1;
    }
    if (maxX == minX) {
      maxX = minX + 1;
    }
    if (maxY == minY) {
      maxY = minY + 1;
    }
    double padY = (maxY - minY) * 0.05;
    minY -= padY;
    maxY += padY;
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    g.drawString(title, left, 25);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    int pw = w - left - right;
    int ph = h - top - bottom;
    g.drawRect(left, top, pw, ph);
    // Ticks at round values (1, 2 or 5 times a power of ten) inside the data range.
    g.setColor(Color.BLACK);
    java.awt.FontMetrics fm = g.getFontMetrics();
    double[] xt = ticks(minX, maxX);
    for (int i = 1; i < xt.length; i++) {
      double vx = xt[i];
      int px = left + (int) Math.round((vx - minX) / (maxX - minX) * pw);
      g.setColor(new Color(230, 230, 230));
      g.drawLine(px, top + 1, px, top + ph - 1);
      g.setColor(Color.BLACK);
      String label = fmt(vx, xt[0]);
      g.drawString(label, px - fm.stringWidth(label) / 2, top + ph + 16);
    }
    double[] yt = ticks(minY, maxY);
    for (int i = 1; i < yt.length; i++) {
      double vy = yt[i];
      int py = top + ph - (int) Math.round((vy - minY) / (maxY - minY) * ph);
      g.setColor(new Color(230, 230, 230));
      g.drawLine(left + 1, py, left + pw - 1, py);
      g.setColor(Color.BLACK);
      String label = logY ? String.format(java.util.Locale.ROOT, "%.2g", StrictMath.pow(10, vy)) : fmt(vy, yt[0]);
      g.drawString(label, left - 6 - fm.stringWidth(label), py + 4);
    }
    g.drawString(xLabel, left + pw / 2 - fm.stringWidth(xLabel) / 2, h - 12);
    g.rotate(-Math.PI / 2);
    String yl = logY ? yLabel + " (log scale)" : yLabel;
    g.drawString(yl, -(top + ph / 2 + fm.stringWidth(yl) / 2), 14);
    g.rotate(Math.PI / 2);
    List<int[]> drawn = new ArrayList<>();
    for (int si = 0; si < series.size(); si++) {
      Series s = series.get(si);
      g.setColor(COLORS[si % COLORS.length]);
      g.setStroke(new BasicStroke(2f));
      int prevX = Integer.MIN_VALUE;
      int prevY = 0;
      for (int i = 0; i < s.x().length; i++) {
        if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i])) {
          prevX = Integer.MIN_VALUE;
          continue;
        }
        int px = left + (int) Math.round((s.x()[i] - minX) / (maxX - minX) * pw);
        int py = top + ph - (int) Math.round((s.y()[i] - minY) / (maxY - minY) * ph);
        if (s.points()) {
          g.fillOval(px - 4, py - 4, 8, 8);
        } else if (prevX != Integer.MIN_VALUE) {
          g.drawLine(prevX, prevY, px, py);
        }
        drawn.add(new int[] {px, py});
        prevX = px;
        prevY = py;
      }
    }
    // Legend on a white box in the corner of the plot that covers the fewest drawn points.
    int lw = 30;
    for (Series s : series) {
      lw = Math.max(lw, fm.stringWidth(s.name()) + 34);
    }
    int lh = 8 + 18 * series.size();
    int[][] corners = {{left + pw - lw - 8, top + 8}, {left + pw - lw - 8, top + ph - lh - 8},
        {left + 8, top + 8}, {left + 8, top + ph - lh - 8}};
    int[] best = corners[0];
    int fewest = Integer.MAX_VALUE;
    for (int[] c : corners) {
      int covered = 0;
      for (int[] d : drawn) {
        if (d[0] >= c[0] - 4 && d[0] <= c[0] + lw + 4 && d[1] >= c[1] - 4 && d[1] <= c[1] + lh + 4) {
          covered++;
        }
      }
      if (covered < fewest) {
        fewest = covered;
        best = c;
      }
    }
    g.setStroke(new BasicStroke(1f));
    g.setColor(Color.WHITE);
    g.fillRect(best[0], best[1], lw, lh);
    g.setColor(new Color(180, 180, 180));
    g.drawRect(best[0], best[1], lw, lh);
    for (int si = 0; si < series.size(); si++) {
      g.setColor(COLORS[si % COLORS.length]);
      int ly = best[1] + 8 + si * 18;
      if (series.get(si).points()) {
        g.fillOval(best[0] + 10, ly + 1, 9, 9);
      } else {
        g.fillRect(best[0] + 8, ly + 4, 16, 3);
      }
      g.setColor(Color.BLACK);
      g.drawString(series.get(si).name(), best[0] + 28, ly + 10);
    }
    g.dispose();
    try {
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
      try {
        ImageIO.write(img, "png", tmp.toFile());
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("LinePlot: cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Round tick values inside [lo, hi]: element 0 is the step (1, 2 or 5 times a power of ten, at most
   * eight ticks), the rest the ticks themselves.
   */
  static double[] ticks(double lo, double hi) {
    double span = hi - lo;
    double mag = StrictMath.pow(10, Math.floor(StrictMath.log10(span / 5)));
    double step = mag;
    for (double f : new double[] {1, 2, 5, 10}) {
      step = f * mag;
      if (span / step <= 8) {
        break;
      }
    }
    List<Double> t = new ArrayList<>();
    t.add(step);
    for (double v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      t.add(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    double[] r = new double[t.size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = t.get(i);
    }
    return r;
  }

  /** A tick label with as many decimals as the step needs (none for integer steps such as iterations). */
  static String fmt(double v, double step) {
    double a = Math.abs(v);
    if (a != 0 && (a < 1e-3 || a >= 1e6)) {
      return String.format(java.util.Locale.ROOT, "%.1e", v);
    }
    int decimals = Math.max(0, (int) Math.ceil(-StrictMath.log10(step) - 1e-9));
    return String.format(java.util.Locale.ROOT, "%." + decimals + "f", v);
  }
}
