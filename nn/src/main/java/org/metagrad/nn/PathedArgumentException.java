package org.metagrad.nn;

/**
 * An {@link IllegalArgumentException} raised inside a child module, with the dotted path of that child
 * ({@code features.4}) in front of the original message. Package-private: callers catch
 * {@code IllegalArgumentException}.
 */
final class PathedArgumentException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;
  private final String path;
  private final String detail;

  PathedArgumentException(String path, String detail, Throwable cause) {
    super("at " + path + ": " + detail, cause);
    this.path = path;
    this.detail = detail;
  }

  String path() {
    return path;
  }

  String detail() {
    return detail;
  }
}
