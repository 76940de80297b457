package org.metagrad.nn.io;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads small JSON documents strictly (RFC 8259, the reader that parses checkpoint headers): duplicate keys,
 * trailing garbage, overflowing integers and over-deep nesting are errors naming the source and the offset.
 * For configuration files, whose readers must also reject what they do not know.
 *
 * <pre>{@code Map<String, Object> m = JsonDocuments.object(Files.readString(p), p.toString()); }</pre>
 *
 * <p>Values: object {@code ->} {@code Map<String, Object>} (in file order), array {@code ->} {@code List}, string
 * {@code ->} {@code String}, integer {@code ->} {@code Long}, other numbers {@code ->} their text (a
 * {@code CharSequence} whose {@code toString()} is the number as written), booleans {@code ->} {@code Boolean},
 * {@code null} {@code ->} {@link #NULL}.
 */
public final class JsonDocuments {
  /** The JSON {@code null}. */
  public static final Object NULL = StrictJson.NULL;

  private JsonDocuments() {}

  /**
   * Parses a document whose top level must be an object.
   *
   * @param source what to call the text in messages (a file name)
   * @throws CheckpointException naming {@code source} and the offset when the text is not one JSON object
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> object(String text, String source) {
    Object v = StrictJson.parse(text, source);
    if (!(v instanceof Map<?, ?> m)) {
      throw new CheckpointException(source + ": expected a JSON object at the top level");
    }
    return Collections.unmodifiableMap(new LinkedHashMap<>((Map<String, Object>) m));
  }
}
