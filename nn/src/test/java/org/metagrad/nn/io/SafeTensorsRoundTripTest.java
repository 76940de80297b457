package org.metagrad.nn.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsRoundTripTest {
  @TempDir Path dir;

  private static final long[] SCALAR = {};

  @Test
  void roundTripIsBitExactForAllDtypesAndEdgeValues() throws IOException {
    float[] f = {
      0f, -0f, 1.5f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NEGATIVE_INFINITY,
      Float.POSITIVE_INFINITY, Float.intBitsToFloat(0x7fc0beef), Float.intBitsToFloat(0xffc00001),
      Float.intBitsToFloat(0x7f800001) /* signaling */, -3.25e-20f, 7f
    };
    double[] d = {
      -0.0, Double.MIN_VALUE, Double.longBitsToDouble(0x7ff8_0000_dead_beefL), Math.PI, -1e300, 0.1
    };
    List<NamedArray> tensors =
        List.of(
            NamedArray.fromFloats("f32", new long[] {3, 4}, f),
            NamedArray.fromDoubles("f64", new long[] {2, 1, 3}, d),
            NamedArray.fromInts("i32", new long[] {3}, Integer.MIN_VALUE, -1, Integer.MAX_VALUE),
            NamedArray.fromLongs("i64", SCALAR, Long.MIN_VALUE),
            NamedArray.fromDoubles("scalar", SCALAR, -0.0),
            NamedArray.fromFloats("empty", new long[] {0}),
            NamedArray.fromFloats("empty2d", new long[] {3, 0}),
            NamedArray.fromDoubles("empty_last", new long[] {0, 5}));
    Path p = dir.resolve("all.safetensors");
    SafeTensors.write(p, tensors, Map.of());

    Checkpoint c = SafeTensors.read(p);
    assertThat(c.names())
        .containsExactly("f32", "f64", "i32", "i64", "scalar", "empty", "empty2d", "empty_last");
    assertThat(c.tensors()).isEqualTo(tensors); // byte-wise equality, so payloads and signs count
    assertThat(c.metadata()).isEmpty();

    float[] fBack = c.get("f32").toFloats();
    for (int i = 0; i < f.length; i++) {
      assertThat(Float.floatToRawIntBits(fBack[i]))
          .as("f32[%d]", i)
          .isEqualTo(Float.floatToRawIntBits(f[i]));
    }
    double[] dBack = c.get("f64").toDoubles();
    for (int i = 0; i < d.length; i++) {
      assertThat(Double.doubleToRawLongBits(dBack[i]))
          .as("f64[%d]", i)
          .isEqualTo(Double.doubleToRawLongBits(d[i]));
    }
    assertThat(c.get("i32").toInts()).containsExactly(Integer.MIN_VALUE, -1, Integer.MAX_VALUE);
    assertThat(c.get("i64").toLongs()).containsExactly(Long.MIN_VALUE);
    NamedArray scalar = c.get("scalar");
    assertThat(scalar.rank()).isZero();
    assertThat(scalar.numel()).isEqualTo(1);
    assertThat(Double.doubleToRawLongBits(scalar.toDoubles()[0])).isEqualTo(Long.MIN_VALUE);
    assertThat(c.get("empty2d").shape()).containsExactly(3, 0);
    assertThat(c.get("empty2d").numel()).isZero();
    assertThat(c.get("empty_last").toDoubles()).isEmpty();
  }

  @Test
  void metadataRoundTripsWithEscapesAndUnicode() throws IOException {
    Map<String, String> md = new LinkedHashMap<>();
    md.put("format", "pt");
    md.put("quote\"and\\backslash", "line\nbreak\ttab\u0001ctl");
    md.put("unicode ✓ 𝔘", "naïve — 日本");
    md.put("empty", "");
    List<NamedArray> tensors =
        List.of(NamedArray.fromFloats("naïve ✓ \"name\"", new long[] {2}, 1f, 2f));
    Path p = dir.resolve("md.safetensors");
    SafeTensors.write(p, new Checkpoint(tensors, md));
    Checkpoint c = SafeTensors.read(p);
    assertThat(c.metadata()).containsExactlyEntriesOf(md);
    assertThat(c.get("naïve ✓ \"name\"").toFloats()).containsExactly(1f, 2f);
  }

  @Test
  void headerIsPaddedToEightBytesAndTensorsLaidOutInGivenOrder() throws IOException {
    Path p = dir.resolve("layout.safetensors");
    SafeTensors.write(
        p,
        List.of(
            NamedArray.fromFloats("z", new long[] {3}, 1f, 2f, 3f),
            NamedArray.fromDoubles("a", new long[] {1}, 4.0)),
        Map.of("k", "v"));
    byte[] bytes = Files.readAllBytes(p);
    long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(n % 8).isZero();
    String header = new String(bytes, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8);
    assertThat(header.stripTrailing())
        .isEqualTo(
            "{\"__metadata__\":{\"k\":\"v\"},"
                + "\"z\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                + "\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[12,20]}}");
    assertThat(bytes.length).isEqualTo(8 + n + 20);
  }

  /**
   * Bytes produced by the reference implementation (Python safetensors 0.8.0, {@code
   * safetensors.numpy.save}) for the same content: our writer must produce them exactly.
   */
  @Test
  void writerMatchesReferenceImplementationByteForByte() throws IOException {
    String reference1 =
        "48000000000000007b226174746e30223a7b226474797065223a22463332222c227368617065223a5b312c312c"
            + "322c335d2c22646174615f6f666673657473223a5b302c32345d7d7d20202020202020000000000000803f"
            + "0000004000004040000080400000a040";
    Path p1 = dir.resolve("ref1.safetensors");
    SafeTensors.write(
        p1,
        List.of(NamedArray.fromFloats("attn0", new long[] {1, 1, 2, 3}, 0, 1, 2, 3, 4, 5)),
        Map.of());
    assertThat(HexFormat.of().formatHex(Files.readAllBytes(p1))).isEqualTo(reference1);

    String reference2 =
        "50000000000000007b225f5f6d657461646174615f5f223a7b226b223a2276227d2c2277223a7b22647479"
            + "7065223a22463634222c227368617065223a5b315d2c22646174615f6f666673657473223a5b302c385d7d"
            + "7d20000000000000f83f";
    Path p2 = dir.resolve("ref2.safetensors");
    SafeTensors.write(p2, List.of(NamedArray.fromDoubles("w", new long[] {1}, 1.5)), Map.of("k", "v"));
    assertThat(HexFormat.of().formatHex(Files.readAllBytes(p2))).isEqualTo(reference2);
    assertThat(SafeTensors.read(p2).get("w").toDoubles()).containsExactly(1.5);
  }

  @Test
  void emptyCheckpointRoundTrips() throws IOException {
    Path p = dir.resolve("empty.safetensors");
    SafeTensors.write(p, List.of(), Map.of());
    // The reference writes {} padded to 8 bytes: 16 bytes in all.
    assertThat(Files.size(p)).isEqualTo(16);
    Checkpoint c = SafeTensors.read(p);
    assertThat(c.size()).isZero();
    assertThat(c.metadata()).isEmpty();
  }

  @Test
  void readsFromAChannelAndFromAnOverwrittenFile() throws IOException {
    Path p = dir.resolve("twice.safetensors");
    SafeTensors.write(p, List.of(NamedArray.fromFloats("a", new long[] {1}, 1f)), Map.of());
    SafeTensors.write(p, List.of(NamedArray.fromFloats("b", new long[] {2}, 2f, 3f)), Map.of("v", "2"));
    try (SeekableByteChannel ch = Files.newByteChannel(p, StandardOpenOption.READ)) {
      Checkpoint c = SafeTensors.read(ch);
      assertThat(c.names()).containsExactly("b");
      assertThat(c.metadata()).containsEntry("v", "2");
      assertThat(c.find("a")).isEmpty();
    }
  }

  @Test
  void namedArrayDataIsReadOnlyLittleEndianAndIndependent() {
    NamedArray a = NamedArray.fromFloats("a", new long[] {2}, 1f, 2f);
    ByteBuffer b = a.data();
    assertThat(b.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
    assertThat(b.isReadOnly()).isTrue();
    b.position(4);
    assertThat(a.data().position()).isZero();
    assertThat(a.data().getFloat(4)).isEqualTo(2f);
    assertThat(a.byteSize()).isEqualTo(8);
    assertThat(a.withName("b").toFloats()).containsExactly(1f, 2f);
    // A shape array mutated by the caller does not change the record.
    long[] shape = {2};
    NamedArray s = NamedArray.fromFloats("s", shape, 1f, 2f);
    shape[0] = 7;
    assertThat(s.shape()).containsExactly(2);
    assertThat(s.toString()).isEqualTo("NamedArray[s F32 [2]]");
  }

  @Test
  void namedArrayRejectsInconsistentInput() {
    assertThatThrownBy(() -> NamedArray.fromFloats("w", new long[] {2, 3}, 1f, 2f))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("NamedArray 'w': shape [2, 3] holds 6 elements but 2 values were given");
    assertThatThrownBy(
            () -> new NamedArray("w", SafeDType.F32, new long[] {2, 3}, ByteBuffer.allocate(20)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("NamedArray 'w': shape [2, 3] of F32 needs 24 bytes but the buffer has 20 remaining");
    assertThatThrownBy(() -> NamedArray.fromFloats("w", new long[] {-1}))
        .hasMessageContaining("negative dimension 0");
    assertThatThrownBy(
            () -> new NamedArray("w", SafeDType.F64, new long[] {1L << 40, 1L << 40}, ByteBuffer.allocate(0)))
        .hasMessageContaining("overflows a 64-bit byte count");
    assertThatThrownBy(() -> NamedArray.fromDoubles("d", SCALAR, 1.0).toFloats())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("NamedArray 'd' holds F64, not F32");
    assertThatThrownBy(() -> NamedArray.fromLongs("l", SCALAR, 1L).toInts())
        .isInstanceOf(IllegalStateException.class);
    // Lossless widenings are allowed.
    assertThat(NamedArray.fromFloats("f", SCALAR, 0.1f).toDoubles()).containsExactly((double) 0.1f);
    assertThat(NamedArray.fromInts("i", SCALAR, -5).toLongs()).containsExactly(-5L);
  }

  @Test
  void writerRejectsBadNamesBeforeTouchingTheDisk() {
    Path p = dir.resolve("bad.safetensors");
    NamedArray a = NamedArray.fromFloats("a", SCALAR, 1f);
    assertThatThrownBy(() -> SafeTensors.write(p, List.of(a, a), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("SafeTensors.write: duplicate tensor name 'a'");
    assertThatThrownBy(() -> SafeTensors.write(p, List.of(a.withName("__metadata__")), Map.of()))
        .hasMessageContaining("'__metadata__' is reserved");
    assertThatThrownBy(() -> SafeTensors.write(p, List.of(a.withName("x\uD800")), Map.of()))
        .hasMessageContaining("unpaired UTF-16 surrogate");
    assertThat(p).doesNotExist();
    assertThat(dir.toFile().list()).isEmpty();
  }

  @Test
  void checkpointLookupAndValidation() {
    NamedArray a = NamedArray.fromFloats("a", SCALAR, 1f);
    Checkpoint c = Checkpoint.of(List.of(a));
    assertThat(c.get("a")).isEqualTo(a);
    assertThatThrownBy(() -> c.get("b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Checkpoint: no tensor 'b'; it has [a]");
    assertThatThrownBy(() -> Checkpoint.of(List.of(a, a)))
        .hasMessage("Checkpoint: duplicate tensor name 'a'");
    assertThatThrownBy(() -> c.tensors().add(a)).isInstanceOf(UnsupportedOperationException.class);
    assertThat(SafeDType.fromName("F64")).contains(SafeDType.F64);
    assertThat(SafeDType.fromName("f64")).isEmpty();
  }

  @Test
  void inMemoryBytesAreTheFilesBytesAndReadBackBitExact() throws IOException {
    List<NamedArray> tensors = List.of(
        NamedArray.fromFloats("w", new long[] {2, 2}, 1.5f, -0f, Float.NaN, Float.MIN_VALUE),
        NamedArray.fromDoubles("b", new long[] {1}, -0.0));
    Map<String, String> meta = Map.of("names", "w\nb");
    Path p = dir.resolve("m.safetensors");
    SafeTensors.write(p, tensors, meta);
    byte[] bytes = SafeTensors.toBytes(tensors, meta);
    assertThat(bytes).isEqualTo(Files.readAllBytes(p));
    Checkpoint c = SafeTensors.fromBytes(bytes);
    assertThat(c.tensors()).isEqualTo(tensors);
    assertThat(c.metadata()).isEqualTo(meta);
    assertThatThrownBy(() -> SafeTensors.fromBytes(java.util.Arrays.copyOf(bytes, bytes.length - 1)))
        .isInstanceOf(CheckpointException.class);
  }
}
