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
        ConvSpec.padding(1)), null, null, F.BN_EPS).relu(), 2, 2, 0).add(F.avgPool2d(x.get(0), 3, 2, 1).sum()),
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
      Tensor h = F.batchNormReluMaxPool(F.conv2d(p.get(0), p.get(1), p.get(2), ConvSpec.padding(1)), p.get(3),
          p.get(4), F.BN_EPS, 2);
      Tensor y = F.conv2d(h, p.get(5), null, ConvSpec.padding(1).stride(2)).sum();
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
        {new int[] {2, 1, 13, 13, 8, 3}, ConvSpec.padding(1)},
        {new int[] {3, 4, 13, 13, 8, 3}, ConvSpec.padding(1)},
        {new int[] {2, 5, 7, 9, 13, 3}, ConvSpec.padding(1)},
        {new int[] {1, 3, 8, 8, 65, 3}, ConvSpec.padding(1)},
        {new int[] {3, 64, 7, 7, 64, 3}, ConvSpec.padding(1)},
        {new int[] {2, 2, 9, 8, 3, 3}, ConvSpec.padding(1).stride(2)},
        {new int[] {2, 3, 9, 9, 4, 3}, ConvSpec.padding(2).dilation(2)},
        {new int[] {1, 7, 3, 3, 1, 1}, ConvSpec.defaults()},
        {new int[] {2, 3, 1, 1, 5, 3}, ConvSpec.padding(1)}};
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
        x -> convAndGrads(x.get(0).permute(0, 2, 1, 3), x.get(1), null, x.get(2), ConvSpec.padding(1)),
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
        ConvSpec.padding(1)).tanh(), List.of(new int[] {2, 2, 5, 4}, new int[] {3, 2, 3, 3}, new int[] {3})));
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
    Tensor h = F.conv2d(x, p.get(0), p.get(1), ConvSpec.padding(1));
    h = F.maxPool2d(F.batchNorm(h, p.get(2), p.get(3), F.BN_EPS).relu(), 2, 2, 0);
    return F.linear(h.flatten(1, 3), p.get(4), p.get(5));
  }
}
