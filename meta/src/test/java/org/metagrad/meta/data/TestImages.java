package org.metagrad.meta.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Test helpers: writing 1-bit PNGs like Omniglot's and a JVM-wide reader on the real data. */
final class TestImages {

  private static OmniglotReader shared;

  private TestImages() {}

  /** One reader per test JVM so the real data is decoded once; fails when METAGRAD_DATA is unset. */
  static synchronized OmniglotReader sharedReader() {
    if (shared == null) {
      shared = OmniglotReader.fromEnvironment();
    }
    return shared;
  }

  /** Writes a 1-bit black-on-white PNG of size w x h, black where {@code ink.test(x, y)}. */
  static Path writeBinaryPng(Path file, int w, int h, InkPattern ink) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_BINARY);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.getRaster().setSample(x, y, 0, ink.black(x, y) ? 0 : 1);
      }
    }
    try {
      Files.createDirectories(file.getParent());
      if (!ImageIO.write(img, "png", file.toFile())) {
        throw new IllegalStateException("no PNG writer");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  /** Which pixels are black. */
  @FunctionalInterface
  interface InkPattern {
    boolean black(int x, int y);
  }

  /** Number of black pixels, counted through BufferedImage.getRGB (independent of Images). */
  static int blackPixels(Path png) throws IOException {
    BufferedImage img = ImageIO.read(png.toFile());
    int n = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        if ((img.getRGB(x, y) & 0xffffff) == 0) {
          n++;
        }
      }
    }
    return n;
  }

  /**
   * Direct 2-D area average of output pixel (oy, ox) of a square src->dst resize: the sum over all
   * source pixels of (overlap area with the output footprint) * value / footprint area.
   */
  static double directAreaPixel(float[] src, int srcSide, int dstSide, int oy, int ox) {
    double s = (double) srcSide / dstSide;
    double y0 = oy * s;
    double y1 = (oy + 1) * s;
    double x0 = ox * s;
    double x1 = (ox + 1) * s;
    double acc = 0;
    for (int y = 0; y < srcSide; y++) {
      double oyLen = Math.max(0, Math.min(y + 1, y1) - Math.max(y, y0));
      for (int x = 0; x < srcSide; x++) {
        double oxLen = Math.max(0, Math.min(x + 1, x1) - Math.max(x, x0));
        acc += oyLen * oxLen * src[y * srcSide + x];
      }
    }
    return acc / (s * s);
  }

  static double sum(float[] a) {
    double s = 0;
    for (float f : a) {
      s += f;
    }
    return s;
  }
}
