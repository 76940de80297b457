package org.metagrad.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.metagrad.Autograd;
import org.metagrad.ConvSpec;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.F;
import org.metagrad.GradCheck;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.internal.Composites;
import org.metagrad.spi.Backend;
import org.metagrad.spi.Backends;
import org.metagrad.spi.ConvGeometry;
import org.metagrad.spi.ReferenceBackend;

/**
 * The conformance suite every backend runs through the public Tensor API: each op against the
 * reference backend over odd sizes (1, 3, 7, 8, 13, 65, 207, 1025), both dtypes, strided and broadcast
 * inputs, size-1 and zero-size dims; gradcheck at orders 1 and 2 in FLOAT64 on the backend; and a
 * second-order MAML meta-gradient that must match the reference backend's.
 *
 * <p>A CPU backend overrides {@link #cpuBackend()}; a device backend overrides {@link #device()}.
 */
public abstract class AbstractBackendConformanceTest {

  /** The CPU backend under test, or null when testing a device backend. */
  protected Backend cpuBackend() {
    return null;
  }

  /** The device under test (CPU for CPU backends). */
  protected Device device() {
    return Device.cpu();
  }

  /** Whether the backend runs FLOAT64. */
  protected boolean supportsFloat64() {
    return true;
  }

  /** Runs body on the backend under test. */
  protected <T> T onBackend(Supplier<T> body) {
    Backend b = cpuBackend();
    return b == null ? body.get() : Backends.withCpuBackend(b, body);
  }

  private List<Tensor> toDevice(List<Tensor> xs) {
    List<Tensor> out = new ArrayList<>();
    for (Tensor x : xs) {
      out.add(x.to(device()).requiresGrad(x.requiresGrad()));
    }
    return out;
  }

  private static final int[] SIZES = {1, 3, 7, 8, 13, 65, 207, 1025};

  private static Tensor rnd(Rng r, DType dt, int... shape) {
    return Tensor.randn(r, dt, shape);
  }

  private static Tensor pos(Rng r, DType dt, int... shape) {
    return Tensor.uniform(r, 0.5, 2, dt, shape);
  }

  record Case(String name, Function<List<Tensor>, Tensor> f, Function<DType, List<Tensor>> inputs) {
    @Override
    public String toString() {
      return name;
    }
  }

