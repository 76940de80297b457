package org.metagrad.bench.workloads;

import java.util.ArrayList;
import java.util.List;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * How much heap the recorded graph of workload (b) holds: {@code java -cp benchmarks.jar
 * org.metagrad.bench.workloads.GraphHeap 1|2}. For each of the 4 tasks (5-way 1-shot, 15 queries, conv4-64)
 * it runs the inner step (order 1 or 2) and the query forward, keeps the query loss (as the meta-step does
 * until its backward pass) and prints the heap in use after full collections, relative to the start.
 * Unlike peak RSS this does not depend on how far the collector lets the heap grow.
 */
public final class GraphHeap {
  private GraphHeap() {}

  private static long used() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }

  public static void main(String[] args) {
    boolean second = args.length == 0 || args[0].equals("2");
    Rng rng = new Rng(2);
    List<Tensor> p = Workloads.conv4Params(rng, 1, 64, 5);
    List<Workloads.Task> tasks = Workloads.tasks(rng, 4, 5, 1, 15);
    long base = used();
    List<Tensor> keep = new ArrayList<>();
    int i = 0;
    for (Workloads.Task t : tasks) {
      List<Tensor> fast = Workloads.adapt(p, t, 1, 0.4, second);
      long inner = used();
      keep.add(Workloads.queryLoss(fast, t));
      fast = null;
      System.out.printf("order %d, task %d: heap after the inner step %.1f MiB, after the query forward %.1f MiB%n",
          second ? 2 : 1, ++i, (inner - base) / 1048576.0, (used() - base) / 1048576.0);
    }
  }
}
