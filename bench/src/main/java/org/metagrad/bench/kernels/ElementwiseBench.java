package org.metagrad.bench.kernels;

import java.util.concurrent.TimeUnit;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.HeapBuffer;
import org.metagrad.spi.ReferenceBackend;
import org.metagrad.spi.UnaryOp;
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
 * Elementwise float32 kernels on contiguous vectors of 1e3 to 1e6 elements, including the output
 * allocation: add, mul (also with a stride-0 scalar operand), exp, log and tanh, and exp in float64. Small
 * sizes measure dispatch cost, which dominates MAML's many small ops.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ElementwiseBench {
  /** Elements. */
  @Param({"1000", "10000", "100000", "1000000"})
  public int size;

  /** Threads of the CPU backend. */
  @Param({"2"})
  public int threads;

  /** Backend name: cpu-vector or cpu-scalar. */
  @Param({"cpu-vector"})
  public String backend;

  private Backend be;
  private View a;
  private View b;
  private View scalar;
  private View positive;
  private View doubles;

  /** Builds the operands and checks each kernel once against the reference. */
  @Setup
  public void setup() {
    be = KernelBenchSupport.open(backend, threads);
    a = KernelBenchSupport.randomFloats(1, size);
    b = KernelBenchSupport.randomFloats(2, size);
    float[] pos = HeapBuffer.of(KernelBenchSupport.randomFloats(4, size).buffer()).floats().clone();
    double[] dbl = new double[size];
    for (int i = 0; i < size; i++) {
      // log's inputs span several binades; float64 exp's the same range as the float ones.
      pos[i] = Math.abs(pos[i]) * 100 + 1e-3f;
      dbl[i] = HeapBuffer.of(a.buffer()).floats()[i];
    }
    positive = View.contiguous(HeapBuffer.wrap(pos), size);
    doubles = View.contiguous(HeapBuffer.wrap(dbl), size);
    scalar = new View(KernelBenchSupport.randomFloats(3, 1).buffer(), 0, new int[] {size}, new int[] {0});
    ReferenceBackend ref = ReferenceBackend.INSTANCE;
    KernelBenchSupport.check("add", ref.downloadDouble(View.contiguous(ref.binary(BinaryOp.ADD, a, b), size)),
        add(), 0, 0);
    KernelBenchSupport.check("mul", ref.downloadDouble(View.contiguous(ref.binary(BinaryOp.MUL, a, b), size)),
        mul(), 0, 0);
    KernelBenchSupport.check("mulScalar", ref.downloadDouble(View.contiguous(ref.binary(BinaryOp.MUL, a, scalar),
        size)), mulScalar(), 0, 0);
    KernelBenchSupport.check("exp", ref.downloadDouble(View.contiguous(ref.unary(UnaryOp.EXP, 0, a), size)),
        exp(), 1e-6, 0);
    KernelBenchSupport.check("log", ref.downloadDouble(View.contiguous(ref.unary(UnaryOp.LOG, 0, positive), size)),
        log(), 1e-6, 1e-7);
    KernelBenchSupport.check("tanh", ref.downloadDouble(View.contiguous(ref.unary(UnaryOp.TANH, 0, a), size)),
        tanh(), 1e-6, 0);
    KernelBenchSupport.check("expDouble", ref.downloadDouble(View.contiguous(ref.unary(UnaryOp.EXP, 0, doubles),
        size)), expDouble(), 1e-15, 0);
  }

  /** a + b. */
  @Benchmark
  public Buffer add() {
    return be.binary(BinaryOp.ADD, a, b);
  }

  /** a * b. */
  @Benchmark
  public Buffer mul() {
    return be.binary(BinaryOp.MUL, a, b);
  }

  /** a * s with s broadcast by stride 0. */
  @Benchmark
  public Buffer mulScalar() {
    return be.binary(BinaryOp.MUL, a, scalar);
  }

  /** exp(a). */
  @Benchmark
  public Buffer exp() {
    return be.unary(UnaryOp.EXP, 0, a);
  }

  /** log(p) for p in [1e-3, 100]. */
  @Benchmark
  public Buffer log() {
    return be.unary(UnaryOp.LOG, 0, positive);
  }

  /** tanh(a). */
  @Benchmark
  public Buffer tanh() {
    return be.unary(UnaryOp.TANH, 0, a);
  }

  /** exp(a) in float64. */
  @Benchmark
  public Buffer expDouble() {
    return be.unary(UnaryOp.EXP, 0, doubles);
  }
}
