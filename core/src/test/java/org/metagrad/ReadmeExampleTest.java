package org.metagrad;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's second-order example, verbatim, plus its expected values. */
class ReadmeExampleTest {
  @Test
  void readmeExampleRunsAndItsMetaGradientIsRight() {
    Tensor w = Tensor.randn(new Rng(0), DType.FLOAT64, 1, 1).requiresGrad(true);
    Tensor x = Tensor.of(new double[] {1, 2, 3}, 3, 1), y = x.mul(2.0);
    // One inner SGD step, recorded so that it can be differentiated again:
    Tensor inner = F.mse(x.matmul(w), y);
    Tensor g = Autograd.grad(inner, List.of(w), GradOptions.createGraph(true)).get(0);
    Tensor fast = w.sub(g.mul(0.1));
    // The meta-gradient flows through the inner gradient (second-order MAML):
    Tensor metaLoss = F.mse(x.matmul(fast), y);
    Tensor metaGrad = Autograd.grad(metaLoss, List.of(w)).get(0);
    GradCheck.Report r = GradCheck.check(ws -> F.mse(x.matmul(ws.get(0).sub(Autograd.grad(F.mse(x.matmul(ws.get(0)), y),
        ws, GradOptions.createGraph(true)).get(0).mul(0.1))), y), List.of(w.detach()), 1);   // r.passed() == true
    assertThat(r.passed()).isTrue();
    // By hand: mse = (14/3)(w-2)^2, inner grad = (28/3)(w-2), fast - 2 = (w-2)(1 - 2.8/3),
    // meta-loss = (14/3)(w-2)^2 c^2 with c = 1 - 2.8/3, so d/dw = (28/3)(w-2) c^2.
    double w0 = w.item();
    double c = 1 - 2.8 / 3;
    assertThat(metaGrad.item()).isCloseTo(28.0 / 3 * (w0 - 2) * c * c, within(1e-12));
  }
}