  static List<Case> opCases() {
    List<Case> l = new ArrayList<>();
    for (int n : SIZES) {
      l.add(new Case("exp/log/sqrt/tanh/neg n=" + n,
          x -> x.get(0).abs().add(0.1).log().add(x.get(0).tanh()).add(x.get(0).mul(0.1).exp())
              .add(x.get(0).abs().sqrt()).neg().add(x.get(0).pow(3)).add(x.get(0).sign()),
          dt -> List.of(rnd(new Rng(n), dt, n))));
      l.add(new Case("binary broadcast n=" + n,
          x -> x.get(0).add(x.get(1)).mul(x.get(1)).sub(x.get(0).div(x.get(2))),
          dt -> List.of(rnd(new Rng(n), dt, 3, n), rnd(new Rng(n + 1), dt, n), pos(new Rng(n + 2), dt, 3, 1))));
      l.add(new Case("compare/where n=" + n,
          x -> Tensor.where(x.get(0).gt(x.get(1)), x.get(0), x.get(1).mul(2.0)).add(x.get(0).le(0.0))
              .add(x.get(0).eq(x.get(0))).add(x.get(0).ne(x.get(1))).add(x.get(0).lt(x.get(1)))
              .add(x.get(0).ge(x.get(1))),
          dt -> List.of(rnd(new Rng(n), dt, 2, n), rnd(new Rng(n + 3), dt, n))));
      l.add(new Case("sum/max over dims n=" + n,
          x -> x.get(0).sum(1, true).add(x.get(0).max(1, true)).add(x.get(0).sum(0, true).sum(1, true))
              .add(x.get(0).max(new int[] {0, 1}, true)),
          dt -> List.of(rnd(new Rng(n), dt, 5, n))));
      l.add(new Case("strided sum/max n=" + n,
          x -> x.get(0).mT().sum(0, false).add(x.get(0).mT().max(1, false).sum()),
          dt -> List.of(rnd(new Rng(n), dt, n, 3))));
      l.add(new Case("matmul n=" + n,
          x -> x.get(0).matmul(x.get(1)),
          dt -> List.of(rnd(new Rng(n), dt, Math.min(n, 70), n), rnd(new Rng(n + 1), dt, n, 5))));
      l.add(new Case("matmul transposed n=" + n,
          x -> x.get(0).mT().matmul(x.get(1).mT()).sum(1, true).add(x.get(0).mT().matmul(x.get(0)).sum(1, true)),
          dt -> List.of(rnd(new Rng(n), dt, 9, Math.min(n, 70)), rnd(new Rng(n + 5), dt, 3, 9))));
      l.add(new Case("cast/copy n=" + n,
          x -> x.get(0).mT().contiguous().to(x.get(0).dtype() == DType.FLOAT32 ? DType.FLOAT64 : DType.FLOAT32)
              .to(x.get(0).dtype()),
          dt -> List.of(rnd(new Rng(n), dt, 2, n))));
      l.add(new Case("pad/concat/slice n=" + n,
          x -> Tensor.concat(List.of(x.get(0).pad(new int[] {1, 2}, new int[] {0, 1}), x.get(0).slice(1, 0, 1)
              .pad(new int[] {1, 0}, new int[] {0, 0}).expand(3, n + 3)), 0).exp(),
          dt -> List.of(rnd(new Rng(n), dt, 2, n))));
    }
    l.add(new Case("batched broadcast matmul", x -> x.get(0).matmul(x.get(1)),
        dt -> List.of(rnd(new Rng(1), dt, 2, 1, 7, 13), rnd(new Rng(2), dt, 3, 13, 8))));
    l.add(new Case("zero-size dims", x -> x.get(0).sum(0, true).add(x.get(1).matmul(x.get(2))),
        dt -> List.of(rnd(new Rng(1), dt, 0, 4), rnd(new Rng(2), dt, 1, 0), rnd(new Rng(3), dt, 0, 4))));
    l.add(new Case("size-1 dims", x -> x.get(0).expand(3, 4, 5).add(x.get(1)).max(1, false),
        dt -> List.of(rnd(new Rng(1), dt, 1, 4, 1), rnd(new Rng(2), dt, 3, 1, 5))));
    ConvGeometry g = new ConvGeometry(2, 3, 9, 8, 3, 2, 2, 1, 1, 2, 2, 1);
    l.add(new Case("unfold/fold", x -> x.get(0).unfold(g).fold(g).add(x.get(0)),
        dt -> List.of(rnd(new Rng(1), dt, 2, 3, 9, 8))));
    l.add(new Case("unfold of a permuted view", x -> x.get(0).permute(0, 1, 3, 2).unfold(g),
        dt -> List.of(rnd(new Rng(1), dt, 2, 3, 8, 9))));
    l.add(new Case("conv2d + batchNorm + pools", x -> F.maxPool2d(F.batchNorm(F.conv2d(x.get(0), x.get(1), x.get(2),
        ConvSpec.defaults().padding(1)), null, null, F.BN_EPS).relu(), 2, 2, 0).add(F.avgPool2d(x.get(0), 3, 2, 1).sum()),
        dt -> List.of(rnd(new Rng(1), dt, 3, 2, 13, 13), rnd(new Rng(2), dt, 4, 2, 3, 3), rnd(new Rng(3), dt, 4))));
    // Fused batch norm (batch statistics) and tiled max pooling: values, fused backward kernels (first order)
    // and, through the recorded composite, second order; odd sizes, strided (permuted) inputs, ties.
    for (int n : new int[] {1, 3, 7, 13, 65}) {
      l.add(new Case("fused batchNorm rank 2 n=" + n, x -> bnAndGrads(x.get(0), x.get(1), x.get(2), x.get(3)),
          dt -> List.of(rnd(new Rng(n), dt, n, 5), pos(new Rng(n + 1), dt, 5), rnd(new Rng(n + 2), dt, 5),
              rnd(new Rng(n + 3), dt, n, 5))));
      l.add(new Case("fused batchNorm rank 4 strided n=" + n,
          x -> bnAndGrads(x.get(0).permute(0, 2, 1, 3), x.get(1), null, x.get(2)),
          dt -> List.of(rnd(new Rng(n), dt, Math.min(n, 13), 7, 3, n), pos(new Rng(n + 1), dt, 3),
              rnd(new Rng(n + 3), dt, Math.min(n, 13), 3, 7, n))));
      l.add(new Case("fused batchNorm+relu rank 4 strided n=" + n,
          x -> bnReluAndGrads(x.get(0).permute(0, 2, 1, 3), x.get(1), x.get(2), x.get(3)),
          dt -> List.of(rnd(new Rng(n), dt, Math.min(n, 13), 7, 3, n), rnd(new Rng(n + 1), dt, 3),
              rnd(new Rng(n + 2), dt, 3), rnd(new Rng(n + 3), dt, Math.min(n, 13), 3, 7, n))));
      int kp = n == 1 ? 1 : 2;
      l.add(new Case("fused batchNorm+relu+maxPool k=" + kp + " strided n=" + n,
          x -> bnReluPoolAndGrads(x.get(0).permute(0, 2, 1, 3), x.get(1), x.get(2), x.get(3), kp),
          dt -> List.of(rnd(new Rng(n), dt, 3, n + 2, 4, n), rnd(new Rng(n + 1), dt, 4), rnd(new Rng(n + 2), dt, 4),
              rnd(new Rng(n + 3), dt, 3, 4, (n + 2) / kp, n / kp))));
      l.add(new Case("fused batchNorm rank 3 no affine n=" + n, x -> bnAndGrads(x.get(0), null, null, x.get(1)),
          dt -> List.of(rnd(new Rng(n), dt, 2, n, 13), rnd(new Rng(n + 3), dt, 2, n, 13))));
      int k = n == 1 ? 1 : n == 3 ? 3 : 2;
      l.add(new Case("fused maxPool k=" + k + " n=" + n, x -> poolAndGrads(x.get(0), k, x.get(1)),
          dt -> List.of(rnd(new Rng(n), dt, 2, 3, n, n + 2), rnd(new Rng(n + 1), dt, 2, 3, n / k, (n + 2) / k))));
      l.add(new Case("fused maxPool strided ties k=" + k + " n=" + n,
          x -> poolAndGrads(x.get(0).mT().sign(), k, x.get(1)),
          dt -> List.of(rnd(new Rng(n), dt, 3, 2, n + 2, n), rnd(new Rng(n + 1), dt, 3, 2, n / k, (n + 2) / k))));
    }
    l.add(new Case("fused maxPool k=3 remainder 7x13", x -> poolAndGrads(x.get(0), 3, x.get(1)),
        dt -> List.of(rnd(new Rng(4), dt, 1, 4, 7, 13), rnd(new Rng(5), dt, 1, 4, 2, 4))));
    l.add(new Case("fused batchNorm + maxPool second order", x -> {
      Tensor a = x.get(0).requiresGrad(true);
      Tensor gamma = x.get(1).requiresGrad(true);
      Tensor y = F.maxPool2d(F.batchNorm(a, gamma, null, F.BN_EPS).tanh(), 2, 2, 0).pow(2).sum();
      List<Tensor> gr = Autograd.grad(y, List.of(a, gamma), GradOptions.createGraph(true));
      Tensor s = gr.get(0).pow(2).sum().add(gr.get(1).pow(2).sum());
      return flat(Autograd.grad(s, List.of(a, gamma)));
    }, dt -> List.of(rnd(new Rng(6), dt, 3, 2, 7, 5), pos(new Rng(7), dt, 2))));
    // Second order through conv4's fused block (conv2d, batch norm + ReLU + 2x2 max pool as one node, then a conv2d
    // whose output is summed, so the recorded conv backward gets a broadcast incoming gradient with zero strides).
    l.add(new Case("conv + batchNorm+relu+maxPool + conv second order", x -> {
      List<Tensor> p = x.stream().map(t -> t.requiresGrad(true)).toList();
      Tensor h = F.batchNormReluMaxPool(F.conv2d(p.get(0), p.get(1), p.get(2), ConvSpec.defaults().padding(1)), p.get(3),
          p.get(4), F.BN_EPS, 2);
      Tensor y = F.conv2d(h, p.get(5), null, ConvSpec.defaults().padding(1).stride(2)).sum();
      Tensor s = null;
      for (Tensor gi : Autograd.grad(y, p, GradOptions.createGraph(true))) {
        s = s == null ? gi.pow(2).sum() : s.add(gi.pow(2).sum());
      }
      return flat(Autograd.grad(s, p));
    }, dt -> List.of(rnd(new Rng(8), dt, 3, 2, 7, 6), rnd(new Rng(9), dt, 4, 2, 3, 3).mul(0.5), rnd(new Rng(10), dt, 4),
        pos(new Rng(11), dt, 4), rnd(new Rng(12), dt, 4), rnd(new Rng(13), dt, 3, 4, 3, 3).mul(0.5))));
    // Fused conv2d: forward, input and weight gradient kernels (first order), odd sizes, the conv4 shapes
    // (1 and 64 input channels, pad 1), strides, dilation, a strided (permuted) input.
    Object[][] convs = {
        {new int[] {2, 1, 13, 13, 8, 3}, ConvSpec.defaults().padding(1)},
        {new int[] {3, 4, 13, 13, 8, 3}, ConvSpec.defaults().padding(1)},
        {new int[] {2, 5, 7, 9, 13, 3}, ConvSpec.defaults().padding(1)},
        {new int[] {1, 3, 8, 8, 65, 3}, ConvSpec.defaults().padding(1)},
        {new int[] {3, 64, 7, 7, 64, 3}, ConvSpec.defaults().padding(1)},
        {new int[] {2, 2, 9, 8, 3, 3}, ConvSpec.defaults().padding(1).stride(2)},
        {new int[] {2, 3, 9, 9, 4, 3}, ConvSpec.defaults().padding(2).dilation(2)},
        {new int[] {1, 7, 3, 3, 1, 1}, ConvSpec.defaults()},
        {new int[] {2, 3, 1, 1, 5, 3}, ConvSpec.defaults().padding(1)}};
    for (Object[] cv : convs) {
      int[] s = (int[]) cv[0];
      ConvSpec spec = (ConvSpec) cv[1];
      int oh = (s[2] + 2 * spec.padH() - spec.dilationH() * (s[5] - 1) - 1) / spec.strideH() + 1;
      int ow = (s[3] + 2 * spec.padW() - spec.dilationW() * (s[5] - 1) - 1) / spec.strideW() + 1;
      l.add(new Case("fused conv2d " + java.util.Arrays.toString(s) + " " + spec,
          x -> convAndGrads(x.get(0), x.get(1), x.get(2), x.get(3), spec),
          dt -> List.of(rnd(new Rng(s[1]), dt, s[0], s[1], s[2], s[3]), rnd(new Rng(s[4]), dt, s[4], s[1], s[5], s[5]),
              rnd(new Rng(s[0]), dt, s[4]), rnd(new Rng(s[2]), dt, s[0], s[4], oh, ow))));
    }
    l.add(new Case("fused conv2d strided input, no bias",
        x -> convAndGrads(x.get(0).permute(0, 2, 1, 3), x.get(1), null, x.get(2), ConvSpec.defaults().padding(1)),
        dt -> List.of(rnd(new Rng(8), dt, 2, 11, 3, 10), rnd(new Rng(9), dt, 6, 3, 3, 3),
            rnd(new Rng(10), dt, 2, 6, 11, 10))));
    l.add(new Case("logSoftmax + crossEntropy", x -> F.logSoftmax(x.get(0), 1).sum(0, false)
        .add(F.crossEntropy(x.get(0), new int[] {0, 4, 2, 1, 3, 3, 0})),
        dt -> List.of(rnd(new Rng(1), dt, 7, 5))));
    return l;
  }

