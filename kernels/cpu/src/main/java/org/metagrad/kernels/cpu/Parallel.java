package org.metagrad.kernels.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;
import org.metagrad.TaskParallel;

/**
 * Splits a range of independent work items over a shared pool of daemon threads.
 *
 * <p>Determinism: callers only split work by output (rows, tiles, planes) and every output is computed
 * by one chunk in a fixed order, so results are bit-identical for any thread count and any chunk
 * schedule. Chunks are claimed dynamically because this machine is shared and noisy: a static split
 * would wait for the slowest core.
 */
final class Parallel {
  /** Thread count used when none is configured. */
  static final int DEFAULT_THREADS = org.metagrad.Metagrad.defaultThreads();

  private static final class Holder {
    // Lazily created so that a single-threaded backend never starts threads.
    static final ForkJoinPool POOL = new ForkJoinPool(Math.max(DEFAULT_THREADS, configuredThreads()),
        pool -> {
          ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
          t.setName("metagrad-cpu-" + t.getPoolIndex());
          t.setDaemon(true);
          return t;
        }, null, false);
  }

  /** Body of a parallel loop: processes items [lo, hi). */
  @FunctionalInterface
  interface Body {
    /** Processes items {@code lo} (inclusive) to {@code hi} (exclusive). */
    void run(int lo, int hi);
  }

  private Parallel() {}

  /** The kernel threads of {@link org.metagrad.Metagrad#settings()} (default the processor count); at least 1. */
  static int configuredThreads() {
    return org.metagrad.Metagrad.settings().threads();
  }

  /**
   * Runs {@code body} over {@code [0, n)} on up to {@code threads} threads, in chunks of at least
   * {@code grain} items. Runs inline when one thread suffices, when called from a pool thread (a
   * nested parallel loop would only add handoffs) or from a task of {@link TaskParallel#map} (the tasks
   * already occupy the cores).
   */
  static void forRange(int threads, int n, int grain, Body body) {
    if (n <= 0) {
      return;
    }
    int maxChunks = (int) Math.min((n + (long) grain - 1) / Math.max(1, grain), 4L * threads);
    if (threads <= 1 || maxChunks <= 1 || isPoolThread() || TaskParallel.inTask()) {
      body.run(0, n);
      return;
    }
    new Job(n, maxChunks, body).execute(Math.min(threads, maxChunks));
  }

  private static boolean isPoolThread() {
    return Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == Holder.POOL;
  }

  /** One parallel loop: helpers and the caller claim chunks until none are left. */
  private static final class Job implements Runnable {
    private final int n;
    private final int chunks;
    private final int chunkSize;
    private final Body body;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger done = new AtomicInteger();
    private volatile Throwable failure;

    Job(int n, int chunks, Body body) {
      this.n = n;
      this.chunkSize = (n + chunks - 1) / chunks;
      this.chunks = (n + chunkSize - 1) / chunkSize;
      this.body = body;
    }

    void execute(int workers) {
      for (int i = 1; i < workers; i++) {
        Holder.POOL.execute(this);
      }
      run();
      // Helpers that start after every chunk is claimed exit at once; wait only for claimed chunks.
      if (done.get() < chunks) {
        synchronized (this) {
          while (done.get() < chunks) {
            try {
              wait();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new IllegalStateException("cpu backend: interrupted while waiting for workers", e);
            }
          }
        }
      }
      Throwable t = failure;
      if (t instanceof RuntimeException r) {
        throw r;
      }
      if (t instanceof Error err) {
        throw err;
      }
      if (t != null) {
        throw new IllegalStateException(t);
      }
    }

    @Override
    public void run() {
      int c;
      while ((c = next.getAndIncrement()) < chunks) {
        try {
          int lo = c * chunkSize;
          body.run(lo, Math.min(n, lo + chunkSize));
        } catch (Throwable t) {
          failure = t;
        } finally {
          if (done.incrementAndGet() == chunks) {
            synchronized (this) {
              notifyAll();
            }
          }
        }
      }
    }
  }
}
