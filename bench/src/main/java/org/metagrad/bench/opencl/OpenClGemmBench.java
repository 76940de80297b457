package org.metagrad.bench.opencl;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.metagrad.Device;
import org.metagrad.kernels.opencl.OpenClBackend;
import org.metagrad.kernels.opencl.OpenClBackendFactory;
import org.metagrad.spi.Buffer;
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
 * OpenCL GEMM kernel time, operands already on the device: each invocation enqueues
 * {@code [1, n, n] x [1, n, n]} float32, waits for the queue ({@link OpenClBackend#finish()}) and frees
 * the result. GFLOP/s is {@code 2 n^3 / time}. The setup checks 64 entries against a double product.
 * {@code kernel} picks the GEMM kernel ({@code auto}: the device type's choice; {@code cpu} or {@code tiled}:
 * forced, see {@link OpenClBackend.GemmKernel}).
 *
 * <pre>
 * java -cp ... org.openjdk.jmh.Main 'org.metagrad.bench.opencl.OpenClGemmBench' -p n=1024 -p kernel=cpu -f 1 -wi 2 -i 3
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class OpenClGemmBench {
  /** Square GEMM size. */
  @Param({"256", "512", "1024"})
  public int n;

  /** GEMM kernel: auto, cpu or tiled. */
  @Param({"auto"})
  public String kernel;

  private OpenClBackend cl;
  private View a;
  private View b;

  /** Uploads the operands and checks the product once. */
  @Setup(Level.Trial)
  public void setUp() {
    System.setProperty(OpenClBackend.GEMM_PROPERTY, kernel);
    cl = (OpenClBackend) new OpenClBackendFactory().open(Device.openCl(0));
    if (!kernel.equals("auto") && !cl.gemmKernel().name().equalsIgnoreCase(kernel)) {
      // Opened earlier in this JVM with another kernel: a new context picks the property up.
      cl.close();
      cl = (OpenClBackend) new OpenClBackendFactory().open(Device.openCl(0));
    }
    Random rnd = new Random(1);
    float[] ha = random(rnd, n * n);
    float[] hb = random(rnd, n * n);
    a = View.contiguous(cl.upload(ha), 1, n, n);
    b = View.contiguous(cl.upload(hb), 1, n, n);
    checkGemm(ha, hb, rnd);
  }

  /** Frees the operands. */
  @TearDown(Level.Trial)
  public void tearDown() {
    for (View v : new View[] {a, b}) {
      v.buffer().release();
    }
  }

  /** {@code [1, n, n] x [1, n, n]} float32. */
  @Benchmark
  public void gemm() {
    Buffer c = cl.matmul(a, b);
    cl.finish();
    c.release();
  }

  private static float[] random(Random rnd, int len) {
    float[] v = new float[len];
    for (int i = 0; i < len; i++) {
      v[i] = rnd.nextFloat() * 2 - 1;
    }
    return v;
  }

  /** Checks 64 random entries of C (the full reference product at n=1024 takes seconds). */
  private void checkGemm(float[] ha, float[] hb, Random rnd) {
    Buffer c = cl.matmul(a, b);
    float[] got = cl.downloadFloat(View.contiguous(c, n * n));
    c.release();
    for (int t = 0; t < 64; t++) {
      int i = rnd.nextInt(n);
      int j = rnd.nextInt(n);
      double want = 0;
      for (int k = 0; k < n; k++) {
        want += (double) ha[i * n + k] * hb[k * n + j];
      }
      if (Math.abs(got[i * n + j] - want) > 1e-3 * Math.sqrt(n)) {
        throw new IllegalStateException("gemm " + n + ": C[" + i + "," + j + "] is " + got[i * n + j] + ", expected " + want);
      }
    }
  }
}
