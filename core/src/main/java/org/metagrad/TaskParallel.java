package org.metagrad;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.metagrad.spi.Backend;
import org.metagrad.spi.Backends;

/**
 * Runs independent pieces of work (the tasks of a meta-batch) side by side, one per thread, with the
 * kernels inside each piece on its own thread.
 *
 * <p>Why: MAML's tensors are small (a 5-image support set, a 75-image query set), so splitting every
 * kernel over the cores leaves them waiting on each other and on the serial work between kernels (graph
 * recording, dispatch). Running one task per core instead keeps every core busy for a whole task. Inside
 * {@link #map}'s workers {@link #inTask()} is true, and backends that split kernels over threads (the CPU
 * backend) run them on the calling thread there; results do not change, since those backends give the
 * same bits for any thread count.
 *
 * <p>Each worker computes with the caller's CPU backend ({@link Backends#cpu()}, including a
 * {@link Backends#withCpuBackend} override) and the caller's recording mode ({@link Autograd#noGrad}).
 * Device tensors a task creates are not tracked by a {@link TensorScope} of the caller (open one inside
 * the task). Results come back in the items' order whatever thread computed them, so a caller that
 * combines them in that order gets the same bits for any number of workers.
 *
 * <pre>{@code
 * List<List<Tensor>> grads = TaskParallel.map(2, tasks, t -> Autograd.grad(queryLoss(adapt(params, t), t), params));
 * }</pre>
 */
