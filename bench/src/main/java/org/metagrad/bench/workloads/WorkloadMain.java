package org.metagrad.bench.workloads;

import java.util.Arrays;
import java.util.List;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.spi.Backends;

/**
 * Runs one end-to-end workload in a fresh JVM, for profiling (JFR) and for the peak-memory figure that
 * JMH cannot give: {@code java -cp benchmarks.jar org.metagrad.bench.workloads.WorkloadMain NAME [REPEATS]}
 * with NAME one of conv4, maml2_1step, maml1_1step, maml2_5step, maml1_5step, protonet, add_chain (the MAML
 * ones with the tasks side by side, {@link Workloads#mamlMetaStepTasks}; append {@code _graph} for one graph
 * and one backward pass over all tasks, {@link Workloads#mamlMetaStep}).
 * Prints one JSON line with the median wall time and process CPU time (all threads, GC included: on a
 * shared machine wall time also counts waiting for a core), the peak RSS growth (VmHWM after the workload minus
 * VmHWM after setup, from /proc/self/status: the same measure as torch_workloads.py's ru_maxrss) and
 * the peak live heap (the most heap in use right after any collection during the workload). RSS growth
 * depends on how far the collector lets the heap grow (run with a stated -Xmx); the live heap is what
 * the workload's tensors and graph actually hold at their peak.
 */
public final class WorkloadMain {
  private WorkloadMain() {}

  public static void main(String[] args) throws Exception {
    String name = args[0];
    int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    Runnable step = make(name);
    System.gc();
    long[] peakLive = {0};
    for (java.lang.management.GarbageCollectorMXBean gc : java.lang.management.ManagementFactory
        .getGarbageCollectorMXBeans()) {
      ((javax.management.NotificationEmitter) gc).addNotificationListener((n, h) -> {
        if (n.getType().equals(com.sun.management.GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
          var info = com.sun.management.GarbageCollectionNotificationInfo.from(
              (javax.management.openmbean.CompositeData) n.getUserData());
          long used = 0;
          for (var u : info.getGcInfo().getMemoryUsageAfterGc().values()) {
            used += u.getUsed();
          }
          synchronized (peakLive) {
            peakLive[0] = Math.max(peakLive[0], used);
          }
        }
      }, null, null);
    }
    long heapSetup = heapUsedAfterGc();
    long hwmSetup = vmHwmKib();
    long rssSetup = vmRssKib();
    double[] ms = new double[repeats];
    double[] cpu = new double[repeats];
    var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean();
    for (int r = 0; r < repeats; r++) {
      long c0 = os.getProcessCpuTime();
      long t0 = System.nanoTime();
      step.run();
      ms[r] = (System.nanoTime() - t0) / 1e6;
      cpu[r] = (os.getProcessCpuTime() - c0) / 1e6;
    }
    Arrays.sort(cpu);
    long hwm = vmHwmKib();
    long live;
    synchronized (peakLive) {
      live = peakLive[0];
    }
    double[] sorted = ms.clone();
    Arrays.sort(sorted);
    System.out.printf("{\"workload\": \"%s\", \"backend\": \"%s\", \"repeats\": %d, \"median_ms\": %.3f, "
            + "\"min_ms\": %.3f, \"first_ms\": %.3f, \"cpu_median_ms\": %.3f, \"peak_rss_delta_mib\": %.1f, \"rss_after_setup_mib\": %.1f, "
            + "\"peak_live_heap_delta_mib\": %.1f, \"max_heap_mib\": %.0f}%n",
        name, Backends.cpu().name(), repeats, sorted[repeats / 2], sorted[0], ms[0], cpu[repeats / 2],
        (hwm - hwmSetup) / 1024.0, rssSetup / 1024.0, Math.max(0, live - heapSetup) / 1048576.0,
        Runtime.getRuntime().maxMemory() / 1048576.0);
  }

  static Runnable make(String name) {
    switch (name) {
      case "conv4": {
        Rng rng = new Rng(1);
        List<Tensor> p = Workloads.conv4Params(rng, 1, 64, 5);
        Tensor x = Workloads.images(rng, 100);
        int[] y = Workloads.labels(5, 20);
        return () -> Workloads.conv4ForwardBackward(p, x, y);
      }
      case "protonet": {
        Rng rng = new Rng(3);
        List<Tensor> p = Workloads.conv4Params(rng, 1, 64, 0);
        Tensor s = Workloads.images(rng, 300);
        Tensor q = Workloads.images(rng, 300);
        int[] yq = Workloads.labels(60, 5);
        return () -> Workloads.protoEpisode(p, s, 60, 5, q, yq);
      }
      case "add_chain": {
        Rng rng = new Rng(4);
        Tensor x = Tensor.randn(rng, org.metagrad.DType.FLOAT32, 1, 10).requiresGrad(true);
        Tensor c = Tensor.randn(rng, org.metagrad.DType.FLOAT32, 1, 10);
        return () -> Workloads.addChainBackward(x, c, 10_000);
      }
      default: {
        if (!name.matches("maml[12]_[0-9]+step(_graph)?")) {
          throw new IllegalArgumentException("unknown workload " + name);
        }
        boolean second = name.charAt(4) == '2';
        boolean graph = name.endsWith("_graph");
        int steps = Integer.parseInt(name.substring(6, name.indexOf("step")));
        Rng rng = new Rng(2);
        List<Tensor> p = Workloads.conv4Params(rng, 1, 64, 5);
        List<Workloads.Task> tasks = Workloads.tasks(rng, 4, 5, 1, 15);
        if (graph) {
          return () -> Workloads.mamlMetaStep(p, tasks, steps, 0.4, second);
        }
        return () -> Workloads.mamlMetaStepTasks(p, tasks, steps, 0.4, second, Workloads.threads());
      }
    }
  }

  /** Heap in use after a full collection (the setup's live data). */
  private static long heapUsedAfterGc() {
    System.gc();
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }

  /** A line of /proc/self/status in KiB (0 where the file does not exist). */
  private static long status(String key) {
    try {
      for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (l.startsWith(key + ":")) {
          return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
      }
    } catch (java.io.IOException e) {
      return 0;
    }
    return 0;
  }

  static long vmHwmKib() {
    return status("VmHWM");
  }

  static long vmRssKib() {
    return status("VmRSS");
  }
}
