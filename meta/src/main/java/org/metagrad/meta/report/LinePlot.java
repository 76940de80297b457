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
    for (int i = 0; i <= 5; i++) {
      double vx = minX + (maxX - minX) * i / 5;
      int px = left + pw * i / 5;
      g.setColor(new Color(230, 230, 230));
      g.drawLine(px, top + 1, px, top + ph - 1);
      g.setColor(Color.BLACK);
      g.drawString(fmt(vx), px - 15, top + ph + 16);
      double vy = minY + (maxY - minY) * i / 5;
      int py = top + ph - ph * i / 5;
      g.setColor(new Color(230, 230, 230));
      g.drawLine(left + 1, py, left + pw - 1, py);
      g.setColor(Color.BLACK);
      g.drawString(fmt(vy), 5, py + 4);
    }
    g.drawString(xLabel, left + pw / 2 - 20, h - 12);
    g.rotate(-Math.PI / 2);
    g.drawString(yLabel, -(top + ph / 2 + 20), 14);
    g.rotate(Math.PI / 2);
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
        prevX = px;
        prevY = py;
      }
      g.fillRect(left + pw - 180, top + 10 + si * 18, 14, 10);
      g.setColor(Color.BLACK);
      g.drawString(s.name(), left + pw - 160, top + 20 + si * 18);
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

  private static String fmt(double v) {
    double a = Math.abs(v);
    return a != 0 && (a < 1e-2 || a >= 1e4) ? String.format("%.1e", v) : String.format("%.2f", v);
  }
}
