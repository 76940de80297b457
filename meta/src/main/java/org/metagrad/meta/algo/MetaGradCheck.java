package org.metagrad.meta.algo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.nn.Params;

/**
 * Verifies a meta-learner's meta-gradient against central finite differences of its meta-loss in FLOAT64:
 * for each checked element j of parameter tensor p, {@code (L(p + eps e_j) - L(p - eps e_j)) / 2 eps},
 * where L is the full post-adaptation query loss ({@link MetaLearner#metaLoss}, inner loop included).
 *
 * <p>An exact (second-order) meta-gradient passes; a first-order approximation or a silently detached
 * graph does not. Error per element: {@code |analytic - numeric| / max(|analytic|, |numeric|, floor)}.
 *
 * <p>It never passes vacuously or at a non-finite point: parameters with no element at all are an
 * IllegalArgumentException, and a non-finite parameter, meta-loss, meta-gradient element (every element, not
 * only the checked subset) or finite difference fails the check with a {@link Report#problem()} naming the
 * tensor and element.
 *
 * <pre>{@code
 * MetaGradCheck.Report r = MetaGradCheck.verify(maml, params64, task64, MetaGradCheck.Options.defaults());
 * if (!r.passed()) throw new AssertionError(r);
 * }</pre>
 */
public final class MetaGradCheck {
  private MetaGradCheck() {}

  /**
   * Step, tolerance and sampling.
   *
   * @param eps finite-difference step
   * @param tolerance largest relative error that passes
   * @param floor denominator floor of the relative error (absolute scale below which errors count as small)
   * @param maxElementsPerTensor elements checked per tensor (a seeded random subset when larger)
   * @param seed seed of the subset
   */
  public record Options(double eps, double tolerance, double floor, int maxElementsPerTensor, long seed) {
    /** Validates. */
    public Options {
      if (!(eps > 0) || !(tolerance > 0) || !(floor > 0) || maxElementsPerTensor < 1) {
        throw new IllegalArgumentException("MetaGradCheck: eps, tolerance, floor must be > 0 and "
            + "maxElementsPerTensor >= 1");
      }
    }

    /**
     * eps 1e-6, tolerance 1e-5, floor 1e-4 (central differences in FLOAT64 carry about 1e-10 of rounding
     * noise, which a smaller floor would turn into false failures on near-zero gradients), up to 1000
     * elements per tensor.
     */
    public static Options defaults() {
      return new Options(1e-6, 1e-5, 1e-4, 1000, 7);
    }

    /** A copy with another tolerance. */
    public Options tolerance(double t) {
      return new Options(eps, t, floor, maxElementsPerTensor, seed);
    }

    /** A copy checking at most n elements per tensor. */
    public Options maxElementsPerTensor(int n) {
      return new Options(eps, tolerance, floor, n, seed);
    }
  }

  /**
   * The result for one parameter tensor.
   *
   * @param name parameter name
   * @param checked elements compared
   * @param worstRelError largest relative error
   * @param analytic meta-gradient at the worst element
   * @param numeric finite difference at the worst element
   */
  public record Entry(String name, int checked, double worstRelError, double analytic, double numeric) {
    @Override
    public String toString() {
      return String.format("%-28s %5d elements  worst rel %.3e (analytic % .8e, numeric % .8e)", name, checked,
          worstRelError, analytic, numeric);
    }
  }

  /**
   * All entries, the worst relative error overall and whether it is within tolerance.
   *
   * @param entries one per parameter tensor, in parameter order
   * @param worstRelError maximum over entries
   * @param tolerance the tolerance used
   * @param passed {@code worstRelError <= tolerance} and no problem
   * @param problem the first non-finite value met (which tensor and element, and what it was), or empty
   */
  public record Report(List<Entry> entries, double worstRelError, double tolerance, boolean passed, String problem) {
    /** Worst relative error of the named tensor. */
    public double relError(String name) {
      for (Entry e : entries) {
        if (e.name().equals(name)) {
          return e.worstRelError();
        }
      }
      throw new IllegalArgumentException("MetaGradCheck: no entry '" + name + "'");
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder();
      sb.append(passed ? "passed" : "FAILED").append(" meta-gradient check: ");
      if (!problem.isEmpty()) {
        sb.append(problem).append("; ");
      }
      sb.append("worst relative error ")
          .append(String.format("%.3e", worstRelError)).append(" (tolerance ").append(tolerance).append(")");
      for (Entry e : entries) {
        sb.append("\n  ").append(e);
      }
      return sb.toString();
    }
  }

