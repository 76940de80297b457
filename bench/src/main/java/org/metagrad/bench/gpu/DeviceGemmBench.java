package org.metagrad.bench.gpu;

import java.util.concurrent.TimeUnit;
import org.metagrad.bench.kernels.KernelBenchSupport;
import org.metagrad.spi.Backend;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.HeapBuffer;
import org.metagrad.spi.View;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Square float32 GEMM {@code [1, n, n] x [1, n, n]} on any device, the backend chosen by its device string
 * ({@code cuda:0}, {@code opencl:0}, {@code cpu}), operands already on the device: each invocation runs the
 * backend's {@code matmul}, waits for it by reading one element back ({@link DeviceSupport#sync}) and frees the
 * result (allocation of C included, as a tensor op pays it; PyTorch's {@code torch.matmul} in
 * {@code bench/python/torch_workloads.py --device cuda} is timed the same way). GFLOP/s = {@code 2 n^3 / time}.
 * The setup checks 64 sampled entries (and the last) against a double product.
 *
 * <pre>
 * java -cp benchmarks.jar:cuda-jars/* org.openjdk.jmh.Main 'org.metagrad.bench.gpu.DeviceGemmBench' \
 *   -p device=cuda:0 -p gemm=cublas,own -p n=4096 -f 1 -wi 2 -i 3
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class DeviceGemmBench {
  /** Device string: cuda:N, opencl:N or cpu. */
  @Param({"cuda:0"})
  public String device;

  /** CUDA GEMM path: default (the backend's choice), cublas or own ({@code -Dmetagrad.cuda.gemm}). */
  @Param({"default"})
  public String gemm;

  /** Square GEMM size. */
  @Param({"4096"})
  public int n;

  private Backend be;
  private View a;
  private View b;

  /** Uploads the operands and checks the product once. */
  @Setup(Level.Trial)
  public void setUp() {
    be = DeviceSupport.open(device, gemm);
    View ha = KernelBenchSupport.randomFloats(1, 1, n, n);
    View hb = KernelBenchSupport.randomFloats(2, 1, n, n);
    a = View.contiguous(be.upload(HeapBuffer.of(ha.buffer()).floats()), 1, n, n);
    b = View.contiguous(be.upload(HeapBuffer.of(hb.buffer()).floats()), 1, n, n);
    Buffer c = be.matmul(a, b);
    float[] got = be.downloadFloat(View.contiguous(c, 1, n, n));
    c.release();
    KernelBenchSupport.checkGemmSamples("gemm " + device + " (" + gemm + ") n=" + n, ha, hb,
        HeapBuffer.wrap(got), n, n, n);
  }

  /** Frees the operands. */
  @TearDown(Level.Trial)
  public void tearDown() {
    a.buffer().release();
    b.buffer().release();
  }

  /** One product, waited for. */
  @Benchmark
  public float gemm() {
    Buffer c = be.matmul(a, b);
    float v = DeviceSupport.sync(be, c);
    c.release();
    return v;
  }
}
