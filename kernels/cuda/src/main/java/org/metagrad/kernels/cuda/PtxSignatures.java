package org.metagrad.kernels.cuda;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parameter lists of a PTX module's kernels, in bytes per parameter, read from the {@code .visible .entry}
 * declarations ({@code .u64}: a pointer, 8; {@code .u32}/{@code .s32}/{@code .f32}: 4; {@code .f64}: 8;
 * {@code .align 4 .b8 name[N]}: a struct of N bytes). The backend checks every launch against it, so a host
 * argument list that drifts from a kernel's signature (an extra int, a struct of the wrong size) is an exception
 * naming both instead of a kernel reading garbage.
 */
final class PtxSignatures {
  private static final Pattern ENTRY = Pattern.compile("\\.visible \\.entry (\\w+)\\(([^)]*)\\)");
  private static final Pattern PARAM = Pattern.compile("\\.param\\s+(?:\\.align\\s+\\d+\\s+)?\\.(\\w+)\\s+\\w+(?:\\[(\\d+)\\])?");

  private PtxSignatures() {}

  /**
   * Every kernel of a PTX text with its parameter sizes in bytes.
   *
   * @param ptx the module's text
   * @return kernel name to parameter sizes, in declaration order
   * @throws IllegalArgumentException on a parameter type this parser does not know
   */
  static Map<String, List<Integer>> parse(String ptx) {
    Map<String, List<Integer>> out = new HashMap<>();
    Matcher m = ENTRY.matcher(ptx);
    while (m.find()) {
      List<Integer> sizes = new ArrayList<>();
      Matcher p = PARAM.matcher(m.group(2));
      while (p.find()) {
        String type = p.group(1);
        if (p.group(2) != null) {
          sizes.add(Integer.parseInt(p.group(2)) * elementBytes(type, m.group(1)));
        } else {
          sizes.add(elementBytes(type, m.group(1)));
        }
      }
      out.put(m.group(1), List.copyOf(sizes));
    }
    return out;
  }

  private static int elementBytes(String type, String kernel) {
    return switch (type) {
      case "u64", "s64", "b64", "f64" -> 8;
      case "u32", "s32", "b32", "f32" -> 4;
      case "u16", "s16", "b16", "f16" -> 2;
      case "u8", "s8", "b8" -> 1;
      default -> throw new IllegalArgumentException("PTX parameter type ." + type + " of " + kernel + " not understood");
    };
  }
}
