package org.metagrad;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.metagrad.internal.Composites;

/**
 * The fused batch norm and max pooling against their composite definitions (the oracle): forward
 * values, first-order gradients (fused backward kernel) and second-order gradients (the recorded
 * composite VJP, reached re-entrantly from inside a backward walk), both dtypes, odd shapes, ties,
 * with and without gamma/beta; gradcheck at orders 1 and 2; bad input.
 */
class FusedOpsTest {

  private static Tensor rnd(long seed, DType dt, int... shape) {
    return Tensor.randn(new Rng(seed), dt, shape);
  }

  /** Small integers: many exact ties inside pooling windows. */
  private static Tensor ties(long seed, DType dt, int... shape) {
    Rng r = new Rng(seed);
    double[] v = new double[Shapes.numel(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.floor(r.nextDouble() * 3);
    }
    return Tensor.of(v, dt, shape);
  }

  private static void close(Tensor a, Tensor b, double tol, String what) {
    assertThat(a.shape()).as(what + " shape").isEqualTo(b.shape());
    double[] x = a.toDoubleArray();
    double[] y = b.toDoubleArray();
    double scale = 1;
    for (double v : y) {
      scale = Math.max(scale, Math.abs(v));
    }
    for (int i = 0; i < x.length; i++) {
      assertThat(Math.abs(x[i] - y[i])).as(what + " at " + i + ": " + x[i] + " vs " + y[i]).isLessThanOrEqualTo(tol * scale);
    }
  }

  /**
   * Checks f (fused) against g (composite) on the given leaves: values, first-order gradients of
   * sum(f * w), and second-order gradients of sum(grad_i * v_i) over every leaf.
   */
  private static void agree(Function<List<Tensor>, Tensor> fused, Function<List<Tensor>, Tensor> composite,
                            List<Tensor> inputs, double tol) {
    DType dt = inputs.get(0).dtype();
    List<Tensor> leaves = inputs.stream().map(t -> t.requiresGrad(true)).toList();
    Tensor yf = fused.apply(leaves);
    Tensor yc = composite.apply(leaves);
    assertThat(yf.node.op).isEqualTo(Op.FUSED);
    close(yf, yc, tol, "forward");
    Tensor w = rnd(99, dt, yf.shape());
    List<Tensor> g1f = Autograd.grad(yf.mul(w).sum(), leaves);
    List<Tensor> g1c = Autograd.grad(yc.mul(w).sum(), leaves);
    for (int i = 0; i < leaves.size(); i++) {
      close(g1f.get(i), g1c.get(i), tol, "grad " + i);
    }
    GradOptions cg = GradOptions.createGraph(true);
    List<Tensor> g2f = second(Autograd.grad(fused.apply(leaves).mul(w).sum(), leaves, cg), leaves);
    List<Tensor> g2c = second(Autograd.grad(composite.apply(leaves).mul(w).sum(), leaves, cg), leaves);
    for (int i = 0; i < leaves.size(); i++) {
      close(g2f.get(i), g2c.get(i), tol * 10, "grad of grad " + i);
    }
  }

  private static List<Tensor> second(List<Tensor> g, List<Tensor> leaves) {
    Tensor s = null;
    for (int i = 0; i < g.size(); i++) {
      Tensor t = g.get(i).mul(rnd(200 + i, g.get(i).dtype(), g.get(i).shape())).sum();
      // A nonlinear term too, so the second derivative of the composite (not only a linear map) counts.
      t = t.add(g.get(i).pow(2).sum().mul(0.5));
      s = s == null ? t : s.add(t);
    }
    return Autograd.grad(s, leaves, GradOptions.defaults().allowUnused(true));
  }

  static Stream<Arguments> bnCases() {
    List<Arguments> l = new ArrayList<>();
    int[][] shapes = {{5, 3}, {1, 4}, {1, 2, 7, 13}, {3, 2, 5}, {2, 3, 7, 7}, {4, 1, 1, 1}};
    for (DType dt : DType.values()) {
      for (int[] s : shapes) {
        for (int affine = 0; affine < 4; affine++) {
          l.add(Arguments.of(dt, s, (affine & 1) != 0, (affine & 2) != 0));
        }
      }
    }
    return l.stream();
  }

  @ParameterizedTest(name = "{0} {1} gamma={2} beta={3}")
  @MethodSource("bnCases")
  void batchNormMatchesComposite(DType dt, int[] shape, boolean withGamma, boolean withBeta) {
    int c = shape[1];
    List<Tensor> in = new ArrayList<>();
    in.add(rnd(1, dt, shape).mul(2).add(0.5));
    if (withGamma) {
      in.add(Tensor.uniform(new Rng(2), 0.5, 1.5, dt, c));
    }
    if (withBeta) {
      in.add(rnd(3, dt, c));
    }
    Function<List<Tensor>, Tensor[]> split = xs -> new Tensor[] {xs.get(0), withGamma ? xs.get(1) : null,
        withBeta ? xs.get(withGamma ? 2 : 1) : null};
    double tol = dt == DType.FLOAT64 ? 1e-10 : 2e-4;
    // N=1 rank 2 has zero variance: gradients are dominated by 1/sqrt(eps), so compare relatively.
    agree(xs -> {
      Tensor[] a = split.apply(xs);
      return F.batchNorm(a[0], a[1], a[2], F.BN_EPS);
    }, xs -> {
      Tensor[] a = split.apply(xs);
      return Composites.batchNorm(a[0], a[1], a[2], F.BN_EPS);
    }, in, tol);
  }

  @ParameterizedTest(name = "{0} {1} gamma={2} beta={3}")
  @MethodSource("bnCases")
  void batchNormReluMatchesComposite(DType dt, int[] shape, boolean withGamma, boolean withBeta) {
    int c = shape[1];
    List<Tensor> in = new ArrayList<>();
    in.add(rnd(4, dt, shape).mul(2).add(0.5));
    if (withGamma) {
      in.add(Tensor.uniform(new Rng(5), -1.5, 1.5, dt, c));
    }
    if (withBeta) {
      in.add(rnd(6, dt, c));
    }
    Function<List<Tensor>, Tensor[]> split = xs -> new Tensor[] {xs.get(0), withGamma ? xs.get(1) : null,
        withBeta ? xs.get(withGamma ? 2 : 1) : null};
    agree(xs -> {
      Tensor[] a = split.apply(xs);
      return F.batchNormRelu(a[0], a[1], a[2], F.BN_EPS);
    }, xs -> {
      Tensor[] a = split.apply(xs);
      return Composites.batchNormRelu(a[0], a[1], a[2], F.BN_EPS);
    }, in, dt == DType.FLOAT64 ? 1e-10 : 2e-4);
  }

  static Stream<Arguments> bnPoolCases() {
    List<Arguments> l = new ArrayList<>();
    for (DType dt : DType.values()) {
      l.add(Arguments.of(dt, new int[] {3, 2, 6, 8}, 2, true));
      l.add(Arguments.of(dt, new int[] {2, 3, 7, 5}, 2, true));
      l.add(Arguments.of(dt, new int[] {2, 2, 7, 9}, 3, false));
      l.add(Arguments.of(dt, new int[] {4, 1, 2, 2}, 2, true));
      l.add(Arguments.of(dt, new int[] {1, 3, 5, 5}, 1, false));
    }
    return l.stream();
  }

  @ParameterizedTest(name = "{0} {1} k={2} affine={3}")
  @MethodSource("bnPoolCases")
  void batchNormReluMaxPoolMatchesComposite(DType dt, int[] shape, int k, boolean affine) {
    int c = shape[1];
    List<Tensor> in = new ArrayList<>();
    in.add(rnd(91, dt, shape).mul(2).add(0.5));
    if (affine) {
      in.add(Tensor.uniform(new Rng(92), -1.5, 1.5, dt, c));
      in.add(rnd(93, dt, c));
    }
    agree(xs -> F.batchNormReluMaxPool(xs.get(0), affine ? xs.get(1) : null, affine ? xs.get(2) : null, F.BN_EPS, k),
        xs -> Composites.batchNormReluMaxPool(xs.get(0), affine ? xs.get(1) : null, affine ? xs.get(2) : null,
            F.BN_EPS, k), in, dt == DType.FLOAT64 ? 1e-10 : 2e-4);
  }

  @Test
  void batchNormReluMaxPoolEqualsTheThreeFusedOpsAndChecksItsWindow() {
    for (DType dt : DType.values()) {
      Tensor x = rnd(94, dt, 4, 3, 7, 6).requiresGrad(true);
      Tensor gamma = Tensor.uniform(new Rng(95), -1, 1, dt, 3).requiresGrad(true);
      Tensor beta = rnd(96, dt, 3).requiresGrad(true);
      Tensor w = rnd(97, dt, 4, 3, 3, 3);
      Tensor a = F.batchNormReluMaxPool(x, gamma, beta, F.BN_EPS, 2);
      Tensor b = F.maxPool2d(F.batchNormRelu(x, gamma, beta, F.BN_EPS), 2, 2, 0);
      close(a, b, dt == DType.FLOAT64 ? 1e-14 : 1e-6, "forward " + dt);
      List<Tensor> ga = Autograd.grad(a.mul(w).sum(), List.of(x, gamma, beta));
      List<Tensor> gb = Autograd.grad(b.mul(w).sum(), List.of(x, gamma, beta));
      for (int i = 0; i < 3; i++) {
        close(ga.get(i), gb.get(i), dt == DType.FLOAT64 ? 1e-12 : 1e-5, "gradient " + i + " " + dt);
      }
    }
    assertThatThrownBy(() -> F.batchNormReluMaxPool(Tensor.zeros(DType.FLOAT64, 1, 1, 3, 5), null, null, 1e-5, 4))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window 4 larger than input [1, 1, 3, 5]");
    assertThatThrownBy(() -> F.batchNormReluMaxPool(Tensor.zeros(DType.FLOAT64, 2, 3, 4), null, null, 1e-5, 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected [N, C, H, W], got [2, 3, 4]");
    assertThatThrownBy(() -> F.batchNormReluMaxPool(Tensor.zeros(DType.FLOAT64, 2, 3, 4, 4),
        Tensor.zeros(DType.FLOAT64, 2), null, 1e-5, 2)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("gamma [2] does not match 3 channels");
  }

  static Stream<Arguments> closedFormCases() {
    List<Arguments> l = new ArrayList<>();
    for (String kind : new String[] {"bn", "bnRelu", "bnReluPool2", "bnReluPool3"}) {
      for (DType dt : DType.values()) {
        for (int need = 1; need < 8; need++) {
          l.add(Arguments.of(kind, dt, need, need % 2 == 1));
        }
      }
    }
    return l.stream();
  }

  /**
   * Batch norm's recorded closed-form vector-Jacobian product (what a second-order backward records) against
   * its oracle, the recorded VJP of the composite: the same values for every subset of inputs wanting a
   * gradient, with and without ties in the pooling windows (odd sizes: floor-mode remainders), and the same
   * derivatives of a nonlinear function of it with respect to x, gamma, beta and the incoming gradient.
   */
  @ParameterizedTest(name = "{0} {1} need={2} ties={3}")
  @MethodSource("closedFormCases")
  void recordedClosedFormEqualsTheCompositeVjp(String kind, DType dt, int need, boolean withTies) {
    int[] shape = {3, 2, 7, 8};
    Tensor x = (withTies ? ties(61, dt, shape) : rnd(61, dt, shape).mul(2).add(0.5)).requiresGrad((need & 1) != 0);
    Tensor gamma = Tensor.uniform(new Rng(62), -1.5, 1.5, dt, 2).requiresGrad((need & 2) != 0);
    Tensor beta = rnd(63, dt, 1, 2, 1, 1).requiresGrad((need & 4) != 0);
    Tensor y = switch (kind) {
      case "bn" -> F.batchNorm(x, gamma, beta, F.BN_EPS);
      case "bnRelu" -> F.batchNormRelu(x, gamma, beta, F.BN_EPS);
      case "bnReluPool2" -> F.batchNormReluMaxPool(x, gamma, beta, F.BN_EPS, 2);
      default -> F.batchNormReluMaxPool(x, gamma, beta, F.BN_EPS, 3);
    };
    oracleAgrees(y, dt == DType.FLOAT64 ? 1e-11 : 2e-4, kind);
  }

  /**
   * The fused node y's recorded vector-Jacobian product (what a second-order backward records) against the
   * recorded VJP of its composite, for an incoming gradient that is itself a variable: the same gradients
   * for the inputs that want one (and none for the others), and the same derivatives of a nonlinear function
   * of them with respect to every input and the incoming gradient.
   */
  private static void oracleAgrees(Tensor y, double tol, String what) {
    Node n = y.node;
    assertThat(n.op).isEqualTo(Op.FUSED);
    DType dt = y.dtype();
    Tensor g = rnd(64, dt, y.shape()).requiresGrad(true);
    List<Tensor> closed = ((Fused) n.attr).recordedBackward(n, g);
    List<Tensor> oracle = Fused.compositeGrad(n, g);
    List<Tensor> wrt = new ArrayList<>(List.of(g));
    Tensor sc = null;
    Tensor so = null;
    for (int i = 0; i < n.inputs.length; i++) {
      assertThat(closed.get(i) == null).as("gradient %d present", i).isEqualTo(oracle.get(i) == null);
      assertThat(closed.get(i) == null).isEqualTo(!n.need(i));
      if (closed.get(i) != null) {
        close(closed.get(i), oracle.get(i), tol, what + " gradient " + i);
        wrt.add(n.in(i));
        Tensor v = rnd(70 + i, dt, closed.get(i).shape());
        Tensor tc = closed.get(i).mul(v).sum().add(closed.get(i).pow(2).sum().mul(0.5));
        Tensor to = oracle.get(i).mul(v).sum().add(oracle.get(i).pow(2).sum().mul(0.5));
        sc = sc == null ? tc : sc.add(tc);
        so = so == null ? to : so.add(to);
      }
    }
    GradOptions unused = GradOptions.defaults().allowUnused(true);
    List<Tensor> dc = Autograd.grad(sc, wrt, unused);
    List<Tensor> dd = Autograd.grad(so, wrt, unused);
    for (int i = 0; i < wrt.size(); i++) {
      assertThat(dc.get(i) == null).isEqualTo(dd.get(i) == null);
      if (dc.get(i) != null) {
        close(dc.get(i), dd.get(i), tol * 10, what + " derivative " + i);
      }
    }
  }

  /**
   * conv2d's recorded backward (the transposed convolutions as fused ops) against the composite's recorded
   * VJP, over strides, padding, dilation, 1x1 and non-square windows, for every subset of x, w, b wanting a
   * gradient.
   */
  @ParameterizedTest(name = "{0} {1} bias={3}")
  @MethodSource("convCases")
  void conv2dRecordedBackwardEqualsTheCompositeVjp(DType dt, int[] s, ConvSpec spec, boolean withBias) {
    for (int need = 1; need < (withBias ? 8 : 4); need++) {
      Tensor x = rnd(54, dt, s[0], s[1], s[2], s[3]).requiresGrad((need & 1) != 0);
      Tensor w = rnd(55, dt, s[4], s[1], s[5], s[6]).requiresGrad((need & 2) != 0);
      Tensor b = withBias ? rnd(56, dt, s[4]).requiresGrad((need & 4) != 0) : null;
      oracleAgrees(F.conv2d(x, w, b, spec), dt == DType.FLOAT64 ? 1e-12 : 1e-5, "conv need=" + need);
    }
  }

  @Test
  void batchNormReluIsBatchNormThenReluBitForBit() {
    // The fused op is the two fused ops in one: same values and first-order gradients, bit for bit.
    for (DType dt : DType.values()) {
      Tensor x = rnd(81, dt, 4, 3, 5, 7).requiresGrad(true);
      Tensor gamma = Tensor.uniform(new Rng(82), -1, 1, dt, 3).requiresGrad(true);
      Tensor beta = rnd(83, dt, 3).requiresGrad(true);
      Tensor w = rnd(84, dt, 4, 3, 5, 7);
      Tensor a = F.batchNormRelu(x, gamma, beta, F.BN_EPS);
      Tensor b = F.batchNorm(x, gamma, beta, F.BN_EPS).relu();
      assertThat(a.toDoubleArray()).containsExactly(b.toDoubleArray());
      List<Tensor> ga = Autograd.grad(a.mul(w).sum(), List.of(x, gamma, beta));
      List<Tensor> gb = Autograd.grad(b.mul(w).sum(), List.of(x, gamma, beta));
      for (int i = 0; i < 3; i++) {
        assertThat(ga.get(i).toDoubleArray()).as("gradient %d %s", i, dt).containsExactly(gb.get(i).toDoubleArray());
      }
    }
  }

  static Stream<Arguments> poolCases() {
    List<Arguments> l = new ArrayList<>();
    for (DType dt : DType.values()) {
      l.add(Arguments.of(dt, new int[] {2, 3, 7, 13}, 2, false));
      l.add(Arguments.of(dt, new int[] {1, 1, 7, 13}, 3, false));
      l.add(Arguments.of(dt, new int[] {3, 2, 8, 8}, 2, true));
      l.add(Arguments.of(dt, new int[] {1, 2, 13, 7}, 3, true));
      l.add(Arguments.of(dt, new int[] {2, 2, 5, 5}, 1, false));
      l.add(Arguments.of(dt, new int[] {1, 1, 4, 4}, 4, true));
    }
    return l.stream();
  }

  @ParameterizedTest(name = "{0} {1} k={2} ties={3}")
  @MethodSource("poolCases")
  void maxPoolMatchesComposite(DType dt, int[] shape, int k, boolean withTies) {
    Tensor x = withTies ? ties(5, dt, shape) : rnd(5, dt, shape);
    double tol = dt == DType.FLOAT64 ? 1e-12 : 1e-6;
    agree(xs -> F.maxPool2d(xs.get(0), k, k, 0), xs -> Composites.maxPool2d(xs.get(0), k, k, 0), List.of(x), tol);
  }

  static Stream<Arguments> reluCases() {
    List<Arguments> l = new ArrayList<>();
    for (DType dt : DType.values()) {
      for (int[] s : new int[][] {{1}, {7}, {3, 13}, {2, 3, 7, 7}, {65, 3}}) {
        l.add(Arguments.of(dt, s));
      }
    }
    return l.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("reluCases")
  void reluMatchesComposite(DType dt, int[] shape) {
    // Integer-valued inputs, exact zeros included: relu'(0) is 0 in both.
    Tensor x = ties(31, dt, shape).sub(1);
    agree(xs -> xs.get(0).relu(), xs -> Composites.relu(xs.get(0)), List.of(x), dt == DType.FLOAT64 ? 0 : 1e-7);
    agree(xs -> xs.get(0).relu(), xs -> Composites.relu(xs.get(0)), List.of(rnd(32, dt, shape)), 0);
  }

  static Stream<Arguments> convCases() {
    List<Arguments> l = new ArrayList<>();
    // {N, C, H, W, O, kh, kw}, spec
    Object[][] g = {
        {new int[] {2, 3, 7, 7, 4, 3, 3}, ConvSpec.defaults().padding(1)},
        {new int[] {1, 1, 5, 9, 2, 3, 3}, ConvSpec.defaults()},
        {new int[] {3, 2, 8, 6, 5, 3, 2}, ConvSpec.defaults().padding(1).stride(2)},
        {new int[] {2, 2, 9, 9, 3, 3, 3}, ConvSpec.defaults().padding(2).dilation(2)},
        {new int[] {1, 3, 4, 4, 2, 1, 1}, ConvSpec.defaults()},
        {new int[] {1, 1, 1, 1, 1, 1, 1}, ConvSpec.defaults()},
        {new int[] {2, 1, 13, 3, 7, 3, 3}, ConvSpec.defaults().padding(1)}};
    for (DType dt : DType.values()) {
      for (Object[] c : g) {
        l.add(Arguments.of(dt, c[0], c[1], true));
        l.add(Arguments.of(dt, c[0], c[1], false));
      }
    }
    return l.stream();
  }

  @ParameterizedTest(name = "{0} {1} bias={3}")
  @MethodSource("convCases")
  void conv2dMatchesComposite(DType dt, int[] s, ConvSpec spec, boolean withBias) {
    List<Tensor> in = new ArrayList<>();
    in.add(rnd(51, dt, s[0], s[1], s[2], s[3]));
    in.add(rnd(52, dt, s[4], s[1], s[5], s[6]));
    if (withBias) {
      in.add(rnd(53, dt, s[4]));
    }
    double tol = dt == DType.FLOAT64 ? 1e-12 : 1e-5;
    agree(xs -> F.conv2d(xs.get(0), xs.get(1), withBias ? xs.get(2) : null, spec),
        xs -> Composites.conv2d(xs.get(0), xs.get(1), withBias ? xs.get(2) : null, spec), in, tol);
  }

  @Test
  void conv2dOfStridedViewsMatchesComposite() {
    // x and w as permuted (non-contiguous) views: the kernels read them through their strides.
    for (DType dt : DType.values()) {
      Tensor x = rnd(61, dt, 3, 7, 2, 6).permute(0, 2, 1, 3);
      Tensor w = rnd(62, dt, 3, 3, 2, 4).permute(3, 2, 0, 1);
      Tensor b = rnd(63, dt, 4);
      agree(xs -> F.conv2d(xs.get(0), xs.get(1), xs.get(2), ConvSpec.defaults().padding(1)),
          xs -> Composites.conv2d(xs.get(0), xs.get(1), xs.get(2), ConvSpec.defaults().padding(1)), List.of(x, w, b),
          dt == DType.FLOAT64 ? 1e-12 : 1e-5);
    }
  }

  @Test
  void conv2dGradCheckOrdersOneAndTwo() {
    GradCheck.assertOrders12(x -> F.conv2d(x.get(0), x.get(1), x.get(2), ConvSpec.defaults().padding(1)).pow(2),
        List.of(rnd(71, DType.FLOAT64, 2, 2, 5, 4), rnd(72, DType.FLOAT64, 3, 2, 3, 3), rnd(73, DType.FLOAT64, 3)));
    // Input and weight from one leaf: the product term makes the second derivative mix them.
    GradCheck.assertOrders12(x -> F.conv2d(x.get(0).tanh(), x.get(0).slice(0, 0, 2).slice(2, 0, 2)
        .slice(3, 0, 2), null, ConvSpec.defaults().stride(2)).sum().pow(2),
        List.of(rnd(74, DType.FLOAT64, 3, 2, 5, 5)));
  }

  @Test
  void reluSpecialValuesAreThoseOfTheComposite() {
    double[] v = {-0.0, 0.0, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, Double.NaN, -1e-300, 1e-300, 2, -2};
    for (DType dt : DType.values()) {
      Tensor x = Tensor.of(v, dt, v.length).requiresGrad(true);
      Tensor y = x.relu();
      Tensor c = Composites.relu(x);
      assertThat(y.node.op).isEqualTo(Op.FUSED);
      double[] a = y.toDoubleArray();
      double[] b = c.toDoubleArray();
      for (int i = 0; i < v.length; i++) {
        assertThat(Double.doubleToRawLongBits(a[i])).as(dt + " relu(" + v[i] + ")").isEqualTo(Double.doubleToRawLongBits(b[i]));
      }
      Tensor g = Tensor.full(3.0, dt, v.length);
      double[] ga = Autograd.grad(List.of(y), List.of(x), GradOptions.defaults().outputGrads(List.of(g))).get(0).toDoubleArray();
      double[] gb = Autograd.grad(List.of(c), List.of(x), GradOptions.defaults().outputGrads(List.of(g))).get(0).toDoubleArray();
      for (int i = 0; i < v.length; i++) {
        assertThat(Double.doubleToRawLongBits(ga[i])).as(dt + " relu'(" + v[i] + ")").isEqualTo(Double.doubleToRawLongBits(gb[i]));
      }
    }
    // Zero elements: the composite (no fused node for an empty tensor).
    assertThat(Tensor.zeros(DType.FLOAT32, 0, 3).relu().shape()).containsExactly(0, 3);
  }

  @Test
  void maxPoolTiesShareTheGradientEqually() {
    Tensor x = Tensor.full(2.0, DType.FLOAT64, 1, 1, 5, 4).requiresGrad(true);
    Tensor g = Autograd.grad(F.maxPool2d(x, 2, 2, 0).sum(), List.of(x)).get(0);
    double[] v = g.toDoubleArray();
    for (int r = 0; r < 5; r++) {
      for (int c = 0; c < 4; c++) {
        assertThat(v[r * 4 + c]).isEqualTo(r < 4 ? 0.25 : 0.0);
      }
    }
  }

  @Test
  void fusedBackwardIsBitIdenticalToCompositeForMaxPool() {
    for (DType dt : DType.values()) {
      Tensor x = ties(7, dt, 3, 4, 9, 11).requiresGrad(true);
      Tensor w = rnd(8, dt, 3, 4, 3, 3);
      Tensor a = Autograd.grad(F.maxPool2d(x, 3, 3, 0).mul(w).sum(), List.of(x)).get(0);
      Tensor b = Autograd.grad(Composites.maxPool2d(x, 3, 3, 0).mul(w).sum(), List.of(x)).get(0);
      assertThat(a.toDoubleArray()).containsExactly(b.toDoubleArray());
    }
  }

  @Test
  void gradCheckOrdersOneAndTwo() {
    GradCheck.assertOrders12(x -> F.batchNorm(x.get(0), x.get(1), x.get(2), F.BN_EPS).pow(3),
        List.of(rnd(11, DType.FLOAT64, 3, 2, 3, 5), Tensor.uniform(new Rng(12), 0.5, 1.5, DType.FLOAT64, 2),
            rnd(13, DType.FLOAT64, 2)));
    GradCheck.assertOrders12(x -> F.batchNorm(x.get(0), null, null, F.BN_EPS).mul(x.get(0)),
        List.of(rnd(14, DType.FLOAT64, 6, 3)));
    // Random inputs keep every normalised value away from ReLU's kink at 0.
    GradCheck.assertOrders12(x -> F.batchNormRelu(x.get(0), x.get(1), x.get(2), F.BN_EPS).pow(3),
        List.of(rnd(17, DType.FLOAT64, 3, 2, 2, 3), Tensor.uniform(new Rng(18), 0.5, 1.5, DType.FLOAT64, 2),
            rnd(19, DType.FLOAT64, 2)));
    // Distinct values, so no window is at a kink.
    Rng r = new Rng(15);
    double[] v = new double[2 * 2 * 7 * 5];
    for (int i = 0; i < v.length; i++) {
      v[i] = i * 0.01 + r.nextDouble();
    }
    GradCheck.assertOrders12(x -> F.maxPool2d(x.get(0), 2, 2, 0).pow(2),
        List.of(Tensor.of(v, DType.FLOAT64, 2, 2, 7, 5)));
    GradCheck.assertOrders12(x -> F.batchNormReluMaxPool(x.get(0), x.get(1), x.get(2), F.BN_EPS, 2).pow(3),
        List.of(Tensor.of(v, DType.FLOAT64, 2, 2, 7, 5), Tensor.uniform(new Rng(20), 0.5, 1.5, DType.FLOAT64, 2),
            rnd(21, DType.FLOAT64, 2)));
    // relu away from its kink: orders 1 and 2 through the fused node (second order via the composite).
    GradCheck.assertOrders12(x -> x.get(0).relu().pow(3).mul(x.get(0)),
        List.of(Tensor.of(new double[] {-1.3, 0.7, 2.1, -0.4, 1.1, 0.35, -2.2, 0.9}, DType.FLOAT64, 2, 4)));
    GradCheck.assertOrders12(
        x -> F.maxPool2d(F.batchNorm(x.get(0), x.get(1), null, F.BN_EPS).tanh(), 2, 2, 0).pow(2),
        List.of(Tensor.of(v, DType.FLOAT64, 2, 2, 7, 5), Tensor.uniform(new Rng(16), 0.5, 1.5, DType.FLOAT64, 2)));
  }

  @Test
  void innerGradientIsLocalWhenOneInputDependsOnAnother() {
    // x is computed from gamma: the fused node's recorded VJP must not count the path through x twice.
    Tensor gamma = Tensor.uniform(new Rng(21), 0.5, 1.5, DType.FLOAT64, 3).requiresGrad(true);
    Tensor base = rnd(22, DType.FLOAT64, 4, 3, 2);
    Function<Function<Tensor[], Tensor>, List<Tensor>> run = bn -> {
      Tensor x = base.mul(gamma.reshape(1, 3, 1)).exp();
      Tensor y = bn.apply(new Tensor[] {x, gamma}).pow(2).sum();
      Tensor g = Autograd.grad(y, List.of(gamma), GradOptions.createGraph(true)).get(0);
      return List.of(g, Autograd.grad(g.pow(2).sum(), List.of(gamma)).get(0));
    };
    List<Tensor> f = run.apply(a -> F.batchNorm(a[0], a[1], null, F.BN_EPS));
    List<Tensor> c = run.apply(a -> Composites.batchNorm(a[0], a[1], null, F.BN_EPS));
    close(f.get(0), c.get(0), 1e-10, "first");
    close(f.get(1), c.get(1), 1e-9, "second");
  }

  @Test
  void thirdOrderThroughFusedOpsMatchesComposite() {
    Tensor x = rnd(31, DType.FLOAT64, 2, 2, 4, 4).requiresGrad(true);
    Function<Function<Tensor, Tensor>, Tensor> run = net -> {
      Tensor y = net.apply(x).pow(3).sum();
      Tensor g1 = Autograd.grad(y, List.of(x), GradOptions.createGraph(true)).get(0);
      Tensor g2 = Autograd.grad(g1.pow(2).sum(), List.of(x), GradOptions.createGraph(true)).get(0);
      return Autograd.grad(g2.tanh().sum(), List.of(x)).get(0);
    };
    Tensor f = run.apply(t -> F.maxPool2d(F.batchNorm(t, null, null, F.BN_EPS), 2, 2, 0));
    Tensor c = run.apply(t -> Composites.maxPool2d(Composites.batchNorm(t, null, null, F.BN_EPS), 2, 2, 0));
    close(f, c, 1e-8, "third order");
    // The block conv4 uses, whose recorded backward is batch norm's closed form behind the unpooling mask.
    Tensor gamma = Tensor.uniform(new Rng(32), 0.5, 1.5, DType.FLOAT64, 2);
    Tensor fb = run.apply(t -> F.batchNormReluMaxPool(t, gamma, null, F.BN_EPS, 2));
    Tensor cb = run.apply(t -> Composites.batchNormReluMaxPool(t, gamma, null, F.BN_EPS, 2));
    close(fb, cb, 1e-8, "third order, batch norm + relu + pool");
    // conv2d, whose recorded backward records the transposed convolutions as fused ops of their own.
    Tensor w = rnd(33, DType.FLOAT64, 3, 2, 3, 3).requiresGrad(true);
    Tensor fc = run.apply(t -> F.conv2d(t, w, null, ConvSpec.defaults().padding(1).stride(2)).tanh());
    Tensor cc = run.apply(t -> Composites.conv2d(t, w, null, ConvSpec.defaults().padding(1).stride(2)).tanh());
    close(fc, cc, 1e-8, "third order, conv2d");
  }

  /** Conv + batch norm + relu + pool + linear, fused or composite: the second-order MAML meta-gradients agree. */
  @Test
  void secondOrderMamlMetaGradientMatchesComposite() {
    Rng r = new Rng(41);
    List<Tensor> params = List.of(Tensor.randn(r, DType.FLOAT64, 3, 1, 3, 3).mul(0.5), Tensor.randn(r, DType.FLOAT64, 3),
        Tensor.uniform(r, 0.5, 1.5, DType.FLOAT64, 3), Tensor.randn(r, DType.FLOAT64, 3),
        Tensor.randn(r, DType.FLOAT64, 2, 3 * 3 * 3), Tensor.randn(r, DType.FLOAT64, 2));
    Tensor xs = Tensor.randn(r, DType.FLOAT64, 4, 1, 7, 7);
    Tensor xq = Tensor.randn(r, DType.FLOAT64, 5, 1, 7, 7);
    List<Tensor> f = metaGrad(params, xs, xq, false);
    List<Tensor> c = metaGrad(params, xs, xq, true);
    for (int i = 0; i < f.size(); i++) {
      close(f.get(i), c.get(i), 1e-9, "meta-gradient " + i);
    }
  }

  private static List<Tensor> metaGrad(List<Tensor> params, Tensor xs, Tensor xq, boolean composite) {
    List<Tensor> p = params.stream().map(t -> t.requiresGrad(true)).toList();
    List<Tensor> fast = p;
    for (int s = 0; s < 2; s++) {
      Tensor loss = F.crossEntropy(convNet(fast, xs, composite), new int[] {0, 1, 1, 0});
      List<Tensor> g = Autograd.grad(loss, fast, GradOptions.createGraph(true));
      List<Tensor> next = new ArrayList<>();
      for (int i = 0; i < fast.size(); i++) {
        next.add(fast.get(i).sub(g.get(i).mul(0.4)));
      }
      fast = next;
    }
    return Autograd.grad(F.crossEntropy(convNet(fast, xq, composite), new int[] {1, 0, 1, 0, 1}), p);
  }

  private static Tensor convNet(List<Tensor> p, Tensor x, boolean composite) {
    Tensor h = composite ? Composites.conv2d(x, p.get(0), p.get(1), ConvSpec.defaults().padding(1))
        : F.conv2d(x, p.get(0), p.get(1), ConvSpec.defaults().padding(1));
    h = (composite ? Composites.batchNorm(h, p.get(2), p.get(3), F.BN_EPS) : F.batchNorm(h, p.get(2), p.get(3),
        F.BN_EPS)).relu();
    h = composite ? Composites.maxPool2d(h, 2, 2, 0) : F.maxPool2d(h, 2, 2, 0);
    return F.linear(h.flatten(1, 3), p.get(4), p.get(5));
  }

  @Test
  void badInputNamesOpAndShapes() {
    Tensor x = Tensor.zeros(DType.FLOAT64, 2, 3, 4, 4);
    assertThatThrownBy(() -> F.batchNorm(Tensor.zeros(DType.FLOAT64, 3), null, null, 1e-5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batchNorm: expected [N, C, ...], got [3]");
    assertThatThrownBy(() -> F.batchNorm(x, Tensor.zeros(DType.FLOAT64, 2), null, 1e-5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batchNorm: gamma [2] does not match 3 channels");
    assertThatThrownBy(() -> F.batchNorm(x, null, Tensor.zeros(DType.FLOAT64, 4), 1e-5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batchNorm: beta [4] does not match 3 channels");
    assertThatThrownBy(() -> F.batchNorm(x, Tensor.zeros(DType.FLOAT32, 3), null, 1e-5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batchNorm: mixed dtypes");
    assertThatThrownBy(() -> F.maxPool2d(Tensor.zeros(DType.FLOAT64, 2, 4, 4), 2, 2, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxPool2d: expected [N, C, H, W], got [2, 4, 4]");
    assertThatThrownBy(() -> F.maxPool2d(Tensor.zeros(DType.FLOAT64, 1, 1, 3, 5), 4, 4, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxPool2d: window 4 larger than input [1, 1, 3, 5]");
    assertThatThrownBy(() -> F.conv2d(x, Tensor.zeros(DType.FLOAT32, 2, 3, 3, 3), null, ConvSpec.defaults().padding(1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("conv2d: mixed dtypes");
    assertThatThrownBy(() -> F.conv2d(x, Tensor.zeros(DType.FLOAT64, 2, 3, 3, 3), Tensor.zeros(DType.FLOAT32, 2),
        ConvSpec.defaults().padding(1))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("conv2d: mixed dtypes");
    assertThatThrownBy(() -> F.conv2d(x, Tensor.zeros(DType.FLOAT64, 2, 4, 3, 3), null, ConvSpec.defaults().padding(1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("conv2d: input [2, 3, 4, 4] and weight [2, 4, 3, 3]");
  }

  @Test
  void zeroSizeBatchFallsBackToComposite() {
    Tensor x = Tensor.zeros(DType.FLOAT64, 0, 3, 4, 4);
    assertThat(F.maxPool2d(x, 2, 2, 0).shape()).isEqualTo(new int[] {0, 3, 2, 2});
    assertThat(F.batchNorm(x, null, null, 1e-5).shape()).isEqualTo(new int[] {0, 3, 4, 4});
    assertThat(F.batchNormRelu(x, null, null, 1e-5).shape()).isEqualTo(new int[] {0, 3, 4, 4});
    assertThat(F.batchNormReluMaxPool(x, null, null, 1e-5, 2).shape()).isEqualTo(new int[] {0, 3, 2, 2});
    assertThat(F.conv2d(x, Tensor.zeros(DType.FLOAT64, 2, 3, 3, 3), null, ConvSpec.defaults().padding(1)).shape())
        .isEqualTo(new int[] {0, 2, 4, 4});
    assertThat(Arrays.toString(F.batchNorm(x, null, null, 1e-5).shape())).isEqualTo("[0, 3, 4, 4]");
  }
}
