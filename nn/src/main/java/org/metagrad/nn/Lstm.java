package org.metagrad.nn;

import java.util.ArrayList;
import java.util.List;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * A multi-layer LSTM over sequences, as {@code torch.nn.LSTM} (with {@code batch_first=false}): input
 * {@code [T, B, in]} (time, batch, features), output the last layer's hidden states {@code [T, B, hidden]},
 * and the final state of every layer. Layer {@code l} is an {@link LstmCell} whose input is layer
 * {@code l-1}'s hidden state; its parameters are named {@code layer<l>.weight_ih}, {@code layer<l>.weight_hh},
 * {@code layer<l>.bias_ih}, {@code layer<l>.bias_hh} (PyTorch's {@code weight_ih_l<l>} etc., same shapes and
 * initialisation).
 *
 * <p>Built from core ops only, so the sequence loss can be differentiated to any order (backpropagation
 * through time, and through it again). <b>Truncated backpropagation through time:</b> with
 * {@code truncate = k > 0}, {@link #forward(Params, Tensor, State, int)} detaches the recurrent state after
 * every k steps, so no gradient flows from a step to the steps more than one chunk back through the state
 * (the values are unchanged; gradients of each step's output still reach the parameters). A caller unrolling
 * step by step ({@link #step}, e.g. when the next input depends on the last output) does the same with
 * {@link State#detach()}.
 *
 * <pre>{@code
 * Lstm lstm = new Lstm(3, 8, 2);                        // 2 stacked layers of 8 units
 * Params p = lstm.init(new Rng(0), DType.FLOAT64);
 * Lstm.Output o = lstm.forward(p, x, null);             // x [T, B, 3]: o.output() [T, B, 8]
 * Lstm.Output next = lstm.forward(p, x2, o.state());    // continue from the final state
 * }</pre>
 */
public final class Lstm implements Module {
  private final int in;
  private final int hidden;
  private final List<LstmCell> cells;

  /**
   * The state of every layer: {@code h.get(l)}, {@code c.get(l)} are layer l's hidden and cell states
   * {@code [B, hidden]}.
   *
   * @param h hidden states, one per layer
   * @param c cell states, one per layer
   */
  public record State(List<Tensor> h, List<Tensor> c) {
    /** Validates and copies. */
    public State {
      if (h == null || c == null || h.size() != c.size() || h.isEmpty()) {
        throw new IllegalArgumentException("Lstm.State: h and c must be non-empty lists of the same length (one"
            + " per layer)");
      }
      h = List.copyOf(h);
      c = List.copyOf(c);
    }

    /** The number of layers. */
    public int layers() {
      return h.size();
    }

    /** The last layer's hidden state {@code [B, hidden]}. */
    public Tensor top() {
      return h.get(h.size() - 1);
    }

    /** The same values, detached from the graph (a truncation point for backpropagation through time). */
    public State detach() {
      return new State(h.stream().map(Tensor::detach).toList(), c.stream().map(Tensor::detach).toList());
    }
  }

  /**
   * The result of running a sequence.
   *
   * @param output the last layer's hidden state at every step, {@code [T, B, hidden]}
   * @param state the final state of every layer
   */
  public record Output(Tensor output, State state) {}

  /** A one-layer LSTM with {@code in} input features and {@code hidden} units. */
  public Lstm(int in, int hidden) {
    this(in, hidden, 1);
  }

  /** {@code layers} stacked layers; the first reads {@code in} features, the others {@code hidden}. */
  public Lstm(int in, int hidden, int layers) {
    this.in = Layers.positive("Lstm", "input size", in);
    this.hidden = Layers.positive("Lstm", "hidden size", hidden);
    Layers.positive("Lstm", "number of layers", layers);
    List<LstmCell> cs = new ArrayList<>();
    for (int l = 0; l < layers; l++) {
      cs.add(new LstmCell(l == 0 ? in : hidden, hidden));
    }
    this.cells = List.copyOf(cs);
  }

  /** Input features. */
  public int in() {
    return in;
  }

  /** Hidden units per layer. */
  public int hidden() {
    return hidden;
  }

  /** Stacked layers. */
  public int layers() {
    return cells.size();
  }

  /** Each layer's {@link LstmCell} parameters under {@code layer<l>.}, layer 0 first. */
  @Override
  public Params init(Rng rng, DType dtype) {
    Params p = Params.empty();
    for (int l = 0; l < cells.size(); l++) {
      p = p.merge(cells.get(l).init(rng, dtype).prefixed(prefix(l)));
    }
    return p;
  }

  private static String prefix(int l) {
    return "layer" + l;
  }

  /** The zero state for a batch of {@code batch} sequences. */
  public State zeroState(int batch, DType dtype, Device device) {
    if (batch < 0) {
      throw new IllegalArgumentException(this + ": batch size must be >= 0, got " + batch);
    }
    Tensor z = Tensor.zeros(dtype, batch, hidden).to(device);
    List<Tensor> zs = new ArrayList<>();
    for (int l = 0; l < cells.size(); l++) {
      zs.add(z);
    }
    return new State(zs, zs);
  }

  /**
   * One time step through all layers.
   *
   * @param p parameters (as {@link #init})
   * @param x input at this step {@code [B, in]}
   * @param s state after the previous step, or null for zeros
   * @return the new state; its {@link State#top()} is the step's output
   */
  public State step(Params p, Tensor x, State s) {
    if (x == null) {
      throw new IllegalArgumentException(this + ": input is null");
    }
    if (x.rank() != 2 || x.size(1) != in) {
      throw Layers.badInput(toString(), "[B, " + in + "] (one time step)", x);
    }
    if (s == null) {
      s = zeroState(x.size(0), x.dtype(), x.device());
    }
    if (s.layers() != cells.size()) {
      throw new IllegalArgumentException(this + ": the state has " + s.layers() + " layers, expected "
          + cells.size());
    }
    List<Tensor> hs = new ArrayList<>(cells.size());
    List<Tensor> cs = new ArrayList<>(cells.size());
    Tensor input = x;
    for (int l = 0; l < cells.size(); l++) {
      LstmCell.State ls;
      try {
        ls = cellStep(cells.get(l), p.sub(prefix(l)), input, s.h().get(l), s.c().get(l));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(this + " at " + prefix(l) + ": " + e.getMessage(), e);
      }
      hs.add(ls.h());
      cs.add(ls.c());
      input = ls.h();
    }
    return new State(hs, cs);
  }

  /**
   * {@link LstmCell#step}'s function with fewer recorded ops: the three gate sigmoids as one
   * {@code sigmoid(z) = 0.5 + 0.5 tanh(z / 2)} over all gate rows (the same function; results agree with the cell's
   * within rounding), so one tanh over the stacked gate rows is recorded where the cell records three sigmoids
   * (how much this saves in time was not measured; LstmTest holds it to the cell's values and checks its
   * derivatives against finite differences).
   */
  private static LstmCell.State cellStep(LstmCell cell, Params p, Tensor x, Tensor h, Tensor c) {
    int hid = cell.hidden();
    int n = x.size(0);
    if (x.rank() != 2 || x.size(1) != cell.in()) {
      throw Layers.badInput(cell.toString(), "[N, " + cell.in() + "]", x);
    }
    if (h.rank() != 2 || h.size(0) != n || h.size(1) != hid) {
      throw new IllegalArgumentException(cell + ": expected state h [" + n + ", " + hid + "], got "
          + Layers.str(h.shape()));
    }
    if (c.rank() != 2 || c.size(0) != n || c.size(1) != hid) {
      throw new IllegalArgumentException(cell + ": expected state c [" + n + ", " + hid + "], got "
          + Layers.str(c.shape()));
    }
    Tensor wih = Layers.param(p, "weight_ih", cell.toString(), 4 * hid, cell.in());
    Tensor whh = Layers.param(p, "weight_hh", cell.toString(), 4 * hid, hid);
    Tensor bih = Layers.param(p, "bias_ih", cell.toString(), 4 * hid);
    Tensor bhh = Layers.param(p, "bias_hh", cell.toString(), 4 * hid);
    Tensor gates = org.metagrad.F.linear(x, wih, bih).add(org.metagrad.F.linear(h, whh, bhh));
    Tensor sig = gates.mul(0.5).tanh().mul(0.5).add(0.5);
    Tensor i = sig.slice(1, 0, hid);
    Tensor f = sig.slice(1, hid, 2 * hid);
    Tensor g = gates.slice(1, 2 * hid, 3 * hid).tanh();
    Tensor o = sig.slice(1, 3 * hid, 4 * hid);
    Tensor c2 = f.mul(c).add(i.mul(g));
    return new LstmCell.State(o.mul(c2.tanh()), c2);
  }

  /** {@link #forward(Params, Tensor, State, int)} without truncation. */
  public Output forward(Params p, Tensor x, State s0) {
    return forward(p, x, s0, 0);
  }

  /**
   * Runs a sequence.
   *
   * @param p parameters
   * @param x input sequence {@code [T, B, in]}, T >= 1
   * @param s0 initial state, or null for zeros
   * @param truncate 0 for full backpropagation through time, or k > 0 to detach the state after steps
   *     k, 2k, ... (truncated BPTT: the gradient of the loss at a step reaches the parameters through at
   *     most the steps since the last truncation point)
   * @return the output sequence {@code [T, B, hidden]} and the final state (after the last step; detached
   *     too when T is a multiple of k)
   * @throws IllegalArgumentException for a wrong input shape, a state of another layer count or batch, or
   *     a negative {@code truncate}
   */
  public Output forward(Params p, Tensor x, State s0, int truncate) {
    if (x == null) {
      throw new IllegalArgumentException(this + ": input is null");
    }
    if (x.rank() != 3 || x.size(2) != in || x.size(0) < 1) {
      throw Layers.badInput(toString(), "[T, B, " + in + "] with T >= 1", x);
    }
    if (truncate < 0) {
      throw new IllegalArgumentException(this + ": truncate must be >= 0 (0: no truncation), got " + truncate);
    }
    State s = s0;
    List<Tensor> outs = new ArrayList<>(x.size(0));
    for (int t = 0; t < x.size(0); t++) {
      s = step(p, x.select(0, t), s);
      outs.add(s.top());
      if (truncate > 0 && (t + 1) % truncate == 0) {
        s = s.detach();
      }
    }
    return new Output(Tensor.stack(outs, 0), s);
  }

  /** The output sequence {@code [T, B, hidden]} from the zero state (no truncation). */
  @Override
  public Tensor apply(Params p, Tensor x, Mode mode) {
    return forward(p, x, null, 0).output();
  }

  /** {@code Lstm(in->hidden, layers=L)}. */
  @Override
  public String toString() {
    return "Lstm(" + in + "->" + hidden + ", layers=" + cells.size() + ")";
  }
}
