package org.metagrad.bench.kernels;

import java.util.concurrent.TimeUnit;
import org.metagrad.spi.Backend;
import org.metagrad.spi.Buffer;
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
 * Square float32 GEMM {@code C[n, n] = A[n, n] * B[n, n]} through the backend SPI (allocation of C
 * included, as a tensor op pays it). GFLOP/s = 2 n^3 / (time per op). Compare with
 * {@code bench/python/gemm_numpy.py} at the same n and thread count.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmBench {
  /** Matrix size. */
  @Param({"64", "128", "256", "512", "1024", "2048"})
  public int n;

  /** Threads of the CPU backend. */
  @Param({"1", "2"})
  public int threads;

  /** Backend name: cpu-vector or cpu-scalar. */
  @Param({"cpu-vector"})
  public String backend;

  private Backend be;
  private View a;
  private View b;

  /** Builds the operands and checks the product once. */
  @Setup
  public void setup() {
    be = KernelBenchSupport.open(backend, threads);
    a = KernelBenchSupport.randomFloats(1, 1, n, n);
    b = KernelBenchSupport.randomFloats(2, 1, n, n);
    Buffer c = be.matmul(a, b);
    if (n <= 256) {
      KernelBenchSupport.check("gemm n=" + n, ReferenceBackend.INSTANCE.downloadDouble(
          View.contiguous(ReferenceBackend.INSTANCE.matmul(a, b), 1, n, n)), c, 1e-5, 1e-4);
    } else {
      KernelBenchSupport.checkGemmSamples("gemm n=" + n, a, b, c, n, n, n);
    }
  }

  /** One product. */
  @Benchmark
  public Buffer gemm() {
    return be.matmul(a, b);
  }
}