  /** Flattened concatenation of tensors (a case's several results as one). */
  private static Tensor flat(List<Tensor> ts) {
    List<Tensor> f = new ArrayList<>();
    for (Tensor t : ts) {
      f.add(t.reshape(-1));
    }
    return Tensor.concat(f, 0);
  }

  /** batchNorm's output and the gradients of sum(y * w) with respect to x, gamma, beta. */
  private static Tensor bnAndGrads(Tensor x, Tensor gamma, Tensor beta, Tensor w) {
    List<Tensor> leaves = new ArrayList<>();
    for (Tensor t : new Tensor[] {x, gamma, beta}) {
      if (t != null) {
        leaves.add(t.requiresGrad(true));
      }
    }
    Tensor y = F.batchNorm(leaves.get(0), gamma == null ? null : leaves.get(1),
        beta == null ? null : leaves.get(leaves.size() - 1), F.BN_EPS);
    List<Tensor> out = new ArrayList<>(Autograd.grad(y.mul(w).sum(), leaves));
    out.add(0, y);
    return flat(out);
  }

  /** conv2d(x, w, b) and the gradients of sum(y * gy) with respect to x, w and b (when given). */
  private static Tensor convAndGrads(Tensor x, Tensor w, Tensor b, Tensor gy, ConvSpec spec) {
    List<Tensor> leaves = new ArrayList<>(List.of(x.requiresGrad(true), w.requiresGrad(true)));
    if (b != null) {
      leaves.add(b.requiresGrad(true));
    }
    Tensor y = F.conv2d(leaves.get(0), leaves.get(1), b == null ? null : leaves.get(2), spec);
    List<Tensor> out = new ArrayList<>(Autograd.grad(y.mul(gy).sum(), leaves));
    out.add(0, y);
    return flat(out);
  }

  /** batchNormRelu's output and the gradients of sum(y * w) with respect to x, gamma, beta. */
  private static Tensor bnReluAndGrads(Tensor x, Tensor gamma, Tensor beta, Tensor w) {
    List<Tensor> leaves = List.of(x.requiresGrad(true), gamma.requiresGrad(true), beta.requiresGrad(true));
    Tensor y = F.batchNormRelu(leaves.get(0), leaves.get(1), leaves.get(2), F.BN_EPS);
    List<Tensor> out = new ArrayList<>(Autograd.grad(y.mul(w).sum(), leaves));
    out.add(0, y);
    return flat(out);
  }

  /** batchNormReluMaxPool's output and the gradients of sum(y * w) with respect to x, gamma, beta. */
  private static Tensor bnReluPoolAndGrads(Tensor x, Tensor gamma, Tensor beta, Tensor w, int k) {
    List<Tensor> leaves = List.of(x.requiresGrad(true), gamma.requiresGrad(true), beta.requiresGrad(true));
    Tensor y = F.batchNormReluMaxPool(leaves.get(0), leaves.get(1), leaves.get(2), F.BN_EPS, k);
    List<Tensor> out = new ArrayList<>(Autograd.grad(y.mul(w).sum(), leaves));
    out.add(0, y);
    return flat(out);
  }

  /** maxPool2d(x, k, k, 0) and the gradient of sum(y * w) with respect to x. */
  private static Tensor poolAndGrads(Tensor x, int k, Tensor w) {
    Tensor a = x.requiresGrad(true);
    Tensor y = F.maxPool2d(a, k, k, 0);
    return flat(List.of(y, Autograd.grad(y.mul(w).sum(), List.of(a)).get(0)));
  }

