package org.metagrad.bench.opencl;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.metagrad.Device;
import org.metagrad.kernels.opencl.OpenClBackend;
import org.metagrad.kernels.opencl.OpenClBackendFactory;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ConvGeometry;
import org.metagrad.spi.ReferenceBackend;
import org.metagrad.spi.View;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * OpenCL kernel time for a convolution layer's im2col + GEMM and for a 10^6-element add, operands
 * already on the device: each invocation enqueues the ops, waits for the queue
 * ({@link OpenClBackend#finish()}) and frees the results. The setup checks each result once against
 * the reference backend. GEMM alone is {@link OpenClGemmBench}; transfers are {@link OpenClTransferBench}.
 *
 * <pre>
 * java -cp ... org.openjdk.jmh.Main 'org.metagrad.bench.opencl.OpenClKernelBench' -f 1 -wi 2 -i 3
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class OpenClKernelBench {
  private OpenClBackend cl;
  private View x;
  private View w;
  private View addA;
  private View addB;
  private ConvGeometry conv;

  /** Elements of the elementwise benchmark. */
  static final int ADD_N = 1_000_000;

  /** Uploads operands and checks each kernel once against the reference. */
  @Setup(Level.Trial)
  public void setUp() {
    cl = (OpenClBackend) new OpenClBackendFactory().open(Device.openCl(0));
    Random rnd = new Random(1);
    // conv4's middle layer on a 5-way 5-shot task batch: 25 images of 64 x 14 x 14, 3x3, padding 1.
    conv = new ConvGeometry(25, 64, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1);
    float[] hx = random(rnd, conv.n() * conv.c() * conv.h() * conv.w());
    float[] hw = random(rnd, 64 * conv.rows());
    x = View.contiguous(cl.upload(hx), conv.n(), conv.c(), conv.h(), conv.w());
    // The filter matrix [64, 576] broadcast over the batch with stride 0, as core passes it.
    w = new View(cl.upload(hw), 0, new int[] {conv.n(), 64, conv.rows()}, new int[] {0, conv.rows(), 1});
    checkConv(hx, hw);

    float[] h1 = random(rnd, ADD_N);
    float[] h2 = random(rnd, ADD_N);
    addA = View.contiguous(cl.upload(h1), ADD_N);
    addB = View.contiguous(cl.upload(h2), ADD_N);
    Buffer s = cl.binary(BinaryOp.ADD, addA, addB);
    float[] got = cl.downloadFloat(View.contiguous(s, ADD_N));
    s.release();
    for (int i = 0; i < ADD_N; i++) {
      if (got[i] != h1[i] + h2[i]) {
        throw new IllegalStateException("add: element " + i + " is " + got[i] + ", expected " + (h1[i] + h2[i]));
      }
    }
  }

  /** Frees the operands. */
  @TearDown(Level.Trial)
  public void tearDown() {
    for (View v : new View[] {x, w, addA, addB}) {
      v.buffer().release();
    }
  }

  /** im2col of the conv4 layer followed by the batched GEMM with the broadcast filter matrix. */
  @Benchmark
  public void convIm2col() {
    Buffer cols = cl.unfold(x, conv);
    Buffer y = cl.matmul(w, View.contiguous(cols, conv.n(), conv.rows(), conv.cols()));
    cl.finish();
    cols.release();
    y.release();
  }

  /** Elementwise add of 10^6 float32 elements. */
  @Benchmark
  public void add1e6() {
    Buffer c = cl.binary(BinaryOp.ADD, addA, addB);
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

  private void checkConv(float[] hx, float[] hw) {
    ReferenceBackend ref = ReferenceBackend.INSTANCE;
    View rx = View.contiguous(ref.upload(hx), conv.n(), conv.c(), conv.h(), conv.w());
    View rw = new View(ref.upload(hw), 0, w.shape(), w.strides());
    Buffer rcols = ref.unfold(rx, conv);
    float[] want = ref.downloadFloat(View.contiguous(ref.matmul(rw, View.contiguous(rcols, conv.n(), conv.rows(),
        conv.cols())), conv.n() * 64 * conv.cols()));
    Buffer cols = cl.unfold(x, conv);
    Buffer y = cl.matmul(w, View.contiguous(cols, conv.n(), conv.rows(), conv.cols()));
    float[] got = cl.downloadFloat(View.contiguous(y, want.length));
    cols.release();
    y.release();
    for (int i = 0; i < want.length; i++) {
      if (Math.abs(got[i] - want[i]) > 1e-3f) {
        throw new IllegalStateException("conv im2col: element " + i + " is " + got[i] + ", expected " + want[i]);
      }
    }
  }
}
