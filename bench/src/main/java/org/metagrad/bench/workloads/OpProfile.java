package org.metagrad.bench.workloads;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.Backends;
import org.metagrad.spi.ConvGeometry;
import org.metagrad.spi.ReduceOp;
import org.metagrad.spi.UnaryOp;
import org.metagrad.spi.View;

/**
 * Per-op timers for a workload: a delegating backend that times every kernel call by op and
 * operand layout, so a profile says which primitive (and which shape/stride pattern) the time goes
 * to, and how much is left outside the kernels (graph bookkeeping, dispatch):
 * {@code java -cp benchmarks.jar org.metagrad.bench.workloads.OpProfile NAME [REPEATS]}.
 */
public final class OpProfile implements Backend {
  private final Backend d;
  private final Map<String, long[]> stats = new TreeMap<>();

  OpProfile(Backend d) {
    this.d = d;
  }

  private <T> T time(String key, Supplier<T> body) {
    long t0 = System.nanoTime();
    T r = body.get();
    long dt = System.nanoTime() - t0;
    // Workloads on the tasks schedule call kernels from several threads at once (TaskParallel).
    synchronized (stats) {
      long[] s = stats.computeIfAbsent(key, k -> new long[2]);
      s[0]++;
      s[1] += dt;
    }
    return r;
  }

  private static String v(View v) {
    return Arrays.toString(v.shape()) + (v.isContiguous() ? "" : "s" + Arrays.toString(v.strides()));
  }

