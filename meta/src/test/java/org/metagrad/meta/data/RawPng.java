package org.metagrad.meta.data;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Writes PNG files chunk by chunk, with valid CRCs, so that tests can make files no encoder would: a header
 * declaring a huge size over a few bytes of data, pixels indexing past the palette, truncated data.
 */
public final class RawPng {

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

  private RawPng() {
    bytes.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
  }

  /** A PNG starting with the signature and an IHDR of the given size, bit depth and colour type. */
  public static RawPng header(int width, int height, int bitDepth, int colorType) {
    RawPng p = new RawPng();
    ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
    DataOutputStream d = new DataOutputStream(ihdr);
    try {
      d.writeInt(width);
      d.writeInt(height);
      d.writeByte(bitDepth);
      d.writeByte(colorType);
      d.writeByte(0);
      d.writeByte(0);
      d.writeByte(0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p.chunk("IHDR", ihdr.toByteArray());
  }

  /** Appends a chunk with its length and CRC. */
  public RawPng chunk(String type, byte[] data) {
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    DataOutputStream d = new DataOutputStream(bytes);
    try {
      d.writeInt(data.length);
      d.write(t);
      d.write(data);
      d.writeInt((int) crc.getValue());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** Appends a PLTE chunk of the given RGB entries ({@code rgb.length / 3} of them). */
  public RawPng palette(byte[] rgb) {
    return chunk("PLTE", rgb);
  }

  /** Appends one IDAT chunk holding the zlib-compressed {@code raw} scanlines (filter bytes included). */
  public RawPng data(byte[] raw) {
    Deflater z = new Deflater();
    z.setInput(raw);
    z.finish();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    while (!z.finished()) {
      out.write(buf, 0, z.deflate(buf));
    }
    z.end();
    return chunk("IDAT", out.toByteArray());
  }

  /** Appends IEND and writes the file (creating its folder). */
  public Path write(Path file) {
    chunk("IEND", new byte[0]);
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(file, bytes.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  /** The bytes written so far (without IEND). */
  public byte[] bytes() {
    return bytes.toByteArray();
  }

  /** Raw 8-bit scanlines of a w x h single-channel image, filter type 0, every sample {@code value(x, y)}. */
  public static byte[] scanlines8(int w, int h, java.util.function.IntBinaryOperator value) {
    byte[] raw = new byte[h * (w + 1)];
    for (int y = 0; y < h; y++) {
      raw[y * (w + 1)] = 0;
      for (int x = 0; x < w; x++) {
        raw[y * (w + 1) + 1 + x] = (byte) value.applyAsInt(x, y);
      }
    }
    return raw;
  }
}
