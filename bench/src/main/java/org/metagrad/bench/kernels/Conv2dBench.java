package org.metagrad.bench.kernels;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.metagrad.Autograd;
import org.metagrad.ConvSpec;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.internal.Composites;
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
 * The fused conv2d (the backend's conv kernels: implicit im2col on the CPU) against its composite definition
 * {@link Composites#conv2d} (unfold, matmul, bias add; fold in the backward), forward plus first-order backward
 * (gradients of input, weight and bias) through {@link Autograd#grad}, on the four layers of the conv4 workload
 * (a): 3x3, pad 1, batch 100, inputs [100,1,28,28] and [100,64,s,s] for s = 14, 7, 3. Setup checks once that
 * fused and composite agree, so a speed-up is never reported for a wrong kernel.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms4g", "-Xmx4g",
    "-XX:+AlwaysPreTouch"})
public class Conv2dBench {
  /** The input of the layer: channels x side. */
  @Param({"1x28", "64x14", "64x7", "64x3"})
  public String input;

  /** Images per call: 100 as conv4's batch; 5 is a MAML support set (5-way 1-shot), 75 its query set. */
  @Param({"100"})
  public int batch;

  private Tensor x;
  private Tensor w;
  private Tensor b;
  private Tensor upstream;

  /** Random operands; fused and composite checked against each other once. */
  @Setup
  public void setup() {
    String[] cs = input.split("x");
    int c = Integer.parseInt(cs[0]);
    int side = Integer.parseInt(cs[1]);
    Rng rng = new Rng(5);
    x = Tensor.randn(rng, DType.FLOAT32, batch, c, side, side).requiresGrad(true);
    w = Tensor.randn(rng, DType.FLOAT32, 64, c, 3, 3).mul(0.1).detach().requiresGrad(true);
    b = Tensor.randn(rng, DType.FLOAT32, 64).requiresGrad(true);
    upstream = Tensor.randn(rng, DType.FLOAT32, batch, 64, side, side);
    List<Tensor> f = fused();
    List<Tensor> g = composite();
    for (int i = 0; i < f.size(); i++) {
      float[] a = f.get(i).toFloatArray();
      float[] e = g.get(i).toFloatArray();
      double scale = 0;
      for (float v : e) {
        scale = Math.max(scale, Math.abs(v));
      }
      for (int j = 0; j < a.length; j++) {
        if (!(Math.abs(a[j] - e[j]) <= 1e-5 * scale + 1e-5)) {
          throw new IllegalStateException("conv2d " + input + ": fused and composite differ in output " + i + " at "
              + j + ": " + a[j] + " vs " + e[j]);
        }
      }
    }
  }

  private List<Tensor> backward(Tensor y) {
    return Autograd.grad(List.of(y), List.of(x, w, b),
        org.metagrad.GradOptions.defaults().outputGrads(List.of(upstream)));
  }

  /** Fused conv2d forward and backward (input, weight and bias gradients). */
  @Benchmark
  public List<Tensor> fused() {
    return backward(F.conv2d(x, w, b, ConvSpec.defaults().padding(1)));
  }

  /** The composite conv2d (unfold, matmul, add) forward and backward (matmuls, fold, sum). */
  @Benchmark
  public List<Tensor> composite() {
    return backward(Composites.conv2d(x, w, b, ConvSpec.defaults().padding(1)));
  }
}
