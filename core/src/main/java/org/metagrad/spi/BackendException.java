package org.metagrad.spi;

/**
 * A backend could not do what was asked: no platform or device, a kernel that failed to build, device
 * memory exhausted. The message names the backend and the reason; automatic backend selection catches
 * it and falls back.
 */
public class BackendException extends RuntimeException {
  /** With a message naming the backend and the reason. */
  public BackendException(String message) {
    super(message);
  }

  /** With a message and the underlying cause. */
  public BackendException(String message, Throwable cause) {
    super(message, cause);
  }
}
