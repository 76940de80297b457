package org.metagrad.bench.workloads;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.ConjugateGradient;
import org.metagrad.meta.algo.Imaml;
import org.metagrad.meta.algo.Maml;
import org.metagrad.meta.algo.Order;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.BnMode;
import org.metagrad.nn.Backbones;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;

/**
 * Memory and time of one task's meta-gradient, iMAML against second-order MAML, for several inner-step
 * counts: {@code java -cp ... org.metagrad.bench.workloads.ImamlVsMaml [reps] [steps...]}. The model is
 * the strided conv4-64 of the MAML rows of meta/RESULTS.md with a 5-way head, the task 5-way 1-shot with 15
 * queries per class of random 28x28 images (the pixel values do not change the work).
 *
 * <p>Time: the median of {@code reps} calls of {@code metaGradient} (after 2 warm-up calls), wall clock and
 * the process's CPU time (all threads: kernels, collector, compiler), which a loaded host distorts less.
 *
 * <p>Memory: the engine does not count its buffers, so this measures the heap retained, after full
 * collections, at the point where each method holds the most recorded graph: for MAML the query loss with
 * the whole unrolled inner loop behind it (what its meta-backward needs); for iMAML the recorded support-loss
 * gradient that the conjugate-gradient Hessian-vector products differentiate, plus the query-loss gradient
 * (what its CG needs), or before that the query loss with its forward graph, whichever is larger. All relative
 * to the heap before the call. Transient buffers inside a backward pass
 * are not included for either.
 */
public final class ImamlVsMaml {
  private ImamlVsMaml() {}

  private static long used() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }

  private static Task task(Rng rng) {
    int ways = 5;
    int shots = 1;
    int queries = 15;
    double[] sx = new double[ways * shots * 784];
    double[] qx = new double[ways * queries * 784];
    for (int i = 0; i < sx.length; i++) {
      sx[i] = rng.nextDouble();
    }
    for (int i = 0; i < qx.length; i++) {
      qx[i] = rng.nextDouble();
    }
    int[] sy = new int[ways * shots];
    int[] qy = new int[ways * queries];
    for (int i = 0; i < sy.length; i++) {
      sy[i] = i / shots;
    }
    for (int i = 0; i < qy.length; i++) {
      qy[i] = i / queries;
    }
    return new Task(Tensor.of(sx, DType.FLOAT32, ways * shots, 1, 28, 28), sy,
        Tensor.of(qx, DType.FLOAT32, ways * queries, 1, 28, 28), qy, ways);
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /** {median wall ms, median process CPU ms} of reps calls after 2 warm-ups. */
  private static double[] timeMs(Runnable r, int reps) {
    r.run();
    r.run();
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    double[] t = new double[reps];
    double[] c = new double[reps];
    for (int i = 0; i < reps; i++) {
      long c0 = os.getProcessCpuTime();
      long t0 = System.nanoTime();
      r.run();
      t[i] = (System.nanoTime() - t0) / 1e6;
      c[i] = (os.getProcessCpuTime() - c0) / 1e6;
    }
    return new double[] {median(t), median(c)};
  }

  public static void main(String[] args) {
    int reps = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int[] steps = args.length > 1 ? Arrays.stream(args, 1, args.length).mapToInt(Integer::parseInt).toArray()
        : new int[] {1, 2, 5, 10, 20};
    Network net = Backbones.conv4Strided(1, 64, 28, 5, BnMode.BATCH_STATS);
    Params theta = net.init(new Rng(1), DType.FLOAT32).requiresGrad(true);
    Task task = task(new Rng(2));
    double lr = 0.1;
    System.out.printf(Locale.ROOT, "conv4Strided-64, 5-way 1-shot 15 queries, %d parameters; inner lr %.1f; iMAML lambda"
        + " 2, 5 CG steps; %d timed reps (median) after 2 warm-ups; %d CPUs%n", theta.numel(), lr, reps,
        Runtime.getRuntime().availableProcessors());
    System.out.println("| inner steps | MAML 2nd order: wall (ms) | iMAML: wall (ms) | MAML: process CPU (ms) | iMAML:"
        + " process CPU (ms) | MAML: graph heap (MiB) | iMAML: graph heap (MiB), the larger of its two points |");
    System.out.println("| --- | --- | --- | --- | --- | --- | --- |");
    for (int k : steps) {
      Maml maml = new Maml(net, k, lr, Order.SECOND);
      Imaml im = new Imaml(net, k, lr, 2.0, 5, 0.0);
      // Memory, MAML: the query loss with the unrolled graph alive.
      long base = used();
      Tensor lq = maml.metaLoss(theta, task).loss();
      double mamlMiB = (used() - base) / 1048576.0;
      lq = null;
      // Memory, iMAML: (a) the query loss with its forward graph alive, before its gradient; (b) the recorded
      // support gradient (inside the CG operator) and the query gradient alive, during the CG.
      base = used();
      Params phi = im.innerSolve(theta, task, k);
      Params leaves = phi.detach().requiresGrad(true);
      Tensor lqi = task.queryLoss(net.apply(leaves, task.queryX(), Mode.train()));
      double queryMiB = (used() - base) / 1048576.0;
      List<Tensor> v = Autograd.grad(lqi, leaves.values(), GradOptions.defaults().allowUnused(true));
      lqi = null;
      ConjugateGradient.Operator op = im.implicitSystem(phi, task);
      op.apply(v);
      double cgMiB = (used() - base) / 1048576.0;
      if (op.apply(v).isEmpty() || v.isEmpty()) {
        throw new AssertionError("keeps op and v reachable until after the measurement");
      }
      op = null;
      v = null;
      List<Tensor> sink = new ArrayList<>();
      double[] mamlMs = timeMs(() -> sink.addAll(maml.metaGradient(theta, task)), reps);
      sink.clear();
      double[] imamlMs = timeMs(() -> sink.addAll(im.metaGradient(theta, task)), reps);
      sink.clear();
      System.out.printf(Locale.ROOT, "| %d | %.0f | %.0f | %.0f | %.0f | %.1f | %.1f (query graph %.1f, CG %.1f) |%n", k,
          mamlMs[0], imamlMs[0], mamlMs[1], imamlMs[1], mamlMiB, Math.max(queryMiB, cgMiB), queryMiB, cgMiB);
    }
  }
}
