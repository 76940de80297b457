package org.metagrad.nn.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reads and writes checkpoints in the <a href="https://github.com/huggingface/safetensors">
 * safetensors</a> format, which PyTorch, JAX and the Hugging Face tools read and write.
 *
 * <p>Layout: an 8-byte little-endian unsigned header length {@code N}; {@code N} bytes of UTF-8
 * JSON, {@code {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [..],
 * "data_offsets": [begin, end]}, ...}}, padded with spaces; then the data section, with each
 * tensor's little-endian row-major bytes at {@code [begin, end)} relative to the section's start.
 *
 * <pre>{@code
 * SafeTensors.write(path, List.of(NamedArray.fromFloats("w", new long[] {2}, 1f, 2f)), Map.of("step", "10"));
 * Checkpoint c = SafeTensors.read(path);
 * }</pre>
 *
 * <p><b>Reading treats the file as hostile.</b> Everything is checked before any tensor memory is
 * allocated: the header length (at most {@link #MAX_HEADER_BYTES} and within the file), UTF-8, strict
 * JSON (no duplicate keys, trailing garbage, deep nesting, or integers beyond 64 bits), each entry's
 * fields and types, the dtype, that the shape's byte count equals the offsets' span (with overflow
 * checks), and that the ranges, sorted, are contiguous, non-overlapping and cover the data section
 * exactly. Any violation is a {@link CheckpointException} naming the file, the problem and the
 * tensor; since the tensors then tile the file, allocation never exceeds the file's size.
 *
 * <p><b>Writing is atomic</b> (as {@link AtomicFiles#write}). The file is written to a temporary file in the same directory,
 * forced to disk, and renamed over the target ({@code ATOMIC_MOVE}, or a plain replace where the
 * file system cannot rename atomically); the directory is then forced where the platform allows.
 * On any failure the temporary file is deleted and an existing target is left untouched. Tensors
 * are stored in the given order; the header is padded with spaces to a multiple of 8 bytes, as the
 * reference implementation does, so every tensor starts 8-byte aligned when the previous ones end
 * aligned.
 */
public final class SafeTensors {
  /** Largest header accepted or written, in bytes: the reference implementation's limit. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  /** Largest single tensor that can be read into one {@link ByteBuffer}. */
  static final long MAX_TENSOR_BYTES = Integer.MAX_VALUE - 8;

  private static final String METADATA_KEY = "__metadata__";
  private static final Set<String> ENTRY_FIELDS = Set.of("dtype", "shape", "data_offsets");

  private SafeTensors() {}

  /** Called after each tensor's bytes are written; lets tests inject a failure mid-write. */
  @FunctionalInterface
  interface WriteHook {
    void afterTensor(int index) throws IOException;
  }

  // ------------------------------------------------------------------ writing

  /**
   * Writes {@code tensors} (unique names, none {@code "__metadata__"}) and {@code metadata} to
   * {@code file} atomically, replacing any existing file.
   *
   * @throws IllegalArgumentException for duplicate or reserved names, or a header over {@link
   *     #MAX_HEADER_BYTES}; nothing is written then
   * @throws IOException if writing or renaming fails; the old file, if any, is unchanged
   */
  public static void write(Path file, List<NamedArray> tensors, Map<String, String> metadata)
      throws IOException {
    write(file, tensors, metadata, index -> {});
  }

  /** Writes a {@link Checkpoint}'s tensors and metadata; see {@link #write(Path, List, Map)}. */
  public static void write(Path file, Checkpoint checkpoint) throws IOException {
    write(file, checkpoint.tensors(), checkpoint.metadata());
  }

  static void write(Path file, List<NamedArray> tensors, Map<String, String> metadata, WriteHook hook)
      throws IOException {
    Objects.requireNonNull(file, "file");
    byte[] header = encodeHeader(tensors, metadata);
    AtomicFiles.write(file, ch -> {
      ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      prefix.putLong(header.length).flip();
      writeFully(ch, prefix);
      writeFully(ch, ByteBuffer.wrap(header));
      for (int i = 0; i < tensors.size(); i++) {
        writeFully(ch, tensors.get(i).data());
        hook.afterTensor(i);
      }
    });
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** The header bytes, padded with spaces to a multiple of 8. */
  static byte[] encodeHeader(List<NamedArray> tensors, Map<String, String> metadata) {
    Objects.requireNonNull(tensors, "tensors");
    Objects.requireNonNull(metadata, "metadata");
    StringBuilder sb = new StringBuilder("{");
    if (!metadata.isEmpty()) {
      quote(sb, METADATA_KEY).append(":{");
      boolean first = true;
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        if (e.getKey() == null || e.getValue() == null) {
          throw new IllegalArgumentException(
              "SafeTensors.write: metadata keys and values must be non-null, got "
                  + e.getKey() + "=" + e.getValue());
        }
        if (!first) {
          sb.append(',');
        }
        first = false;
        quote(sb, e.getKey()).append(':');
        quote(sb, e.getValue());
      }
      sb.append('}');
    }
    Set<String> names = new HashSet<>();
    long offset = 0;
    for (NamedArray t : tensors) {
      Objects.requireNonNull(t, "tensor");
      if (t.name().equals(METADATA_KEY)) {
        throw new IllegalArgumentException(
            "SafeTensors.write: '" + METADATA_KEY + "' is reserved and cannot name a tensor");
      }
      if (!names.add(t.name())) {
        throw new IllegalArgumentException("SafeTensors.write: duplicate tensor name '" + t.name() + "'");
      }
      if (sb.length() > 1) {
        sb.append(',');
      }
      quote(sb, t.name()).append(":{\"dtype\":\"").append(t.dtype().name()).append("\",\"shape\":[");
      long[] shape = t.shape();
      for (int i = 0; i < shape.length; i++) {
        sb.append(i == 0 ? "" : ",").append(shape[i]);
      }
      long end = offset + t.byteSize();
      sb.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
      offset = end;
    }
    sb.append('}');
    byte[] json;
    try {
      ByteBuffer enc =
          StandardCharsets.UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(CharBuffer.wrap(sb));
      json = new byte[enc.remaining()];
      enc.get(json);
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(
          "SafeTensors.write: a tensor name or metadata string contains an unpaired UTF-16 surrogate",
          e);
    }
    int padded = (json.length + 7) & ~7;
    if (padded > MAX_HEADER_BYTES) {
      throw new IllegalArgumentException(
          "SafeTensors.write: header of " + padded + " bytes exceeds the limit of "
              + MAX_HEADER_BYTES);
    }
    byte[] header = Arrays.copyOf(json, padded);
    Arrays.fill(header, json.length, padded, (byte) ' ');
    return header;
  }

  private static StringBuilder quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"');
  }

  // ------------------------------------------------------------------ reading

  /**
   * Reads and validates a safetensors file (see the class comment for the checks).
   *
   * @return the tensors in header order and the metadata (empty when absent)
   * @throws CheckpointException if the file is truncated, corrupt or malformed
   * @throws IOException if the file cannot be read
   */
  public static Checkpoint read(Path file) throws IOException {
    // A FIFO or device would block the read (or never end); only a regular file can be a checkpoint.
    if (Files.exists(file) && !Files.isRegularFile(file)) {
      throw new CheckpointException(file + ": not a regular file (a checkpoint must be a plain file, not a"
          + " directory, FIFO or device)");
    }
    try (SeekableByteChannel ch = Files.newByteChannel(file, StandardOpenOption.READ)) {
      return read(ch, file.toString());
    }
  }

  /**
   * Reads and validates safetensors content from {@code channel}, from byte 0 to its current size;
   * the channel's position is changed and it is not closed.
   *
   * @throws CheckpointException if the content is truncated, corrupt or malformed
   * @throws IOException if the channel cannot be read
   */
  public static Checkpoint read(SeekableByteChannel channel) throws IOException {
    return read(channel, "safetensors");
  }

  /**
   * The safetensors bytes of {@code tensors} and {@code metadata}, the content {@link #write(Path, List, Map)}
   * would put in a file (for sending over a network, e.g. parameters broadcast to cluster executors).
   *
   * @throws IllegalArgumentException for duplicate or reserved names, a header over {@link #MAX_HEADER_BYTES}
   *     or content over 2 GiB
   */
  public static byte[] toBytes(List<NamedArray> tensors, Map<String, String> metadata) {
    byte[] header = encodeHeader(tensors, metadata);
    long size = 8L + header.length;
    for (NamedArray a : tensors) {
      size += a.data().remaining();
    }
    if (size > MAX_TENSOR_BYTES) {
      throw new IllegalArgumentException("SafeTensors.toBytes: content of " + size + " bytes exceeds 2 GiB");
    }
    ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(header.length).put(header);
    for (NamedArray a : tensors) {
      b.put(a.data().duplicate());
    }
    return b.array();
  }

  /**
   * Reads and validates safetensors content held in memory (see {@link #toBytes}).
   *
   * @throws CheckpointException if the content is truncated, corrupt or malformed
   */
  public static Checkpoint fromBytes(byte[] content) {
    Objects.requireNonNull(content, "content");
    try {
      return read(new BytesChannel(content), "safetensors bytes");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** A read-only channel over a byte array. */
  private static final class BytesChannel implements SeekableByteChannel {
    private final byte[] bytes;
    private long position;
    private boolean open = true;

    BytesChannel(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public int read(ByteBuffer dst) {
      if (position >= bytes.length) {
        return -1;
      }
      int n = (int) Math.min(dst.remaining(), bytes.length - position);
      dst.put(bytes, (int) position, n);
      position += n;
      return n;
    }

    @Override
    public int write(ByteBuffer src) {
      throw new java.nio.channels.NonWritableChannelException();
    }

    @Override
    public long position() {
      return position;
    }

    @Override
    public SeekableByteChannel position(long p) {
      position = p;
      return this;
    }

    @Override
    public long size() {
      return bytes.length;
    }

    @Override
    public SeekableByteChannel truncate(long size) {
      throw new java.nio.channels.NonWritableChannelException();
    }

    @Override
    public boolean isOpen() {
      return open;
    }

    @Override
    public void close() {
      open = false;
    }
  }

  private record Entry(String name, SafeDType dtype, long[] shape, long begin, long end) {}

  private static Checkpoint read(SeekableByteChannel ch, String src) throws IOException {
    long size = ch.size();
    if (size < 8) {
      throw fail(src, null, "file is " + size + " bytes, shorter than the 8-byte header length");
    }
    ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, 0, prefix, src, "the header length");
    long n = prefix.getLong(0);
    if (n < 0 || n > MAX_HEADER_BYTES) {
      throw fail(
          src, null,
          "header length " + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER_BYTES
              + " bytes");
    }
    if (n > size - 8) {
      throw fail(
          src, null,
          "header length " + n + " exceeds the " + (size - 8)
              + " bytes after the length prefix (truncated file?)");
    }
    ByteBuffer headerBytes = ByteBuffer.allocate((int) n);
    readFully(ch, 8, headerBytes, src, "the header");
    headerBytes.flip();
    String json;
    try {
      json =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(headerBytes)
              .toString();
    } catch (CharacterCodingException e) {
      throw new CheckpointException(src + ": header is not valid UTF-8", null, e);
    }
    long dataStart = 8 + n;
    long dataSize = size - dataStart;
    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = parseHeader(json, dataSize, src, metadata);

    NamedArray[] arrays = new NamedArray[entries.size()];
    Integer[] order = sortedByOffset(entries);
    for (int i : order) {
      Entry e = entries.get(i);
      ByteBuffer b = ByteBuffer.allocate((int) (e.end() - e.begin())).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, dataStart + e.begin(), b, src, "tensor '" + e.name() + "'");
      b.flip();
      arrays[i] = new NamedArray(e.name(), e.dtype(), e.shape(), b);
    }
    return new Checkpoint(Arrays.asList(arrays), metadata);
  }

  private static Integer[] sortedByOffset(List<Entry> entries) {
    Integer[] order = new Integer[entries.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(
        order,
        Comparator.<Integer>comparingLong(i -> entries.get(i).begin())
            .thenComparingLong(i -> entries.get(i).end()));
    return order;
  }

  private static void readFully(SeekableByteChannel ch, long position, ByteBuffer b, String src, String what)
      throws IOException {
    ch.position(position);
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        throw fail(
            src, null,
            "file ended while reading " + what + " (it shrank after its size was checked?)");
      }
    }
  }

  /**
   * Parses and checks the header, filling {@code metadata}; returns the entries in header order.
   * Each entry is checked as soon as it is read.
   */
  private static List<Entry> parseHeader(
      String json, long dataSize, String src, Map<String, String> metadata) {
    if (json.isEmpty() || json.charAt(0) != '{') {
      throw fail(src, null, "header does not start with '{'");
    }
    List<Entry> entries = new ArrayList<>();
    Set<String> keys = new HashSet<>();
    StrictJson p = new StrictJson(json, src);
    p.beginObject();
    for (boolean first = true; ; first = false) {
      String key = p.nextKey(first);
      if (key == null) {
        break;
      }
      if (!keys.add(key)) {
        throw fail(src, key.equals(METADATA_KEY) ? null : key, "duplicate key '" + key + "' in the header");
      }
      Object value = p.value(2);
      if (key.equals(METADATA_KEY)) {
        readMetadata(value, src, metadata);
      } else {
        entries.add(entry(key, value, dataSize, src));
      }
    }
    p.end();
    checkLayout(entries, dataSize, src);
    return entries;
  }

  private static void readMetadata(Object value, String src, Map<String, String> metadata) {
    if (!(value instanceof Map<?, ?> m)) {
      throw fail(src, null, "'" + METADATA_KEY + "' must be an object of strings, got " + kind(value));
    }
    for (Map.Entry<?, ?> e : m.entrySet()) {
      if (!(e.getValue() instanceof String v)) {
        throw fail(
            src, null,
            "metadata '" + e.getKey() + "' must be a string, got " + kind(e.getValue()));
      }
      metadata.put((String) e.getKey(), v);
    }
  }

  private static Entry entry(String name, Object value, long dataSize, String src) {
    if (!(value instanceof Map<?, ?> m)) {
      throw fail(src, name, "expected an object with dtype, shape and data_offsets, got " + kind(value));
    }
    for (Object k : m.keySet()) {
      if (!ENTRY_FIELDS.contains(k)) {
        throw fail(src, name, "unexpected field '" + k + "'; expected dtype, shape and data_offsets");
      }
    }
    for (String k : List.of("dtype", "shape", "data_offsets")) {
      if (!m.containsKey(k)) {
        throw fail(src, name, "missing field '" + k + "'");
      }
    }
    if (!(m.get("dtype") instanceof String dtypeName)) {
      throw fail(src, name, "dtype must be a string, got " + kind(m.get("dtype")));
    }
    SafeDType dtype =
        SafeDType.fromName(dtypeName)
            .orElseThrow(
                () ->
                    SafeDType.KNOWN_UNSUPPORTED.contains(dtypeName)
                        ? new CheckpointException(
                            src + ": dtype " + dtypeName + " not supported (tensor '" + name
                                + "'); supported: " + Arrays.toString(SafeDType.values()),
                            name, null)
                        : fail(src, name, "unknown dtype " + kind(dtypeName)));
    long[] shape = longs(m.get("shape"), "shape", -1, name, src);
    long[] offsets = longs(m.get("data_offsets"), "data_offsets", 2, name, src);
    long begin = offsets[0];
    long end = offsets[1];
    if (end < begin) {
      throw fail(src, name, "data_offsets " + Arrays.toString(offsets) + " end before they begin");
    }
    long bytes = NamedArray.byteCountOrNegative(dtype, shape);
    if (bytes < 0) {
      throw fail(
          src, name,
          "shape " + Arrays.toString(shape) + " of " + dtype + " overflows a 64-bit byte count");
    }
    if (end - begin != bytes) {
      throw fail(
          src, name,
          "shape " + Arrays.toString(shape) + " of " + dtype + " needs " + bytes
              + " bytes but data_offsets " + Arrays.toString(offsets) + " span " + (end - begin));
    }
    if (end > dataSize) {
      throw fail(
          src, name,
          "data_offsets " + Arrays.toString(offsets) + " reach past the end of the " + dataSize
              + "-byte data section (truncated file?)");
    }
    if (bytes > MAX_TENSOR_BYTES) {
      throw fail(
          src, name,
          bytes + " bytes is more than the " + MAX_TENSOR_BYTES + " one tensor can hold in memory");
    }
    return new Entry(name, dtype, shape, begin, end);
  }

  /** A JSON array of non-negative integers; {@code length} -1 means any length. */
  private static long[] longs(Object value, String field, int length, String name, String src) {
    if (!(value instanceof List<?> list)) {
      throw fail(src, name, field + " must be an array of integers, got " + kind(value));
    }
    if (length >= 0 && list.size() != length) {
      throw fail(src, name, field + " must have " + length + " elements, got " + list.size());
    }
    long[] out = new long[list.size()];
    for (int i = 0; i < out.length; i++) {
      Object v = list.get(i);
      if (!(v instanceof Long l) || l < 0) {
        throw fail(
            src, name, field + "[" + i + "] must be a non-negative integer, got " + kind(v));
      }
      out[i] = l;
    }
    return out;
  }

  /** Sorted by offset, the tensors must tile the data section: no gap, no overlap, no excess. */
  private static void checkLayout(List<Entry> entries, long dataSize, String src) {
    long expected = 0;
    Entry previous = null;
    for (int i : sortedByOffset(entries)) {
      Entry e = entries.get(i);
      String range = "data_offsets [" + e.begin() + ", " + e.end() + "]";
      if (e.begin() < expected) {
        throw fail(
            src, e.name(),
            range + " overlap tensor '" + previous.name() + "' [" + previous.begin() + ", "
                + previous.end() + "]");
      }
      if (e.begin() > expected) {
        throw fail(
            src, e.name(),
            range + " leave a gap of " + (e.begin() - expected) + " unused bytes "
                + (previous == null
                    ? "at the start of the data section"
                    : "after tensor '" + previous.name() + "' (which ends at " + expected + ")"));
      }
      expected = e.end();
      previous = e;
    }
    if (expected != dataSize) {
      throw fail(
          src, null,
          "the data section has " + (dataSize - expected) + " bytes after the last tensor (at "
              + expected + " of " + dataSize + ") that no tensor covers");
    }
  }

  private static String kind(Object v) {
    if (v == null) {
      return "nothing";
    }
    if (v instanceof String s) {
      return "\"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\"";
    }
    if (v instanceof Map) {
      return "an object";
    }
    if (v instanceof List) {
      return "an array";
    }
    return String.valueOf(v);
  }

  private static CheckpointException fail(String src, String tensor, String problem) {
    String msg = tensor == null ? problem : "tensor '" + tensor + "': " + problem;
    return new CheckpointException(src + ": " + msg, tensor, null);
  }
}
