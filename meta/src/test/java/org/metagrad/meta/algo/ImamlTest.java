package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.RegressionTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/**
 * iMAML: the Hessian-vector products against finite differences of gradients, the implicit meta-gradient
 * against the closed-form derivative of the proximal solution of a linear-regression inner problem and
 * against finite differences of the converged query loss (FLOAT64), and conjugate-gradient convergence.
 */
class ImamlTest {
  private static final DType D = DType.FLOAT64;

  /** {@code y = x w} with {@code w [d, 1]} (name "w"): the inner problem is a ridge regression towards theta. */
  record Linear(int d) implements Module {
    @Override
    public Params init(Rng rng, DType dtype) {
      return Params.of("w", Tensor.randn(rng, dtype, d, 1).mul(0.5));
    }

    @Override
    public Tensor apply(Params p, Tensor x, Mode mode) {
      return x.matmul(p.get("w"));
    }
  }

  private static RegressionTask regression(long seed, int d, int n, int m) {
    Rng r = new Rng(seed);
    return new RegressionTask(Tensor.randn(r, D, n, d), Tensor.randn(r, D, n, 1), Tensor.randn(r, D, m, d),
        Tensor.randn(r, D, m, 1));
  }

  // ---- small dense linear algebra for the closed forms ----

  private static double[][] mat(Tensor t) {
    int r = t.size(0);
    int c = t.size(1);
    double[] v = t.toDoubleArray();
    double[][] a = new double[r][c];
    for (int i = 0; i < r; i++) {
      System.arraycopy(v, i * c, a[i], 0, c);
    }
    return a;
  }

