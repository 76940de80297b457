package org.metagrad.bench.gpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.metagrad.Device;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.bench.workloads.Workloads;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The end-to-end workloads of {@code bench/RESULTS.md} ({@link Workloads}: conv4 forward+backward, MAML meta-step,
 * ProtoNet episode) on any device, chosen by its device string ({@code cuda:0}, {@code opencl:0}, {@code cpu}).
 * The inputs and parameters are those of {@code WorkloadBench} (same seeds), made on the CPU, evaluated there
 * once by the CPU backend, then copied to the device as new leaves; the setup fails unless the device's result
 * matches the CPU's. Every workload ends in {@code item()} reads (loss and gradient norms), so the timed region
 * waits for the device. The MAML meta-step runs as one graph over the four tasks ({@link Workloads#mamlMetaStep},
 * as PyTorch's script does), not the CPU's task-parallel schedule.
 *
 * <pre>
 * java -cp benchmarks.jar:cuda-jars/* org.openjdk.jmh.Main 'org.metagrad.bench.gpu.DeviceWorkloadBench' \
 *   -p device=cuda:0 -f 1 -wi 3 -i 5
 * </pre>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms4g", "-Xmx4g"})
public class DeviceWorkloadBench {

  /** The device, shared by the three states of a fork. */
  @State(Scope.Benchmark)
  public static class DeviceState {
    /** Device string: cuda:N, opencl:N or cpu. */
    @Param({"cuda:0"})
    public String device;

    /** CUDA GEMM path: default (the backend's choice), cublas or own. */
    @Param({"default"})
    public String gemm;

    Device dev;

    /** Opens the device's backend. */
    @Setup
    public void setup() {
      dev = DeviceSupport.device(device, gemm);
      DeviceSupport.open(device, gemm);
    }
  }

  /** (a) conv4 on a batch of 100 28x28 images, 5 classes. */
  @State(Scope.Benchmark)
  public static class Conv4State {
    List<Tensor> params;
    Tensor x;
    int[] y;

    /** Makes the inputs on the CPU, checks the device against the CPU, keeps the device copies. */
    @Setup
    public void setup(DeviceState d) {
      Rng rng = new Rng(1);
      List<Tensor> p = Workloads.conv4Params(rng, 1, 64, 5);
      Tensor hx = Workloads.images(rng, 100);
      y = Workloads.labels(5, 20);
      double want = Workloads.conv4ForwardBackward(p, hx, y);
      params = DeviceSupport.to(p, d.dev, true);
      x = DeviceSupport.to(hx, d.dev, false);
      DeviceSupport.check("conv4", d.dev, want, Workloads.conv4ForwardBackward(params, x, y), 1e-3);
    }
  }

  /** (b) MAML meta-step: Omniglot 5-way 1-shot 15-query, meta-batch 4, inner lr 0.4, one graph. */
  @State(Scope.Benchmark)
  public static class MamlState {
    /** {@code second-1}: second order, 1 inner step; {@code first-1}, {@code second-5} likewise. */
    @Param({"second-1"})
    public String variant;
    List<Tensor> params;
    List<Workloads.Task> tasks;
    int steps;
    boolean second;

    /** Makes the inputs on the CPU, checks the device against the CPU, keeps the device copies. */
    @Setup
    public void setup(DeviceState d) {
      int dash = variant.indexOf('-');
      if (dash < 0 || !(variant.startsWith("second-") || variant.startsWith("first-"))) {
        throw new IllegalArgumentException("variant: expected first-S or second-S, got '" + variant + "'");
      }
      second = variant.startsWith("second");
      steps = Integer.parseInt(variant.substring(dash + 1));
      Rng rng = new Rng(2);
      List<Tensor> p = Workloads.conv4Params(rng, 1, 64, 5);
      List<Workloads.Task> ht = Workloads.tasks(rng, 4, 5, 1, 15);
      double want = Workloads.mamlMetaStep(p, ht, steps, 0.4, second);
      params = DeviceSupport.to(p, d.dev, true);
      tasks = new ArrayList<>();
      for (Workloads.Task t : ht) {
        tasks.add(new Workloads.Task(DeviceSupport.to(t.xs(), d.dev, false), t.ys(),
            DeviceSupport.to(t.xq(), d.dev, false), t.yq()));
      }
      DeviceSupport.check("maml " + variant, d.dev, want, step(), 2e-3);
    }

    double step() {
      return Workloads.mamlMetaStep(params, tasks, steps, 0.4, second);
    }
  }

  /** (c) ProtoNet episode: 60-way 5-shot 5-query on conv4 (600 images). */
  @State(Scope.Benchmark)
  public static class ProtoState {
    List<Tensor> backbone;
    Tensor support;
    Tensor query;
    int[] yq;

    /** Makes the inputs on the CPU, checks the device against the CPU, keeps the device copies. */
    @Setup
    public void setup(DeviceState d) {
      Rng rng = new Rng(3);
      List<Tensor> b = Workloads.conv4Params(rng, 1, 64, 0);
      Tensor hs = Workloads.images(rng, 300);
      Tensor hq = Workloads.images(rng, 300);
      yq = Workloads.labels(60, 5);
      double want = Workloads.protoEpisode(b, hs, 60, 5, hq, yq);
      backbone = DeviceSupport.to(b, d.dev, true);
      support = DeviceSupport.to(hs, d.dev, false);
      query = DeviceSupport.to(hq, d.dev, false);
      DeviceSupport.check("protonet", d.dev, want, Workloads.protoEpisode(backbone, support, 60, 5, query, yq), 1e-3);
    }
  }

  /** (a) conv4 forward and backward. */
  @Benchmark
  public double conv4ForwardBackward(Conv4State s) {
    return Workloads.conv4ForwardBackward(s.params, s.x, s.y);
  }

  /** (b) one MAML meta-step. */
  @Benchmark
  public double mamlMetaStep(MamlState s) {
    return s.step();
  }

  /** (c) one ProtoNet episode. */
  @Benchmark
  public double protoNetEpisode(ProtoState s) {
    return Workloads.protoEpisode(s.backbone, s.support, 60, 5, s.query, s.yq);
  }
}
