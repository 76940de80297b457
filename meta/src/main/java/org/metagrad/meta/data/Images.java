package org.metagrad.meta.data;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Pixel operations on row-major {@code float[]} images: PNG decoding to an ink map, exact
 * area-averaging resize, and rotation by quarter turns.
 *
 * <p>All methods are stateless and thread-safe.
 */
public final class Images {

  private Images() {}

  /**
   * Decodes an image file (PNG or anything else {@link ImageIO} reads) into an ink map: 1.0 where
   * the image is black, 0.0 where it is white, {@code 1 - gray} in between.
   *
   * <p>Gray levels come from the colour model: 1-bit Omniglot PNGs (black strokes = 0 on white = 1)
   * give exactly 0.0 and 1.0; palette images use their palette; colour images use the mean of R, G
   * and B. Alpha is ignored. Result layout: {@code ink[y * width + x]}.
   *
   * @param file the image file
   * @param width the required width in pixels
   * @param height the required height in pixels
   * @return {@code width * height} floats in [0, 1]
   * @throws UncheckedIOException when the file cannot be read or decoded (message names the file)
   * @throws IllegalArgumentException when the image does not have the required size
   */
  public static float[] readInk(Path file, int width, int height) {
    if (!Files.isRegularFile(file)) {
      throw new UncheckedIOException(new IOException("image file not found or not a file: " + file));
    }
    BufferedImage img;
    try {
      img = ImageIO.read(file.toFile());
    } catch (IOException | RuntimeException e) {
      // ImageIO reports truncated or corrupt PNG data either way, depending on where it breaks.
      IOException io = e instanceof IOException ioe ? ioe : new IOException(e);
      throw new UncheckedIOException("cannot decode image " + file + ": " + e.getMessage(), io);
    }
    if (img == null) {
      throw new UncheckedIOException(
          new IOException("cannot decode image " + file + ": not a PNG or other format ImageIO reads"));
    }
    if (img.getWidth() != width || img.getHeight() != height) {
      throw new IllegalArgumentException(
          "image " + file + " is " + img.getWidth() + "x" + img.getHeight() + " pixels, expected "
              + width + "x" + height);
    }
    return inkOf(img);
  }

