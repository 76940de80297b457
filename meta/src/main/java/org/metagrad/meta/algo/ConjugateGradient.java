package org.metagrad.meta.algo;

import java.util.ArrayList;
import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.Tensor;

/**
 * The conjugate-gradient method (Hestenes and Stiefel 1952) for {@code A x = b} with a symmetric positive
 * definite operator given only through products {@code v -> A v}, on vectors that are lists of tensors (one
 * per parameter). Starts at {@code x_0 = 0}; in exact arithmetic it reaches the solution after at most
 * {@code dim} steps, and each step minimises the A-norm of the error over a growing Krylov space.
 *
 * <p>Stops after {@code maxSteps} steps, when the residual norm {@code |b - A x|} drops to
 * {@code tolerance * |b|}, or when a search direction has non-positive curvature {@code <p, A p> <= 0} (the
 * operator is not positive definite there; the iterate reached so far is returned, or {@code b} itself if
 * that happens at the first step, and {@link Result#indefinite()} is set). Non-finite products are not
 * caught: they propagate into the solution. Inner products are accumulated in double precision from the
 * tensors' values.
 *
 * <pre>{@code
 * ConjugateGradient.Result r = ConjugateGradient.solve(v -> applyA(v), b, 5, 1e-10);
 * List<Tensor> x = r.solution();
 * }</pre>
 */
public final class ConjugateGradient {
  private ConjugateGradient() {}

  /** A linear operator on lists of tensors; must return tensors of the input shapes. */
  @FunctionalInterface
  public interface Operator {
    /** {@code A v}, one tensor per entry of v. */
    List<Tensor> apply(List<Tensor> v);
  }

  /**
   * The outcome of a solve.
   *
   * @param solution the approximate solution x (detached tensors, shapes of b)
   * @param steps the CG steps taken (operator products)
   * @param residualNorm {@code |b - A x|} by the CG recurrence
   * @param rhsNorm {@code |b|}
   * @param indefinite whether a direction with non-positive curvature stopped the iteration
   */
  public record Result(List<Tensor> solution, int steps, double residualNorm, double rhsNorm, boolean indefinite) {}

  /**
   * Solves {@code A x = b} approximately.
   *
   * @param a the operator (symmetric positive definite for the guarantees to hold)
   * @param b the right-hand side
   * @param maxSteps at most this many steps (>= 1)
   * @param tolerance stop when {@code |r| <= tolerance * |b|} (>= 0; 0 runs all steps unless r is exactly 0)
   * @throws IllegalArgumentException for an empty b, maxSteps below 1, a negative or NaN tolerance, or an
   *     operator that returns the wrong number or shapes of tensors
   */
  public static Result solve(Operator a, List<Tensor> b, int maxSteps, double tolerance) {
    if (a == null || b == null || b.isEmpty()) {
      throw new IllegalArgumentException("ConjugateGradient: need an operator and a non-empty right-hand side");
    }
    if (maxSteps < 1) {
      throw new IllegalArgumentException("ConjugateGradient: maxSteps must be >= 1, got " + maxSteps);
    }
    if (!(tolerance >= 0)) {
      throw new IllegalArgumentException("ConjugateGradient: tolerance must be >= 0, got " + tolerance);
    }
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      List<Tensor> rhs = detach(b);
      List<Tensor> x = new ArrayList<>();
      for (Tensor t : rhs) {
        x.add(t.mul(0.0));
      }
      List<Tensor> r = rhs;
      List<Tensor> p = rhs;
      double rr = dot(r, r);
      double bNorm = Math.sqrt(rr);
      int steps = 0;
      boolean indefinite = false;
      while (steps < maxSteps && rr != 0 && !(Math.sqrt(rr) <= tolerance * bNorm)) {
        List<Tensor> ap = detach(a.apply(p));
        checkShapes(p, ap);
        steps++;
        double pap = dot(p, ap);
        if (pap <= 0) {
          indefinite = true;
          if (steps == 1) {
            x = rhs;
          }
          break;
        }
        double alpha = rr / pap;
        x = axpy(x, alpha, p);
        r = axpy(r, -alpha, ap);
        double rrNew = dot(r, r);
        double beta = rrNew / rr;
        rr = rrNew;
        p = axpy(r, beta, p);
        if (Double.isNaN(rr)) {
          break;
        }
      }
      return new Result(List.copyOf(x), steps, Math.sqrt(rr), bNorm, indefinite);
    }
  }

  /** {@code sum_i <a_i, b_i>} in double precision. */
  static double dot(List<Tensor> a, List<Tensor> b) {
    double s = 0;
    for (int i = 0; i < a.size(); i++) {
      double[] x = a.get(i).toDoubleArray();
      double[] y = b.get(i).toDoubleArray();
      for (int j = 0; j < x.length; j++) {
        s += x[j] * y[j];
      }
    }
    return s;
  }

  /** {@code y + alpha * x} entrywise. */
  private static List<Tensor> axpy(List<Tensor> y, double alpha, List<Tensor> x) {
    List<Tensor> out = new ArrayList<>(y.size());
    for (int i = 0; i < y.size(); i++) {
      out.add(y.get(i).add(x.get(i).mul(alpha)));
    }
    return out;
  }

  private static List<Tensor> detach(List<Tensor> v) {
    List<Tensor> out = new ArrayList<>(v.size());
    for (Tensor t : v) {
      if (t == null) {
        throw new IllegalArgumentException("ConjugateGradient: null tensor in a vector");
      }
      out.add(t.detach());
    }
    return out;
  }

  private static void checkShapes(List<Tensor> p, List<Tensor> ap) {
    if (ap.size() != p.size()) {
      throw new IllegalArgumentException("ConjugateGradient: the operator returned " + ap.size() + " tensors for "
          + p.size());
    }
    for (int i = 0; i < p.size(); i++) {
      if (!java.util.Arrays.equals(p.get(i).shape(), ap.get(i).shape())) {
        throw new IllegalArgumentException("ConjugateGradient: the operator mapped entry " + i + " of shape "
            + java.util.Arrays.toString(p.get(i).shape()) + " to " + java.util.Arrays.toString(ap.get(i).shape()));
      }
    }
  }
}
