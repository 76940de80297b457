package org.metagrad;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.metagrad.spi.Backend;
import org.metagrad.spi.Backends;
import org.metagrad.spi.ReferenceBackend;

class TaskParallelTest {

  private static List<Integer> range(int n) {
    return IntStream.range(0, n).boxed().toList();
  }

  @Test
  void resultsComeBackInTheItemsOrderForAnyWorkerCount() {
    for (int n : new int[] {0, 1, 2, 5, 17, 100}) {
      for (int w : new int[] {1, 2, 3, 8}) {
        List<Integer> out = TaskParallel.map(w, range(n), i -> {
          if (i % 3 == 0) {
            Thread.onSpinWait();
          }
          return i * i;
        });
        assertThat(out).as("n=%d workers=%d", n, w).isEqualTo(range(n).stream().map(i -> i * i).toList());
      }
    }
  }

  @Test
  void twoWorkersRunTwoItemsAtTheSameTime() {
    // Each item waits for the other at a barrier: run one after the other, the first would time out.
    CyclicBarrier both = new CyclicBarrier(2);
    Set<String> threads = ConcurrentHashMap.newKeySet();
    List<Integer> out = TaskParallel.map(2, range(2), i -> {
      threads.add(Thread.currentThread().getName());
      try {
        both.await(20, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException("items did not run side by side", e);
      }
      return i;
    });
    assertThat(out).containsExactly(0, 1);
    assertThat(threads).hasSize(2).contains(Thread.currentThread().getName());
  }

  @Test
  void inTaskIsTrueInsideEveryTaskOnlyAndNestedCallsRunInline() {
    assertThat(TaskParallel.inTask()).isFalse();
    List<Boolean> flags = TaskParallel.map(2, range(6), i -> TaskParallel.inTask());
    assertThat(flags).containsOnly(true);
    assertThat(TaskParallel.inTask()).isFalse();
    List<List<String>> nested = TaskParallel.map(2, range(4), i -> {
      String outer = Thread.currentThread().getName();
      return TaskParallel.map(4, range(3), j -> Thread.currentThread().getName().equals(outer) ? "same" : "other");
    });
    for (List<String> l : nested) {
      assertThat(l).containsOnly("same");
    }
    // One worker or one item: the caller's thread, not in a task (its kernels keep their threads).
    assertThat(TaskParallel.map(1, range(3), i -> TaskParallel.inTask())).containsOnly(false);
    assertThat(TaskParallel.map(4, range(1), i -> TaskParallel.inTask())).containsOnly(false);
  }

  @Test
  void tasksComputeWithTheCallersBackendAndRecordingMode() {
    List<Backend> seen = Backends.withCpuBackend(ReferenceBackend.INSTANCE,
        () -> TaskParallel.map(2, range(4), i -> Backends.cpu()));
    assertThat(seen).containsOnly(ReferenceBackend.INSTANCE);
    List<Boolean> recording;
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      recording = TaskParallel.map(2, range(4), i -> Autograd.isEnabled());
    }
    assertThat(recording).containsOnly(false);
    assertThat(TaskParallel.map(2, range(4), i -> Autograd.isEnabled())).containsOnly(true);
    assertThat(Autograd.isEnabled()).isTrue();
  }

