package org.metagrad;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GradCheck never reports "passed" without having checked something meaningful: zero elements is an error,
 * and a non-finite input, function value, analytic or numeric derivative fails with a message naming it.
 */
class GradCheckTest {

  @Test
  void zeroElementsIsAnErrorNotAPass() {
    assertThatThrownBy(() -> GradCheck.check(x -> x.get(0).sum(), List.of(Tensor.zeros(DType.FLOAT64, 0, 3)), 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nothing to check").hasMessageContaining("[0, 3]");
    assertThatThrownBy(() -> GradCheck.check(x -> Tensor.scalar(1.0, DType.FLOAT64), List.of(), 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nothing to check");
    assertThatThrownBy(() -> GradCheck.assertOrders12(x -> x.get(0).add(x.get(1).sum()),
        List.of(Tensor.zeros(DType.FLOAT64, 2, 0), Tensor.zeros(DType.FLOAT64, 0))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[2, 0]");
  }

  /** A user's ReLU written as where(x > 0, x, 0) hides a NaN input: value and derivatives stay finite. */
  @ParameterizedTest
  @ValueSource(ints = {1, 2})
  void aNaNInputFailsEvenWhenTheFunctionHidesIt(int order) {
    Tensor x = Tensor.of(new double[] {0.5, Double.NaN, 2, -1}, DType.FLOAT64, 2, 2);
    GradCheck.Report r = GradCheck.check(a -> Tensor.where(a.get(0).gt(0), a.get(0), a.get(0).scalarLike(0))
        .pow(2), List.of(x), order);
    assertThat(r.passed()).as(r.toString()).isFalse();
    assertThat(r.problem()).isEqualTo("input 0 element [0, 1] is NaN (finite differences need a finite point)");
    assertThat(r.toString()).startsWith("FAILED order-" + order + " gradcheck: input 0 element [0, 1] is NaN");
    Tensor inf = Tensor.of(new double[] {1, 2, Double.NEGATIVE_INFINITY}, DType.FLOAT64, 3);
    GradCheck.Report ri = GradCheck.check(a -> a.get(1).mul(a.get(0).exp().sum()), List.of(Tensor.ones(DType.FLOAT64, 2),
        inf), order);
    assertThat(ri.passed()).isFalse();
    assertThat(ri.problem()).startsWith("input 1 element [2] is -Infinity");
    assertThatThrownBy(() -> GradCheck.assertOrders12(a -> a.get(0).relu(), List.of(x)))
        .isInstanceOf(AssertionError.class).hasMessageContaining("input 0 element [0, 1] is NaN");
  }

  @Test
  void aNonFiniteFunctionValueFailsNamingTheOutputElement() {
    Tensor x = Tensor.of(new double[] {1, 800, 2}, DType.FLOAT64, 3);
    GradCheck.Report r = GradCheck.check(a -> a.get(0).exp(), List.of(x), 1);
    assertThat(r.passed()).isFalse();
    assertThat(r.problem()).isEqualTo("function value element [1] of output [3] is Infinity");
  }

  /** The where trap: the discarded branch sqrt(x) at x = -1 is NaN, and its gradient 0 / NaN is too. */
  @Test
  void aNonFiniteAnalyticDerivativeFailsNamingTheElement() {
    Tensor x = Tensor.of(new double[] {1, 2, -1, 3}, DType.FLOAT64, 4);
    GradCheck.Report r = GradCheck.check(a -> Tensor.where(a.get(0).gt(0), a.get(0).sqrt(), a.get(0).scalarLike(0)),
        List.of(x), 1);
    assertThat(r.passed()).isFalse();
    assertThat(r.problem()).isEqualTo("analytic derivative of input 0 element [2] is NaN");
  }

  /** sqrt at 0: the value is finite, the derivatives infinite, the finite difference NaN (sqrt(-eps)). */
  @Test
  void aNonFiniteFirstDerivativeFailsAtOrderTwo() {
    Tensor x = Tensor.of(new double[] {1, 0, 4}, DType.FLOAT64, 3);
    GradCheck.Report r = GradCheck.check(a -> a.get(0).sqrt(), List.of(x), 2);
    assertThat(r.passed()).isFalse();
    assertThat(r.problem()).contains("is Infinity").contains("first derivatives");
    GradCheck.Report r1 = GradCheck.check(a -> a.get(0).sqrt(), List.of(x), 1);
    assertThat(r1.passed()).isFalse();
    // The sign is that of the random cotangent u at element 1.
    assertThat(r1.problem()).matches("analytic derivative of input 0 element \\[1\\] is -?Infinity");
  }

  /** A finite point whose neighbours are not: the analytic derivative is finite, the difference is not. */
  @Test
  void aNonFiniteNumericDerivativeFailsNamingTheElement() {
    Tensor x = Tensor.of(new double[] {1, 1e-300, 3}, DType.FLOAT64, 3);
    // log at 1e-300: finite value and derivative (1e300), but log(1e-300 - 1e-6) is NaN.
    GradCheck.Report r = GradCheck.check(a -> a.get(0).log(), List.of(x), 1);
    assertThat(r.passed()).isFalse();
    assertThat(r.problem()).startsWith("numeric derivative of input 0 element [1] is NaN (f(x + eps) = ");
  }

  @Test
  void finiteChecksStillPass() {
    Tensor x = Tensor.of(new double[] {0.5, -0.3, 2}, DType.FLOAT64, 3);
    GradCheck.Report r = GradCheck.check(a -> a.get(0).tanh().mul(a.get(0)), List.of(x), 2);
    assertThat(r.passed()).as(r.toString()).isTrue();
    assertThat(r.problem()).isEmpty();
    assertThat(r.elementsChecked()).isEqualTo(3);
    assertThat(r.toString()).startsWith("passed order-2 gradcheck over 3 elements");
  }
}
