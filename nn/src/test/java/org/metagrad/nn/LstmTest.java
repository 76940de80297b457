package org.metagrad.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.GradCheck;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;

class LstmTest {
  private static final DType D = DType.FLOAT64;

  private static Params withValues(Params p0, List<Tensor> values, int from) {
    Params p = p0;
    List<String> names = p0.names();
    for (int i = 0; i < names.size(); i++) {
      p = p.with(names.get(i), values.get(from + i));
    }
    return p;
  }

  /** The layer computes the gate sigmoids as 0.5 + 0.5 tanh(z / 2): the cell's function, within rounding. */
  private static void assertClose(Tensor actual, Tensor expected) {
    double[] a = actual.toDoubleArray();
    double[] e = expected.toDoubleArray();
    assertThat(a).hasSameSizeAs(e);
    for (int i = 0; i < a.length; i++) {
      assertThat(a[i]).isCloseTo(e[i], org.assertj.core.data.Offset.offset(1e-14));
    }
  }

  @Test
  void stackedForwardIsTheCellsComposedByHand() {
    Lstm lstm = new Lstm(3, 4, 2);
    Params p = lstm.init(new Rng(2), D);
    assertThat(p.names()).containsExactly("layer0.weight_ih", "layer0.weight_hh", "layer0.bias_ih",
        "layer0.bias_hh", "layer1.weight_ih", "layer1.weight_hh", "layer1.bias_ih", "layer1.bias_hh");
    assertThat(p.get("layer0.weight_ih").shape()).containsExactly(16, 3);
    assertThat(p.get("layer1.weight_ih").shape()).containsExactly(16, 4);
    // The same draws as two cells initialised in turn from the same generator.
    Rng r = new Rng(2);
    Params c0 = new LstmCell(3, 4).init(r, D);
    Params c1 = new LstmCell(4, 4).init(r, D);
    assertThat(p.get("layer1.bias_hh").toDoubleArray()).containsExactly(c1.get("bias_hh").toDoubleArray());

    Rng rng = new Rng(5);
    Tensor x = Tensor.randn(rng, D, 5, 2, 3);
    Lstm.State s0 = new Lstm.State(List.of(Tensor.randn(rng, D, 2, 4), Tensor.randn(rng, D, 2, 4)),
        List.of(Tensor.randn(rng, D, 2, 4), Tensor.randn(rng, D, 2, 4)));
    Lstm.Output o = lstm.forward(p, x, s0);
    assertThat(o.output().shape()).containsExactly(5, 2, 4);

    LstmCell cell0 = new LstmCell(3, 4);
    LstmCell cell1 = new LstmCell(4, 4);
    LstmCell.State a = new LstmCell.State(s0.h().get(0), s0.c().get(0));
    LstmCell.State b = new LstmCell.State(s0.h().get(1), s0.c().get(1));
    for (int t = 0; t < 5; t++) {
      a = cell0.step(c0, x.select(0, t), a);
      b = cell1.step(c1, a.h(), b);
      assertClose(o.output().select(0, t), b.h());
    }
    assertClose(o.state().h().get(0), a.h());
    assertClose(o.state().c().get(1), b.c());
    // Continuing from the final state equals one longer run.
    Lstm.Output first = lstm.forward(p, x.slice(0, 0, 3), s0);
    Lstm.Output rest = lstm.forward(p, x.slice(0, 3, 5), first.state());
    assertThat(rest.output().toDoubleArray()).containsExactly(o.output().slice(0, 3, 5).toDoubleArray());
    // apply = forward from zeros.
    assertThat(lstm.apply(p, x, Mode.TRAIN).toDoubleArray())
        .containsExactly(lstm.forward(p, x, lstm.zeroState(2, D, Device.cpu())).output().toDoubleArray());
  }

  @Test
  void sequenceGradcheckOrders1And2ThroughTwoLayersAndTheInitialState() {
    Lstm lstm = new Lstm(2, 3, 2);
    Rng rng = new Rng(9);
    Params p0 = lstm.init(rng, D);
    List<Tensor> inputs = new ArrayList<>();
    inputs.add(Tensor.randn(rng, D, 3, 2, 2));   // x [T=3, B=2, 2]
    inputs.add(Tensor.randn(rng, D, 2, 3));      // h0 of layer 0
    inputs.add(Tensor.randn(rng, D, 2, 3));      // c0 of layer 1
    inputs.addAll(p0.values());
    Tensor z = Tensor.zeros(D, 2, 3);
    GradCheck.assertOrders12(in -> {
      Params p = withValues(p0, in, 3);
      Lstm.State s0 = new Lstm.State(List.of(in.get(1), z), List.of(z, in.get(2)));
      Lstm.Output o = lstm.forward(p, in.get(0), s0);
      // The outputs at every step and the final cell states, so every path is exercised.
      return Tensor.concat(List.of(o.output().reshape(-1), o.state().c().get(0).reshape(-1),
          o.state().c().get(1).reshape(-1)), 0);
    }, inputs);
  }

