package org.metagrad.meta.train;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Training stopped because an iteration produced a non-finite value: the meta-loss, a meta-gradient, an
 * updated parameter or an optimizer moment. Nothing of that iteration was written; the run folder keeps
 * the last finite state ({@code last.safetensors} at {@link #lastGoodIteration()} with its metrics rows).
 * The command line exits with status 3 ({@code Main.DIVERGED}).
 */
public final class TrainingDivergedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final long iteration;
  private final long lastGoodIteration;
  private final transient Path checkpoint;

  /**
   * A divergence.
   *
   * @param iteration the iteration (1-based) whose step was non-finite
   * @param what what was non-finite, e.g. "the meta-gradient of 'head.weight' is NaN at element 3"
   * @param checkpoint the last good checkpoint, or null when none was written
   * @param lastGoodIteration the iteration that checkpoint holds (0 when none)
   */
  public TrainingDivergedException(long iteration, String what, Path checkpoint, long lastGoodIteration) {
    super("training diverged at iteration " + iteration + ": " + what + "; "
        + (checkpoint == null ? "no checkpoint was written"
            : "the last good state (iteration " + lastGoodIteration + ") is kept in " + checkpoint)
        + " (lower the learning rates, or clip the meta-gradient with --clip)");
    this.iteration = iteration;
    this.lastGoodIteration = lastGoodIteration;
    this.checkpoint = checkpoint;
  }

  /** The iteration (1-based) whose step was non-finite. */
  public long iteration() {
    return iteration;
  }

  /** The iteration of the last good checkpoint, 0 when none was written. */
  public long lastGoodIteration() {
    return lastGoodIteration;
  }

  /** The last good checkpoint, if one was written. */
  public Optional<Path> checkpoint() {
    return Optional.ofNullable(checkpoint);
  }
}