  /** Converts a decoded image to ink = 1 - gray, row-major. */
  static float[] inkOf(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    float[] ink = new float[w * h];
    Raster raster = img.getRaster();
    ColorModel cm = img.getColorModel();
    float[] lut = null;
    if (raster.getNumBands() == 1) {
      if (cm instanceof IndexColorModel icm) {
        lut = new float[icm.getMapSize()];
        for (int i = 0; i < lut.length; i++) {
          lut[i] = 1f - (icm.getRed(i) + icm.getGreen(i) + icm.getBlue(i)) / 765f;
        }
      } else {
        int bits = raster.getSampleModel().getSampleSize(0);
        if (bits <= 16) {
          lut = new float[1 << bits];
          float max = (1 << bits) - 1;
          for (int i = 0; i < lut.length; i++) {
            lut[i] = 1f - i / max;
          }
        }
      }
    }
    if (lut != null) {
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        raster.getSamples(0, y, w, 1, 0, row);
        for (int x = 0; x < w; x++) {
          ink[y * w + x] = lut[row[x]];
        }
      }
    } else {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int rgb = img.getRGB(x, y);
          int sum = ((rgb >> 16) & 0xff) + ((rgb >> 8) & 0xff) + (rgb & 0xff);
          ink[y * w + x] = 1f - sum / 765f;
        }
      }
    }
    return ink;
  }

  /**
   * Resizes by exact area averaging (a box filter over each output pixel's fractional footprint).
   *
   * <p>Output pixel {@code (y, x)} covers the source rectangle
   * {@code [y*sy, (y+1)*sy) x [x*sx, (x+1)*sx)} with {@code sy = srcH/dstH}, {@code sx = srcW/dstW};
   * its value is the mean of the piecewise-constant source over that rectangle, each source pixel
   * weighted by its overlap area. This is the same filter as PIL's {@code Image.BOX} and OpenCV's
   * {@code INTER_AREA}; it is anti-aliased, exactly mass-preserving
   * ({@code sum(dst) = sum(src) * dstW*dstH / (srcW*srcH)}) and linear, so inverting before or
   * after resizing gives the same result. Example: 105 x 105 to 28 x 28 averages 3.75 x 3.75 source
   * pixels per output pixel.
   *
   * @param src row-major source, {@code srcH * srcW} floats
   * @param srcH source height
   * @param srcW source width
   * @param dstH output height
   * @param dstW output width
   * @return row-major {@code dstH * dstW} floats; values stay within the source's range up to
   *     float rounding
   * @throws IllegalArgumentException when a size is not positive or {@code src} has the wrong length
   */
  public static float[] resizeArea(float[] src, int srcH, int srcW, int dstH, int dstW) {
    if (srcH <= 0 || srcW <= 0 || dstH <= 0 || dstW <= 0) {
      throw new IllegalArgumentException(
          "resizeArea: sizes must be positive, got " + srcH + "x" + srcW + " -> " + dstH + "x" + dstW);
    }
    if (src.length != srcH * srcW) {
      throw new IllegalArgumentException(
          "resizeArea: source has " + src.length + " floats, expected " + srcH + "*" + srcW);
    }
    Footprint fy = Footprint.of(srcH, dstH);
    Footprint fx = Footprint.of(srcW, dstW);
    // Columns first: tmp[i][x] = sum_k wx[x][k] * src[i][k]; then rows.
    double[] tmp = new double[srcH * dstW];
    for (int i = 0; i < srcH; i++) {
      int rowOff = i * srcW;
      for (int x = 0; x < dstW; x++) {
        double acc = 0;
        int k0 = fx.first[x];
        double[] w = fx.weights[x];
        for (int t = 0; t < w.length; t++) {
          acc += w[t] * src[rowOff + k0 + t];
        }
        tmp[i * dstW + x] = acc;
      }
    }
    float[] dst = new float[dstH * dstW];
    for (int y = 0; y < dstH; y++) {
      int i0 = fy.first[y];
      double[] w = fy.weights[y];
      for (int x = 0; x < dstW; x++) {
        double acc = 0;
        for (int t = 0; t < w.length; t++) {
          acc += w[t] * tmp[(i0 + t) * dstW + x];
        }
        dst[y * dstW + x] = (float) acc;
      }
    }
    return dst;
  }

  /**
   * Rotates a square image counter-clockwise by {@code quarterTurns * 90} degrees (as
   * {@code numpy.rot90(img, quarterTurns)}): for one turn, {@code out[y][x] = in[x][side-1-y]}.
   *
   * @param img row-major {@code side * side} floats
   * @param side the image's side
   * @param quarterTurns any integer; taken modulo 4
   * @return a new rotated image
   * @throws IllegalArgumentException when {@code img.length != side * side}
   */
  public static float[] rotate(float[] img, int side, int quarterTurns) {
    if (side < 0 || img.length != side * side) {
      throw new IllegalArgumentException(
          "rotate: image has " + img.length + " floats, expected " + side + "*" + side);
    }
    float[] out = new float[img.length];
    copyRotated(img, 0, side, quarterTurns, out, 0);
    return out;
  }

  /** Copies one square image from {@code src[srcOff..]} to {@code dst[dstOff..]}, rotated CCW. */
  static void copyRotated(float[] src, int srcOff, int side, int quarterTurns, float[] dst, int dstOff) {
    int q = Math.floorMod(quarterTurns, 4);
    int n = side - 1;
    switch (q) {
      case 0 -> System.arraycopy(src, srcOff, dst, dstOff, side * side);
      case 1 -> {
        for (int y = 0; y < side; y++) {
          for (int x = 0; x < side; x++) {
            dst[dstOff + y * side + x] = src[srcOff + x * side + (n - y)];
          }
        }
      }
      case 2 -> {
        for (int y = 0; y < side; y++) {
          for (int x = 0; x < side; x++) {
            dst[dstOff + y * side + x] = src[srcOff + (n - y) * side + (n - x)];
          }
        }
      }
      default -> {
        for (int y = 0; y < side; y++) {
          for (int x = 0; x < side; x++) {
            dst[dstOff + y * side + x] = src[srcOff + (n - x) * side + y];
          }
        }
      }
    }
  }

  /** Per output index: first source index covered and the normalised overlap weights. */
  private record Footprint(int[] first, double[][] weights) {
    static Footprint of(int src, int dst) {
      double scale = (double) src / dst;
      int[] first = new int[dst];
      double[][] weights = new double[dst][];
      for (int j = 0; j < dst; j++) {
        // Exact rational bounds j*src/dst, computed without accumulating rounding error.
        double lo = (double) j * src / dst;
        double hi = (double) (j + 1) * src / dst;
        int i0 = (int) Math.floor(lo);
        int i1 = Math.min(src, (int) Math.ceil(hi));
        double[] w = new double[Math.max(1, i1 - i0)];
        for (int i = i0; i < i0 + w.length; i++) {
          double overlap = Math.min(i + 1, hi) - Math.max(i, lo);
          w[i - i0] = Math.max(0, overlap) / scale;
        }
        first[j] = i0;
        weights[j] = w;
      }
      return new Footprint(first, weights);
    }
  }
}
