package org.metagrad.bench.workloads;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.spi.Backends;
import org.metagrad.spi.ReferenceBackend;
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
 * End-to-end workloads (a)-(c) of the benchmark issue, on the default CPU backend. Each state checks its
 * workload once against the reference backend in {@code @Setup} and fails on a mismatch.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
// A fixed, pre-touched heap: these workloads allocate tens to hundreds of MiB per op, and first-touch
// page faults of a growing heap cost as much as the kernels (ProtoNet: 5.7 s per episode with a growing
// heap, 3.0 s pre-touched, same code). PyTorch's caching allocator likewise keeps its pages.
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms8g", "-Xmx8g", "-XX:+AlwaysPreTouch"})
public class WorkloadBench {

  static void checkAgainstReference(String what, Supplier<Double> workload, double rtol) {
    String backend = Backends.cpu().name();
    if (!backend.equals("cpu-vector") && !Boolean.getBoolean("metagrad.bench.anyBackend")) {
      // A -jvmArgsAppend given on the command line replaces the benchmark's own fork arguments, and with
      // them --add-modules: the fork would then time the scalar path without saying so.
      throw new IllegalStateException(what + ": the CPU backend in this fork is " + backend + ", not cpu-vector;"
          + " if -jvmArgsAppend was given, it replaced the benchmark's own fork arguments: add"
          + " --add-modules jdk.incubator.vector to it (or -Dmetagrad.bench.anyBackend=true to time " + backend
          + " on purpose)");
    }
    double fast = workload.get();
    double ref = Backends.withCpuBackend(ReferenceBackend.INSTANCE, workload);
    if (!(Math.abs(fast - ref) <= rtol * Math.abs(ref))) {
      throw new IllegalStateException(what + ": backend " + Backends.cpu().name() + " gives " + fast
          + " but the reference backend gives " + ref);
    }
  }

  /** (a) conv4 on a batch of 100 28x28 images, 5 classes. */
  @State(Scope.Benchmark)
  public static class Conv4State {
    List<Tensor> params;
    Tensor x;
    int[] y;

    @Setup
    public void setup() {
      Rng rng = new Rng(1);
      params = Workloads.conv4Params(rng, 1, 64, 5);
      x = Workloads.images(rng, 100);
      y = Workloads.labels(5, 20);
      checkAgainstReference("conv4", () -> Workloads.conv4ForwardBackward(params, x, y), 1e-3);
    }
  }

  /** (b) MAML meta-step: Omniglot 5-way 1-shot 15-query, meta-batch 4, inner lr 0.4. */
  @State(Scope.Benchmark)
  public static class MamlState {
    @Param({"second-1", "first-1", "second-5"})
    public String variant;
    /**
     * {@code tasks}: the tasks' meta-gradients side by side on the backend's threads, as {@code MetaTrainer}
     * runs them ({@link Workloads#mamlMetaStepTasks}); {@code graph}: one graph over the four tasks and one
     * backward pass, kernels split over the threads, as the PyTorch script runs it
     * ({@link Workloads#mamlMetaStep}).
     */
    @Param({"tasks", "graph"})
    public String schedule;
    List<Tensor> params;
    List<Workloads.Task> tasks;
    int steps;
    boolean second;

    @Setup
    public void setup() {
      Rng rng = new Rng(2);
      params = Workloads.conv4Params(rng, 1, 64, 5);
      tasks = Workloads.tasks(rng, 4, 5, 1, 15);
      second = variant.startsWith("second");
      steps = Integer.parseInt(variant.substring(variant.indexOf('-') + 1));
      checkAgainstReference("maml " + variant + " " + schedule, () -> step(), 2e-3);
    }

    double step() {
      return switch (schedule) {
        case "tasks" -> Workloads.mamlMetaStepTasks(params, tasks, steps, 0.4, second, Workloads.threads());
        case "graph" -> Workloads.mamlMetaStep(params, tasks, steps, 0.4, second);
        default -> throw new IllegalArgumentException("schedule: tasks or graph, got " + schedule);
      };
    }
  }

  /** (c) ProtoNet episode: 60-way 5-shot 5-query on conv4 (600 images). */
  @State(Scope.Benchmark)
  public static class ProtoState {
    List<Tensor> backbone;
    Tensor support;
    Tensor query;
    int[] yq;

    @Setup
    public void setup() {
      Rng rng = new Rng(3);
      backbone = Workloads.conv4Params(rng, 1, 64, 0);
      support = Workloads.images(rng, 300);
      query = Workloads.images(rng, 300);
      yq = Workloads.labels(60, 5);
      checkAgainstReference("protonet", () -> Workloads.protoEpisode(backbone, support, 60, 5, query, yq), 1e-3);
    }
  }

  @Benchmark
  public double conv4ForwardBackward(Conv4State s) {
    return Workloads.conv4ForwardBackward(s.params, s.x, s.y);
  }

  @Benchmark
  public double mamlMetaStep(MamlState s) {
    return s.step();
  }

  @Benchmark
  public double protoNetEpisode(ProtoState s) {
    return Workloads.protoEpisode(s.backbone, s.support, 60, 5, s.query, s.yq);
  }

}
