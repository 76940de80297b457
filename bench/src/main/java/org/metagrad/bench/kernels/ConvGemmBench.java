package org.metagrad.bench.kernels;

import java.util.concurrent.TimeUnit;
import org.metagrad.spi.Backend;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ConvGeometry;
import org.metagrad.spi.HeapBuffer;
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
 * The GEMMs of the conv4 network on 28x28 Omniglot images via im2col: weights {@code [64, K]} times
 * columns {@code [K, 784 * batch]}, with K = 9 (first layer, one input channel, 3x3) or K = 576 (64
 * channels, 3x3). GFLOP/s = 2 * 64 * K * 784 * batch / time. Also times the unfold that builds the columns.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ConvGemmBench {
  /** Depth of the product: 9 (first layer) or 576 (later layers). */
  @Param({"9", "576"})
  public int k;

  /** Images per batch: N = 784 * batch. */
  @Param({"1", "25"})
  public int batch;

  /** Threads of the CPU backend. */
  @Param({"1", "2"})
  public int threads;

  /** Backend name: cpu-vector or cpu-scalar. */
  @Param({"cpu-vector"})
  public String backend;

  private Backend be;
  private View w;
  private View cols;
  private View image;
  private ConvGeometry geometry;

  /** Builds weights and columns (by unfolding a random batch) and checks both kernels once. */
  @Setup
  public void setup() {
    be = KernelBenchSupport.open(backend, threads);
    int channels = k / 9;
    geometry = new ConvGeometry(batch, channels, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1);
    image = KernelBenchSupport.randomFloats(3, batch, channels, 28, 28);
    Buffer unfolded = be.unfold(image, geometry);
    KernelBenchSupport.check("unfold", ReferenceBackend.INSTANCE.downloadDouble(View.contiguous(
        ReferenceBackend.INSTANCE.unfold(image, geometry), batch, k, 784)), unfolded, 0, 0);
    // One wide GEMM: permute [batch, K, 784] columns to [K, batch * 784] as the conv layer does.
    View perm = View.contiguous(be.copy(new View(unfolded, 0, new int[] {k, batch, 784},
        new int[] {784, k * 784, 1}), KernelBenchSupport.DTYPE), 1, k, batch * 784);
    cols = perm;
    w = KernelBenchSupport.randomFloats(4, 1, 64, k);
    KernelBenchSupport.checkGemmSamples("conv gemm", w, cols, be.matmul(w, cols), 64, k, batch * 784);
    // conv2d's own call: the weight broadcast over the batch (stride 0) against [batch, K, 784] columns.
    batchedW = new View(w.buffer(), 0, new int[] {batch, 64, k}, new int[] {0, k, 1});
    batchedCols = View.contiguous(unfolded, batch, k, 784);
    Buffer bc = be.matmul(batchedW, batchedCols);
    Buffer wide = be.matmul(w, cols);
    float[] x = HeapBuffer.of(bc).floats();
    float[] y = HeapBuffer.of(wide).floats();
    for (int p = 0; p < batch; p++) {
      for (int i = 0; i < 64; i++) {
        for (int j = 0; j < 784; j += 97) {
          float u = x[(p * 64 + i) * 784 + j];
          float v = y[i * batch * 784 + p * 784 + j];
          if (Math.abs(u - v) > 1e-4f * (1 + Math.abs(v))) {
            throw new IllegalStateException("batched conv gemm: " + u + " != " + v + " at " + p + "," + i + "," + j);
          }
        }
      }
    }
  }

  private View batchedW;
  private View batchedCols;

  /** The product as conv2d issues it: one weight, batch of per-image columns. */
  @Benchmark
  public Buffer batchedGemm() {
    return be.matmul(batchedW, batchedCols);
  }

  /** Weights times columns. */
  @Benchmark
  public Buffer gemm() {
    return be.matmul(w, cols);
  }

  /** im2col of the input batch. */
  @Benchmark
  public Buffer unfold() {
    return be.unfold(image, geometry);
  }
}
