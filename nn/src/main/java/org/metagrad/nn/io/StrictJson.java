package org.metagrad.nn.io;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A small strict JSON reader (RFC 8259) for checkpoint headers, which come from untrusted files.
 *
 * <p>Values map to: object {@code ->} {@link LinkedHashMap} (duplicate keys rejected), array
 * {@code ->} {@link List}, string {@code ->} {@link String}, integer {@code ->} {@link Long}
 * (overflow rejected), any other number {@code ->} {@link Decimal} (kept as text, so the caller can
 * say "got 2.5"), {@code true}/{@code false} {@code ->} {@link Boolean}, {@code null} {@code ->}
 * {@link #NULL}.
 *
 * <p>Hostile input is bounded: nesting deeper than {@link #MAX_DEPTH} and arrays longer than {@link
 * #MAX_ARRAY_LENGTH} are rejected, the walk is iterative per level and linear in the input, and all
 * errors are {@link CheckpointException}s carrying the character offset.
 *
 * <p>Besides {@link #parse}, the cursor methods ({@link #beginObject}, {@link #nextKey}, {@link
 * #value}, {@link #end}) let the header reader check each top-level member as soon as it is read,
 * so a huge header of junk fails early instead of first being built in memory.
 */
final class StrictJson {
  /** Deepest nesting accepted; a safetensors header needs 3. */
  static final int MAX_DEPTH = 8;

  /** Longest array accepted; a tensor's shape is the longest array in a header (PyTorch allows 64 dims). */
  static final int MAX_ARRAY_LENGTH = 1024;

  /** The JSON {@code null}. */
  static final Object NULL =
      new Object() {
        @Override
        public String toString() {
          return "null";
        }
      };

  /** A number with a fraction or exponent, kept as its text. */
  record Decimal(String text) {
    @Override
    public String toString() {
      return text;
    }
  }

  private final String s;
  private final String src;
  private int pos;

  /** A reader of {@code text}; {@code src} (the file name) starts every error message. */
  StrictJson(String text, String src) {
    this.s = text;
    this.src = src;
  }

  /** Parses a complete document: one value, optional whitespace, nothing else. */
  static Object parse(String text, String src) {
    StrictJson p = new StrictJson(text, src);
    Object v = p.value(1);
    p.end();
    return v;
  }

  /** Skips whitespace and consumes the {@code '{'} that opens the top-level object. */
  void beginObject() {
    ws();
    expect('{', "'{'");
  }

  /**
   * The key of the next member of the object being read, with its {@code ':'} consumed, or null at
   * the closing {@code '}'} (consumed). {@code first} is true for the first call after {@code '{'}.
   */
  String nextKey(boolean first) {
    ws();
    if (pos < s.length() && s.charAt(pos) == '}') {
      pos++;
      return null;
    }
    if (!first) {
      expect(',', "',' or '}'");
      ws();
    }
    String key = string();
    ws();
    expect(':', "':' after a key");
    return key;
  }

  /** Parses one value at nesting level {@code depth} (the top-level value is level 1). */
  Object value(int depth) {
    if (depth > MAX_DEPTH) {
      throw error("nesting deeper than " + MAX_DEPTH + " levels");
    }
    ws();
    if (pos >= s.length()) {
      throw error("unexpected end of header, expected a value");
    }
    char c = s.charAt(pos);
    switch (c) {
      case '{':
        return object(depth);
      case '[':
        return array(depth);
      case '"':
        return string();
      case 't':
        literal("true");
        return Boolean.TRUE;
      case 'f':
        literal("false");
        return Boolean.FALSE;
      case 'n':
        literal("null");
        return NULL;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          return number();
        }
        throw error("unexpected " + describe(c) + ", expected a value");
    }
  }

  /** Requires that only whitespace is left. */
  void end() {
    ws();
    if (pos < s.length()) {
      throw error("trailing " + describe(s.charAt(pos)) + " after the JSON value");
    }
  }

  /** The current character offset, for messages. */
  int position() {
    return pos;
  }

  private Map<String, Object> object(int depth) {
    pos++; // '{'
    Map<String, Object> m = new LinkedHashMap<>();
    Set<String> seen = new HashSet<>();
    boolean first = true;
    while (true) {
      int keyAt = pos;
      String key = nextKey(first);
      if (key == null) {
        return m;
      }
      if (!seen.add(key)) {
        pos = keyAt;
        throw error("duplicate key '" + key + "'");
      }
      m.put(key, value(depth + 1));
      first = false;
    }
  }

  private List<Object> array(int depth) {
    pos++; // '['
    List<Object> list = new ArrayList<>();
    ws();
    if (pos < s.length() && s.charAt(pos) == ']') {
      pos++;
      return list;
    }
    while (true) {
      if (list.size() == MAX_ARRAY_LENGTH) {
        throw error("array longer than " + MAX_ARRAY_LENGTH + " elements");
      }
      list.add(value(depth + 1));
      ws();
      if (pos >= s.length()) {
        throw error("unexpected end of header inside an array");
      }
      char c = s.charAt(pos++);
      if (c == ']') {
        return list;
      }
      if (c != ',') {
        pos--;
        throw error("unexpected " + describe(c) + ", expected ',' or ']'");
      }
    }
  }

  private String string() {
    if (pos >= s.length() || s.charAt(pos) != '"') {
      throw error(
          (pos >= s.length() ? "unexpected end of header" : "unexpected " + describe(s.charAt(pos)))
              + ", expected a string");
    }
    pos++;
    StringBuilder sb = new StringBuilder();
    while (true) {
      if (pos >= s.length()) {
        throw error("unterminated string");
      }
      char c = s.charAt(pos++);
      if (c == '"') {
        return sb.toString();
      }
      if (c < 0x20) {
        pos--;
        throw error("unescaped control character U+" + String.format("%04X", (int) c) + " in a string");
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      if (pos >= s.length()) {
        throw error("unterminated string");
      }
      char e = s.charAt(pos++);
      switch (e) {
        case '"', '\\', '/' -> sb.append(e);
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'u' -> {
          char u = hex4();
          if (Character.isHighSurrogate(u)) {
            if (pos + 1 < s.length() && s.charAt(pos) == '\\' && s.charAt(pos + 1) == 'u') {
              pos += 2;
              char low = hex4();
              if (!Character.isLowSurrogate(low)) {
                throw error("high surrogate \\u" + hexOf(u) + " followed by \\u" + hexOf(low));
              }
              sb.append(u).append(low);
            } else {
              throw error("unpaired surrogate \\u" + hexOf(u));
            }
          } else if (Character.isLowSurrogate(u)) {
            throw error("unpaired surrogate \\u" + hexOf(u));
          } else {
            sb.append(u);
          }
        }
        default -> {
          pos--;
          throw error("invalid escape '\\" + e + "'");
        }
      }
    }
  }

  private char hex4() {
    if (pos + 4 > s.length()) {
      throw error("truncated \\u escape");
    }
    int v = 0;
    for (int i = 0; i < 4; i++) {
      int d = Character.digit(s.charAt(pos), 16);
      // Character.digit also accepts non-ASCII digits; JSON allows only [0-9a-fA-F].
      if (d < 0 || s.charAt(pos) > 'f') {
        throw error("invalid hex digit " + describe(s.charAt(pos)) + " in \\u escape");
      }
      v = v * 16 + d;
      pos++;
    }
    return (char) v;
  }

  private static String hexOf(char c) {
    return String.format("%04X", (int) c);
  }

  private Object number() {
    int start = pos;
    boolean negative = false;
    if (s.charAt(pos) == '-') {
      negative = true;
      pos++;
    }
    int intStart = pos;
    if (pos >= s.length() || !isDigit(s.charAt(pos))) {
      throw error("expected a digit after '-'");
    }
    if (s.charAt(pos) == '0') {
      pos++;
    } else {
      while (pos < s.length() && isDigit(s.charAt(pos))) {
        pos++;
      }
    }
    int intEnd = pos;
    boolean decimal = false;
    if (pos < s.length() && s.charAt(pos) == '.') {
      decimal = true;
      pos++;
      digits("fraction");
    }
    if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
      decimal = true;
      pos++;
      if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
        pos++;
      }
      digits("exponent");
    }
    if (pos < s.length() && isDigit(s.charAt(pos))) {
      throw error("leading zero in a number");
    }
    if (decimal) {
      return new Decimal(s.substring(start, pos));
    }
    long v = 0;
    try {
      for (int i = intStart; i < intEnd; i++) {
        v = Math.addExact(Math.multiplyExact(v, 10L), (long) (s.charAt(i) - '0'));
      }
    } catch (ArithmeticException e) {
      pos = start;
      throw error("integer " + s.substring(start, intEnd) + " does not fit in 64 bits");
    }
    return negative ? -v : v;
  }

  private void digits(String what) {
    if (pos >= s.length() || !isDigit(s.charAt(pos))) {
      throw error("expected a digit in the " + what + " of a number");
    }
    while (pos < s.length() && isDigit(s.charAt(pos))) {
      pos++;
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private void literal(String word) {
    if (!s.startsWith(word, pos)) {
      throw error("unexpected " + describe(s.charAt(pos)) + ", expected a value");
    }
    pos += word.length();
  }

  private void expect(char c, String what) {
    if (pos >= s.length()) {
      throw error("unexpected end of header, expected " + what);
    }
    if (s.charAt(pos) != c) {
      throw error("unexpected " + describe(s.charAt(pos)) + ", expected " + what);
    }
    pos++;
  }

  private void ws() {
    while (pos < s.length()) {
      char c = s.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private static String describe(char c) {
    return c >= 0x20 && c < 0x7f ? "'" + c + "'" : "character U+" + hexOf(c);
  }

  private CheckpointException error(String what) {
    return new CheckpointException(src + ": invalid header JSON at character " + pos + ": " + what);
  }
}
