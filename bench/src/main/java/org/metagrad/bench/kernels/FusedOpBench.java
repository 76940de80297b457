package org.metagrad.bench.kernels;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.metagrad.Autograd;
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
 * The fused batch norm (batch statistics), 2x2 max pooling and ReLU against their composite definitions, and the
 * fused batch norm + ReLU + max pool against those three fused ops one after the other
 * ({@link Composites#batchNorm}, {@link Composites#maxPool2d}, {@link Composites#relu}), forward plus first-order backward through
 * {@link Autograd#grad}, on the activation shapes of the conv4 workloads: [100,64,28,28] (block 1 of (a)) and
 * [100,64,14,14] (block 2). Setup checks once that fused and composite agree (values and gradients), so a
 * speed-up is never reported for a wrong kernel.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms4g", "-Xmx4g",
    "-XX:+AlwaysPreTouch"})
public class FusedOpBench {
  /** Activation side (28 or 14); batch 100, 64 channels. */
  @Param({"28", "14"})
  public int side;

  private Tensor x;
  private Tensor gamma;
  private Tensor beta;
  private Tensor upstream;
  private Tensor upstreamPooled;

  /** Random operands; fused and composite checked against each other once. */
  @Setup
  public void setup() {
    Rng rng = new Rng(11);
    x = Tensor.randn(rng, DType.FLOAT32, 100, 64, side, side).requiresGrad(true);
    gamma = Tensor.randn(rng, DType.FLOAT32, 64).requiresGrad(true);
    beta = Tensor.randn(rng, DType.FLOAT32, 64).requiresGrad(true);
    upstream = Tensor.randn(rng, DType.FLOAT32, 100, 64, side, side);
    upstreamPooled = Tensor.randn(rng, DType.FLOAT32, 100, 64, side / 2, side / 2);
    same("batchNorm", batchNormFused(), batchNormComposite(), 1e-3);
    same("maxPool2d", maxPoolFused(), maxPoolComposite(), 0);
    same("relu", reluFused(), reluComposite(), 0);
    same("batchNormReluMaxPool", bnReluPoolFused(), bnReluPoolSeparate(), 1e-3);
  }

  private static void same(String what, List<Tensor> fused, List<Tensor> composite, double tol) {
    for (int i = 0; i < fused.size(); i++) {
      float[] a = fused.get(i).toFloatArray();
      float[] b = composite.get(i).toFloatArray();
      for (int j = 0; j < a.length; j++) {
        if (!(Math.abs(a[j] - b[j]) <= tol * (1 + Math.abs(b[j])))) {
          throw new IllegalStateException(what + ": fused and composite differ in output " + i + " at " + j + ": "
              + a[j] + " vs " + b[j]);
        }
      }
    }
  }

  private List<Tensor> bnBackward(Tensor y) {
    return Autograd.grad(y.mul(upstream).sum(), List.of(x, gamma, beta));
  }

  private List<Tensor> poolBackward(Tensor y) {
    return Autograd.grad(y.mul(upstreamPooled).sum(), List.of(x));
  }

  /** Fused batch norm, forward and backward (gradients for x, gamma, beta). */
  @Benchmark
  public List<Tensor> batchNormFused() {
    return bnBackward(F.batchNorm(x, gamma, beta, 1e-5));
  }

  /** The composite batch norm (mean, centring, variance, normalisation, affine), forward and backward. */
  @Benchmark
  public List<Tensor> batchNormComposite() {
    return bnBackward(Composites.batchNorm(x, gamma, beta, 1e-5));
  }

  /** Fused 2x2 max pooling, forward and backward. */
  @Benchmark
  public List<Tensor> maxPoolFused() {
    return poolBackward(F.maxPool2d(x, 2, 2, 0));
  }

  /** The composite 2x2 max pooling (window view + max reduction), forward and backward. */
  @Benchmark
  public List<Tensor> maxPoolComposite() {
    return poolBackward(Composites.maxPool2d(x, 2, 2, 0));
  }

  private List<Tensor> reluBackward(Tensor y) {
    return Autograd.grad(List.of(y), List.of(x), org.metagrad.GradOptions.defaults().outputGrads(List.of(upstream)));
  }

  /** Fused ReLU (one pass forward, one backward), forward and backward. */
  @Benchmark
  public List<Tensor> reluFused() {
    return reluBackward(x.relu());
  }

  /** The composite ReLU, where(x <= 0, 0, x): a mask pass and a select forward, a select backward. */
  @Benchmark
  public List<Tensor> reluComposite() {
    return reluBackward(Composites.relu(x));
  }

  /** batchNorm + ReLU + 2x2 max pool as one fused op (conv4's block after the convolution), forward and backward. */
  @Benchmark
  public List<Tensor> bnReluPoolFused() {
    return bnBackwardPooled(F.batchNormReluMaxPool(x, gamma, beta, 1e-5, 2));
  }

  /** The same as three fused ops one after the other (batchNorm, ReLU, max pool), forward and backward. */
  @Benchmark
  public List<Tensor> bnReluPoolSeparate() {
    return bnBackwardPooled(F.maxPool2d(F.batchNorm(x, gamma, beta, 1e-5).relu(), 2, 2, 0));
  }

  private List<Tensor> bnBackwardPooled(Tensor y) {
    return Autograd.grad(y.mul(upstreamPooled).sum(), List.of(x, gamma, beta));
  }
}