  static Stream<Arguments> opArgs() {
    List<Arguments> a = new ArrayList<>();
    for (Case c : opCases()) {
      for (DType dt : DType.values()) {
        a.add(Arguments.of(c, dt));
      }
    }
    return a.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("opArgs")
  void opsMatchTheReferenceBackend(Case c, DType dt) {
    if (dt == DType.FLOAT64 && !supportsFloat64()) {
      return;
    }
    List<Tensor> in = c.inputs().apply(dt);
    double[] expected = Backends.withCpuBackend(ReferenceBackend.INSTANCE, () -> c.f().apply(in).toDoubleArray());
    List<Tensor> dev = toDevice(in);
    Tensor got = onBackend(() -> c.f().apply(dev));
    assertThat(got.device()).isEqualTo(device());
    assertThat(got.dtype()).isEqualTo(dt);
    double[] actual = got.toDoubleArray();
    assertThat(actual).hasSameSizeAs(expected);
    double scale = 0;
    for (double e : expected) {
      scale = Math.max(scale, Math.abs(e));
    }
    double tol = dt == DType.FLOAT64 ? 1e-10 : 2e-5;
    for (int i = 0; i < expected.length; i++) {
      double err = Math.abs(actual[i] - expected[i]);
      if (Double.isNaN(expected[i])) {
        assertThat(actual[i]).as("%s element %d", c.name(), i).isNaN();
      } else {
        assertThat(err).as("%s %s element %d: got %s expected %s", c.name(), dt, i, actual[i], expected[i])
            .isLessThanOrEqualTo(tol * Math.max(1, scale));
      }
    }
  }

  static Stream<Arguments> gradArgs() {
    List<Arguments> a = new ArrayList<>();
    a.add(Arguments.of("conv2d", (Function<List<Tensor>, Tensor>) x -> F.conv2d(x.get(0), x.get(1), x.get(2),
        ConvSpec.defaults().padding(1)).tanh(), List.of(new int[] {2, 2, 5, 4}, new int[] {3, 2, 3, 3}, new int[] {3})));
    a.add(Arguments.of("batchNorm", (Function<List<Tensor>, Tensor>) x -> F.batchNorm(x.get(0), x.get(1), x.get(2),
        F.BN_EPS).pow(2), List.of(new int[] {4, 3, 2, 2}, new int[] {3}, new int[] {3})));
    a.add(Arguments.of("matmul softmax", (Function<List<Tensor>, Tensor>) x -> F.softmax(x.get(0).matmul(x.get(1)), 1),
        List.of(new int[] {3, 7}, new int[] {7, 4})));
    a.add(Arguments.of("maxPool + where", (Function<List<Tensor>, Tensor>) x -> F.maxPool2d(x.get(0), 2, 2, 0).sigmoid(),
        List.of(new int[] {1, 2, 4, 6})));
    return a.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("gradArgs")
  void gradcheckOrdersOneAndTwoOnTheBackend(String name, Function<List<Tensor>, Tensor> f, List<int[]> shapes) {
    if (!supportsFloat64()) {
      return;
    }
    Rng r = new Rng(name.hashCode());
    List<Tensor> in = new ArrayList<>();
    for (int[] s : shapes) {
      in.add(Tensor.randn(r, DType.FLOAT64, s).to(device()));
    }
    for (int order = 1; order <= 2; order++) {
      int o = order;
      GradCheck.Report rep = onBackend(() -> GradCheck.check(f, in, o));
      assertThat(rep.passed()).as(rep.toString()).isTrue();
    }
  }

  @Test
  void secondOrderMamlMetaGradientMatchesTheReference() {
    Rng r = new Rng(5);
    DType dt = supportsFloat64() ? DType.FLOAT64 : DType.FLOAT32;
    List<Tensor> params = List.of(Tensor.randn(r, dt, 4, 1, 3, 3).mul(0.5), Tensor.randn(r, dt, 4),
        Tensor.ones(dt, 4), Tensor.zeros(dt, 4), Tensor.randn(r, dt, 3, 4 * 3 * 3).mul(0.3), Tensor.zeros(dt, 3));
    Tensor xs = Tensor.randn(r, dt, 3, 1, 6, 6);
    Tensor xq = Tensor.randn(r, dt, 6, 1, 6, 6);
    Function<List<Tensor>, List<Tensor>> metaGrad = all -> {
      List<Tensor> p = all.subList(0, 6).stream().map(t -> t.requiresGrad(true)).toList();
      List<Tensor> fast = p;
      for (int s = 0; s < 2; s++) {
        Tensor loss = F.crossEntropy(net(fast, all.get(6)), new int[] {0, 1, 2});
        List<Tensor> g = Autograd.grad(loss, fast, GradOptions.createGraph(true));
        List<Tensor> next = new ArrayList<>();
        for (int i = 0; i < fast.size(); i++) {
          next.add(fast.get(i).sub(g.get(i).mul(0.4)));
        }
        fast = next;
      }
      Tensor q = F.crossEntropy(net(fast, all.get(7)), new int[] {0, 1, 2, 2, 1, 0});
      return Autograd.grad(q, p);
    };
    List<Tensor> all = new ArrayList<>(params);
    all.add(xs);
    all.add(xq);
    List<Tensor> ref = Backends.withCpuBackend(ReferenceBackend.INSTANCE, () -> metaGrad.apply(all));
    List<Tensor> dev = toDevice(all);
    List<Tensor> got = onBackend(() -> metaGrad.apply(dev));
    double tol = dt == DType.FLOAT64 ? 1e-9 : 1e-3;
    for (int i = 0; i < ref.size(); i++) {
      double[] e = ref.get(i).toDoubleArray();
      double[] a = got.get(i).toDoubleArray();
      for (int j = 0; j < e.length; j++) {
        assertThat(Math.abs(a[j] - e[j])).as("meta-gradient %d[%d]", i, j)
            .isLessThanOrEqualTo(tol * Math.max(1, Math.abs(e[j])));
      }
    }
  }

  private static Tensor net(List<Tensor> p, Tensor x) {
    Tensor h = F.conv2d(x, p.get(0), p.get(1), ConvSpec.defaults().padding(1));
    h = F.maxPool2d(F.batchNorm(h, p.get(2), p.get(3), F.BN_EPS).relu(), 2, 2, 0);
    return F.linear(h.flatten(1, 3), p.get(4), p.get(5));
  }

  // ------------------------------------------------------------------------------------ NaN and +-Inf
  // PyTorch's semantics, on every backend: relu, maximum, minimum, clamp, max reductions and max pooling give
  // NaN where an input is NaN; ReLU's gradient passes the incoming gradient where x > 0 or x is NaN (zero only
  // where x <= 0); +-Inf follow IEEE. Expected values come from scalar rules written here, not from the
  // reference backend (which a shared mistake would pass), and every fused op must meet its composite.

  private static final double INF = Double.POSITIVE_INFINITY;
  private static final double[] SPECIAL = {Double.NaN, INF, -INF, -0.0, 0.0, 1.5, -2.0, 3.0, 0.25, -0.75, 2.5};

  /**
   * n values cycling through {@link #SPECIAL} with the given phase, so that each special value lands on
   * several vector lanes and in the scalar tails (n up to 1025 covers 8-, 16- and 32-lane chunks).
   */
  private static double[] specials(int n, int phase) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = SPECIAL[(i * 7 + phase) % SPECIAL.length];
    }
    return v;
  }

  /** Values as a tensor of dtype dt would hold them (float32 rounds). */
  private static double[] rounded(double[] v, DType dt) {
    double[] r = v.clone();
    if (dt == DType.FLOAT32) {
      for (int i = 0; i < r.length; i++) {
        r[i] = (float) r[i];
      }
    }
    return r;
  }

