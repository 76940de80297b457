package org.metagrad.meta.data;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import org.w3c.dom.Node;

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
   * <p>The size is read from the file's header and compared with the required one before any pixel
   * is decoded: the caller always knows the size it wants (Omniglot's images are 105 x 105), so no
   * separate limit is needed, and a small file whose header declares 46000 x 46000 pixels (2 GB
   * decoded) fails at once instead of after decoding. A palette image whose pixels index past the
   * entries of its palette is an error: ImageIO pads a short palette with its last colour, which
   * would turn such pixels into some colour silently.
   *
   * @param file the image file
   * @param width the required width in pixels
   * @param height the required height in pixels
   * @return {@code width * height} floats in [0, 1]
   * @throws UncheckedIOException when the file cannot be read or decoded (message names the file and
   *     the reason, on one line)
   * @throws IllegalArgumentException when the file is missing or not a regular file (a FIFO would
   *     block), when the image does not have the required size, or a pixel indexes past the palette
   */
  public static float[] readInk(Path file, int width, int height) {
    DataPaths.requireRegularFile(file, "image");
    try {
      checkPngChunks(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot decode image " + file + ": " + reason(e), e);
    }
    try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
      if (in == null) {
        throw new IOException("cannot open it");
      }
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new UncheckedIOException(
            new IOException("cannot decode image " + file + ": not a PNG or other format ImageIO reads"));
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, false);
        int w = reader.getWidth(0);
        int h = reader.getHeight(0);
        if (w != width || h != height) {
          throw new IllegalArgumentException(
              "image " + file + " is " + w + "x" + h + " pixels, expected " + width + "x" + height);
        }
        int paletteEntries = declaredPaletteEntries(reader);
        BufferedImage img = reader.read(0);
        if (img.getWidth() != width || img.getHeight() != height) {
          throw new IllegalArgumentException("image " + file + " is " + img.getWidth() + "x" + img.getHeight()
              + " pixels, expected " + width + "x" + height);
        }
        return inkOf(img, paletteEntries, file);
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof IllegalArgumentException || e instanceof UncheckedIOException) {
        throw (RuntimeException) e;
      }
      // ImageIO reports truncated or corrupt PNG data either way, depending on where it breaks.
      IOException io = e instanceof IOException ioe ? ioe : new IOException(e);
      throw new UncheckedIOException("cannot decode image " + file + ": " + reason(e), io);
    }
  }

  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  /**
   * Walks the chunks of a PNG file, checking that each one lies within the file and that its CRC matches,
   * up to the IEND chunk. ImageIO's PNG reader checks no CRC, so a flipped bit in a header chunk or in
   * stored image data would otherwise read as other pixels or another size. A file that does not start
   * with the PNG signature is left to ImageIO (which may read another format or refuse it).
   *
   * @throws IOException naming the chunk and what is wrong with it
   */
  static void checkPngChunks(Path file) throws IOException {
    long size = java.nio.file.Files.size(file);
    try (java.io.DataInputStream in = new java.io.DataInputStream(
        new java.io.BufferedInputStream(java.nio.file.Files.newInputStream(file)))) {
      byte[] sig = new byte[PNG_SIGNATURE.length];
      if (size < sig.length) {
        return;
      }
      in.readFully(sig);
      if (!java.util.Arrays.equals(sig, PNG_SIGNATURE)) {
        return;
      }
      long pos = sig.length;
      byte[] buf = new byte[8192];
      boolean first = true;
      while (true) {
        if (size - pos < 12) {
          throw new IOException("the PNG ends after " + size + " bytes, before its IEND chunk (truncated file)");
        }
        long length = in.readInt() & 0xffffffffL;
        byte[] type = new byte[4];
        in.readFully(type);
        String name = new String(type, java.nio.charset.StandardCharsets.ISO_8859_1);
        for (byte b : type) {
          if (!((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z'))) {
            throw new IOException("bad PNG chunk type at byte " + pos + " (corrupt file)");
          }
        }
        if (first && !name.equals("IHDR")) {
          throw new IOException("the PNG's first chunk is " + name + ", not IHDR");
        }
        first = false;
        if (length > size - pos - 12) {
          throw new IOException("PNG chunk " + name + " at byte " + pos + " declares " + length
              + " bytes, past the end of the " + size + "-byte file (truncated or corrupt)");
        }
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(type);
        for (long left = length; left > 0; ) {
          int n = (int) Math.min(buf.length, left);
          in.readFully(buf, 0, n);
          crc.update(buf, 0, n);
          left -= n;
        }
        long stored = in.readInt() & 0xffffffffL;
        if (stored != crc.getValue()) {
          throw new IOException("PNG chunk " + name + " at byte " + pos + " fails its CRC check (corrupt file)");
        }
        pos += 12 + length;
        if (name.equals("IEND")) {
          return;
        }
      }
    }
  }

  /**
   * The messages of {@code e} and its causes on one line: ImageIO's PNG reader wraps whatever went wrong
   * as "Caught exception during read: " (even an OutOfMemoryError), which says nothing by itself.
   */
  static String reason(Throwable e) {
    StringBuilder sb = new StringBuilder();
    java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (Throwable t = e; t != null && seen.add(t); t = t.getCause()) {
      String m = t.getMessage();
      m = m == null ? "" : m.replaceAll("\\s+", " ").strip();
      while (m.endsWith(":")) {
        m = m.substring(0, m.length() - 1).strip();
      }
      if (t instanceof OutOfMemoryError) {
        m = "not enough memory to decode it (" + (m.isEmpty() ? "out of heap" : m) + ")";
      } else if (t instanceof java.io.EOFException) {
        m = "the file ends too early" + (m.isEmpty() ? "" : " (" + m + ")");
      } else if (t instanceof java.util.zip.ZipException || t instanceof java.util.zip.DataFormatException) {
        m = "corrupt compressed image data" + (m.isEmpty() ? "" : " (" + m + ")");
      } else if (m.isEmpty() || (t.getCause() == null && !(t instanceof IOException))) {
        // a bare runtime exception from inside the decoder ("Index 7 out of bounds") means malformed data;
        // say so, with the decoder's words, without a Java class name
        m = "malformed image data" + (m.isEmpty() ? "" : " (" + m + ")");
      }
      if (sb.length() > 0 && !m.isEmpty() && sb.indexOf(m) >= 0) {
        continue;
      }
      if (sb.length() > 0) {
        sb.append(": ");
      }
      sb.append(m);
    }
    return sb.toString();
  }

  /**
   * The number of entries the file's palette declares (PLTE chunk of a PNG), or -1 when it has none or
   * the format does not say.
   */
  private static int declaredPaletteEntries(ImageReader reader) throws IOException {
    IIOMetadata meta = reader.getImageMetadata(0);
    if (meta == null || !"javax_imageio_png_1.0".equals(meta.getNativeMetadataFormatName())) {
      return -1;
    }
    Node root = meta.getAsTree("javax_imageio_png_1.0");
    for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
      if ("PLTE".equals(n.getNodeName())) {
        return n.getChildNodes().getLength();
      }
    }
    return -1;
  }

  /**
   * Converts a decoded image to ink = 1 - gray, row-major; with {@code paletteEntries >= 0}, a palette
   * index at or past it is an error naming {@code file}.
   */
  private static float[] inkOf(BufferedImage img, int paletteEntries, Path file) {
    int w = img.getWidth();
    int h = img.getHeight();
    float[] ink = new float[w * h];
    Raster raster = img.getRaster();
    ColorModel cm = img.getColorModel();
    float[] lut = null;
    int valid = Integer.MAX_VALUE;
    if (raster.getNumBands() == 1) {
      if (cm instanceof IndexColorModel icm) {
        lut = new float[icm.getMapSize()];
        for (int i = 0; i < lut.length; i++) {
          lut[i] = 1f - (icm.getRed(i) + icm.getGreen(i) + icm.getBlue(i)) / 765f;
        }
        valid = paletteEntries >= 0 ? Math.min(paletteEntries, lut.length) : lut.length;
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
          if (row[x] >= valid) {
            throw new IllegalArgumentException("image " + (file == null ? "" : file + " ") + "has palette index "
                + row[x] + " at pixel (" + x + ", " + y + "), but its palette has " + valid + " entries");
          }
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
