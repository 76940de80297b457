package org.metagrad.meta.train;

import java.util.Locale;
import java.util.Map;

/**
 * Minimal JSON writing for the run files ({@code config.json}, {@code metrics.json}): objects whose values
 * are strings, numbers, booleans, nested maps or arrays of doubles. Non-finite numbers become {@code null}.
 *
 * <pre>{@code String s = Json.object(Map.of("mean", 0.98, "episodes", 600)); }</pre>
 */
public final class Json {
  private Json() {}

  /** A pretty-printed object (two-space indent, one entry per line). */
  public static String object(Map<String, ?> m) {
    return write(m, "") + "\n";
  }

  private static String write(Object v, String indent) {
    if (v == null) {
      return "null";
    }
    if (v instanceof Map<?, ?> m) {
      if (m.isEmpty()) {
        return "{}";
      }
      StringBuilder sb = new StringBuilder("{\n");
      String in = indent + "  ";
      int i = 0;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        sb.append(in).append(quote(String.valueOf(e.getKey()))).append(": ").append(write(e.getValue(), in));
        sb.append(++i < m.size() ? ",\n" : "\n");
      }
      return sb.append(indent).append('}').toString();
    }
    if (v instanceof double[] a) {
      StringBuilder sb = new StringBuilder("[");
      for (int i = 0; i < a.length; i++) {
        sb.append(i == 0 ? "" : ", ").append(number(a[i]));
      }
      return sb.append(']').toString();
    }
    if (v instanceof java.util.List<?> l) {
      StringBuilder sb = new StringBuilder("[");
      for (int i = 0; i < l.size(); i++) {
        sb.append(i == 0 ? "" : ", ").append(write(l.get(i), indent));
      }
      return sb.append(']').toString();
    }
    if (v instanceof Double d) {
      return number(d);
    }
    if (v instanceof Float f) {
      return number(f);
    }
    if (v instanceof Number || v instanceof Boolean) {
      return v.toString();
    }
    return quote(v.toString());
  }

  private static String number(double d) {
    if (!Double.isFinite(d)) {
      return "null";
    }
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return String.format(Locale.ROOT, "%.1f", d);
    }
    return Double.toString(d);
  }

  /** A JSON string literal. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        case '\r' -> sb.append("\\r");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  /** The inverse of {@link #quote} for the body of a string literal. */
  static String unescape(String s) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '\\' || i + 1 >= s.length()) {
        sb.append(c);
        continue;
      }
      char n = s.charAt(++i);
      switch (n) {
        case 'n' -> sb.append('\n');
        case 't' -> sb.append('\t');
        case 'r' -> sb.append('\r');
        case 'u' -> {
          sb.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
          i += 4;
        }
        default -> sb.append(n);
      }
    }
    return sb.toString();
  }
}
