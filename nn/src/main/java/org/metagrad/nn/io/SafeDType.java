package org.metagrad.nn.io;

import java.util.Optional;
import java.util.Set;

/**
 * The element types a {@link NamedArray} can hold, spelled as in the safetensors header
 * ({@code "dtype": "F32"}). Floating point for parameters, integers for counters such as an
 * optimizer's step.
 *
 * <p>The safetensors format knows more types (F16, BF16, U8, ...); {@link SafeTensors#read} names
 * them in its error ("dtype F16 not supported (tensor 'x')") instead of calling them unknown.
 */
public enum SafeDType {
  /** IEEE 754 binary32, little-endian. */
  F32(4),
  /** IEEE 754 binary64, little-endian. */
  F64(8),
  /** Two's complement 32-bit integer, little-endian. */
  I32(4),
  /** Two's complement 64-bit integer, little-endian. */
  I64(8);

  /**
   * Dtype names that the safetensors format defines but this library does not read. Kept apart
   * from unknown names so that the error says which of the two a file ran into.
   */
  static final Set<String> KNOWN_UNSUPPORTED =
      Set.of(
          "BOOL", "U8", "I8", "I16", "U16", "U32", "U64", "F16", "BF16", "C64", "F4", "F6_E2M3",
          "F6_E3M2", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ");

  private final int byteSize;

  SafeDType(int byteSize) {
    this.byteSize = byteSize;
  }

  /** Bytes per element: 4 for F32 and I32, 8 for F64 and I64. */
  public int byteSize() {
    return byteSize;
  }

  /**
   * The type whose safetensors name is {@code name} (case-sensitive, as the format is), or empty.
   * Example: {@code SafeDType.fromName("F64")} is {@code Optional.of(F64)}.
   */
  public static Optional<SafeDType> fromName(String name) {
    for (SafeDType t : values()) {
      if (t.name().equals(name)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }
}
