package org.metagrad.nn;

import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * One LSTM step, as {@code torch.nn.LSTMCell}: for input x {@code [N, in]} and state h, c {@code [N, hidden]},
 *
 * <pre>
 * gates = x W_ih^T + b_ih + h W_hh^T + b_hh            [N, 4 hidden], split as (i, f, g, o)
 * c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
 * h' = sigmoid(o) * tanh(c')
 * </pre>
 *
 * <p>Parameters {@code weight_ih [4H, in]}, {@code weight_hh [4H, H]}, {@code bias_ih [4H]},
 * {@code bias_hh [4H]} (gate rows in PyTorch's order input, forget, cell, output), all drawn
 * {@code U(-1/sqrt(H), 1/sqrt(H))} in that order, as PyTorch does. The step is built from core ops only
 * ({@code linear}, {@code slice}, {@code sigmoid}, {@code tanh}, {@code mul}, {@code add}), so it can be
 * differentiated to any order, and any {@link Params} (e.g. fast weights) can be plugged in.
 *
 * <pre>{@code
 * LstmCell cell = new LstmCell(3, 4);
 * Params p = cell.init(new Rng(0));
 * LstmCell.State s = cell.zeroState(x);            // h = c = 0, [N, 4]
 * s = cell.step(p, x, s);                           // s.h(), s.c(): [N, 4]
 * }</pre>
 */
public final class LstmCell implements Module {
  private final int in;
  private final int hidden;

  /**
   * The recurrent state.
   *
   * @param h hidden state {@code [N, hidden]}
   * @param c cell state {@code [N, hidden]}
   */
  public record State(Tensor h, Tensor c) {
    /** Validates. */
    public State {
      if (h == null || c == null) {
        throw new IllegalArgumentException("LstmCell.State: h and c must not be null");
      }
    }
  }

  /** A cell with {@code in} input features and {@code hidden} hidden units. */
  public LstmCell(int in, int hidden) {
    this.in = Layers.positive("LstmCell", "input size", in);
    this.hidden = Layers.positive("LstmCell", "hidden size", hidden);
  }

  /** Input features. */
  public int in() {
    return in;
  }

  /** Hidden units. */
  public int hidden() {
    return hidden;
  }

  /** {@code weight_ih}, {@code weight_hh}, {@code bias_ih}, {@code bias_hh}, each {@code U(-1/sqrt(H), 1/sqrt(H))}. */
  @Override
  public Params init(Rng rng, DType dtype) {
    double k = 1 / Math.sqrt(hidden);
    return Params.of("weight_ih", Init.uniform(rng, dtype, -k, k, 4 * hidden, in))
        .with("weight_hh", Init.uniform(rng, dtype, -k, k, 4 * hidden, hidden))
        .with("bias_ih", Init.uniform(rng, dtype, -k, k, 4 * hidden))
        .with("bias_hh", Init.uniform(rng, dtype, -k, k, 4 * hidden));
  }

  /** The zero state {@code h = c = 0 [N, hidden]} for a batch like x {@code [N, ...]} (same dtype and device). */
  public State zeroState(Tensor x) {
    Tensor z = Tensor.zeros(x.dtype(), x.size(0), hidden).to(x.device());
    return new State(z, z);
  }

  /** One step from state s for input x {@code [N, in]}. */
  public State step(Params p, Tensor x, State s) {
    if (x.rank() != 2 || x.size(1) != in) {
      throw Layers.badInput(toString(), "[N, " + in + "]", x);
    }
    int n = x.size(0);
    if (s.h().rank() != 2 || s.h().size(0) != n || s.h().size(1) != hidden) {
      throw new IllegalArgumentException(this + ": expected state h [" + n + ", " + hidden + "], got "
          + Layers.str(s.h().shape()));
    }
    if (s.c().rank() != 2 || s.c().size(0) != n || s.c().size(1) != hidden) {
      throw new IllegalArgumentException(this + ": expected state c [" + n + ", " + hidden + "], got "
          + Layers.str(s.c().shape()));
    }
    Tensor wih = Layers.param(p, "weight_ih", toString(), 4 * hidden, in);
    Tensor whh = Layers.param(p, "weight_hh", toString(), 4 * hidden, hidden);
    Tensor bih = Layers.param(p, "bias_ih", toString(), 4 * hidden);
    Tensor bhh = Layers.param(p, "bias_hh", toString(), 4 * hidden);
    Tensor gates = F.linear(x, wih, bih).add(F.linear(s.h(), whh, bhh));
    Tensor i = gates.slice(1, 0, hidden).sigmoid();
    Tensor f = gates.slice(1, hidden, 2 * hidden).sigmoid();
    Tensor g = gates.slice(1, 2 * hidden, 3 * hidden).tanh();
    Tensor o = gates.slice(1, 3 * hidden, 4 * hidden).sigmoid();
    Tensor c = f.mul(s.c()).add(i.mul(g));
    return new State(o.mul(c.tanh()), c);
  }

  /** The new hidden state of one step from the zero state: {@code step(p, x, zeroState(x)).h()}. */
  @Override
  public Tensor apply(Params p, Tensor x, Mode mode) {
    if (x.rank() != 2 || x.size(1) != in) {
      throw Layers.badInput(toString(), "[N, " + in + "]", x);
    }
    return step(p, x, zeroState(x)).h();
  }

  /** {@code LstmCell(in->hidden)}. */
  @Override
  public String toString() {
    return "LstmCell(" + in + "->" + hidden + ")";
  }
}