  public static void main(String[] args) {
    String name = args[0];
    int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    Runnable step = WorkloadMain.make(name);
    for (int i = 0; i < 2; i++) {
      step.run();
    }
    OpProfile p = new OpProfile(Backends.cpu());
    long t0 = System.nanoTime();
    Backends.withCpuBackend(p, () -> {
      for (int i = 0; i < repeats; i++) {
        step.run();
      }
      return null;
    });
    double total = (System.nanoTime() - t0) / 1e6 / repeats;
    double inKernels = 0;
    Map<String, Double> byOp = new TreeMap<>();
    for (var e : p.stats.entrySet()) {
      double ms = e.getValue()[1] / 1e6 / repeats;
      inKernels += ms;
      byOp.merge(e.getKey().split(" ")[0], ms, Double::sum);
    }
    // Kernel times are summed over the threads that ran them: with tasks side by side (maml*), the sum
    // can exceed the wall time, and "outside" is then the wall time minus the kernels' thread time.
    System.out.printf("%s: %.1f ms per step, %.1f ms in kernels (summed over threads), %.1f ms outside%n", name, total,
        inKernels, total - inKernels);
    byOp.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
        .forEach(e -> System.out.printf("  %-10s %8.1f ms%n", e.getKey(), e.getValue()));
    p.stats.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1])).limit(45)
        .forEach(e -> System.out.printf("%8.2f ms %6d x  %s%n", e.getValue()[1] / 1e6 / repeats,
            e.getValue()[0] / repeats, e.getKey()));
  }

  @Override public String name() { return d.name(); }
  @Override public Device device() { return d.device(); }
  @Override public boolean supports(DType t) { return d.supports(t); }
  @Override public Buffer upload(double[] x, DType t) { return time("upload", () -> d.upload(x, t)); }
  @Override public Buffer upload(float[] x) { return time("upload", () -> d.upload(x)); }
  @Override public double[] downloadDouble(View x) { return time("download", () -> d.downloadDouble(x)); }
  @Override public float[] downloadFloat(View x) { return time("download", () -> d.downloadFloat(x)); }
  @Override public Buffer full(DType t, int n, double val) { return time("full", () -> d.full(t, n, val)); }

  @Override public Buffer unary(UnaryOp op, double p, View x) {
    return time("unary " + op + " " + v(x), () -> d.unary(op, p, x));
  }

  @Override public Buffer binary(BinaryOp op, View a, View b) {
    return time("binary " + op + " " + v(a) + " " + v(b), () -> d.binary(op, a, b));
  }

  @Override public Buffer where(View c, View a, View b) {
    return time("where " + v(c) + " " + v(a) + " " + v(b), () -> d.where(c, a, b));
  }

  @Override public Buffer reduce(ReduceOp op, View x, int[] out) {
    return time("reduce " + op + " " + v(x) + " -> " + Arrays.toString(out), () -> d.reduce(op, x, out));
  }

  @Override public Buffer copy(View x, DType t) { return time("copy " + v(x), () -> d.copy(x, t)); }

  @Override public Buffer pad(View x, int[] b, int[] a) {
    return time("pad " + v(x), () -> d.pad(x, b, a));
  }

  @Override public Buffer concat(View[] parts, int dim) { return time("concat", () -> d.concat(parts, dim)); }

  @Override public Buffer matmul(View a, View b) {
    return time("matmul " + v(a) + " " + v(b), () -> d.matmul(a, b));
  }

  @Override public Buffer matmulSumBatch(View a, View b) {
    return time("matmulSumBatch " + v(a) + " " + v(b), () -> d.matmulSumBatch(a, b));
  }

  @Override public Buffer unfold(View x, ConvGeometry g) {
    return time("unfold " + v(x) + " k" + g.kh(), () -> d.unfold(x, g));
  }

  @Override public Buffer fold(View x, ConvGeometry g) {
    return time("fold " + v(x) + " k" + g.kh(), () -> d.fold(x, g));
  }

  @Override public Buffer[] batchNormTrain(View x, View gamma, View beta, double eps) {
    return time("batchNormTrain " + v(x), () -> d.batchNormTrain(x, gamma, beta, eps));
  }

  @Override public Buffer[] batchNormBackward(View g, View x, View mean, View invStd, View gamma) {
    return time("batchNormBackward " + v(g) + " " + v(x), () -> d.batchNormBackward(g, x, mean, invStd, gamma));
  }

  @Override public Buffer[] batchNormReluTrain(View x, View gamma, View beta, double eps) {
    return time("batchNormReluTrain " + v(x), () -> d.batchNormReluTrain(x, gamma, beta, eps));
  }

  @Override public Buffer[] batchNormReluBackward(View g, View x, View out, View mean, View invStd, View gamma) {
    return time("batchNormReluBackward " + v(g) + " " + v(x),
        () -> d.batchNormReluBackward(g, x, out, mean, invStd, gamma));
  }

  @Override public Buffer[] batchNormReluPoolTrain(View x, View gamma, View beta, double eps, int k) {
    return time("batchNormReluPoolTrain " + v(x), () -> d.batchNormReluPoolTrain(x, gamma, beta, eps, k));
  }

  @Override public Buffer[] batchNormReluPoolBackward(View g, View x, View out, View mean, View invStd, View gamma,
      View beta, double eps, int k) {
    return time("batchNormReluPoolBackward " + v(x),
        () -> d.batchNormReluPoolBackward(g, x, out, mean, invStd, gamma, beta, eps, k));
  }

  @Override public Buffer maxPool2dTiled(View x, int k) {
    return time("maxPool2dTiled " + v(x) + " k" + k, () -> d.maxPool2dTiled(x, k));
  }

  @Override public Buffer maxPool2dTiledBackward(View x, View out, View g, int k) {
    return time("maxPool2dTiledBackward " + v(x) + " " + v(g) + " k" + k,
        () -> d.maxPool2dTiledBackward(x, out, g, k));
  }

  @Override public Buffer relu(View x) {
    return time("relu " + v(x), () -> d.relu(x));
  }

  @Override public Buffer reluBackward(View x, View g) {
    return time("reluBackward " + v(x), () -> d.reluBackward(x, g));
  }

  @Override public Buffer conv2d(View x, View w, View bias, ConvGeometry g) {
    return time("conv2d " + v(x) + " " + v(w) + " k" + g.kh(), () -> d.conv2d(x, w, bias, g));
  }

  @Override public Buffer conv2dBackwardInput(View gy, View w, ConvGeometry g) {
    return time("conv2dBackwardInput " + v(gy) + " k" + g.kh(), () -> d.conv2dBackwardInput(gy, w, g));
  }

  @Override public Buffer conv2dBackwardWeight(View gy, View x, ConvGeometry g) {
    return time("conv2dBackwardWeight " + v(gy) + " " + v(x) + " k" + g.kh(), () -> d.conv2dBackwardWeight(gy, x, g));
  }
}
