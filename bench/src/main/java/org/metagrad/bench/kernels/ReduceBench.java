package org.metagrad.bench.kernels;

import java.util.concurrent.TimeUnit;
import org.metagrad.spi.Backend;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ReduceOp;
import org.metagrad.spi.ReferenceBackend;
import org.metagrad.spi.View;
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
 * Float32 sums of {@code x [size / 100, 100]}: over the last dimension (one output per row), over the
 * leading dimension (column sums) and over everything.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ReduceBench {
  /** Elements of x. */
  @Param({"1000", "100000", "1000000"})
  public int size;

  /** Threads of the CPU backend. */
  @Param({"2"})
  public int threads;

  /** Backend name: cpu-vector or cpu-scalar. */
  @Param({"cpu-vector"})
  public String backend;

  private Backend be;
  private View x;
  private int rows;

  /** Builds x and checks each reduction once against the reference. */
  @Setup
  public void setup() {
    be = KernelBenchSupport.open(backend, threads);
    rows = size / 100;
    x = KernelBenchSupport.randomFloats(1, rows, 100);
    ReferenceBackend ref = ReferenceBackend.INSTANCE;
    KernelBenchSupport.check("sumLast", ref.downloadDouble(View.contiguous(
        ref.reduce(ReduceOp.SUM, x, new int[] {rows, 1}), rows)), sumLastDim(), 0, 1e-4);
    KernelBenchSupport.check("sumFirst", ref.downloadDouble(View.contiguous(
        ref.reduce(ReduceOp.SUM, x, new int[] {1, 100}), 100)), sumFirstDim(), 0, 1e-6 * rows + 1e-4);
    KernelBenchSupport.check("sumAll", ref.downloadDouble(View.contiguous(
        ref.reduce(ReduceOp.SUM, x, new int[] {1, 1}), 1)), sumAll(), 0, 1e-6 * size + 1e-4);
  }

  /** Sum over the last dimension. */
  @Benchmark
  public Buffer sumLastDim() {
    return be.reduce(ReduceOp.SUM, x, new int[] {rows, 1});
  }

  /** Sum over the leading dimension. */
  @Benchmark
  public Buffer sumFirstDim() {
    return be.reduce(ReduceOp.SUM, x, new int[] {1, 100});
  }

  /** Sum of all elements. */
  @Benchmark
  public Buffer sumAll() {
    return be.reduce(ReduceOp.SUM, x, new int[] {1, 1});
  }
}