  /**
   * Compares {@code learner.metaGradient(params, task)} with central differences of
   * {@code learner.metaLoss(params, task).loss()}.
   *
   * @throws IllegalArgumentException if a parameter or the task is not FLOAT64, or the parameters hold no
   *     element at all (nothing to check)
   */
  public static Report verify(MetaLearner learner, Params params, FewShotTask task, Options opt) {
    for (Map.Entry<String, Tensor> e : params.asMap().entrySet()) {
      if (e.getValue().dtype() != DType.FLOAT64) {
        throw new IllegalArgumentException("MetaGradCheck: parameter '" + e.getKey() + "' is "
            + e.getValue().dtype() + "; finite differences need FLOAT64 (params.to(DType.FLOAT64))");
      }
    }
    if (task.supportX().dtype() != DType.FLOAT64 || task.queryX().dtype() != DType.FLOAT64) {
      throw new IllegalArgumentException("MetaGradCheck: the task is not FLOAT64 (task.to(DType.FLOAT64))");
    }
    if (params.numel() == 0) {
      throw new IllegalArgumentException("MetaGradCheck: nothing to check: the parameters " + params.names()
          + " hold no element (a check over zero elements would pass vacuously)");
    }
    Params leaves = params.detach().requiresGrad(true);
    List<String> names = leaves.names();
    String problem = "";
    for (String name : names) {
      problem = problem.isEmpty() ? nonFinite("parameter '" + name + "'", leaves.get(name)) : problem;
    }
    if (!problem.isEmpty()) {
      return new Report(List.of(), Double.POSITIVE_INFINITY, opt.tolerance(), false,
          problem + " (finite differences need a finite point)");
    }
    Tensor loss0 = learner.metaLoss(leaves, task).loss();
    if (!Double.isFinite(loss0.item())) {
      return new Report(List.of(), Double.POSITIVE_INFINITY, opt.tolerance(), false,
          "the meta-loss is " + loss0.item() + " at the given parameters");
    }
    List<Tensor> analytic = Autograd.grad(loss0, leaves.values(), GradOptions.defaults().allowUnused(true));
    for (int i = 0; i < names.size() && problem.isEmpty(); i++) {
      problem = nonFinite("meta-gradient of '" + names.get(i) + "'", analytic.get(i));
    }
    Rng rng = new Rng(opt.seed());
    List<Entry> entries = new ArrayList<>();
    double worst = 0;
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      Tensor p = leaves.get(name);
      double[] base = p.toDoubleArray();
      double[] an = analytic.get(i).toDoubleArray();
      int[] idx = subset(base.length, opt.maxElementsPerTensor(), rng);
      double w = 0;
      double wa = 0;
      double wn = 0;
      for (int j : idx) {
        double orig = base[j];
        base[j] = orig + opt.eps();
        double plus = lossWith(learner, leaves, name, base, p, task);
        base[j] = orig - opt.eps();
        double minus = lossWith(learner, leaves, name, base, p, task);
        base[j] = orig;
        double num = (plus - minus) / (2 * opt.eps());
        if (!Double.isFinite(num) && problem.isEmpty()) {
          problem = "finite difference of '" + name + "' element " + j + " of " + java.util.Arrays.toString(p.shape())
              + " is " + num + " (loss " + plus + " at +eps, " + minus + " at -eps)";
        }
        double err = Math.abs(an[j] - num) / Math.max(Math.max(Math.abs(an[j]), Math.abs(num)), opt.floor());
        if (Double.isNaN(err)) {
          err = Double.POSITIVE_INFINITY;
        }
        if (err >= w) {
          w = err;
          wa = an[j];
          wn = num;
        }
      }
      entries.add(new Entry(name, idx.length, w, wa, wn));
      worst = Math.max(worst, w);
    }
    return new Report(List.copyOf(entries), worst, opt.tolerance(), worst <= opt.tolerance() && problem.isEmpty(),
        problem);
  }

  /** "what element j of [shape] is NaN" for the first non-finite element of t, or empty. */
  private static String nonFinite(String what, Tensor t) {
    int j = t.firstNonFiniteIndex();
    return j < 0 ? "" : what + " element " + j + " of " + java.util.Arrays.toString(t.shape()) + " is "
        + t.reshape(-1).slice(0, j, j + 1).item();
  }

  private static double lossWith(MetaLearner learner, Params leaves, String name, double[] values, Tensor like,
                                 FewShotTask task) {
    Map<String, Tensor> m = new LinkedHashMap<>(leaves.asMap());
    m.put(name, Tensor.of(values, DType.FLOAT64, like.shape()).to(like.device()).requiresGrad(true));
    // The inner loop needs gradients, so this cannot run under noGrad; the graph is discarded.
    return learner.metaLoss(Params.of(m), task).loss().item();
  }

  private static int[] subset(int n, int max, Rng rng) {
    int[] all = new int[n];
    for (int i = 0; i < n; i++) {
      all[i] = i;
    }
    if (n <= max) {
      return all;
    }
    rng.shuffle(all);
    int[] s = java.util.Arrays.copyOf(all, max);
    java.util.Arrays.sort(s);
    return s;
  }
}