  @Test
  void gradientsOfTasksEqualThoseComputedInTurnBitForBit() {
    Rng rng = new Rng(7);
    Tensor w = Tensor.randn(rng, DType.FLOAT64, 6, 4).requiresGrad(true);
    List<Tensor> xs = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      xs.add(Tensor.randn(rng, DType.FLOAT64, 3, 6));
    }
    java.util.function.Function<Tensor, double[]> meta = x -> {
      // A second-order quantity: the gradient of a function of an inner gradient.
      Tensor inner = Autograd.grad(x.matmul(w).tanh().sum(), List.of(w), GradOptions.createGraph(true)).get(0);
      Tensor outer = x.matmul(w.sub(inner.mul(0.3))).pow(2).mean();
      return Autograd.grad(outer, List.of(w)).get(0).toDoubleArray();
    };
    List<double[]> inTurn = xs.stream().map(meta).toList();
    for (int workers : new int[] {2, 3, 5}) {
      List<double[]> side = TaskParallel.map(workers, xs, meta);
      for (int i = 0; i < xs.size(); i++) {
        assertThat(side.get(i)).as("task %d, %d workers", i, workers).isEqualTo(inTurn.get(i));
      }
    }
  }

  @Test
  void theLowestNumberedFailureIsRethrownAndNoFurtherItemsStart() {
    AtomicInteger started = new AtomicInteger();
    assertThatThrownBy(() -> TaskParallel.map(2, range(200), i -> {
      started.incrementAndGet();
      if (i >= 3) {
        throw new IllegalArgumentException("item " + i + " is bad");
      }
      return i;
    })).isInstanceOf(IllegalArgumentException.class).hasMessage("item 3 is bad");
    // At most the failing item and the ones the other worker had claimed before it saw the failure.
    assertThat(started.get()).isLessThan(10);
    AssertionError err = new AssertionError("boom");
    assertThatThrownBy(() -> TaskParallel.map(3, range(4), i -> {
      if (i == 2) {
        throw err;
      }
      return i;
    })).isSameAs(err);
  }

  @Test
  void anInterruptedCallerStopsWaitingStartsNothingMoreAndKeepsItsFlag() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch helperBusy = new CountDownLatch(1);
    Thread caller = Thread.currentThread();
    List<Integer> startedItems = Collections.synchronizedList(new ArrayList<>());
    try {
      assertThatThrownBy(() -> TaskParallel.map(2, range(50), i -> {
        startedItems.add(i);
        if (Thread.currentThread() != caller) {
          helperBusy.countDown();
          try {
            release.await(20, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        } else {
          try {
            helperBusy.await(20, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
          caller.interrupt();
          throw new CancelledHere();
        }
        return i;
      })).isInstanceOf(IllegalStateException.class).hasMessageContaining("interrupted while waiting for 1 running");
      assertThat(Thread.interrupted()).isTrue();
    } finally {
      release.countDown();
    }
    Thread.sleep(50);
    // The caller stopped after its first item and the helper after the one it was running.
    assertThat(startedItems.size()).isLessThanOrEqualTo(3);
  }

  private static final class CancelledHere extends RuntimeException {}

  @Test
  void badArgumentsAreNamed() {
    assertThatThrownBy(() -> TaskParallel.map(0, range(3), i -> i))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("workers must be >= 1, got 0");
    assertThatThrownBy(() -> TaskParallel.map(2, null, i -> i)).hasMessageContaining("items");
    assertThatThrownBy(() -> TaskParallel.map(2, range(3), null)).hasMessageContaining("fn");
  }

  @Test
  void aTaskThatLeavesNoGradOpenDoesNotChangeLaterTasksOrTheCaller() {
    // Item 0 of every round opens noGrad and never closes it; every other item reports whether it records.
    for (int w : new int[] {1, 2, 3}) {
      for (int round = 0; round < 20; round++) {
        List<Boolean> recording = TaskParallel.map(w, range(12), i -> {
          if (i % 4 == 0) {
            Autograd.noGrad();   // leaked on purpose
            return false;
          }
          return Autograd.isEnabled();
        });
        for (int i = 0; i < 12; i++) {
          assertThat(recording.get(i)).as("workers=%d round=%d item %d", w, round, i).isEqualTo(i % 4 != 0);
        }
        assertThat(Autograd.isEnabled()).as("caller after workers=%d round=%d", w, round).isTrue();
      }
    }
  }

  @Test
  void aTaskThatLeavesAScopeOpenDoesNotLeaveItOnTheThread() {
    for (int w : new int[] {1, 2}) {
      List<Integer> depths = TaskParallel.map(w, range(10), i -> {
        int before = TensorScope.depth();
        TensorScope.open();   // leaked on purpose
        return before;
      });
      assertThat(depths).as("workers=%d", w).containsOnly(0);
      assertThat(TensorScope.depth()).isZero();
    }
  }

  @Test
  void inOrderActionsRunInTheItemsOrderWhateverOrderTheItemsFinish() throws Exception {
    for (int w : new int[] {1, 2, 4}) {
      List<Integer> log = Collections.synchronizedList(new ArrayList<>());
      TaskParallel.map(w, range(8), i -> {
        try {
          Thread.sleep(5L * (8 - i));   // later items finish first
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        TaskParallel.inOrder(() -> log.add(i));
        TaskParallel.inOrder(() -> log.add(100 + i));
        return i;
      });
      List<Integer> want = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        want.add(i);
        want.add(100 + i);
      }
      assertThat(log).as("workers=%d", w).isEqualTo(want);
    }
    // Outside map an action runs at once.
    AtomicInteger now = new AtomicInteger();
    TaskParallel.inOrder(now::incrementAndGet);
    assertThat(now.get()).isEqualTo(1);
  }

  @Test
  void afterAFailedItemOnlyTheActionsOfTheItemsBeforeItRun() {
    List<Integer> log = Collections.synchronizedList(new ArrayList<>());
    assertThatThrownBy(() -> TaskParallel.map(3, range(6), i -> {
      TaskParallel.inOrder(() -> log.add(i));
      if (i == 3) {
        throw new IllegalArgumentException("item 3 fails");
      }
      return i;
    })).hasMessage("item 3 fails");
    assertThat(log).containsExactly(0, 1, 2);
  }
}
