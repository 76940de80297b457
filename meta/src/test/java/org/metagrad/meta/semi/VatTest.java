package org.metagrad.meta.semi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.GradCheck;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * VAT's adversarial direction in float64 on a small smooth network {@code f(x) = W2 tanh(W1 x + b1)}: the
 * double-backward Hessian-vector product against finite differences of the first gradient and of the
 * divergence itself, order-1 and order-2 gradchecks of the divergence, and the power iteration against the
 * dominant eigenvector of the Hessian built column by column.
 */
class VatTest {
  private static final int IN = 5;
  private static final Rng RNG = new Rng(17);
  private static final Tensor W1 = Tensor.randn(RNG, DType.FLOAT64, 7, IN);
  private static final Tensor B1 = Tensor.randn(RNG, DType.FLOAT64, 7);
  private static final Tensor W2 = Tensor.randn(RNG, DType.FLOAT64, 4, 7);
  private static final UnaryOperator<Tensor> F = x -> x.matmul(W1.mT()).add(B1).tanh().matmul(W2.mT());
  private static final Tensor X = Tensor.randn(new Rng(3), DType.FLOAT64, 1, IN);
  private static final Tensor CLEAN = F.apply(X);

  private static double kl(Tensor r) {
    return SemiLosses.kl(CLEAN, F.apply(X.add(r))).item();
  }

  private static Tensor unit(int i) {
    double[] v = new double[IN];
    v[i] = 1;
    return Tensor.of(v, DType.FLOAT64, 1, IN);
  }

  @Test
  void hessianVectorProductByDoubleBackwardMatchesFiniteDifferences() {
    Tensor v = Tensor.randn(new Rng(8), DType.FLOAT64, 1, IN);
    double[] hv = SemiLosses.hessianVector(F, X, CLEAN, v).toDoubleArray();
    double h = 1e-5;
    double[] plus = SemiLosses.divergenceGradient(F, X, CLEAN, v.mul(h)).toDoubleArray();
    double[] minus = SemiLosses.divergenceGradient(F, X, CLEAN, v.mul(-h)).toDoubleArray();
    double norm = 0;
    for (double x : hv) {
      norm = Math.max(norm, Math.abs(x));
    }
    assertThat(norm).isGreaterThan(1e-3);   // not trivially zero
    for (int i = 0; i < IN; i++) {
      assertThat(hv[i]).as("(Hv)_%d", i).isCloseTo((plus[i] - minus[i]) / (2 * h), within(1e-8 * Math.max(1, norm)));
    }
    // fully numeric: v^T H v from second differences of the divergence (which is 0 with zero gradient at r = 0)
    double vhv = 0;
    double[] vv = v.toDoubleArray();
    for (int i = 0; i < IN; i++) {
      vhv += vv[i] * hv[i];
    }
    double e = 1e-4;
    double second = (kl(v.mul(e)) + kl(v.mul(-e)) - 2 * kl(v.mul(0))) / (e * e);
    assertThat(vhv).isCloseTo(second, within(1e-5 * Math.max(1, Math.abs(vhv))));
    assertThat(kl(v.mul(0))).isCloseTo(0, within(1e-15));
  }

  @Test
  void divergenceOfThePerturbationPassesOrderOneAndTwoGradchecks() {
    Tensor r = Tensor.randn(new Rng(4), DType.FLOAT64, 1, IN).mul(0.3).requiresGrad(true);
    GradCheck.assertOrders12(in -> SemiLosses.kl(CLEAN, F.apply(X.add(in.get(0)))), List.of(r));
  }

  @Test
  void powerIterationFindsTheDominantEigenvectorAndTheFiniteDifferenceTrickAgrees() {
    // H column by column (double backward), then plain power iteration in Java
    double[][] hm = new double[IN][];
    for (int i = 0; i < IN; i++) {
      hm[i] = SemiLosses.hessianVector(F, X, CLEAN, unit(i)).toDoubleArray();
    }
    for (int i = 0; i < IN; i++) {
      for (int j = 0; j < IN; j++) {
        assertThat(hm[i][j]).as("symmetry").isCloseTo(hm[j][i], within(1e-12));
      }
    }
    double[] u = new double[IN];
    java.util.Arrays.fill(u, 1);
    for (int it = 0; it < 500; it++) {
      double[] w = new double[IN];
      double n = 0;
      for (int i = 0; i < IN; i++) {
        for (int j = 0; j < IN; j++) {
          w[i] += hm[i][j] * u[j];
        }
        n += w[i] * w[i];
      }
      n = Math.sqrt(n);
      for (int i = 0; i < IN; i++) {
        u[i] = w[i] / n;
      }
    }
    double eps = 2.5;
    for (SemiLosses.Direction dir : SemiLosses.Direction.values()) {
      Tensor r = SemiLosses.vatPerturbation(F, X, CLEAN, 1e-6, eps, 60, dir, new Rng(1));
      double[] rv = r.toDoubleArray();
      double norm = 0;
      double dot = 0;
      for (int i = 0; i < IN; i++) {
        norm += rv[i] * rv[i];
        dot += rv[i] * u[i];
      }
      assertThat(Math.sqrt(norm)).as("%s norm", dir).isCloseTo(eps, within(1e-9));
      assertThat(Math.abs(dot) / eps).as("%s |cos| with the dominant eigenvector", dir).isGreaterThan(0.999);
      assertThat(r.requiresGrad()).isFalse();
    }
    // the adversarial direction increases the divergence more than a random one of the same norm
    Tensor adv = SemiLosses.vatPerturbation(F, X, CLEAN, 1e-6, 0.5, 1, SemiLosses.Direction.HESSIAN, new Rng(2));
    Tensor rnd = SemiLosses.normalise(Tensor.randn(new Rng(9), DType.FLOAT64, 1, IN)).mul(0.5);
    assertThat(kl(adv)).isGreaterThan(kl(rnd));
  }

  @Test
  void sameSeedSameBitsAndBadOptions() {
    Tensor x = Tensor.randn(new Rng(6), DType.FLOAT64, 3, IN);
    Tensor c = F.apply(x);
    double[] a = SemiLosses.vatPerturbation(F, x, c, 1e-3, 1, 2, SemiLosses.Direction.FINITE_DIFFERENCE,
        new Rng(5)).toDoubleArray();
    double[] b = SemiLosses.vatPerturbation(F, x, c, 1e-3, 1, 2, SemiLosses.Direction.FINITE_DIFFERENCE,
        new Rng(5)).toDoubleArray();
    assertThat(a).containsExactly(b);
    // per-example norms are eps
    for (int n = 0; n < 3; n++) {
      double s = 0;
      for (int i = 0; i < IN; i++) {
        s += a[n * IN + i] * a[n * IN + i];
      }
      assertThat(Math.sqrt(s)).isCloseTo(1.0, within(1e-9));
    }
    assertThatThrownBy(() -> SemiLosses.vatPerturbation(F, x, c, 0, 1, 1, SemiLosses.Direction.HESSIAN, new Rng(1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("xi");
    assertThatThrownBy(() -> SemiLosses.vatPerturbation(F, x, c, 1e-3, 1, 0, SemiLosses.Direction.HESSIAN,
        new Rng(1))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("iterations");
  }
}
