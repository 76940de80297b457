package org.metagrad;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Second-order MAML through the public core API: the meta-gradient must equal the finite-difference
 * derivative of the post-adaptation query loss with respect to the initial weights; the first-order
 * approximation must not (that would mean the graph was silently detached).
 */
class MamlGradientTest {
  private static final double INNER_LR = 0.4;

  /** Tiny MLP 2-5-3 with tanh: params [w1 (5x2), b1 (5), w2 (3x5), b2 (3)]. */
  private static Tensor mlp(List<Tensor> p, Tensor x) {
    return F.linear(F.linear(x, p.get(0), p.get(1)).tanh(), p.get(2), p.get(3));
  }

  /** conv(1->2, 3x3, pad 1) + batchNorm(batch stats) + relu + maxpool 2 + linear to 3 classes. */
  private static Tensor convNet(List<Tensor> p, Tensor x) {
    Tensor h = F.conv2d(x, p.get(0), p.get(1), ConvSpec.defaults().padding(1));
    h = F.batchNorm(h, p.get(2), p.get(3), F.BN_EPS).relu();
    h = F.maxPool2d(h, 2, 2, 0).flatten(1, 3);
    return F.linear(h, p.get(4), p.get(5));
  }

  interface Net {
    Tensor apply(List<Tensor> p, Tensor x);
  }

  private static Tensor postAdaptationLoss(Net net, List<Tensor> params, Tensor xs, int[] ys, Tensor xq, int[] yq,
                                           int steps, boolean secondOrder) {
    List<Tensor> fast = params;
    for (int s = 0; s < steps; s++) {
      Tensor loss = F.crossEntropy(net.apply(fast, xs), ys);
      List<Tensor> g = Autograd.grad(loss, fast, GradOptions.createGraph(secondOrder));
      List<Tensor> next = new ArrayList<>();
      for (int i = 0; i < fast.size(); i++) {
        next.add(fast.get(i).sub(g.get(i).mul(INNER_LR)));
      }
      fast = next;
    }
    return F.crossEntropy(net.apply(fast, xq), yq);
  }

  private static List<Tensor> mlpParams(Rng r) {
    return List.of(Tensor.randn(r, DType.FLOAT64, 5, 2), Tensor.randn(r, DType.FLOAT64, 5),
        Tensor.randn(r, DType.FLOAT64, 3, 5), Tensor.randn(r, DType.FLOAT64, 3));
  }

  @Test
  void secondOrderMetaGradientMatchesFiniteDifferencesOneAndThreeSteps() {
    Rng r = new Rng(11);
    List<Tensor> params = mlpParams(r);
    Tensor xs = Tensor.randn(r, DType.FLOAT64, 6, 2);
    Tensor xq = Tensor.randn(r, DType.FLOAT64, 9, 2);
    int[] ys = {0, 1, 2, 0, 1, 2};
    int[] yq = {0, 1, 2, 0, 1, 2, 0, 1, 2};
    for (int steps : new int[] {1, 3}) {
      GradCheck.Report rep = GradCheck.check(
          p -> postAdaptationLoss(MamlGradientTest::mlp, p, xs, ys, xq, yq, steps, true), params,
          GradCheck.Options.order(1).tolerances(1e-7, 1e-6));
      assertThat(rep.passed()).as(rep.toString()).isTrue();
      assertThat(rep.worstRelError()).isLessThan(1e-6);
    }
  }

  @Test
  void firstOrderMamlDiffersFromTheTrueMetaGradient() {
    Rng r = new Rng(12);
    List<Tensor> params = mlpParams(r);
    Tensor xs = Tensor.randn(r, DType.FLOAT64, 6, 2);
    Tensor xq = Tensor.randn(r, DType.FLOAT64, 9, 2);
    int[] ys = {0, 1, 2, 0, 1, 2};
    int[] yq = {0, 1, 2, 0, 1, 2, 0, 1, 2};
    List<Tensor> leaves = params.stream().map(t -> t.requiresGrad(true)).toList();
    List<Tensor> second = Autograd.grad(postAdaptationLoss(MamlGradientTest::mlp, leaves, xs, ys, xq, yq, 1, true),
        leaves);
    List<Tensor> first = Autograd.grad(postAdaptationLoss(MamlGradientTest::mlp, leaves, xs, ys, xq, yq, 1, false),
        leaves);
    double maxDiff = 0;
    for (int i = 0; i < leaves.size(); i++) {
      maxDiff = Math.max(maxDiff, second.get(i).sub(first.get(i)).abs().max().item());
    }
    assertThat(maxDiff).isGreaterThan(1e-3);
    // And the first-order rule is exactly the query gradient at the adapted weights.
    GradCheck.Report firstVsFd = GradCheck.check(
        p -> postAdaptationLoss(MamlGradientTest::mlp, p, xs, ys, xq, yq, 1, false), params, 1);
    assertThat(firstVsFd.passed()).isFalse();
  }

  @Test
  void convBatchNormMaxPoolMamlMetaGradientMatchesFiniteDifferences() {
    Rng r = new Rng(13);
    List<Tensor> params = List.of(Tensor.randn(r, DType.FLOAT64, 2, 1, 3, 3).mul(0.5), Tensor.randn(r, DType.FLOAT64, 2),
        Tensor.uniform(r, 0.5, 1.5, DType.FLOAT64, 2), Tensor.randn(r, DType.FLOAT64, 2),
        Tensor.randn(r, DType.FLOAT64, 3, 2 * 2 * 2), Tensor.randn(r, DType.FLOAT64, 3));
    Tensor xs = Tensor.randn(r, DType.FLOAT64, 3, 1, 4, 4);
    Tensor xq = Tensor.randn(r, DType.FLOAT64, 3, 1, 4, 4);
    int[] ys = {0, 1, 2};
    int[] yq = {2, 1, 0};
    GradCheck.Report rep = GradCheck.check(
        p -> postAdaptationLoss(MamlGradientTest::convNet, p, xs, ys, xq, yq, 2, true), params,
        GradCheck.Options.order(1).tolerances(1e-7, 1e-5));
    assertThat(rep.passed()).as(rep.toString()).isTrue();
  }

  @Test
  void hessianVectorProductThroughMamlMatchesFiniteDifferences() {
    Rng r = new Rng(14);
    List<Tensor> params = mlpParams(r);
    Tensor xs = Tensor.randn(r, DType.FLOAT64, 4, 2);
    Tensor xq = Tensor.randn(r, DType.FLOAT64, 4, 2);
    int[] ys = {0, 1, 2, 1};
    int[] yq = {2, 1, 0, 0};
    // Order 2 of the MAML objective: third derivatives of the network are exercised.
    GradCheck.Report rep = GradCheck.check(
        p -> postAdaptationLoss(MamlGradientTest::mlp, p, xs, ys, xq, yq, 1, true), params,
        GradCheck.Options.order(2).tolerances(1e-6, 1e-5));
    assertThat(rep.passed()).as(rep.toString()).isTrue();
  }
}
