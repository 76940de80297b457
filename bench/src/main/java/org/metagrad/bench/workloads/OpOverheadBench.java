package org.metagrad.bench.workloads;

import java.util.concurrent.TimeUnit;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * (d) Per-op overhead: a chain of 10,000 recorded adds on 1x10 tensors, forward alone and forward plus
 * backward; times are per op (divide the backward share by subtracting the forward figure).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class OpOverheadBench {
  static final int N = 10_000;
  Tensor x;
  Tensor c;

  @Setup
  public void setup() {
    Rng rng = new Rng(4);
    x = Tensor.randn(rng, DType.FLOAT32, 1, 10).requiresGrad(true);
    c = Tensor.randn(rng, DType.FLOAT32, 1, 10);
    double got = Workloads.addChainBackward(x, c, N);
    if (got != 10.0) {
      throw new IllegalStateException("add chain: gradient sum " + got + ", expected 10");
    }
    WorkloadBench.checkAgainstReference("add chain", () -> Workloads.addChain(x, c, N).sum().item(), 1e-4);
  }

  @Benchmark
  @OperationsPerInvocation(N)
  public Tensor forwardPerOp() {
    return Workloads.addChain(x, c, N);
  }

  @Benchmark
  @OperationsPerInvocation(N)
  public double forwardBackwardPerOp() {
    return Workloads.addChainBackward(x, c, N);
  }
}
