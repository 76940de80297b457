package org.metagrad.meta.data;

/**
 * A stream of episodes, {@link #next()} returning episode 0, 1, 2, ... of an
 * {@link EpisodeSampler}; close it to release any background thread.
 *
 * <p>Not thread-safe: one consumer calls {@code next()}.
 */
public interface EpisodeSource extends AutoCloseable {

  /**
   * Returns the next episode.
   *
   * @return the episode with the next index
   * @throws IllegalStateException when the source is closed or sampling failed
   */
  Episode next();

  /** Stops the source; later {@link #next()} calls throw. Idempotent. */
  @Override
  void close();
}