  /** {@code (2/n) X^T X}. */
  private static double[][] gram(double[][] x) {
    int n = x.length;
    int d = x[0].length;
    double[][] h = new double[d][d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        for (int k = 0; k < n; k++) {
          h[i][j] += 2.0 / n * x[k][i] * x[k][j];
        }
      }
    }
    return h;
  }

  /** {@code (2/n) X^T (X w - y)}. */
  private static double[] mseGrad(double[][] x, double[] y, double[] w) {
    int d = w.length;
    double[] g = new double[d];
    for (int k = 0; k < x.length; k++) {
      double res = -y[k];
      for (int j = 0; j < d; j++) {
        res += x[k][j] * w[j];
      }
      for (int j = 0; j < d; j++) {
        g[j] += 2.0 / x.length * x[k][j] * res;
      }
    }
    return g;
  }

  /** Solves a x = b by Gaussian elimination with partial pivoting. */
  private static double[] solve(double[][] a0, double[] b0) {
    int n = b0.length;
    double[][] a = new double[n][];
    double[] b = b0.clone();
    for (int i = 0; i < n; i++) {
      a[i] = a0[i].clone();
    }
    for (int c = 0; c < n; c++) {
      int piv = c;
      for (int r = c + 1; r < n; r++) {
        if (Math.abs(a[r][c]) > Math.abs(a[piv][c])) {
          piv = r;
        }
      }
      double[] t = a[c];
      a[c] = a[piv];
      a[piv] = t;
      double tb = b[c];
      b[c] = b[piv];
      b[piv] = tb;
      for (int r = c + 1; r < n; r++) {
        double f = a[r][c] / a[c][c];
        for (int k = c; k < n; k++) {
          a[r][k] -= f * a[c][k];
        }
        b[r] -= f * b[c];
      }
    }
    double[] x = new double[n];
    for (int r = n - 1; r >= 0; r--) {
      double s = b[r];
      for (int k = r + 1; k < n; k++) {
        s -= a[r][k] * x[k];
      }
      x[r] = s / a[r][r];
    }
    return x;
  }

  private static double maxRelDiff(double[] a, double[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.max(Math.abs(a[i]), Math.abs(b[i])), 1e-12));
    }
    return m;
  }

  // ---- (a) Hessian-vector products ----

  @Test
  void hessianVectorProductsMatchFiniteDifferencesOfGradients() {
    Fixtures.TinyConv net = new Fixtures.TinyConv(3);
    Task t = Fixtures.clusterTask(new Rng(11), 3, 2, 2, new int[] {1, 4, 4}, D, 0.7);
    Imaml im = new Imaml(net, 1, 0.1, 2.0, 5, 0.0);
    Params phi = net.init(new Rng(12), D);
    Rng r = new Rng(13);
    List<Tensor> v = new ArrayList<>();
    for (Tensor p : phi.values()) {
      v.add(Tensor.randn(r, D, p.shape()));
    }
    List<Tensor> hv = im.supportHessian(phi, t).apply(v);
    double eps = 1e-5;
    List<Tensor> gp = supportGrad(net, t, shift(phi, v, eps));
    List<Tensor> gm = supportGrad(net, t, shift(phi, v, -eps));
    // An entry of H v that is exactly 0 (a parameter the support loss does not curve along) comes out of the
    // central difference as its rounding, about ulp(gradient) / eps = 1e-11, whose size depends on the kernels'
    // summation order (4e-12 on an AVX2 host, under 1e-12 on AVX-512): relative errors are taken against the largest
    // entry's 1e-4 at the least, far above that rounding and far below the entries that carry the product.
    double scale = 0;
    for (Tensor h : hv) {
      for (double x : h.toDoubleArray()) {
        scale = Math.max(scale, Math.abs(x));
      }
    }
    assertThat(scale).isGreaterThan(0.01);
    double worst = 0;
    for (int i = 0; i < v.size(); i++) {
      double[] a = hv.get(i).toDoubleArray();
      double[] p = gp.get(i).toDoubleArray();
      double[] m = gm.get(i).toDoubleArray();
      for (int j = 0; j < a.length; j++) {
        double fd = (p[j] - m[j]) / (2 * eps);
        double floor = Math.max(1e-4 * scale, 1e-6);
        worst = Math.max(worst, Math.abs(a[j] - fd) / Math.max(Math.max(Math.abs(a[j]), Math.abs(fd)), floor));
      }
    }
    assertThat(worst).as("worst relative error of H v against central differences of gradients").isLessThan(1e-6);
  }

  @Test
  void hessianOfLinearRegressionIsTheScaledGramMatrix() {
    RegressionTask t = regression(21, 4, 7, 5);
    Imaml im = new Imaml(new Linear(4), 1, 0.1, 1.0, 4, 0.0);
    double[][] h = gram(mat(t.supportX()));
    double[] v = {0.3, -1.2, 0.7, 2.0};
    List<Tensor> hv = im.supportHessian(new Linear(4).init(new Rng(1), D), t)
        .apply(List.of(Tensor.of(v, D, 4, 1)));
    double[] expect = new double[4];
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 4; j++) {
        expect[i] += h[i][j] * v[j];
      }
    }
    assertThat(maxRelDiff(hv.get(0).toDoubleArray(), expect)).isLessThan(1e-12);
  }

  private static Params shift(Params p, List<Tensor> v, double eps) {
    return p.zip(v, (a, b) -> a.add(b.mul(eps)));
  }

  private static List<Tensor> supportGrad(Module net, Task t, Params p) {
    Params leaves = p.detach().requiresGrad(true);
    return Autograd.grad(t.supportLoss(net.apply(leaves, t.supportX(), Mode.train())), leaves.values());
  }

  // ---- (b) the implicit meta-gradient where it is known ----

  /**
   * Ridge regression towards theta: {@code phi* = (H + lambda I)^{-1} (lambda theta + (2/n) X^T y)}, so
   * {@code d phi^* / d theta = lambda (H + lambda I)^{-1}} and the meta-gradient is
   * {@code lambda (H + lambda I)^{-1} grad L_query(phi*)}. Solved to convergence, iMAML must give both.
   */
  @Test
  void implicitGradientEqualsTheClosedFormDerivativeOfTheProximalSolution() {
    int d = 4;
    RegressionTask t = regression(31, d, 6, 5);
    double lambda = 1.5;
    Linear model = new Linear(d);
    Params theta = model.init(new Rng(32), D);
    Imaml im = new Imaml(model, 400, 0.1, lambda, d, 0.0).withCgTolerance(0);
    Imaml.ImplicitGradient ig = im.implicitGradient(theta, t);

    double[][] xs = mat(t.supportX());
    double[] ys = t.supportY().toDoubleArray();
    double[][] a = gram(xs);
    for (int i = 0; i < d; i++) {
      a[i][i] += lambda;
    }
    double[] th = theta.get("w").toDoubleArray();
    double[] rhs = mseGrad(xs, ys, new double[d]);   // -(2/n) X^T y
    for (int i = 0; i < d; i++) {
      rhs[i] = lambda * th[i] - rhs[i];
    }
    double[] phiStar = solve(a, rhs);
    assertThat(maxRelDiff(ig.adapted().get("w").toDoubleArray(), phiStar)).as("inner solution").isLessThan(1e-12);

    double[] gq = mseGrad(mat(t.queryX()), t.queryY().toDoubleArray(), phiStar);
    double[] expect = solve(a, gq);
    for (int i = 0; i < d; i++) {
      expect[i] *= lambda;
    }
    assertThat(maxRelDiff(ig.gradient().get(0).toDoubleArray(), expect)).as("implicit meta-gradient")
        .isLessThan(1e-10);
    assertThat(ig.cg().steps()).isLessThanOrEqualTo(d);
    assertThat(ig.cg().residualNorm()).isLessThan(1e-10 * ig.cg().rhsNorm());

    // The surrogate's gradient is the implicit gradient, its value the query loss at phi.
    Params leaves = theta.requiresGrad(true);
    MetaStep s = im.metaLoss(leaves, t);
    List<Tensor> g = Autograd.grad(s.loss(), leaves.values());
    assertThat(maxRelDiff(g.get(0).toDoubleArray(), expect)).isLessThan(1e-10);
    assertThat(s.lossValue()).isEqualTo(ig.queryLoss().item());
  }

  @Test
  void dampingSolvesTheDampedSystem() {
    int d = 3;
    RegressionTask t = regression(41, d, 5, 4);
    double lambda = 0.7;
    double delta = 0.4;
    Linear model = new Linear(d);
    Imaml im = new Imaml(model, 300, 0.1, lambda, d, delta).withCgTolerance(0);
    Imaml.ImplicitGradient ig = im.implicitGradient(model.init(new Rng(42), D), t);
    double[][] a = gram(mat(t.supportX()));
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        a[i][j] /= lambda;
      }
      a[i][i] += 1 + delta / lambda;
    }
    double[] gq = mseGrad(mat(t.queryX()), t.queryY().toDoubleArray(), ig.adapted().get("w").toDoubleArray());
    assertThat(maxRelDiff(ig.gradient().get(0).toDoubleArray(), solve(a, gq))).isLessThan(1e-10);
  }

  @Test
  void convergedLinearRegressionPassesTheFiniteDifferenceMetaGradientCheck() {
    RegressionTask t = regression(51, 5, 8, 6);
    Linear model = new Linear(5);
    Imaml im = new Imaml(model, 500, 0.1, 2.0, 5, 0.0).withCgTolerance(0);
    MetaGradCheck.Report r = MetaGradCheck.verify(im, model.init(new Rng(52), D), t, MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isTrue();
  }

  /**
   * A nonlinear network (tanh MLP, cross-entropy) with a strongly regularised inner problem solved to
   * convergence: the implicit gradient is the derivative of {@code L_query(phi*(theta))}, checked by central
   * differences of the whole inner solve. With too few inner steps the same check fails (the implicit formula
   * holds only at the inner optimum), which shows the check can tell.
   *
   * <p>(The same check on the conv/BN/ReLU/max-pool fixture is not made: there gradient descent on the
   * regularised support loss does not settle; phi after n and n + 1 steps differs by an amount proportional to
   * the step size, 1e-3 at lr 0.01 and 2e-4 at 0.003, the behaviour of gradient descent around a kink of the
   * piecewise-linear ReLU/max-pool, where the implicit function theorem does not apply. The Hessian-vector
   * products through that network are checked above.)
   */
  @Test
  void nonlinearNetworkSolvedToConvergencePassesTheFiniteDifferenceCheckAndATruncatedSolveFails() {
    Fixtures.Mlp mlp = new Fixtures.Mlp(3, 4, 2);
    Task t = Fixtures.clusterTask(new Rng(61), 2, 2, 2, new int[] {3}, D, 0.5);
    Params theta = mlp.init(new Rng(62), D);
    int dim = (int) theta.numel();
    Imaml converged = new Imaml(mlp, 300, 0.2, 3.0, 2 * dim, 0.0).withCgTolerance(1e-13);
    MetaGradCheck.Report r = MetaGradCheck.verify(converged, theta, t, MetaGradCheck.Options.defaults());
    assertThat(r.passed()).as(r.toString()).isTrue();

    Imaml truncated = new Imaml(mlp, 2, 0.2, 3.0, 2 * dim, 0.0).withCgTolerance(1e-13);
    MetaGradCheck.Report bad = MetaGradCheck.verify(truncated, theta, t, MetaGradCheck.Options.defaults());
    assertThat(bad.passed()).as(bad.toString()).isFalse();
  }

  @Test
  void innerSolveKeepsNoGraphAndTheMetaGradientReachesEveryParameter() {
    Fixtures.Mlp mlp = new Fixtures.Mlp(3, 4, 2);
    Task t = Fixtures.clusterTask(new Rng(81), 2, 2, 2, new int[] {3}, D, 0.5);
    Params theta = mlp.init(new Rng(82), D).requiresGrad(true);
    Imaml im = new Imaml(mlp, 5, 0.2, 2.0, 5, 0.0);
    Params phi = im.innerSolve(theta, t, 5);
    for (Tensor p : phi.values()) {
      assertThat(p.requiresGrad()).isFalse();
    }
    List<Tensor> g = im.metaGradient(theta, t);
    for (Tensor gi : g) {
      assertThat(Fixtures.maxAbs(gi)).isGreaterThan(0);
    }
    // Zero inner steps: phi = theta.
    assertThat(Fixtures.maxAbsDiff(im.innerSolve(theta, t, 0).get("head.weight"), theta.get("head.weight")))
        .isEqualTo(0);
  }

  @Test
  void metaTrainingReducesTheQueryLossAndIsDeterministic() {
    Fixtures.Mlp mlp = new Fixtures.Mlp(3, 6, 3);
    List<Task> tasks = new ArrayList<>();
    Rng r = new Rng(91);
    for (int i = 0; i < 4; i++) {
      tasks.add(Fixtures.clusterTask(r, 3, 2, 3, new int[] {3}, D, 0.4));
    }
    Imaml im = new Imaml(mlp, 5, 0.3, 1.0, 5, 0.0);
    double[] a = Fixtures.trainLoss(im, mlp.init(new Rng(92), D), tasks, 30, 0.3);
    double[] b = Fixtures.trainLoss(im, mlp.init(new Rng(92), D), tasks, 30, 0.3);
    assertThat(a[1]).isLessThan(0.7 * a[0]);
    assertThat(b).containsExactly(a);
  }

  @Test
  void badOptionsAreRejected() {
    Linear m = new Linear(2);
    assertThatThrownBy(() -> new Imaml(m, 1, 0.1, 0.0, 5, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lambda");
    assertThatThrownBy(() -> new Imaml(m, 1, 0.1, Double.NaN, 5, 0)).hasMessageContaining("lambda");
    assertThatThrownBy(() -> new Imaml(m, 1, 0.1, 1, 0, 0)).hasMessageContaining("CG steps");
    assertThatThrownBy(() -> new Imaml(m, 1, 0.1, 1, 5, -1)).hasMessageContaining("damping");
    assertThatThrownBy(() -> new Imaml(m, -1, 0.1, 1, 5, 0)).hasMessageContaining("inner steps");
    assertThatThrownBy(() -> new Imaml(m, 1, -0.1, 1, 5, 0)).hasMessageContaining("learning rate");
    assertThatThrownBy(() -> new Imaml(m, 1, 0.1, 1, 5, 0).withCgTolerance(-1)).hasMessageContaining("tolerance");
    Params p = m.init(new Rng(1), D);
    assertThatThrownBy(() -> new Imaml(m, 1, 0.1, 1, 5, 0).metaLoss(p, regression(1, 2, 3, 3)))
        .hasMessageContaining("does not require grad");
  }

  // ---- (c) conjugate gradient ----

  private static ConjugateGradient.Operator matrix(double[][] a) {
    int n = a.length;
    return v -> {
      double[] x = v.get(0).toDoubleArray();
      double[] y = new double[n];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          y[i] += a[i][j] * x[j];
        }
      }
      return List.of(Tensor.of(y, D, n));
    };
  }

  private static double[][] randomSpd(long seed, int n, double shift) {
    Rng r = new Rng(seed);
    double[][] b = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        b[i][j] = r.nextGaussian();
      }
    }
    double[][] a = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        for (int k = 0; k < n; k++) {
          a[i][j] += b[k][i] * b[k][j];
        }
      }
      a[i][i] += shift;
    }
    return a;
  }

  @Test
  void conjugateGradientSolvesAnSpdSystemInAtMostDimSteps() {
    int n = 8;
    double[][] a = randomSpd(101, n, 0.5);
    double[] b = new double[n];
    Rng r = new Rng(102);
    for (int i = 0; i < n; i++) {
      b[i] = r.nextGaussian();
    }
    ConjugateGradient.Result res = ConjugateGradient.solve(matrix(a), List.of(Tensor.of(b, D, n)), 50, 1e-12);
    assertThat(res.steps()).isLessThanOrEqualTo(n + 2);
    assertThat(res.indefinite()).isFalse();
    assertThat(maxRelDiff(res.solution().get(0).toDoubleArray(), solve(a, b))).isLessThan(1e-8);
    assertThat(res.residualNorm()).isLessThanOrEqualTo(1e-12 * res.rhsNorm());
  }

  /** The A-norm of the error decreases monotonically with the step count (CG's optimality property). */
  @Test
  void conjugateGradientErrorDecreasesInTheANormWithEveryStep() {
    int n = 10;
    double[][] a = randomSpd(111, n, 0.1);
    double[] b = new double[n];
    Rng r = new Rng(112);
    for (int i = 0; i < n; i++) {
      b[i] = r.nextGaussian();
    }
    double[] exact = solve(a, b);
    double prev = Double.POSITIVE_INFINITY;
    for (int k = 1; k <= n; k++) {
      double[] x = ConjugateGradient.solve(matrix(a), List.of(Tensor.of(b, D, n)), k, 0).solution().get(0)
          .toDoubleArray();
      double[] e = new double[n];
      for (int i = 0; i < n; i++) {
        e[i] = x[i] - exact[i];
      }
      double anorm = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          anorm += e[i] * a[i][j] * e[j];
        }
      }
      assertThat(anorm).as("A-norm of the error after %d steps", k).isLessThan(prev);
      prev = anorm;
    }
    assertThat(prev).isLessThan(1e-16);
  }

  @Test
  void conjugateGradientOnTheImplicitSystemReachesTheTolerance() {
    Fixtures.TinyConv net = new Fixtures.TinyConv(3);
    Task t = Fixtures.clusterTask(new Rng(121), 3, 2, 2, new int[] {1, 4, 4}, D, 0.7);
    Imaml im = new Imaml(net, 10, 0.1, 2.0, 200, 0.0).withCgTolerance(1e-9);
    Imaml.ImplicitGradient ig = im.implicitGradient(net.init(new Rng(122), D), t);
    assertThat(ig.cg().indefinite()).isFalse();
    assertThat(ig.cg().residualNorm()).isLessThanOrEqualTo(1e-9 * ig.cg().rhsNorm());
    // True residual |b - A x| recomputed from the operator.
    Params phi = ig.adapted();
    List<Tensor> ax = im.implicitSystem(phi, t).apply(ig.gradient());
    Params leaves = phi.detach().requiresGrad(true);
    List<Tensor> bq = Autograd.grad(t.queryLoss(net.apply(leaves, t.queryX(), Mode.train())), leaves.values(),
        GradOptions.defaults().allowUnused(true));
    double res = 0;
    double bn = 0;
    for (int i = 0; i < ax.size(); i++) {
      double[] x = ax.get(i).toDoubleArray();
      double[] y = bq.get(i).toDoubleArray();
      for (int j = 0; j < x.length; j++) {
        res += (x[j] - y[j]) * (x[j] - y[j]);
        bn += y[j] * y[j];
      }
    }
    assertThat(Math.sqrt(res)).isLessThan(1e-8 * Math.sqrt(bn));
  }

  @Test
  void conjugateGradientFlagsIndefiniteOperatorsAndHandlesZeroRhs() {
    double[][] a = {{1, 0}, {0, -1}};
    ConjugateGradient.Result res = ConjugateGradient.solve(matrix(a), List.of(Tensor.of(new double[] {0, 1}, D, 2)),
        5, 0);
    assertThat(res.indefinite()).isTrue();
    ConjugateGradient.Result zero = ConjugateGradient.solve(matrix(a), List.of(Tensor.zeros(D, 2)), 5, 0);
    assertThat(zero.steps()).isZero();
    assertThat(Fixtures.maxAbs(zero.solution().get(0))).isZero();
    assertThatThrownBy(() -> ConjugateGradient.solve(matrix(a), List.of(Tensor.zeros(D, 2)), 0, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxSteps");
    assertThatThrownBy(() -> ConjugateGradient.solve(matrix(a), List.of(Tensor.zeros(D, 2)), 1, Double.NaN))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tolerance");
    assertThatThrownBy(() -> ConjugateGradient.solve(v -> List.of(Tensor.zeros(D, 3)),
        List.of(Tensor.of(new double[] {1, 1}, D, 2)), 1, 0)).hasMessageContaining("shape");
  }

  @Test
  void nonFiniteValuesPropagate() {
    double[][] a = {{1, 0}, {0, 1}};
    ConjugateGradient.Result res = ConjugateGradient.solve(matrix(a),
        List.of(Tensor.of(new double[] {Double.NaN, 1}, D, 2)), 3, 0);
    assertThat(Double.isNaN(res.solution().get(0).toDoubleArray()[0])).isTrue();
  }
}
