package org.metagrad.nn.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every way a file can be truncated, corrupt or hostile must end in a {@link CheckpointException}
 * that names the problem (and the tensor, where one is involved): never an OutOfMemoryError, a
 * hang, or an unrelated exception.
 */
class SafeTensorsCorruptFileTest {
  @TempDir Path dir;

  private static final String A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}";
  private static final String B = "\"b\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[24,48]}";
  private static final String VALID_HEADER = "{" + A + "," + B + "}";
  private static final byte[] VALID = file(VALID_HEADER, 48);
  private static final int N = VALID_HEADER.length();

  /** The length prefix, {@code header} as UTF-8, then {@code dataBytes} bytes of data. */
  static byte[] file(String header, int dataBytes) {
    return file(header.getBytes(StandardCharsets.UTF_8), dataBytes);
  }

  static byte[] file(byte[] header, int dataBytes) {
    ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(header.length).put(header);
    for (int i = 0; i < dataBytes; i++) {
      b.put((byte) (i * 7 + 1));
    }
    return b.array();
  }

  /** {@code bytes} with its 8-byte length prefix replaced by {@code n}. */
  static byte[] withLength(byte[] bytes, long n) {
    byte[] out = bytes.clone();
    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n);
    return out;
  }

  static String entry(String name, String dtype, String shape, String offsets) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":"
        + offsets + "}";
  }

  static Arguments c(String label, byte[] bytes, String message, String tensor) {
    return Arguments.of(label, bytes, message, tensor);
  }

  static Stream<Arguments> corruptFiles() {
    byte[] badUtf8 = VALID_HEADER.getBytes(StandardCharsets.UTF_8);
    badUtf8[2] = (byte) 0xFF; // inside the key "a"
    return Stream.of(
        // --- size and length prefix
        c("empty file", new byte[0], "file is 0 bytes, shorter than the 8-byte header length", null),
        c("5-byte file", new byte[5], "file is 5 bytes, shorter than the 8-byte header length", null),
        c("truncated inside the header", Arrays.copyOf(VALID, 8 + 20),
            "header length " + N + " exceeds the 20 bytes after the length prefix (truncated file?)", null),
        c("truncated at the end of the header", Arrays.copyOf(VALID, 8 + N),
            "tensor 'a': data_offsets [0, 24] reach past the end of the 0-byte data section", "a"),
        c("truncated inside the first tensor", Arrays.copyOf(VALID, 8 + N + 10),
            "tensor 'a': data_offsets [0, 24] reach past the end of the 10-byte data section", "a"),
        c("truncated inside the last tensor", Arrays.copyOf(VALID, VALID.length - 4),
            "tensor 'b': data_offsets [24, 48] reach past the end of the 44-byte data section", "b"),
        c("header length 2^63-1", withLength(VALID, Long.MAX_VALUE),
            "header length 9223372036854775807 exceeds the limit of 100000000 bytes", null),
        c("header length 2^64-1", withLength(VALID, -1L),
            "header length 18446744073709551615 exceeds the limit of 100000000 bytes", null),
        c("header length just over 100 MB", withLength(VALID, 100_000_001L),
            "header length 100000001 exceeds the limit of 100000000 bytes", null),
        c("header length beyond the file", withLength(VALID, 1000),
            "header length 1000 exceeds the " + (N + 48) + " bytes after the length prefix", null),
        c("header length 0", withLength(VALID, 0), "header does not start with '{'", null),
        // --- header text
        c("header is an array", file("[1]", 0), "header does not start with '{'", null),
        c("header starts with a space", file(" {}", 0), "header does not start with '{'", null),
        c("header not UTF-8", file(badUtf8, 48), "header is not valid UTF-8", null),
        c("trailing comma", file("{" + A + ",}", 24), "invalid header JSON at character " + (A.length() + 2) + ": unexpected '}', expected a string", null),
        c("unterminated object", file("{" + A, 24), "unexpected end of header, expected ',' or '}'", null),
        c("missing colon", file("{\"a\" 1}", 0), "unexpected '1', expected ':' after a key", null),
        c("trailing garbage", file(VALID_HEADER + "x", 48), "trailing 'x' after the JSON value", null),
        c("NUL padding", file(VALID_HEADER + "\0\0", 48), "trailing character U+0000 after the JSON value", null),
        c("two top-level objects", file(VALID_HEADER + "{}", 48), "trailing '{' after the JSON value", null),
        c("duplicate tensor", file("{" + A + "," + A + "}", 24), "tensor 'a': duplicate key 'a' in the header", "a"),
        c("duplicate metadata", file("{\"__metadata__\":{},\"__metadata__\":{}}", 0), "duplicate key '__metadata__' in the header", null),
        c("duplicate field", file("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]}}", 24), "duplicate key 'dtype'", null),
        c("duplicate metadata key", file("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0), "duplicate key 'k'", null),
        c("deep nesting", file("{\"__metadata__\":{\"k\":[[[[[[[[[1]]]]]]]]]}}", 0), "nesting deeper than 8 levels", null),
        c("very deep nesting", file("{\"__metadata__\":" + "[".repeat(100_000) + "}", 0), "nesting deeper than 8 levels", null),
        c("integer overflow", file("{" + entry("a", "F32", "[99999999999999999999]", "[0,24]") + "}", 24), "integer 99999999999999999999 does not fit in 64 bits", null),
        c("control character in a key", file("{\"a\u0001\":1}", 0), "unescaped control character U+0001 in a string", null),
        c("invalid escape", file("{\"a\\q\":1}", 0), "invalid escape '\\q'", null),
        c("unpaired surrogate", file("{\"a\\ud800\":1}", 0), "unpaired surrogate \\uD800", null),
        c("leading zero", file("{" + entry("a", "F32", "[06]", "[0,24]") + "}", 24), "leading zero in a number", null),
        c("bare minus", file("{" + entry("a", "F32", "[-]", "[0,24]") + "}", 24), "expected a digit after '-'", null),
        c("bad literal", file("{\"a\":nul}", 0), "unexpected 'n', expected a value", null),
        c("over-long array", file("{" + entry("a", "F32", "[" + "1,".repeat(2000) + "1]", "[0,4]") + "}", 4), "array longer than 1024 elements", null),
        // --- entries
        c("unknown dtype", file("{" + entry("a", "Q7", "[6]", "[0,24]") + "}", 24), "tensor 'a': unknown dtype \"Q7\"", "a"),
        c("lower-case dtype", file("{" + entry("a", "f32", "[6]", "[0,24]") + "}", 24), "tensor 'a': unknown dtype \"f32\"", "a"),
        c("F16 dtype", file("{" + entry("a", "F16", "[12]", "[0,24]") + "}", 24), "dtype F16 not supported (tensor 'a')", "a"),
        c("BF16 dtype", file("{" + entry("a", "BF16", "[12]", "[0,24]") + "}", 24), "dtype BF16 not supported (tensor 'a')", "a"),
        c("dtype not a string", file("{\"a\":{\"dtype\":32,\"shape\":[6],\"data_offsets\":[0,24]}}", 24), "tensor 'a': dtype must be a string, got 32", "a"),
        c("negative dimension", file("{" + entry("a", "F32", "[-2,3]", "[0,24]") + "}", 24), "tensor 'a': shape[0] must be a non-negative integer, got -2", "a"),
        c("fractional dimension", file("{" + entry("a", "F32", "[2.5,3]", "[0,24]") + "}", 24), "tensor 'a': shape[0] must be a non-negative integer, got 2.5", "a"),
        c("exponent dimension", file("{" + entry("a", "F32", "[2,3e0]", "[0,24]") + "}", 24), "tensor 'a': shape[1] must be a non-negative integer, got 3e0", "a"),
        c("string dimension", file("{" + entry("a", "F32", "[\"2\",3]", "[0,24]") + "}", 24), "tensor 'a': shape[0] must be a non-negative integer, got \"2\"", "a"),
        c("shape not an array", file("{" + entry("a", "F32", "6", "[0,24]") + "}", 24), "tensor 'a': shape must be an array of integers, got 6", "a"),
        c("missing data_offsets", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[6]}}", 24), "tensor 'a': missing field 'data_offsets'", "a"),
        c("extra field", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24],\"foo\":1}}", 24), "tensor 'a': unexpected field 'foo'", "a"),
        c("entry is an array", file("{\"a\":[1]}", 0), "tensor 'a': expected an object with dtype, shape and data_offsets, got an array", "a"),
        c("entry is null", file("{\"a\":null}", 0), "tensor 'a': expected an object with dtype, shape and data_offsets, got null", "a"),
        c("metadata value not a string", file("{\"__metadata__\":{\"k\":1}}", 0), "metadata 'k' must be a string, got 1", null),
        c("metadata not an object", file("{\"__metadata__\":[]}", 0), "'__metadata__' must be an object of strings, got an array", null),
        // --- offsets
        c("three offsets", file("{" + entry("a", "F32", "[6]", "[0,24,48]") + "}", 24), "tensor 'a': data_offsets must have 2 elements, got 3", "a"),
        c("negative offset", file("{" + entry("a", "F32", "[6]", "[-8,16]") + "}", 24), "tensor 'a': data_offsets[0] must be a non-negative integer, got -8", "a"),
        c("reversed offsets", file("{" + entry("a", "F32", "[0]", "[24,0]") + "}", 24), "tensor 'a': data_offsets [24, 0] end before they begin", "a"),
        c("offsets out of range", file("{" + entry("a", "F32", "[100]", "[0,400]") + "}", 24), "tensor 'a': data_offsets [0, 400] reach past the end of the 24-byte data section", "a"),
        c("huge tensor in a tiny file", file("{" + entry("a", "F64", "[1000000000]", "[0,8000000000]") + "}", 24), "tensor 'a': data_offsets [0, 8000000000] reach past the end of the 24-byte data section", "a"),
        c("overlapping tensors", file("{" + A + "," + entry("b", "F64", "[3]", "[16,40]") + "}", 40), "tensor 'b': data_offsets [16, 40] overlap tensor 'a' [0, 24]", "b"),
        c("same range twice", file("{" + A + "," + entry("b", "F32", "[6]", "[0,24]") + "}", 24), "overlap tensor", null),
        c("empty tensor inside another", file("{" + A + "," + entry("z", "F32", "[0]", "[8,8]") + "}", 24), "tensor 'z': data_offsets [8, 8] overlap tensor 'a' [0, 24]", "z"),
        c("gap between tensors", file("{" + A + "," + entry("b", "F64", "[3]", "[32,56]") + "}", 56), "tensor 'b': data_offsets [32, 56] leave a gap of 8 unused bytes after tensor 'a' (which ends at 24)", "b"),
        c("gap at the start", file("{" + entry("a", "F32", "[6]", "[8,32]") + "}", 32), "tensor 'a': data_offsets [8, 32] leave a gap of 8 unused bytes at the start of the data section", "a"),
        c("uncovered trailing data", file(VALID_HEADER, 56), "the data section has 8 bytes after the last tensor (at 48 of 56) that no tensor covers", null),
        c("data but no tensors", file("{}", 8), "the data section has 8 bytes after the last tensor (at 0 of 8) that no tensor covers", null),
        c("shape and bytes disagree", file("{" + entry("a", "F32", "[2,3]", "[0,20]") + "}", 20), "tensor 'a': shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] span 20", "a"),
        c("shape product overflows", file("{" + entry("a", "F32", "[4294967296,4294967296]", "[0,0]") + "}", 0), "tensor 'a': shape [4294967296, 4294967296] of F32 overflows a 64-bit byte count", "a"),
        c("byte count overflows", file("{" + entry("a", "F32", "[4611686018427387904]", "[0,0]") + "}", 0), "tensor 'a': shape [4611686018427387904] of F32 overflows a 64-bit byte count", "a"),
        c("zero dimension hides an overflow", file("{" + entry("a", "F32", "[0,9223372036854775807,9223372036854775807]", "[0,0]") + "}", 0), "tensor 'a': shape [0, 9223372036854775807, 9223372036854775807] of F32 overflows a 64-bit byte count", "a"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corruptFiles")
  void corruptFileIsRejectedWithASpecificMessage(
      String label, byte[] bytes, String message, String tensor) throws IOException {
    Path p = dir.resolve("corrupt.safetensors");
    Files.write(p, bytes);
    assertThatThrownBy(() -> SafeTensors.read(p))
        .as(label)
        .isInstanceOf(CheckpointException.class)
        .hasMessageStartingWith(p + ": ")
        .hasMessageContaining(message)
        .satisfies(
            e -> {
              if (tensor != null) {
                assertThat(((CheckpointException) e).tensor()).contains(tensor);
              }
            });
  }

  @Test
  void theUncorruptedBaseFileIsValid() throws IOException {
    Path p = dir.resolve("valid.safetensors");
    Files.write(p, VALID);
    Checkpoint c = SafeTensors.read(p);
    assertThat(c.names()).containsExactly("a", "b");
    assertThat(c.get("a").shape()).containsExactly(2, 3);
    assertThat(c.get("b").dtype()).isEqualTo(SafeDType.F64);
  }

  @Test
  void lenientButValidVariantsAreAccepted() throws IOException {
    // Whitespace anywhere JSON allows it, escapes, header order unlike data order, a zero-size
    // tensor at the end, and a header length that is not a multiple of 8.
    String header =
        "{ \n\t\"b\" : {\"shape\":[3],\"data_offsets\":[24,48],\"dtype\":\"F64\"},\r\n"
            + "\"\\u0061\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
            + "\"e\\/\\\"\":{\"dtype\":\"I64\",\"shape\":[0,4],\"data_offsets\":[48,48]},"
            + "\"__metadata__\":{\"\\ud83d\\ude00\":\"\\n\"} }   \t\n";
    Path p = dir.resolve("lenient.safetensors");
    Files.write(p, file(header, 48));
    Checkpoint c = SafeTensors.read(p);
    assertThat(c.names()).containsExactly("b", "a", "e/\"");
    assertThat(c.metadata()).containsExactly(Map.entry("\uD83D\uDE00", "\n"));
    assertThat(c.get("e/\"").toLongs()).isEmpty();
  }

  @Test
  void tensorTooLargeForOneBufferIsRejectedBeforeAllocation() throws IOException {
    // A sparse 3 GB file: valid layout, but one tensor cannot fit in a Java array.
    long bytes = 3L << 30;
    String header = "{" + entry("big", "F32", "[" + bytes / 4 + "]", "[0," + bytes + "]") + "}";
    Path p = dir.resolve("big.safetensors");
    Files.write(p, file(header, 0));
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.setLength(f.length() + bytes);
    }
    assertThatThrownBy(() -> SafeTensors.read(p))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("tensor 'big': 3221225472 bytes is more than the 2147483639 one tensor can hold in memory");
  }

  @Test
  void everyTruncationIsRejected() throws IOException {
    byte[] valid = validWrittenFile();
    Path p = dir.resolve("cut.safetensors");
    for (int len = 0; len < valid.length; len++) {
      Files.write(p, Arrays.copyOf(valid, len));
      int cut = len;
      assertThatThrownBy(() -> SafeTensors.read(p))
          .as("truncated to %d of %d bytes", cut, valid.length)
          .isInstanceOf(CheckpointException.class);
    }
  }

  @Test
  void randomCorruptionIsEitherReadOrRejectedCleanly() throws IOException {
    byte[] valid = validWrittenFile();
    Path p = dir.resolve("flip.safetensors");
    Random rng = new Random(42);
    int rejected = 0;
    for (int trial = 0; trial < 2000; trial++) {
      byte[] bytes = valid.clone();
      int flips = 1 + rng.nextInt(4);
      for (int k = 0; k < flips; k++) {
        // Mostly within the prefix and header, where corruption is interesting.
        int at = rng.nextInt(rng.nextBoolean() ? Math.min(bytes.length, 8 + 160) : bytes.length);
        bytes[at] = (byte) (rng.nextBoolean() ? rng.nextInt(256) : bytes[at] ^ (1 << rng.nextInt(8)));
      }
      Files.write(p, bytes);
      try {
        Checkpoint c = SafeTensors.read(p);
        long total = c.tensors().stream().mapToLong(NamedArray::byteSize).sum();
        assertThat(total).isLessThanOrEqualTo(bytes.length);
      } catch (CheckpointException expected) {
        rejected++;
        assertThat(expected.getMessage()).startsWith(p + ": ");
      } catch (RuntimeException | Error other) {
        fail("trial " + trial + ": unexpected " + other, other);
      }
    }
    assertThat(rejected).isGreaterThan(500);
  }

  private byte[] validWrittenFile() throws IOException {
    Path p = dir.resolve("base.safetensors");
    SafeTensors.write(
        p,
        List.of(
            NamedArray.fromFloats("w", new long[] {2, 3}, 1, 2, 3, 4, 5, 6),
            NamedArray.fromDoubles("b", new long[] {2}, -1, 1),
            NamedArray.fromLongs("step", new long[] {}, 9)),
        Map.of("epoch", "3"));
    return Files.readAllBytes(p);
  }
}
