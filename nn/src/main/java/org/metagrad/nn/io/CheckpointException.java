package org.metagrad.nn.io;

import java.util.Optional;

/**
 * A checkpoint file is malformed: truncated, corrupt, or built to attack the reader. The message
 * names the file, the problem and, where one is involved, the tensor, for example {@code
 * model.safetensors: tensor 'fc.bias': shape [5] of F32 needs 20 bytes but data_offsets [0, 16]
 * span 16}.
 *
 * <p>It is unchecked, like the rest of Metagrad's errors, and deliberately not an {@link
 * IllegalArgumentException}: the file, not the caller's argument, is at fault. Genuine I/O failures
 * (missing file, disk error) stay {@link java.io.IOException}s.
 */
public class CheckpointException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The tensor the problem concerns, or null when it concerns the file as a whole. */
  private final String tensor;

  /** A problem with the file as a whole. */
  public CheckpointException(String message) {
    this(message, null, null);
  }

  /**
   * A problem with one tensor, or the whole file when {@code tensor} is null, with an optional
   * cause.
   */
  public CheckpointException(String message, String tensor, Throwable cause) {
    super(message, cause);
    this.tensor = tensor;
  }

  /** The name of the tensor the problem concerns, if it concerns one. */
  public Optional<String> tensor() {
    return Optional.ofNullable(tensor);
  }
}
