package org.metagrad.meta.semi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.GradCheck;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/** Each loss against a hand computation in float64 (plain Java loops over the definitions), and order-1/2 checks. */
class SemiLossesTest {
  private static final double[] A = {1.0, -0.5, 2.0, 0.3, 0.0, -1.2};
  private static final double[] B = {0.2, 0.4, 1.0, -0.7, 1.5, 0.1};

  private static Tensor t(double[] v, int... shape) {
    return Tensor.of(v, DType.FLOAT64, shape);
  }

  private static double[] softmaxRow(double[] v, int row, int k) {
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < k; j++) {
      max = Math.max(max, v[row * k + j]);
    }
    double s = 0;
    double[] p = new double[k];
    for (int j = 0; j < k; j++) {
      p[j] = StrictMath.exp(v[row * k + j] - max);
      s += p[j];
    }
    for (int j = 0; j < k; j++) {
      p[j] /= s;
    }
    return p;
  }

  @Test
  void consistencyIsTheMeanOverRowsOfTheSquaredDistanceOfProbabilities() {
    double want = 0;
    for (int r = 0; r < 2; r++) {
      double[] p = softmaxRow(A, r, 3);
      double[] q = softmaxRow(B, r, 3);
      for (int j = 0; j < 3; j++) {
        want += (p[j] - q[j]) * (p[j] - q[j]);
      }
    }
    want /= 2;
    assertThat(SemiLosses.consistency(t(A, 2, 3), t(B, 2, 3)).item()).isCloseTo(want, within(1e-14));
    assertThat(SemiLosses.consistency(t(A, 2, 3), t(A, 2, 3)).item()).isEqualTo(0.0);
  }

  @Test
  void klIsTheMeanOverRowsOfSumPLogPOverQ() {
    double want = 0;
    for (int r = 0; r < 2; r++) {
      double[] p = softmaxRow(A, r, 3);
      double[] q = softmaxRow(B, r, 3);
      for (int j = 0; j < 3; j++) {
        want += p[j] * StrictMath.log(p[j] / q[j]);
      }
    }
    want /= 2;
    assertThat(SemiLosses.kl(t(A, 2, 3), t(B, 2, 3)).item()).isCloseTo(want, within(1e-14));
    assertThat(SemiLosses.kl(t(A, 2, 3), t(A, 2, 3)).item()).isCloseTo(0.0, within(1e-15));
    // large logits stay finite (log-softmax)
    assertThat(SemiLosses.kl(t(new double[] {1000, 0}, 1, 2), t(new double[] {0, 1000}, 1, 2)).item())
        .isCloseTo(1000.0, within(1e-9));
  }

  @Test
  void fixMatchTrainsTheStrongViewOnTheConfidentWeakArgmaxDividedByAllRows() {
    // weak row 0: softmax(4, 0, 0) -> 0.9647 >= 0.9 confident, class 0; row 1: softmax(0.5, 0.4, 0) not confident
    double[] weak = {4, 0, 0, 0.5, 0.4, 0};
    double[] strong = {0.1, 0.2, 0.3, 2.0, 0.0, -1.0};
    double[] q0 = softmaxRow(weak, 0, 3);
    assertThat(q0[0]).isGreaterThan(0.9);
    double want = -StrictMath.log(softmaxRow(strong, 0, 3)[0]) / 2;
    Tensor s = t(strong, 2, 3).requiresGrad(true);
    Tensor w = t(weak, 2, 3).requiresGrad(true);
    Tensor loss = SemiLosses.fixMatch(w, s, 0.9);
    assertThat(loss.item()).isCloseTo(want, within(1e-14));
    // no gradient reaches the weak view (its pseudo-labels are constants); the strong row 1 gets none either
    List<Tensor> g = Autograd.grad(loss, List.of(w, s), org.metagrad.GradOptions.defaults().allowUnused(true));
    assertThat(g.get(0) == null || java.util.Arrays.stream(g.get(0).toDoubleArray()).allMatch(v -> v == 0)).isTrue();
    double[] gs = g.get(1).toDoubleArray();
    double[] ps = softmaxRow(strong, 0, 3);
    assertThat(gs[0]).isCloseTo((ps[0] - 1) / 2, within(1e-14));
    assertThat(gs[1]).isCloseTo(ps[1] / 2, within(1e-14));
    assertThat(new double[] {gs[3] + 0.0, gs[4] + 0.0, gs[5] + 0.0}).containsExactly(0, 0, 0);
    SemiLosses.PseudoLabels pl = SemiLosses.pseudoLabels(t(weak, 2, 3), 0.9);
    assertThat(pl.labels()).containsExactly(0, 0);
    assertThat(pl.confident()).containsExactly(true, false);
    assertThat(pl.rate()).isEqualTo(0.5);
    // threshold 0: every row counts
    double all = (-StrictMath.log(ps[0]) - StrictMath.log(softmaxRow(strong, 1, 3)[0])) / 2;
    assertThat(SemiLosses.fixMatch(t(weak, 2, 3), t(strong, 2, 3), 0).item()).isCloseTo(all, within(1e-14));
  }

  @Test
  void pseudoLabelIsTheMaskedCrossEntropyAgainstItsOwnArgmax() {
    double[] l = {0.1, 3.0, -1.0, 0.2, 0.1, 0.0};
    double want = -StrictMath.log(softmaxRow(l, 0, 3)[1]) / 2;   // row 1 is not confident at 0.8
    assertThat(SemiLosses.pseudoLabel(t(l, 2, 3), 0.8).item()).isCloseTo(want, within(1e-14));
    assertThat(SemiLosses.pseudoLabel(t(l, 2, 3), 1.0).item()).isEqualTo(0.0);
    // a NaN row is never confident
    assertThat(SemiLosses.pseudoLabels(t(new double[] {Double.NaN, 0, 0}, 1, 3), 0).confident()).containsExactly(
        false);
  }

  @Test
  void ntXentMatchesTheFormulaOverTheTwoNMinusOneOthers() {
    double[] z1 = {1, 0.5, -0.2, 0.3, 2.0, 1.0};
    double[] z2 = {0.8, 0.4, 0.1, -0.5, 1.5, 1.2};
    double tau = 0.5;
    int n = 3;
    double[][] z = new double[2 * n][];
    for (int i = 0; i < n; i++) {
      z[i] = new double[] {z1[2 * i], z1[2 * i + 1]};
      z[i + n] = new double[] {z2[2 * i], z2[2 * i + 1]};
    }
    for (double[] v : z) {
      double norm = Math.sqrt(v[0] * v[0] + v[1] * v[1]);
      v[0] /= norm;
      v[1] /= norm;
    }
    double want = 0;
    for (int i = 0; i < 2 * n; i++) {
      int pos = (i + n) % (2 * n);
      double denom = 0;
      for (int k = 0; k < 2 * n; k++) {
        if (k != i) {
          denom += StrictMath.exp((z[i][0] * z[k][0] + z[i][1] * z[k][1]) / tau);
        }
      }
      want += -StrictMath.log(StrictMath.exp((z[i][0] * z[pos][0] + z[i][1] * z[pos][1]) / tau) / denom);
    }
    want /= 2 * n;
    // 1e-10: the normalisation adds 1e-12 to each norm
    assertThat(SemiLosses.ntXent(t(z1, 3, 2), t(z2, 3, 2), tau).item()).isCloseTo(want, within(1e-10));
    assertThatThrownBy(() -> SemiLosses.ntXent(t(z1, 3, 2), t(z2, 3, 2), 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("temperature");
    assertThatThrownBy(() -> SemiLosses.ntXent(t(z1, 3, 2), t(z1, 2, 3), 0.5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("differ");
  }

  @Test
  void byolIsTwoMinusTwoCosine() {
    double[] p = {1, 0, 3, 4};
    double[] z = {0, 2, 3, 4};
    // row 0: cos 0 -> 2; row 1: cos 1 -> 0
    assertThat(SemiLosses.byol(t(p, 2, 2), t(z, 2, 2)).item()).isCloseTo(1.0, within(1e-12));
  }

  @Test
  void lossesPassOrderOneAndTwoGradchecks() {
    Rng rng = new Rng(5);
    Tensor a = Tensor.randn(rng, DType.FLOAT64, 3, 4).requiresGrad(true);
    Tensor b = Tensor.randn(rng, DType.FLOAT64, 3, 4).requiresGrad(true);
    GradCheck.assertOrders12(in -> SemiLosses.consistency(in.get(0), in.get(1)), List.of(a, b));
    GradCheck.assertOrders12(in -> SemiLosses.kl(in.get(0), in.get(1)), List.of(a, b));
    GradCheck.assertOrders12(in -> SemiLosses.ntXent(in.get(0), in.get(1), 0.7), List.of(a, b));
    GradCheck.assertOrders12(in -> SemiLosses.byol(in.get(0), in.get(1)), List.of(a, b));
  }

  @Test
  void rampUpAndBadArguments() {
    assertThat(SemiLosses.rampUp(0, 10)).isCloseTo(StrictMath.exp(-5), within(1e-15));
    assertThat(SemiLosses.rampUp(5, 10)).isCloseTo(StrictMath.exp(-1.25), within(1e-15));
    assertThat(SemiLosses.rampUp(20, 10)).isEqualTo(1.0);
    assertThat(SemiLosses.rampUp(3, 0)).isEqualTo(1.0);
    assertThatThrownBy(() -> SemiLosses.consistency(t(A, 6), t(B, 6))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[N, K]");
    assertThatThrownBy(() -> SemiLosses.pseudoLabel(t(A, 2, 3), 1.5)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("threshold");
  }
}
