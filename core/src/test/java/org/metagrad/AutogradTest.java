package org.metagrad;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class AutogradTest {

  @Test
  void firstSecondAndThirdDerivativesOfCube() {
    Tensor x = Tensor.scalar(3, DType.FLOAT64).requiresGrad(true);
    Tensor y = x.pow(3);
    Tensor dy = Autograd.grad(y, List.of(x), GradOptions.createGraph(true)).get(0);
    assertThat(dy.item()).isEqualTo(27.0);
    Tensor d2y = Autograd.grad(dy, List.of(x), GradOptions.createGraph(true)).get(0);
    assertThat(d2y.item()).isEqualTo(18.0);
    Tensor d3y = Autograd.grad(d2y, List.of(x)).get(0);
    assertThat(d3y.item()).isEqualTo(6.0);
  }

  @Test
  void withoutCreateGraphTheGradientIsNotRecorded() {
    Tensor x = Tensor.scalar(2, DType.FLOAT64).requiresGrad(true);
    Tensor dy = Autograd.grad(x.mul(x), List.of(x)).get(0);
    assertThat(dy.item()).isEqualTo(4.0);
    assertThat(dy.requiresGrad()).isFalse();
    assertThatThrownBy(() -> Autograd.grad(dy, List.of(x)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not on the graph");
  }

  @Test
  void fanOutGradientsAreSummed() {
    Tensor x = Tensor.of(new double[] {1, 2, 3}, 3).requiresGrad(true);
    Tensor y = x.mul(x).add(x.mul(2.0)).add(x.exp()).sum();
    double[] g = Autograd.grad(y, List.of(x)).get(0).toDoubleArray();
    for (int i = 0; i < 3; i++) {
      double v = i + 1;
      assertThat(g[i]).isCloseTo(2 * v + 2 + Math.exp(v), within(1e-12));
    }
  }

  @Test
  void chainOfHundredThousandOpsDoesNotOverflowTheStack() {
    Tensor x = Tensor.of(new double[] {1.0}, 1).requiresGrad(true);
    Tensor y = x;
    for (int i = 0; i < 100_000; i++) {
      y = y.add(1e-5);
    }
    Tensor g = Autograd.grad(y.sum(), List.of(x)).get(0);
    assertThat(g.item()).isEqualTo(1.0);
    assertThat(y.item()).isCloseTo(2.0, within(1e-9));
  }

  @Test
  void explicitOutputGradientsForNonScalarOutputs() {
    Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
    Tensor y = x.mul(x);
    assertThatThrownBy(() -> Autograd.grad(y, List.of(x)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("grad: output 0 of shape [2] is not a scalar");
    Tensor g = Autograd.grad(List.of(y), List.of(x),
        GradOptions.defaults().outputGrads(List.of(Tensor.of(new double[] {10, 100}, 2)))).get(0);
    assertThat(g.toDoubleArray()).containsExactly(20, 400);
    assertThatThrownBy(() -> Autograd.grad(List.of(y), List.of(x),
        GradOptions.defaults().outputGrads(List.of(Tensor.of(new double[] {1, 2, 3}, 3)))))
        .hasMessageContaining("output gradient 0 has shape [3] but output has shape [2]");
  }

  @Test
  void unusedInputsAreRejectedUnlessAllowed() {
    Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
    Tensor z = Tensor.of(new double[] {5}, 1).requiresGrad(true);
    Tensor y = x.sum();
    assertThatThrownBy(() -> Autograd.grad(y, List.of(x, z)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("input 1 of shape [1] is not on the graph");
    List<Tensor> g = Autograd.grad(y, List.of(x, z), GradOptions.defaults().allowUnused(true));
    assertThat(g.get(1).toDoubleArray()).containsExactly(0.0);
  }

  @Test
  void noGradScopeStopsRecordingAndNests() {
    Tensor x = Tensor.scalar(2, DType.FLOAT64).requiresGrad(true);
    try (var s = Autograd.noGrad()) {
      try (var s2 = Autograd.noGrad()) {
        assertThat(x.mul(x).requiresGrad()).isFalse();
      }
      assertThat(Autograd.isEnabled()).isFalse();
    }
    assertThat(Autograd.isEnabled()).isTrue();
    assertThat(x.mul(x).requiresGrad()).isTrue();
  }

  @Test
  void detachCutsTheGraph() {
    Tensor x = Tensor.scalar(2, DType.FLOAT64).requiresGrad(true);
    Tensor y = x.mul(x.detach());
    assertThat(Autograd.grad(y, List.of(x)).get(0).item()).isEqualTo(2.0);
  }

  @Test
  void gradWithRespectToIntermediateTensor() {
    Tensor x = Tensor.scalar(2, DType.FLOAT64).requiresGrad(true);
    Tensor h = x.mul(3.0);
    Tensor y = h.mul(h);
    List<Tensor> g = Autograd.grad(y, List.of(h, x));
    assertThat(g.get(0).item()).isEqualTo(12.0);
    assertThat(g.get(1).item()).isEqualTo(36.0);
  }

  @Test
  void mixedSecondDerivative() {
    Tensor a = Tensor.scalar(1.5, DType.FLOAT64).requiresGrad(true);
    Tensor b = Tensor.scalar(-0.5, DType.FLOAT64).requiresGrad(true);
    Tensor f = a.mul(a).mul(b).add(b.exp().mul(a));
    Tensor da = Autograd.grad(f, List.of(a), GradOptions.createGraph(true)).get(0); // 2ab + e^b
    Tensor dadb = Autograd.grad(da, List.of(b)).get(0);                                // 2a + e^b
    assertThat(dadb.item()).isCloseTo(3 + Math.exp(-0.5), within(1e-12));
  }
}