  /**
   * Non-finite expected values must be met exactly (NaN by NaN, an infinity by the same infinity); finite
   * ones within {@code tol} relative (0: the same bits, so +0 and -0 differ).
   */
  private static void assertValues(String what, double[] expected, double[] actual, double tol) {
    assertThat(actual).as(what + " size").hasSameSizeAs(expected);
    for (int i = 0; i < expected.length; i++) {
      double e = expected[i];
      double a = actual[i];
      String at = what + " element " + i + ": expected " + e + ", got " + a;
      if (Double.isNaN(e)) {
        assertThat(a).as(at).isNaN();
      } else if (Double.isInfinite(e) || tol == 0) {
        assertThat(Double.doubleToLongBits(a)).as(at).isEqualTo(Double.doubleToLongBits(e));
      } else {
        assertThat(Math.abs(a - e)).as(at).isLessThanOrEqualTo(tol * Math.max(1, Math.abs(e)));
      }
    }
  }

  /**
   * A fused result against its composite: the same non-finite elements exactly (NaN by NaN, an infinity by the
   * same infinity), the finite ones within {@code tol} of the largest finite magnitude (0: the same bits).
   */
  private static void assertAgree(String what, Tensor fused, Tensor composite, double tol) {
    assertThat(fused.shape()).as(what + " shape").isEqualTo(composite.shape());
    double[] c = composite.toDoubleArray();
    double[] f = fused.toDoubleArray();
    double scale = 1;
    for (double e : c) {
      scale = Double.isFinite(e) ? Math.max(scale, Math.abs(e)) : scale;
    }
    assertValues(what, c, f, tol * scale);
  }

  private Tensor onDevice(double[] v, DType dt, int... shape) {
    return Tensor.of(v, dt, shape).to(device());
  }

  private static double[] grad(Tensor y, Tensor w, Tensor x) {
    return Autograd.grad(y.mul(w).sum(), List.of(x)).get(0).toDoubleArray();
  }

  static Stream<DType> dtypes() {
    return Stream.of(DType.values());
  }

  @ParameterizedTest
  @MethodSource("dtypes")
  void reluAndItsGradientPropagateNaN(DType dt) {
    if (dt == DType.FLOAT64 && !supportsFloat64()) {
      return;
    }
    for (int n : new int[] {11, 37, 1025}) {
      double[] xv = rounded(specials(n, 0), dt);
      double[] gv = new double[n];
      double[] relu = new double[n];
      double[] drelu = new double[n];
      for (int i = 0; i < n; i++) {
        gv[i] = i + 1;
        relu[i] = Double.isNaN(xv[i]) ? Double.NaN : xv[i] <= 0 ? 0.0 : xv[i];
        drelu[i] = Double.isNaN(xv[i]) || xv[i] > 0 ? gv[i] : 0.0;
      }
      Tensor x = onDevice(xv, dt, n).requiresGrad(true);
      Tensor g = onDevice(gv, dt, n);
      onBackend(() -> {
        assertValues(dt + " relu n=" + n, relu, x.relu().toDoubleArray(), 0);
        assertValues(dt + " relu' n=" + n, drelu, grad(x.relu(), g, x), 0);
        assertValues(dt + " reluComposite n=" + n, relu, Composites.relu(x).toDoubleArray(), 0);
        assertValues(dt + " reluComposite' n=" + n, drelu, grad(Composites.relu(x), g, x), 0);
        // A strided view (the mask kernels' non-unit strides) and the second derivative (zero where finite,
        // through the composite's recorded backward).
        Tensor xs = onDevice(xv, dt, n, 1).requiresGrad(true);
        assertValues(dt + " relu of a broadcast view n=" + n, relu,
            xs.expand(n, 2).mT().relu().slice(0, 1, 2).reshape(n).toDoubleArray(), 0);
        Tensor d1 = Autograd.grad(x.relu().mul(x).mul(g).sum(), List.of(x), GradOptions.createGraph(true)).get(0);
        double[] d2 = Autograd.grad(d1.sum(), List.of(x)).get(0).toDoubleArray();
        for (int i = 0; i < n; i++) {
          // d/dx (relu(x) x g) = (relu'(x) x + relu(x)) g with a constant mask relu'; again: 2 relu'(x) g, which
          // passes g where x is NaN as the first derivative does.
          double e = Double.isNaN(xv[i]) || xv[i] > 0 ? 2 * gv[i] : 0.0;
          assertThat(d2[i]).as(dt + " relu'' at " + i + " of " + xv[i]).isEqualTo(e, org.assertj.core.data.Offset.offset(0.0));
        }
        return null;
      });
    }
  }

  @ParameterizedTest
  @MethodSource("dtypes")
  void maximumMinimumAndClampPropagateNaN(DType dt) {
    if (dt == DType.FLOAT64 && !supportsFloat64()) {
      return;
    }
    int n = 11 * 11 + 3;
    double[] av = rounded(specials(n, 0), dt);
    double[] bv = new double[n];
    for (int i = 0; i < n; i++) {
      bv[i] = SPECIAL[(i / SPECIAL.length) % SPECIAL.length]; // every pair (a, b) of special values
    }
    double[] gv = new double[n];
    double[] max = new double[n];
    double[] min = new double[n];
    double[] gaMax = new double[n];
    double[] gbMax = new double[n];
    double[] gaMin = new double[n];
    double[] gbMin = new double[n];
    double[] clamp = new double[n];
    double[] gClamp = new double[n];
    double lo = -1;
    double hi = 2.5;
    for (int i = 0; i < n; i++) {
      double a = av[i];
      double b = bv[i];
      gv[i] = i + 1;
      boolean nan = Double.isNaN(a) || Double.isNaN(b);
      // Ties and NaN in this send the value and gradient to this (a); a NaN in b alone selects b.
      boolean thisMax = Double.isNaN(a) || a >= b;
      boolean thisMin = Double.isNaN(a) || a <= b;
      max[i] = nan ? Double.NaN : thisMax ? a : b;
      min[i] = nan ? Double.NaN : thisMin ? a : b;
      gaMax[i] = thisMax ? gv[i] : 0.0;
      gbMax[i] = thisMax ? 0.0 : gv[i];
      gaMin[i] = thisMin ? gv[i] : 0.0;
      gbMin[i] = thisMin ? 0.0 : gv[i];
      clamp[i] = Double.isNaN(a) ? Double.NaN : a < lo ? lo : a > hi ? hi : a;
      gClamp[i] = Double.isNaN(a) || (a >= lo && a <= hi) ? gv[i] : 0.0;
    }
    Tensor a = onDevice(av, dt, n).requiresGrad(true);
    Tensor b = onDevice(bv, dt, n).requiresGrad(true);
    Tensor g = onDevice(gv, dt, n);
    onBackend(() -> {
      assertValues(dt + " maximum", max, a.maximum(b).toDoubleArray(), 0);
      assertValues(dt + " minimum", min, a.minimum(b).toDoubleArray(), 0);
      assertValues(dt + " clamp", clamp, a.clamp(lo, hi).toDoubleArray(), 0);
      List<Tensor> gMax = Autograd.grad(a.maximum(b).mul(g).sum(), List.of(a, b));
      assertValues(dt + " maximum d/da", gaMax, gMax.get(0).toDoubleArray(), 0);
      assertValues(dt + " maximum d/db", gbMax, gMax.get(1).toDoubleArray(), 0);
      List<Tensor> gMin = Autograd.grad(a.minimum(b).mul(g).sum(), List.of(a, b));
      assertValues(dt + " minimum d/da", gaMin, gMin.get(0).toDoubleArray(), 0);
      assertValues(dt + " minimum d/db", gbMin, gMin.get(1).toDoubleArray(), 0);
      assertValues(dt + " clamp d/dx", gClamp, grad(a.clamp(lo, hi), g, a), 0);
      // A broadcast scalar operand, as clamp uses.
      Tensor nanScalar = onDevice(new double[] {Double.NaN}, dt, 1);
      double[] allNan = new double[n];
      java.util.Arrays.fill(allNan, Double.NaN);
      assertValues(dt + " maximum(x, NaN)", allNan, a.maximum(nanScalar).toDoubleArray(), 0);
      assertValues(dt + " minimum(NaN, x)", allNan, nanScalar.minimum(a).toDoubleArray(), 0);
      return null;
    });
  }

