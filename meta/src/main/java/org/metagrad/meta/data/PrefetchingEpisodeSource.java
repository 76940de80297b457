package org.metagrad.meta.data;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Computes a sampler's episodes 0, 1, 2, ... on one daemon thread into a bounded queue; created by
 * {@link EpisodeSampler#prefetching(int)}.
 *
 * <p>The worker blocks when the queue is full; {@link #close()} interrupts and joins it. A failure
 * in the worker is rethrown by the {@link #next()} call that reaches it.
 */
final class PrefetchingEpisodeSource implements EpisodeSource {

  /** Queue element carrying the worker's failure to the consumer. */
  private record Failure(RuntimeException error) {}

  private final BlockingQueue<Object> queue;
  private final Thread worker;
  private volatile boolean closed;

  PrefetchingEpisodeSource(EpisodeSampler sampler, int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("prefetching: capacity must be >= 1, got " + capacity);
    }
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.worker = new Thread(() -> run(sampler), "metagrad-episode-prefetch");
    worker.setDaemon(true);
    worker.start();
  }

  private void run(EpisodeSampler sampler) {
    try {
      for (long i = 0; !closed; i++) {
        Object item;
        try {
          item = sampler.episode(i);
        } catch (RuntimeException e) {
          item = new Failure(e);
        }
        queue.put(item);
        if (item instanceof Failure) {
          return;
        }
      }
    } catch (InterruptedException e) {
      // close() asked us to stop.
    }
  }

  @Override
  public Episode next() {
    if (closed) {
      throw new IllegalStateException("EpisodeSource is closed");
    }
    Object item;
    try {
      item = queue.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the next episode", e);
    }
    if (item instanceof Failure f) {
      closed = true;
      throw new IllegalStateException("episode prefetching failed: " + f.error().getMessage(), f.error());
    }
    return (Episode) item;
  }

  @Override
  public void close() {
    closed = true;
    worker.interrupt();
    try {
      worker.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    queue.clear();
  }

  /** Whether the worker thread has ended; for tests. */
  boolean workerStopped() {
    return !worker.isAlive();
  }
}
