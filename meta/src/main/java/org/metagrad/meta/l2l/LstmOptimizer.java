package org.metagrad.meta.l2l;

import java.util.ArrayList;
import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.GradientPreprocessing;
import org.metagrad.meta.algo.Order;
import org.metagrad.nn.Init;
import org.metagrad.nn.LstmCell;
import org.metagrad.nn.Params;

/**
 * The learned optimizer of Andrychowicz et al. (NeurIPS 2016, "Learning to learn by gradient descent by
 * gradient descent"): a coordinate-wise two-layer LSTM m with shared weights phi that maps every coordinate's
 * preprocessed gradient to its update,
 *
 * <pre>
 * [g_t, h_{t+1}] = m(pre(grad f(theta_t)), h_t; phi)          every coordinate separately, same phi
 * theta_{t+1}    = theta_t + scale * g_t
 * L(phi)         = sum_{t=1..T} f(theta_t)                     (the paper's w_t = 1)
 * </pre>
 *
 * with two {@link LstmCell} layers of {@code hidden} units (the paper: 20), a linear output
 * {@code [hidden -> 1]} multiplied by {@code scale} (0.1 here), and the log/sign gradient preprocessing with
 * p = 10 ({@link GradientPreprocessing}). Training is truncated backpropagation through time: each problem is
 * optimised for {@code horizon} steps in segments of {@code unroll} steps; after each segment phi takes an Adam
 * step on that segment's summed loss, and theta and the LSTM states are detached.
 *
 * <p><b>Order.</b> The paper drops the second derivatives {@code d grad f / d theta} (the gradient enters the
 * LSTM as a constant): {@link Order#FIRST}. {@link Order#SECOND} records the optimizee's gradients and
 * differentiates through them (Hessian-vector products of f inside the meta-gradient).
 *
 * <p>Parameters: {@code layer1.*} ({@code LstmCell(2 -> hidden)}), {@code layer2.*}
 * ({@code LstmCell(hidden -> hidden)}), {@code out.weight [1, hidden]}, {@code out.bias [1]}.
 *
 * <pre>{@code
 * LstmOptimizer opt = new LstmOptimizer(20, 0.1);
 * Params phi = opt.init(new Rng(1), DType.FLOAT32).requiresGrad(true);
 * LstmOptimizer.Segment s = opt.unroll(phi, f, f.initialParams(), opt.zeroState(f.initialParams()), 0, 20,
 *     Order.FIRST);
 * List<Tensor> metaGrad = Autograd.grad(s.objective(), phi.values());
 * }</pre>
 */
public final class LstmOptimizer {
  private final int hidden;
  private final double scale;
  private final LstmCell layer1;
  private final LstmCell layer2;

