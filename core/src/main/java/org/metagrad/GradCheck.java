package org.metagrad;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Checks analytic gradients of a user function against central finite differences in FLOAT64, at order
 * 1 (like PyTorch's {@code gradcheck}) and order 2 (like {@code gradgradcheck} / JAX's
 * {@code check_grads(order=2)}).
 *
 * <p>For a function {@code f(x_1..x_k)} with any output shape, a fixed random cotangent {@code u}
 * reduces it to the scalar {@code s = <u, f>}; order 1 compares {@code ds/dx} with
 * {@code (s(x + eps e_j) - s(x - eps e_j)) / 2 eps} for every input element j. Order 2 does the same
 * for {@code s2 = sum_i <v_i, ds/dx_i>} with random {@code v_i}, whose gradient is a Hessian-vector
 * product, so every second derivative that reaches the inputs is exercised.
 *
 * <p>A check never passes vacuously or at a point where finite differences mean nothing: zero elements in
 * all the inputs together is an IllegalArgumentException (a caller's mistake, like a FLOAT32 input), and a
 * non-finite input element, function value, analytic or numeric derivative fails the check with a
 * {@link Report#problem()} naming the input (or output) and the element.
 *
 * <pre>{@code
 * GradCheck.Report r = GradCheck.check(xs -> xs.get(0).tanh().sum(), List.of(x), GradCheck.Options.order(2));
 * if (!r.passed()) throw new AssertionError(r);
 * }</pre>
 */
public final class GradCheck {
  private GradCheck() {}

  /**
   * Step and tolerances: an element passes when {@code |analytic - numeric| <= atol + rtol*|numeric|}.
   *
   * @param order 1 or 2
   */
  public record Options(int order, double eps, double atol, double rtol, long seed) {
    /** Validates. */
    public Options {
      if (order != 1 && order != 2) {
        throw new IllegalArgumentException("GradCheck: order must be 1 or 2, got " + order);
      }
      if (!(eps > 0) || atol < 0 || rtol < 0) {
        throw new IllegalArgumentException("GradCheck: eps must be > 0 and tolerances >= 0");
      }
    }

    /** PyTorch's defaults (eps 1e-6, atol 1e-5, rtol 1e-3) at the given order. */
    public static Options order(int order) {
      return new Options(order, 1e-6, 1e-5, 1e-3, 1234);
    }

    /** A copy with other tolerances. */
    public Options tolerances(double atol, double rtol) {
      return new Options(order, eps, atol, rtol, seed);
    }

    /** A copy with another finite-difference step. */
    public Options eps(double e) {
      return new Options(order, e, atol, rtol, seed);
    }
  }

  /**
   * The outcome: whether every element passed, the worst element (input, index, analytic, numeric), the
   * worst relative error per input, and the first non-finite value met ({@code problem}: which input or
   * output element and what it was, or empty; a report with a problem has not passed).
   */
  public record Report(boolean passed, int order, int worstInput, int[] worstIndex, double analytic,
                       double numeric, double worstRelError, double[] relErrorPerInput, int elementsChecked,
                       String problem) {
    @Override
    public String toString() {
      if (!problem.isEmpty() && elementsChecked == 0) {
        return "FAILED order-" + order + " gradcheck: " + problem + " (no element compared)";
      }
      return (passed ? "passed" : "FAILED") + " order-" + order + " gradcheck"
          + (problem.isEmpty() ? "" : ": " + problem + ";") + " over " + elementsChecked
          + " elements; worst: input " + worstInput + " index " + Arrays.toString(worstIndex) + " analytic "
          + analytic + " numeric " + numeric + " (relative error " + worstRelError + "); per input "
          + Arrays.toString(relErrorPerInput);
    }
  }

  /** Checks with PyTorch's default tolerances at the given order. */
  public static Report check(Function<List<Tensor>, Tensor> f, List<Tensor> inputs, int order) {
    return check(f, inputs, Options.order(order));
  }

  /** Throws an AssertionError carrying the report when orders 1 and 2 do not both pass. */
  public static void assertOrders12(Function<List<Tensor>, Tensor> f, List<Tensor> inputs) {
    for (int order = 1; order <= 2; order++) {
      Report r = check(f, inputs, order);
      if (!r.passed()) {
        throw new AssertionError(r.toString());
      }
    }
  }

  /**
   * Compares analytic and numeric gradients of {@code f} at {@code inputs} (all FLOAT64).
   *
   * @throws IllegalArgumentException if an input is not FLOAT64, f's output is not FLOAT64, or the inputs hold
   *     no element at all (nothing to check)
   */
  public static Report check(Function<List<Tensor>, Tensor> f, List<Tensor> inputs, Options opt) {
    List<Tensor> xs = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      Tensor t = inputs.get(i);
      if (t.dtype() != DType.FLOAT64) {
        throw new IllegalArgumentException("GradCheck: input " + i + " is " + t.dtype()
            + "; finite differences need FLOAT64 (use t.to(DType.FLOAT64))");
      }
      xs.add(t.detach().requiresGrad(true));
    }
    long total = 0;
    List<String> shapes = new ArrayList<>();
    for (Tensor x : xs) {
      total += x.numel();
      shapes.add(Arrays.toString(x.shape()));
    }
    if (total == 0) {
      throw new IllegalArgumentException("GradCheck: nothing to check: the " + xs.size() + " inputs " + shapes
          + " hold no element (a check over zero elements would pass vacuously)");
    }
    double[] relPer = new double[xs.size()];
    for (int i = 0; i < xs.size(); i++) {
      double[] v = xs.get(i).toDoubleArray();
      int j = firstNonFinite(v);
      if (j >= 0) {
        int[] idx = unravel(j, xs.get(i).shape());
        return failed(opt, i, idx, relPer, "input " + i + " element " + Arrays.toString(idx) + " is " + v[j]
            + " (finite differences need a finite point)");
      }
    }
    Rng rng = new Rng(opt.seed());
    // Not under noGrad: the user's function may itself take gradients (a MAML inner loop).
    Tensor out0 = f.apply(xs);
    if (out0.dtype() != DType.FLOAT64) {
      throw new IllegalArgumentException("GradCheck: function output is " + out0.dtype() + ", expected FLOAT64");
    }
    double[] values = out0.toDoubleArray();
    int bad = firstNonFinite(values);
    if (bad >= 0) {
      return failed(opt, -1, new int[0], relPer, "function value element " + Arrays.toString(unravel(bad, out0.shape()))
          + " of output " + Arrays.toString(out0.shape()) + " is " + values[bad]);
    }
    Tensor u = Tensor.randn(rng, DType.FLOAT64, out0.shape()).to(out0.device());
    List<Tensor> vs = new ArrayList<>();
    for (Tensor x : xs) {
      vs.add(Tensor.randn(rng, DType.FLOAT64, x.shape()).to(x.device()));
    }
    Function<List<Tensor>, Tensor> s1 = a -> f.apply(a).mul(u).sum();
    Function<List<Tensor>, Tensor> scalar = opt.order() == 1 ? s1 : a -> {
      List<Tensor> g = Autograd.grad(s1.apply(a), a, GradOptions.createGraph(true).allowUnused(true));
      Tensor acc = null;
      for (int i = 0; i < a.size(); i++) {
        Tensor term = g.get(i).mul(vs.get(i)).sum();
        acc = acc == null ? term : acc.add(term);
      }
      return acc;
    };

    Tensor s0 = scalar.apply(xs);
    if (!Double.isFinite(s0.item())) {
      // f's values are finite: at order 1 <u, f> overflowed; at order 2 a first derivative is not finite.
      return failed(opt, -1, new int[0], relPer, "the checked scalar (" + (opt.order() == 1 ? "<u, f>"
          : "sum_i <v_i, d<u, f>/dx_i>, from the first derivatives") + ") is " + s0.item());
    }
    List<Tensor> analytic = Autograd.grad(s0, xs, GradOptions.defaults().allowUnused(true));
    List<double[]> an0 = new ArrayList<>();
    String problem = "";
    for (int i = 0; i < xs.size(); i++) {
      double[] an = analytic.get(i).toDoubleArray();
      an0.add(an);
      int j = firstNonFinite(an);
      if (j >= 0 && problem.isEmpty()) {
        problem = "analytic derivative of input " + i + " element " + Arrays.toString(unravel(j, xs.get(i).shape()))
            + " is " + an[j];
      }
    }

    double worstScore = -1;
    int worstInput = -1;
    int[] worstIndex = new int[0];
    double wa = 0;
    double wn = 0;
    double worstRel = 0;
    boolean passed = problem.isEmpty();
    int checked = 0;
    for (int i = 0; i < xs.size(); i++) {
      double[] base = xs.get(i).toDoubleArray();
      double[] an = an0.get(i);
      int[] shape = xs.get(i).shape();
      Device dev = xs.get(i).device();
      for (int j = 0; j < base.length; j++) {
        double orig = base[j];
        base[j] = orig + opt.eps();
        double plus = evalWith(scalar, xs, i, base, shape, dev);
        base[j] = orig - opt.eps();
        double minus = evalWith(scalar, xs, i, base, shape, dev);
        base[j] = orig;
        double num = (plus - minus) / (2 * opt.eps());
        if (!Double.isFinite(num) && problem.isEmpty()) {
          problem = "numeric derivative of input " + i + " element " + Arrays.toString(unravel(j, shape)) + " is "
              + num + " (f(x + eps) = " + plus + ", f(x - eps) = " + minus + ")";
          passed = false;
        }
        double err = Math.abs(an[j] - num);
        double tol = opt.atol() + opt.rtol() * Math.abs(num);
        double rel = err / Math.max(Math.abs(num), 1e-12);
        relPer[i] = Math.max(relPer[i], err == 0 ? 0 : rel);
        checked++;
        if (!(err <= tol)) {
          passed = false;
        }
        double score = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err / tol;
        if (score > worstScore) {
          worstScore = score;
          worstInput = i;
          worstIndex = unravel(j, shape);
          wa = an[j];
          wn = num;
          worstRel = err == 0 ? 0 : rel;
        }
      }
    }
    return new Report(passed, opt.order(), worstInput, worstIndex, wa, wn, worstRel, relPer, checked, problem);
  }

  /** A failed report for a non-finite value met before any comparison. */
  private static Report failed(Options opt, int input, int[] index, double[] relPer, String problem) {
    return new Report(false, opt.order(), input, index, Double.NaN, Double.NaN, Double.POSITIVE_INFINITY, relPer, 0,
        problem);
  }

  /** The index of the first NaN or infinite value, or -1. */
  private static int firstNonFinite(double[] v) {
    for (int i = 0; i < v.length; i++) {
      if (!Double.isFinite(v[i])) {
        return i;
      }
    }
    return -1;
  }

  private static double evalWith(Function<List<Tensor>, Tensor> scalar, List<Tensor> xs, int i, double[] values,
                                 int[] shape, Device dev) {
    List<Tensor> a = new ArrayList<>(xs);
    a.set(i, Tensor.of(values, DType.FLOAT64, shape).to(dev).requiresGrad(true));
    for (int k = 0; k < a.size(); k++) {
      if (k != i) {
        a.set(k, xs.get(k).detach().requiresGrad(true));
      }
    }
    // The order-2 scalar needs a recorded first gradient; only order 1 can run fully without a graph.
    return scalar.apply(a).item();
  }

  private static int[] unravel(int flat, int[] shape) {
    int[] idx = new int[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      idx[d] = shape[d] == 0 ? 0 : flat % shape[d];
      flat = shape[d] == 0 ? 0 : flat / shape[d];
    }
    return idx;
  }
}