  /** max over the last dim of a [rows, len] array, NaN if any element is NaN. */
  private static double[] rowMax(double[] v, int rows, int len) {
    double[] out = new double[rows];
    for (int r = 0; r < rows; r++) {
      double m = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < len; j++) {
        double e = v[r * len + j];
        m = Double.isNaN(e) || Double.isNaN(m) ? Double.NaN : Math.max(m, e);
      }
      out[r] = m;
    }
    return out;
  }

  @ParameterizedTest
  @MethodSource("dtypes")
  void maxReductionsPropagateNaNAndInf(DType dt) {
    if (dt == DType.FLOAT64 && !supportsFloat64()) {
      return;
    }
    for (int len : new int[] {3, 13, 65, 1025}) {
      int rows = 5;
      double[] v = new double[rows * len];
      Rng r = new Rng(len);
      for (int i = 0; i < v.length; i++) {
        v[i] = r.nextDouble() * 4 - 2;
      }
      v[len / 2] = Double.NaN; // row 0: one NaN in the middle
      v[len + len - 1] = INF; // row 1: +Inf last
      java.util.Arrays.fill(v, 2 * len, 3 * len, -INF); // row 2: all -Inf
      v[3 * len] = Double.NaN; // row 3: NaN first, +Inf after it
      v[3 * len + len - 1] = INF;
      double[] vals = rounded(v, dt); // row 4: finite
      double[] byRow = rowMax(vals, rows, len);
      double[] t = new double[vals.length];
      double[] negV = new double[vals.length];
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < len; j++) {
          t[j * rows + i] = vals[i * len + j];
          negV[i * len + j] = -vals[i * len + j];
        }
      }
      double[] minByRow = rowMax(negV, rows, len);
      for (int i = 0; i < rows; i++) {
        minByRow[i] = -minByRow[i];
      }
      double[] all = rowMax(vals, 1, vals.length);
      Tensor x = onDevice(vals, dt, rows, len);
      Tensor xt = onDevice(t, dt, len, rows);
      onBackend(() -> {
        String w = dt + " len=" + len;
        assertValues(w + " max(dim 1)", byRow, x.max(1, false).toDoubleArray(), 0);
        // xt is [len, rows]: reducing dim 0 runs the column (row-by-row accumulator) kernels.
        assertValues(w + " max(dim 0) of the transpose", byRow, xt.max(0, false).toDoubleArray(), 0);
        assertValues(w + " max(dim 1) of a strided view", byRow, xt.mT().max(1, false).toDoubleArray(), 0);
        assertValues(w + " max()", all, new double[] {x.max().item()}, 0);
        // min is -max(-x): the same NaN rule.
        assertValues(w + " min(dim 1)", minByRow, x.min(new int[] {1}, false).toDoubleArray(), 0);
        // The gradient: g / count to the elements equal to the row's maximum; a NaN row's elements all get NaN
        // (no element equals NaN: g / 0 * 0), like the max pooling windows below.
        Tensor xg = x.requiresGrad(true);
        double[] gRow = {1, 2, 3, 4, 5};
        double[] gx = Autograd.grad(xg.max(1, false).mul(onDevice(gRow, dt, rows)).sum(), List.of(xg)).get(0)
            .toDoubleArray();
        double[] want = new double[vals.length];
        for (int i = 0; i < rows; i++) {
          int count = 0;
          for (int j = 0; j < len; j++) {
            count += vals[i * len + j] == byRow[i] ? 1 : 0;
          }
          for (int j = 0; j < len; j++) {
            want[i * len + j] = Double.isNaN(byRow[i]) ? Double.NaN : vals[i * len + j] == byRow[i] ? gRow[i] / count : 0.0;
          }
        }
        assertValues(w + " max(dim 1) gradient", want, gx, 1e-6);
        return null;
      });
    }
  }

  /**
   * k x k max pooling of [n, c, h, w] values (floor mode) and the gradient of sum(y * g) as the composite
   * defines it: g / count to each element equal to the window's maximum, so a NaN window's elements all get
   * NaN (0 * inf), the others 0; remainder rows and columns 0.
   */
  private static double[][] poolExpected(double[] x, int[] s, int k, double[] g, DType dt) {
    int oh = s[2] / k;
    int ow = s[3] / k;
    double[] y = new double[s[0] * s[1] * oh * ow];
    double[] gx = new double[x.length];
    for (int p = 0; p < s[0] * s[1]; p++) {
      for (int i = 0; i < oh; i++) {
        for (int j = 0; j < ow; j++) {
          double m = Double.NEGATIVE_INFINITY;
          for (int a = 0; a < k; a++) {
            for (int b = 0; b < k; b++) {
              double e = x[(p * s[2] + i * k + a) * s[3] + j * k + b];
              m = Double.isNaN(e) || Double.isNaN(m) ? Double.NaN : Math.max(m, e);
            }
          }
          int o = (p * oh + i) * ow + j;
          y[o] = m;
          int count = 0;
          for (int a = 0; a < k; a++) {
            for (int b = 0; b < k; b++) {
              count += x[(p * s[2] + i * k + a) * s[3] + j * k + b] == m ? 1 : 0;
            }
          }
          double share = dt == DType.FLOAT32 ? (float) (g[o] / count) : g[o] / count;
          for (int a = 0; a < k; a++) {
            for (int b = 0; b < k; b++) {
              int xi = (p * s[2] + i * k + a) * s[3] + j * k + b;
              gx[xi] = Double.isNaN(m) ? Double.NaN : x[xi] == m ? share : 0.0;
            }
          }
        }
      }
    }
    return new double[][] {y, gx};
  }

  @ParameterizedTest
  @MethodSource("dtypes")
  void maxPoolingAndItsGradientPropagateNaNAndInf(DType dt) {
    if (dt == DType.FLOAT64 && !supportsFloat64()) {
      return;
    }
    for (int k : new int[] {2, 3}) {
      int[] s = {2, 3, 7, 70};
      int numel = 2 * 3 * 7 * 70;
      double[] x = new double[numel];
      Rng r = new Rng(k);
      for (int i = 0; i < numel; i++) {
        x[i] = Math.floor(r.nextDouble() * 4) - 1; // ties
      }
      for (int i = 0; i < numel; i += 37) {
        x[i] = SPECIAL[(i / 37) % 3]; // NaN, +Inf, -Inf spread over planes, rows and vector lanes
      }
      x = rounded(x, dt);
      int oh = s[2] / k;
      int ow = s[3] / k;
      double[] gv = new double[s[0] * s[1] * oh * ow];
      for (int i = 0; i < gv.length; i++) {
        gv[i] = (i % 5) + 1;
      }
      double[][] e = poolExpected(x, s, k, gv, dt);
      Tensor xt = onDevice(x, dt, s).requiresGrad(true);
      Tensor g = onDevice(gv, dt, s[0], s[1], oh, ow);
      double tol = dt == DType.FLOAT32 ? 1e-6 : 1e-15;
      onBackend(() -> {
        String w = dt + " k=" + k;
        assertValues(w + " maxPool2d", e[0], F.maxPool2d(xt, k, k, 0).toDoubleArray(), 0);
        assertValues(w + " maxPool2dComposite", e[0], Composites.maxPool2d(xt, k, k, 0).toDoubleArray(), 0);
        assertValues(w + " maxPool2d gradient", e[1], grad(F.maxPool2d(xt, k, k, 0), g, xt), tol);
        assertValues(w + " maxPool2dComposite gradient", e[1], grad(Composites.maxPool2d(xt, k, k, 0), g, xt), tol);
        // The overlapping (unfold) path: stride 1, padding counted as -Inf.
        Tensor ov = F.maxPool2d(xt, k, 1, 1);
        Tensor ovRef = Backends.withCpuBackend(ReferenceBackend.INSTANCE,
            () -> F.maxPool2d(Tensor.of(xt.toDoubleArray(), dt, s), k, 1, 1));
        assertAgree(w + " overlapping maxPool2d", ov, ovRef, 0);
        return null;
      });
    }
  }

  @ParameterizedTest
  @MethodSource("dtypes")
  void fusedBatchNormReluOpsPropagateNaNAndInfAsTheirComposites(DType dt) {
    if (dt == DType.FLOAT64 && !supportsFloat64()) {
      return;
    }
    int[] s = {3, 4, 6, 34};
    int plane = s[2] * s[3];
    Rng r = new Rng(31);
    double[] xv = Tensor.randn(r, DType.FLOAT64, s).toDoubleArray();
    xv[5] = Double.NaN; // channel 0, image 0
    xv[(2 * s[1] + 1) * plane + 40] = INF; // channel 1, image 2
    xv[(1 * s[1] + 2) * plane + 7] = -INF; // channel 2, image 1; channel 3 stays finite
    double[] gammaV = {1.5, 0.5, 2.0, 1.0};
    double[] betaV = {0.1, -0.2, 0.3, 0.0};
    double[][] params = {gammaV, betaV};
    double[] nanGamma = {1.5, Double.NaN, 2.0, 1.0}; // a diverged parameter: channel 1 all NaN
    double tol = dt == DType.FLOAT32 ? 2e-4 : 1e-9;
    for (double[] gam : new double[][] {gammaV, nanGamma}) {
      double[] xs = gam == gammaV ? xv : Tensor.randn(new Rng(32), DType.FLOAT64, s).toDoubleArray();
      Tensor x = onDevice(xs, dt, s).requiresGrad(true);
      Tensor gamma = onDevice(gam, dt, s[1]).requiresGrad(true);
      Tensor beta = onDevice(params[1], dt, s[1]).requiresGrad(true);
      List<Tensor> leaves = List.of(x, gamma, beta);
      Tensor w = onDevice(Tensor.randn(new Rng(33), DType.FLOAT64, s).toDoubleArray(), dt, s);
      Tensor wp = onDevice(Tensor.randn(new Rng(34), DType.FLOAT64, s[0], s[1], s[2] / 2, s[3] / 2).toDoubleArray(),
          dt, s[0], s[1], s[2] / 2, s[3] / 2);
      String what = dt + (gam == gammaV ? " NaN/Inf in x" : " NaN gamma");
      onBackend(() -> {
        Tensor y = F.batchNormRelu(x, gamma, beta, F.BN_EPS);
        Tensor yc = Composites.batchNormRelu(x, gamma, beta, F.BN_EPS);
        assertAgree(what + " batchNormRelu", y, yc, tol);
        Tensor p = F.batchNormReluMaxPool(x, gamma, beta, F.BN_EPS, 2);
        Tensor pc = Composites.batchNormReluMaxPool(x, gamma, beta, F.BN_EPS, 2);
        Tensor pSeparate = F.maxPool2d(F.batchNorm(x, gamma, beta, F.BN_EPS).relu(), 2, 2, 0);
        assertAgree(what + " batchNormReluMaxPool", p, pc, tol);
        assertAgree(what + " batchNorm, relu, maxPool2d", pSeparate, pc, tol);
        // Every element of a channel holding a NaN or an infinity (or with a NaN gamma) is NaN; the others finite.
        double[] yv = y.toDoubleArray();
        for (int i = 0; i < yv.length; i++) {
          int c = (i / plane) % s[1];
          assertThat(Double.isNaN(yv[i])).as(what + " batchNormRelu NaN at " + i + " (channel " + c + ")")
              .isEqualTo(c < 3 && gam == gammaV || c == 1 && gam == nanGamma);
        }
        for (int order = 1; order <= 2; order++) {
          List<Tensor> gf = bnGrads(F.batchNormRelu(x, gamma, beta, F.BN_EPS), w, leaves, order);
          List<Tensor> gc = bnGrads(Composites.batchNormRelu(x, gamma, beta, F.BN_EPS), w, leaves, order);
          List<Tensor> pf = bnGrads(F.batchNormReluMaxPool(x, gamma, beta, F.BN_EPS, 2), wp, leaves, order);
          List<Tensor> pcg = bnGrads(Composites.batchNormReluMaxPool(x, gamma, beta, F.BN_EPS, 2), wp, leaves, order);
          for (int i = 0; i < 3; i++) {
            assertAgree(what + " batchNormRelu order-" + order + " gradient " + i, gf.get(i), gc.get(i), tol);
            assertAgree(what + " batchNormReluMaxPool order-" + order + " gradient " + i, pf.get(i), pcg.get(i), tol);
          }
          double[] gx = pf.get(0).toDoubleArray();
          for (int i = 0; i < gx.length; i++) {
            int c = (i / plane) % s[1];
            if (c == 1) {
              assertThat(gx[i]).as(what + " order-" + order + " gradient of x at " + i + " (channel 1)").isNaN();
            }
            if (c == 3) {
              assertThat(Double.isFinite(gx[i])).as(what + " order-" + order + " gradient of x at " + i).isTrue();
            }
          }
        }
        return null;
      });
    }
  }

  /** Gradients of sum(y * w) (order 1) or of the sum of their squares (order 2) with respect to the leaves. */
  private static List<Tensor> bnGrads(Tensor y, Tensor w, List<Tensor> leaves, int order) {
    if (order == 1) {
      return Autograd.grad(y.mul(w).sum(), leaves);
    }
    Tensor s = null;
    for (Tensor gi : Autograd.grad(y.mul(w).sum(), leaves, GradOptions.createGraph(true))) {
      s = s == null ? gi.pow(2).sum() : s.add(gi.pow(2).sum());
    }
    // beta enters linearly: its second derivative is unused (zeros).
    return Autograd.grad(s, leaves, GradOptions.defaults().allowUnused(true));
  }

  @ParameterizedTest
  @MethodSource("dtypes")
  void elementwiseOpsOfSpecialValuesFollowIeee(DType dt) {
    if (dt == DType.FLOAT64 && !supportsFloat64()) {
      return;
    }
    int n = 37;
    double[] xv = rounded(specials(n, 3), dt);
    double[] exp = new double[n];
    double[] log = new double[n];
    double[] sqrt = new double[n];
    double[] tanh = new double[n];
    double[] sigmoid = new double[n];
    double[] neg = new double[n];
    for (int i = 0; i < n; i++) {
      double v = xv[i];
      exp[i] = Math.exp(v);
      log[i] = Math.log(v);
      sqrt[i] = Math.sqrt(v);
      tanh[i] = Math.tanh(v);
      sigmoid[i] = 1 / (1 + Math.exp(-v));
      neg[i] = -v;
    }
    double tol = dt == DType.FLOAT32 ? 1e-6 : 1e-14;
    Tensor x = onDevice(xv, dt, n);
    onBackend(() -> {
      assertValues(dt + " exp", rounded(exp, dt), x.exp().toDoubleArray(), tol);
      assertValues(dt + " log", rounded(log, dt), x.log().toDoubleArray(), tol);
      assertValues(dt + " sqrt", rounded(sqrt, dt), x.sqrt().toDoubleArray(), 0);
      assertValues(dt + " tanh", rounded(tanh, dt), x.tanh().toDoubleArray(), tol);
      assertValues(dt + " sigmoid", rounded(sigmoid, dt), x.sigmoid().toDoubleArray(), tol);
      assertValues(dt + " neg", neg, x.neg().toDoubleArray(), 0);
      // log(exp(x)) and softmax rows with an infinity: NaN where IEEE says so, never a silent finite value.
      double[] le = new double[n];
      for (int i = 0; i < n; i++) {
        le[i] = Double.isNaN(xv[i]) || xv[i] == INF ? xv[i] : Math.log(Math.exp(xv[i]));
      }
      assertValues(dt + " log(exp(x))", rounded(le, dt), x.exp().log().toDoubleArray(), tol);
      double[] sm = F.softmax(onDevice(new double[] {1, INF, 2, 0, Double.NaN, 1}, dt, 2, 3), 1).toDoubleArray();
      for (int i = 0; i < 6; i++) {
        assertThat(sm[i]).as(dt + " softmax element " + i).isNaN();
      }
      return null;
    });
  }

  /**
   * A conv4-style network (conv, then batch norm + ReLU + 2x2 max pool fused, then conv, batch norm, ReLU, max
   * pool as separate ops, then a 5-way linear head) whose weights diverged: one NaN or infinite weight must
   * give a NaN loss and NaN gradients, not a finite loss (ReLU once turned the NaN channels into zeros, so
   * such a network reported ln 5).
   */
  @ParameterizedTest
  @MethodSource("dtypes")
  void aDivergedConvNetworkGivesANaNLoss(DType dt) {
    if (dt == DType.FLOAT64 && !supportsFloat64()) {
      return;
    }
    Rng r = new Rng(77);
    List<Tensor> params = List.of(Tensor.randn(r, dt, 4, 1, 3, 3).mul(0.5), Tensor.zeros(dt, 4),
        Tensor.ones(dt, 4), Tensor.zeros(dt, 4), Tensor.randn(r, dt, 4, 4, 3, 3).mul(0.3), Tensor.zeros(dt, 4),
        Tensor.ones(dt, 4), Tensor.zeros(dt, 4), Tensor.randn(r, dt, 5, 4 * 3 * 3).mul(0.3), Tensor.zeros(dt, 5));
    Tensor x = Tensor.randn(r, dt, 5, 1, 12, 12).to(device());
    int[] labels = {0, 1, 2, 3, 4};
    Function<List<Tensor>, List<Tensor>> lossAndGrads = ps -> {
      List<Tensor> p = ps.stream().map(t -> t.to(device()).requiresGrad(true)).toList();
      Tensor h = F.batchNormReluMaxPool(F.conv2d(x, p.get(0), p.get(1), ConvSpec.defaults().padding(1)), p.get(2), p.get(3),
          F.BN_EPS, 2);
      h = F.maxPool2d(F.batchNorm(F.conv2d(h, p.get(4), p.get(5), ConvSpec.defaults().padding(1)), p.get(6), p.get(7),
          F.BN_EPS).relu(), 2, 2, 0);
      Tensor loss = F.crossEntropy(F.linear(h.flatten(1, 3), p.get(8), p.get(9)), labels);
      List<Tensor> out = new ArrayList<>(List.of(loss));
      out.addAll(Autograd.grad(loss, p));
      return out;
    };
    List<Tensor> healthy = onBackend(() -> lossAndGrads.apply(params));
    assertThat(Double.isFinite(healthy.get(0).item())).as(dt + " healthy loss " + healthy.get(0).item()).isTrue();
    // One weight of conv 1 (its channel 2 is NaN after batch norm) or of conv 2 diverged.
    Object[][] bad = {{0, 2 * 9 + 4, Double.NaN}, {0, 5, INF}, {4, 37, Double.NaN}, {4, 3, -INF}, {2, 1, Double.NaN}};
    for (Object[] b : bad) {
      int t = (Integer) b[0];
      int at = (Integer) b[1];
      double v = (Double) b[2];
      List<Tensor> ps = new ArrayList<>(params);
      double[] a = ps.get(t).toDoubleArray();
      a[at] = v;
      ps.set(t, Tensor.of(a, dt, ps.get(t).shape()));
      List<Tensor> got = onBackend(() -> lossAndGrads.apply(ps));
      String what = dt + " parameter " + t + " element " + at + " = " + v;
      assertThat(got.get(0).item()).as(what + ": loss").isNaN();
      for (int i = 1; i < got.size(); i++) {
        double[] gi = got.get(i).toDoubleArray();
        boolean anyNaN = false;
        for (double e : gi) {
          anyNaN |= Double.isNaN(e);
        }
        assertThat(anyNaN).as(what + ": gradient of parameter " + (i - 1) + " holds a NaN").isTrue();
      }
    }
  }
}
