package org.metagrad.meta.l2l;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.GradCheck;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.Order;
import org.metagrad.nn.Params;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.OptimizerState;

/** The learned optimizer (Andrychowicz et al. 2016): meta-gradients through an unroll against finite differences. */
class LstmOptimizerTest {
  private static final DType D = DType.FLOAT64;

  /** A small optimizer with a large output scale so that a 3-step unroll moves theta noticeably. */
  private final LstmOptimizer opt = new LstmOptimizer(3, 0.5);

  private static Params params(List<String> names, List<Tensor> xs) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      m.put(names.get(i), xs.get(i));
    }
    return Params.of(m);
  }

  private Tensor unrolled(Optimizee f, Params phi, Order order, LstmOptimizer.GradientOverride o) {
    Tensor t0 = f.initialParams();
    return opt.unroll(phi, f, t0, opt.zeroState(t0), 0, 3, order, o).objective();
  }

  @Test
  void secondOrderMetaGradientPassesGradcheckAtOrdersOneAndTwo() {
    QuadraticFunctions f = QuadraticFunctions.sample(new Rng(1), 2, 3, D);
    Params phi = opt.init(new Rng(2), D);
    List<String> names = phi.names();
    Function<List<Tensor>, Tensor> fn = xs -> unrolled(f, params(names, xs), Order.SECOND, null);
    GradCheck.Report r1 = GradCheck.check(fn, phi.values(), 1);
    assertThat(r1.passed()).as(r1.toString()).isTrue();
    assertThat(r1.elementsChecked()).isEqualTo((int) phi.numel());
    GradCheck.Report r2 = GradCheck.check(fn, phi.values(), 2);
    assertThat(r2.passed()).as(r2.toString()).isTrue();
  }

  /**
   * The paper's meta-gradient (no second derivatives of f) is the exact gradient of the unrolled loss with the
   * optimizee's gradients held at their recorded values; and it differs from the full one.
   */
  @Test
  void firstOrderIsTheExactGradientWithTheOptimizeeGradientsHeldConstant() {
    QuadraticFunctions f = QuadraticFunctions.sample(new Rng(3), 2, 3, D);
    Params phi = opt.init(new Rng(4), D).requiresGrad(true);
    List<String> names = phi.names();
    List<Tensor> recorded = new ArrayList<>();
    double base = unrolled(f, phi, Order.FIRST, (t, g) -> {
      recorded.add(g.detach());
      return g;
    }).item();
    assertThat(recorded).hasSize(3);
    LstmOptimizer.GradientOverride frozen = (t, g) -> recorded.get(t);
    Function<List<Tensor>, Tensor> fn = xs -> unrolled(f, params(names, xs), Order.FIRST, frozen);
    assertThat(fn.apply(phi.values()).item()).isEqualTo(base);
    // Tight tolerances (float64 central differences are good to about 1e-9 here), the same for the check that
    // must fail below.
    GradCheck.Options tight = GradCheck.Options.order(1).tolerances(1e-8, 1e-6);
    GradCheck.Report r1 = GradCheck.check(fn, phi.values(), tight);
    assertThat(r1.passed()).as(r1.toString()).isTrue();
    GradCheck.Report r2 = GradCheck.check(fn, phi.values(), 2);
    assertThat(r2.passed()).as(r2.toString()).isTrue();

    List<Tensor> g1 = Autograd.grad(unrolled(f, phi, Order.FIRST, null), phi.values());
    List<Tensor> gf = Autograd.grad(fn.apply(phi.values()), phi.values());
    List<Tensor> g2 = Autograd.grad(unrolled(f, phi, Order.SECOND, null), phi.values());
    double same = 0;
    double diff = 0;
    for (int i = 0; i < g1.size(); i++) {
      same = Math.max(same, maxAbsDiff(g1.get(i), gf.get(i)));
      diff = Math.max(diff, maxAbsDiff(g1.get(i), g2.get(i)));
    }
    assertThat(same).isLessThan(1e-12);
    System.out.printf(java.util.Locale.ROOT, "learned optimizer, 3-step unroll: first- vs second-order meta-gradient"
        + " differ by up to %.3e%n", diff);
    assertThat(diff).isGreaterThan(1e-6);
    // The first-order gradient fails the finite-difference check of the true unrolled loss.
    Function<List<Tensor>, Tensor> truth = xs -> unrolled(f, params(names, xs), Order.FIRST, null);
    GradCheck.Report rt = GradCheck.check(truth, phi.values(), tight);
    assertThat(rt.passed()).as(rt.toString()).isFalse();
  }

  @Test
  void quadraticLossesAreTheSquaredResiduals() {
    QuadraticFunctions f = QuadraticFunctions.sample(new Rng(5), 3, 4, D);
    Tensor th = Tensor.randn(new Rng(6), D, 12);
    double[] l = f.losses(th, 0).toDoubleArray();
    assertThat(l).hasSize(3);
    // Moving one function's coordinates changes only that function's loss.
    double[] shifted = th.toDoubleArray();
    shifted[5] += 1;
    double[] l2 = f.losses(Tensor.of(shifted, D, 12), 0).toDoubleArray();
    assertThat(l2[0]).isEqualTo(l[0]);
    assertThat(l2[2]).isEqualTo(l[2]);
    assertThat(l2[1]).isNotEqualTo(l[1]);
    assertThatThrownBy(() -> f.losses(Tensor.zeros(D, 5), 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[12]");
  }

  @Test
  void handOptimizersFollowTheirFormulas() {
    QuadraticFunctions f = QuadraticFunctions.sample(new Rng(7), 1, 2, D);
    Tensor t0 = f.initialParams();
    Tensor leaf = t0.detach().requiresGrad(true);
    Tensor g = Autograd.grad(f.losses(leaf, 0).sum(), List.of(leaf)).get(0);
    double lr = 0.01;
    // SGD: theta - lr g; Adam's first step: theta - lr g / (|g| + 1e-8); RMSprop's: theta - lr g / (0.1 |g| + 1e-8).
    double[] th = t0.toDoubleArray();
    double[] gg = g.toDoubleArray();
    double[] sgd = new double[2];
    double[] adam = new double[2];
    double[] rms = new double[2];
    for (int i = 0; i < 2; i++) {
      sgd[i] = th[i] - lr * gg[i];
      adam[i] = th[i] - lr * gg[i] / (Math.abs(gg[i]) + 1e-8);
      rms[i] = th[i] - lr * gg[i] / (Math.sqrt(0.01 * gg[i] * gg[i]) + 1e-8);
    }
    assertThat(HandOptimizer.SGD.trajectory(f, lr, 1)[1][0]).isCloseTo(f.losses(Tensor.of(sgd, D, 2), 0).item(),
        org.assertj.core.data.Offset.offset(1e-12));
    assertThat(HandOptimizer.ADAM.trajectory(f, lr, 1)[1][0]).isCloseTo(f.losses(Tensor.of(adam, D, 2), 0).item(),
        org.assertj.core.data.Offset.offset(1e-12));
    assertThat(HandOptimizer.RMSPROP.trajectory(f, lr, 1)[1][0]).isCloseTo(f.losses(Tensor.of(rms, D, 2), 0).item(),
        org.assertj.core.data.Offset.offset(1e-12));
    assertThat(HandOptimizer.SGD.trajectory(f, lr, 0)).hasDimensions(1, 1);
    assertThatThrownBy(() -> HandOptimizer.ADAM.trajectory(f, -1, 3)).isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * Meta-training on random 10-d quadratics (truncated BPTT, 2 segments of 10 steps) makes the optimizer better
   * on held-out quadratics than it was untrained: the mean loss after 20 steps drops by at least half.
   */
  @Test
  void metaTrainingOnQuadraticsHelpsOnHeldOutFunctions() {
    LstmOptimizer o = new LstmOptimizer(10, 0.1);
    Params phi = o.init(new Rng(8), D);
    QuadraticFunctions held = QuadraticFunctions.sample(new Rng(9), 32, 10, D);
    double before = mean(o.trajectory(phi, held, 20)[20]);
    Adam adam = Adam.of(0.01);
    OptimizerState st = adam.init(phi);
    Rng rng = new Rng(10);
    for (int it = 0; it < 25; it++) {
      LstmOptimizer.IterationResult r = o.trainIteration(phi, adam, st, QuadraticFunctions.sample(rng, 16, 10, D), 20,
          10, Order.FIRST, 1.0);
      phi = r.phi();
      st = r.adam();
      assertThat(r.meanLoss()).isFinite();
    }
    double after = mean(o.trajectory(phi, held, 20)[20]);
    System.out.printf(java.util.Locale.ROOT, "learned optimizer, 10-d quadratics: held-out loss after 20 steps %.3f"
        + " untrained, %.3f after 25 meta-iterations%n", before, after);
    assertThat(after).isLessThan(0.5 * before);
  }

  @Test
  void badSettingsAreRejectedClearly() {
    assertThatThrownBy(() -> new LstmOptimizer(0, 0.1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hidden");
    assertThatThrownBy(() -> new LstmOptimizer(5, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("scale");
    QuadraticFunctions f = QuadraticFunctions.sample(new Rng(1), 1, 2, D);
    Params phi = opt.init(new Rng(1), D);
    assertThatThrownBy(() -> opt.unroll(phi, f, f.initialParams(), opt.zeroState(f.initialParams()), 0, 0,
        Order.FIRST)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("step");
    assertThatThrownBy(() -> QuadraticFunctions.sample(new Rng(1), 0, 2, D))
        .isInstanceOf(IllegalArgumentException.class);
  }

  static double mean(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return s / v.length;
  }

  static double maxAbsDiff(Tensor a, Tensor b) {
    double[] x = a.toDoubleArray();
    double[] y = b.toDoubleArray();
    double m = 0;
    for (int i = 0; i < x.length; i++) {
      m = Math.max(m, Math.abs(x[i] - y[i]));
    }
    return m;
  }
}