  /**
   * An optimizer with two layers of {@code hidden} units whose output is multiplied by {@code scale}.
   *
   * @throws IllegalArgumentException if hidden is below 1 or scale is not positive and finite
   */
  public LstmOptimizer(int hidden, double scale) {
    if (hidden < 1) {
      throw new IllegalArgumentException("LstmOptimizer: hidden units must be >= 1, got " + hidden);
    }
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("LstmOptimizer: output scale must be finite and > 0, got " + scale);
    }
    this.hidden = hidden;
    this.scale = scale;
    this.layer1 = new LstmCell(2, hidden);
    this.layer2 = new LstmCell(hidden, hidden);
  }

  /** Hidden units per layer. */
  public int hidden() {
    return hidden;
  }

  /** Output scale. */
  public double scale() {
    return scale;
  }

  /** Both LSTM layers with {@link LstmCell}'s initialisation, the output layer {@code U(-1/sqrt(H), 1/sqrt(H))}. */
  public Params init(Rng rng, DType dtype) {
    double k = 1 / Math.sqrt(hidden);
    return layer1.init(rng, dtype).prefixed("layer1").merge(layer2.init(rng, dtype).prefixed("layer2"))
        .with("out.weight", Init.uniform(rng, dtype, -k, k, 1, hidden))
        .with("out.bias", Init.uniform(rng, dtype, -k, k, 1));
  }

  /**
   * The recurrent state of every coordinate.
   *
   * @param s1 first layer, {@code [n, hidden]} each
   * @param s2 second layer
   */
  public record State(LstmCell.State s1, LstmCell.State s2) {
    /** The state without graph. */
    public State detach() {
      return new State(new LstmCell.State(s1.h().detach(), s1.c().detach()),
          new LstmCell.State(s2.h().detach(), s2.c().detach()));
    }
  }

  /** Zero states for the coordinates of {@code theta [n]}. */
  public State zeroState(Tensor theta) {
    Tensor z = Tensor.zeros(theta.dtype(), theta.numel(), hidden).to(theta.device());
    return new State(new LstmCell.State(z, z), new LstmCell.State(z, z));
  }

  /**
   * One step of the optimizer for all coordinates.
   *
   * @param delta the update {@code scale * out(h2)} of every coordinate, {@code [n]}
   * @param state the next recurrent state
   */
  public record Update(Tensor delta, State state) {}

  /** The update of every coordinate for its gradient {@code grad [n]}, and the next state. */
  public Update update(Params phi, Tensor grad, State s) {
    Tensor x = GradientPreprocessing.logSign(grad.reshape(-1, 1), GradientPreprocessing.P);
    LstmCell.State a = layer1.step(phi.sub("layer1"), x, s.s1());
    LstmCell.State b = layer2.step(phi.sub("layer2"), a.h(), s.s2());
    Tensor delta = F.linear(b.h(), phi.get("out.weight"), phi.get("out.bias")).mul(scale).reshape(-1);
    return new Update(delta, new State(a, b));
  }

  /** Replaces the gradient of step t (tests: hold the gradients at recorded values). */
  interface GradientOverride {
    Tensor at(int t, Tensor grad);
  }

  /**
   * An unrolled segment: the summed loss (differentiable in phi), where it ended, and the per-step losses.
   *
   * @param objective {@code sum_{t=start+1..start+steps} sum_b f_b(theta_t)}
   * @param theta the parameters after the segment (with graph)
   * @param state the LSTM state after the segment (with graph)
   * @param losses {@code losses[t][b]}, the values of {@code f_b(theta_{start+t+1})}
   */
  public record Segment(Tensor objective, Tensor theta, State state, double[][] losses) {}

  /**
   * Optimises {@code f} for {@code steps} steps from {@code theta} (taken as a constant start) and {@code state},
   * recording the graph back to phi.
   *
   * @param start index of the first step (stochastic problems use it to pick minibatches)
   */
  public Segment unroll(Params phi, Optimizee f, Tensor theta, State state, int start, int steps, Order order) {
    return unroll(phi, f, theta, state, start, steps, order, null);
  }

  Segment unroll(Params phi, Optimizee f, Tensor theta, State state, int start, int steps, Order order,
                 GradientOverride override) {
    if (steps < 1) {
      throw new IllegalArgumentException("LstmOptimizer: a segment needs >= 1 step, got " + steps);
    }
    boolean second = order == Order.SECOND;
    Tensor th = theta.detach().requiresGrad(true);
    State s = state.detach();
    Tensor loss = f.losses(th, start).sum();
    Tensor objective = null;
    double[][] losses = new double[steps][];
    for (int t = 0; t < steps; t++) {
      Tensor g = Autograd.grad(loss, List.of(th), GradOptions.createGraph(second)).get(0);
      if (!second) {
        g = g.detach();
      }
      if (override != null) {
        g = override.at(start + t, g);
      }
      Update u = update(phi, g, s);
      th = th.add(u.delta());
      s = u.state();
      // The loss of the new point: a term of the objective and, at the next step, the source of the gradient.
      Tensor per = f.losses(th, start + t + 1);
      losses[t] = per.detach().toDoubleArray();
      loss = per.sum();
      objective = objective == null ? loss : objective.add(loss);
    }
    return new Segment(objective, th, s, losses);
  }

  /**
   * The evaluation losses {@code [steps + 1][B]} of optimising f for {@code steps} steps from its initial
   * parameters (row 0: the start), without a graph to phi.
   */
  public double[][] trajectory(Params phi, Optimizee f, int steps) {
    Params fixed = phi.detach();
    Tensor th = f.initialParams().detach();
    State s = zeroState(th);
    double[][] out = new double[steps + 1][];
    out[0] = f.evalLosses(th).detach().toDoubleArray();
    for (int t = 0; t < steps; t++) {
      Tensor leaf = th.detach().requiresGrad(true);
      Tensor g = Autograd.grad(f.losses(leaf, t).sum(), List.of(leaf)).get(0);
      try (Autograd.NoGrad ng = Autograd.noGrad()) {
        Update u = update(fixed, g, s);
        th = leaf.detach().add(u.delta());
        s = u.state();
        out[t + 1] = f.evalLosses(th).toDoubleArray();
      }
    }
    return out;
  }

  /** Outcome of one meta-training iteration (one batch of problems optimised for the whole horizon). */
  public record IterationResult(Params phi, org.metagrad.nn.optim.OptimizerState adam, double meanLoss,
                                double gradNorm) {}

  /**
   * One meta-training iteration: optimises {@code f} for {@code horizon} steps in segments of {@code unroll},
   * and after each segment takes an Adam step on phi (gradient clipped to global norm {@code clip}, 0 for
   * none).
   *
   * @return the new phi and Adam state, the mean per-problem loss over the horizon and the last gradient norm
   * @throws IllegalArgumentException if horizon or unroll is below 1
   */
  public IterationResult trainIteration(Params phi, org.metagrad.nn.optim.Adam adam,
                                        org.metagrad.nn.optim.OptimizerState state, Optimizee f, int horizon,
                                        int unroll, Order order, double clip) {
    if (horizon < 1 || unroll < 1) {
      throw new IllegalArgumentException("LstmOptimizer: horizon and unroll must be >= 1, got " + horizon + ", "
          + unroll);
    }
    Tensor theta = f.initialParams();
    State s = zeroState(theta);
    double sum = 0;
    double norm = 0;
    Params p = phi;
    org.metagrad.nn.optim.OptimizerState st = state;
    for (int start = 0; start < horizon; start += unroll) {
      int steps = Math.min(unroll, horizon - start);
      Params leaves = p.detach().requiresGrad(true);
      Segment seg = unroll(leaves, f, theta, s, start, steps, order);
      if (!Double.isFinite(seg.objective().item())) {
        throw new IllegalStateException("LstmOptimizer: the unrolled loss is " + seg.objective().item()
            + " at step " + (start + steps) + " (the optimizee diverged; lower the learning rate)");
      }
      for (double[] row : seg.losses()) {
        for (double v : row) {
          sum += v;
        }
      }
      List<Tensor> g = Autograd.grad(seg.objective(), leaves.values());
      double sq = 0;
      for (Tensor gi : g) {
        sq += gi.square().sum().item();
      }
      norm = Math.sqrt(sq);
      if (clip > 0 && norm > clip) {
        double k = clip / norm;
        List<Tensor> c = new ArrayList<>();
        for (Tensor gi : g) {
          c.add(gi.mul(k));
        }
        g = c;
      }
      org.metagrad.nn.optim.Step step = adam.step(leaves.detach(), leaves.zip(g, (a, b) -> b), st);
      p = step.params();
      st = step.state();
      theta = seg.theta().detach();
      s = seg.state().detach();
    }
    return new IterationResult(p, st, sum / ((double) horizon * f.functions()), norm);
  }

  @Override
  public String toString() {
    return "LstmOptimizer(2 x " + hidden + " coordinate-wise, scale " + scale + ")";
  }
}