public final class TaskParallel {
  private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);
  /** The ordered actions of the item this thread is running inside a parallel {@link #map}; null outside one. */
  private static final ThreadLocal<List<Runnable>> PENDING = new ThreadLocal<>();
  private static final AtomicInteger THREAD_NO = new AtomicInteger();

  private static final class Holder {
    // Grows to the largest number of workers asked for at once; idle threads end after a minute.
    static final ThreadPoolExecutor POOL = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
        new SynchronousQueue<>(), r -> {
          Thread t = new Thread(r, "metagrad-task-" + THREAD_NO.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  private TaskParallel() {}

  /**
   * Whether the calling thread is running a piece of work of {@link #map}: backends then keep their
   * kernels on this thread instead of splitting them over a pool.
   */
  public static boolean inTask() {
    return DEPTH.get()[0] > 0;
  }

  /**
   * Runs a side effect on shared state (BatchNorm's running statistics, a counter) in the items' order: outside
   * a parallel {@link #map} it runs now; inside one it is queued with the item that calls it, and {@code map}
   * runs the queued actions of all items in the items' order on the calling thread before it returns. So an
   * order-dependent update (an exponential moving average) ends with the same bits as running the items one
   * after another, whatever the number of workers or the order in which they finish. Until then the update is
   * not visible to the other items of the same {@code map} (nor to later code of the same item).
   */
  public static void inOrder(Runnable action) {
    Objects.requireNonNull(action, "TaskParallel.inOrder: action");
    List<Runnable> pending = PENDING.get();
    if (pending == null) {
      action.run();
    } else {
      pending.add(action);
    }
  }

  /**
   * Applies {@code fn} to every item on up to {@code workers} threads (the caller is one of them) and
   * returns the results in the items' order. With one worker, one item, or when called from inside
   * another {@code map}'s task, the items run one after another on the calling thread (and, in the first
   * two cases, the kernels keep their own threads).
   *
   * <p>When a task throws, no further items are started, the tasks already running finish, the
   * {@link #inOrder} actions of the items before the lowest-numbered failed one run (as they would have one
   * after another), and the exception of the lowest-numbered failed item is rethrown (unchecked exceptions and errors as they
   * are, others wrapped in an {@link IllegalStateException}).
   *
   * @param workers threads to use, at least 1
   * @throws IllegalArgumentException if {@code workers < 1}
   * @throws IllegalStateException if the caller is interrupted while waiting (its interrupt flag is set
   *     again and no further items are started)
   */
  public static <T, R> List<R> map(int workers, List<? extends T> items, Function<? super T, ? extends R> fn) {
    if (workers < 1) {
      throw new IllegalArgumentException("TaskParallel.map: workers must be >= 1, got " + workers);
    }
    Objects.requireNonNull(items, "TaskParallel.map: items");
    Objects.requireNonNull(fn, "TaskParallel.map: fn");
    int n = items.size();
    List<R> out = new ArrayList<>(Collections.nCopies(n, null));
    if (n == 0) {
      return out;
    }
    if (workers == 1 || n == 1 || inTask()) {
      for (int i = 0; i < n; i++) {
        out.set(i, applyClean(fn, items.get(i)));
      }
      return out;
    }
    Job<T, R> job = new Job<>(items, fn, out, Backends.cpu(), Autograd.isEnabled());
    int helpers = Math.min(workers, n) - 1;
    for (int h = 0; h < helpers; h++) {
      Holder.POOL.execute(job);
    }
    job.run();
    job.await();
    job.runOrderedActions();
    job.rethrow();
    return out;
  }

  /**
   * Applies {@code fn} to one item and then puts back this thread's recording mode and scope stack as they were
   * before it: a task that leaves {@link Autograd#noGrad} or a {@link TensorScope} open must not change how the
   * next task on this thread (a pool thread's next job, or the caller) records. Without it the effect of such a
   * task would depend on which thread ran it, so on the worker count.
   */
  private static <T, R> R applyClean(Function<? super T, ? extends R> fn, T item) {
    int noGrad = Autograd.noGradDepth();
    int scopes = TensorScope.depth();
    try {
      return fn.apply(item);
    } finally {
      Autograd.restoreNoGradDepth(noGrad);
      TensorScope.unwindTo(scopes);
    }
  }

  /** One call of {@link #map}: workers claim items until none are left or one has failed. */
  private static final class Job<T, R> implements Runnable {
    private final List<? extends T> items;
    private final Function<? super T, ? extends R> fn;
    private final List<R> out;
    private final Backend backend;
    private final boolean recording;
    private final Throwable[] failures;
    private final List<List<Runnable>> actions;
    private int next;
    private int finished;
    private int claimed;
    private boolean stop;

    Job(List<? extends T> items, Function<? super T, ? extends R> fn, List<R> out, Backend backend,
        boolean recording) {
      this.items = items;
      this.fn = fn;
      this.out = out;
      this.backend = backend;
      this.recording = recording;
      this.failures = new Throwable[items.size()];
      this.actions = new ArrayList<>(Collections.nCopies(items.size(), null));
    }

    @Override
    public void run() {
      int[] depth = DEPTH.get();
      depth[0]++;
      try {
        Backends.withCpuBackend(backend, () -> {
          if (recording) {
            claimLoop();
          } else {
            try (Autograd.NoGrad g = Autograd.noGrad()) {
              claimLoop();
            }
          }
          return null;
        });
      } finally {
        depth[0]--;
      }
    }

    private void claimLoop() {
      while (true) {
        int i;
        synchronized (this) {
          if (stop) {
            return;
          }
          i = next++;
          if (i >= items.size()) {
            return;
          }
          claimed++;
        }
        R r = null;
        Throwable t = null;
        List<Runnable> queued = new ArrayList<>();
        List<Runnable> outer = PENDING.get();
        PENDING.set(queued);
        try {
          r = applyClean(fn, items.get(i));
        } catch (Throwable e) {
          t = e;
        } finally {
          PENDING.set(outer);
        }
        synchronized (this) {
          actions.set(i, queued);
          if (t == null) {
            out.set(i, r);
          } else {
            failures[i] = t;
            stop = true;
          }
          finished++;
          notifyAll();
        }
      }
    }

    /** Waits until every claimed item has finished (workers start no new ones once stopped). */
    void await() {
      synchronized (this) {
        while (finished < claimed) {
          try {
            wait();
          } catch (InterruptedException e) {
            stop = true;
            Thread.currentThread().interrupt();
            throw new IllegalStateException("TaskParallel.map: interrupted while waiting for "
                + (claimed - finished) + " running task(s); no further tasks were started", e);
          }
        }
        // Helpers that had not started yet must not claim an item after the caller returns.
        stop = true;
      }
    }

    /** The items' {@link #inOrder} actions in the items' order, up to the first failed or unstarted item. */
    void runOrderedActions() {
      for (int i = 0; i < actions.size() && failures[i] == null && actions.get(i) != null; i++) {
        for (Runnable a : actions.get(i)) {
          a.run();
        }
      }
    }

    void rethrow() {
      for (Throwable t : failures) {
        if (t instanceof RuntimeException re) {
          throw re;
        }
        if (t instanceof Error err) {
          throw err;
        }
        if (t != null) {
          throw new IllegalStateException("TaskParallel.map: a task failed: " + t, t);
        }
      }
    }
  }
}