  @Test
  void truncationDetachesTheStateEveryKStepsAndKeepsTheValues() {
    Lstm lstm = new Lstm(2, 3);
    Rng rng = new Rng(3);
    Params p = lstm.init(rng, D).requiresGrad(true);
    Tensor x = Tensor.randn(rng, D, 6, 2, 2).requiresGrad(true);
    Lstm.Output full = lstm.forward(p, x, null, 0);
    Lstm.Output trunc = lstm.forward(p, x, null, 2);
    assertThat(trunc.output().toDoubleArray()).containsExactly(full.output().toDoubleArray());
    // The output at step 5 depends on x[4], x[5] only (the state was detached after steps 2 and 4).
    Tensor gx = Autograd.grad(trunc.output().select(0, 5).sum(), List.of(x)).get(0);
    for (int t = 0; t < 4; t++) {
      assertThat(gx.select(0, t).abs().sum().item()).isZero();
    }
    assertThat(gx.select(0, 4).abs().sum().item()).isPositive();
    Tensor gfull = Autograd.grad(full.output().select(0, 5).sum(), List.of(x)).get(0);
    assertThat(gfull.select(0, 0).abs().sum().item()).isPositive();
    // The truncated gradient of the whole sequence loss equals the one of chunks run with an explicit detach.
    Tensor loss = trunc.output().square().sum();
    List<Tensor> g1 = Autograd.grad(loss, p.values(), GradOptions.createGraph(true));
    Lstm.State s = null;
    List<Tensor> outs = new ArrayList<>();
    for (int c = 0; c < 3; c++) {
      Lstm.Output o = lstm.forward(p, x.slice(0, 2 * c, 2 * c + 2), s);
      outs.add(o.output());
      s = o.state().detach();
    }
    List<Tensor> g2 = Autograd.grad(Tensor.concat(outs, 0).square().sum(), p.values());
    for (int i = 0; i < g1.size(); i++) {
      assertThat(g1.get(i).toDoubleArray()).containsExactly(g2.get(i).toDoubleArray());
    }
    // ... and differs from the full one.
    List<Tensor> gf = Autograd.grad(full.output().square().sum(), p.values());
    assertThat(gf.get(1).toDoubleArray()).isNotEqualTo(g1.get(1).toDoubleArray());
    // The truncated graph can be differentiated again (second order through each chunk).
    Tensor gg = Autograd.grad(g1.get(0).square().sum(), List.of(x)).get(0);
    assertThat(gg.abs().sum().item()).isPositive();
  }

  @Test
  void badInputIsReportedClearly() {
    Lstm lstm = new Lstm(3, 2, 2);
    Params p = lstm.init(new Rng(1), D);
    assertThatThrownBy(() -> lstm.forward(p, Tensor.zeros(D, 4, 3), null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Lstm(3->2, layers=2)")
        .hasMessageContaining("[T, B, 3]");
    assertThatThrownBy(() -> lstm.forward(p, Tensor.zeros(D, 4, 2, 5), null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[4, 2, 5]");
    assertThatThrownBy(() -> lstm.forward(p, Tensor.zeros(D, 4, 2, 3), null, -1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("truncate");
    assertThatThrownBy(() -> lstm.forward(p, Tensor.zeros(D, 4, 2, 3), new Lstm(3, 2, 1).zeroState(2, D,
        Device.cpu()))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 layers, expected 2");
    assertThatThrownBy(() -> lstm.forward(p.without("layer1.bias_hh"), Tensor.zeros(D, 4, 2, 3), null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("layer1")
        .hasMessageContaining("bias_hh");
    assertThatThrownBy(() -> lstm.step(p, Tensor.zeros(D, 2, 3), lstm.zeroState(5, D, Device.cpu())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("state h");
    assertThatThrownBy(() -> new Lstm(3, 2, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("number of layers");
  }
}
