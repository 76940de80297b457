package org.metagrad.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.GradCheck;
import org.metagrad.Rng;
import org.metagrad.Tensor;

class LstmCellTest {
  private static final DType D = DType.FLOAT64;

  private static double sig(double v) {
    return 1 / (1 + Math.exp(-v));
  }

  @Test
  void forwardMatchesHandComputedStep() {
    // in = 2, hidden = 1: gate rows (i, f, g, o).
    LstmCell cell = new LstmCell(2, 1);
    double[] wih = {0.5, -0.3, 0.2, 0.4, -0.6, 0.1, 0.3, 0.7};
    double[] whh = {0.1, -0.2, 0.5, 0.3};
    double[] bih = {0.05, 0.1, -0.1, 0.0};
    double[] bhh = {0.0, 0.2, 0.05, -0.15};
    Params p = Params.of("weight_ih", Tensor.of(wih, D, 4, 2)).with("weight_hh", Tensor.of(whh, D, 4, 1))
        .with("bias_ih", Tensor.of(bih, D, 4)).with("bias_hh", Tensor.of(bhh, D, 4));
    double[][] xs = {{1.0, 2.0}, {-0.5, 0.25}};
    double[] h0 = {0.3, -0.7};
    double[] c0 = {-0.2, 0.9};
    Tensor x = Tensor.of(new double[] {1.0, 2.0, -0.5, 0.25}, D, 2, 2);
    LstmCell.State s = cell.step(p, x, new LstmCell.State(Tensor.of(h0, D, 2, 1), Tensor.of(c0, D, 2, 1)));
    double[] h = s.h().toDoubleArray();
    double[] c = s.c().toDoubleArray();
    for (int n = 0; n < 2; n++) {
      double[] a = new double[4];
      for (int r = 0; r < 4; r++) {
        a[r] = wih[2 * r] * xs[n][0] + wih[2 * r + 1] * xs[n][1] + bih[r] + whh[r] * h0[n] + bhh[r];
      }
      double cn = sig(a[1]) * c0[n] + sig(a[0]) * Math.tanh(a[2]);
      double hn = sig(a[3]) * Math.tanh(cn);
      assertThat(c[n]).isCloseTo(cn, Offset.offset(1e-14));
      assertThat(h[n]).isCloseTo(hn, Offset.offset(1e-14));
    }
    // apply = one step from the zero state.
    Tensor h1 = cell.apply(p, x, Mode.TRAIN);
    double a0 = wih[0] * 1 + wih[1] * 2 + bih[0] + bhh[0];
    double a2 = wih[4] * 1 + wih[5] * 2 + bih[2] + bhh[2];
    double a3 = wih[6] * 1 + wih[7] * 2 + bih[3] + bhh[3];
    assertThat(h1.toDoubleArray()[0]).isCloseTo(sig(a3) * Math.tanh(sig(a0) * Math.tanh(a2)), Offset.offset(1e-14));
  }

  @Test
  void initHasTorchShapesAndBounds() {
    LstmCell cell = new LstmCell(3, 4);
    Params p = cell.init(new Rng(1), D);
    assertThat(p.names()).containsExactly("weight_ih", "weight_hh", "bias_ih", "bias_hh");
    assertThat(p.get("weight_ih").shape()).containsExactly(16, 3);
    assertThat(p.get("weight_hh").shape()).containsExactly(16, 4);
    assertThat(p.get("bias_ih").shape()).containsExactly(16);
    for (Tensor t : p.values()) {
      for (double v : t.toDoubleArray()) {
        assertThat(Math.abs(v)).isLessThanOrEqualTo(0.5);
      }
    }
    assertThat(cell.zeroState(Tensor.zeros(D, 5, 3)).h().shape()).containsExactly(5, 4);
  }

  @Test
  void twoStepsGradcheckOrders1And2() {
    LstmCell cell = new LstmCell(3, 2);
    Rng rng = new Rng(4);
    Params p0 = cell.init(rng, D);
    List<String> names = p0.names();
    List<Tensor> inputs = new ArrayList<>();
    inputs.add(Tensor.randn(rng, D, 2, 3));   // x1
    inputs.add(Tensor.randn(rng, D, 2, 3));   // x2
    inputs.add(Tensor.randn(rng, D, 2, 2));   // h0
    inputs.add(Tensor.randn(rng, D, 2, 2));   // c0
    inputs.addAll(p0.values());
    GradCheck.assertOrders12(in -> {
      Params p = p0;
      for (int i = 0; i < names.size(); i++) {
        p = p.with(names.get(i), in.get(4 + i));
      }
      LstmCell.State s = cell.step(p, in.get(0), new LstmCell.State(in.get(2), in.get(3)));
      s = cell.step(p, in.get(1), s);
      return Tensor.concat(List.of(s.h(), s.c()), 1);
    }, inputs);
  }

  @Test
  void badShapesAreReportedClearly() {
    LstmCell cell = new LstmCell(3, 2);
    Params p = cell.init(new Rng(1), D);
    assertThatThrownBy(() -> cell.step(p, Tensor.zeros(D, 2, 4), cell.zeroState(Tensor.zeros(D, 2, 3))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("LstmCell(3->2)")
        .hasMessageContaining("[N, 3]");
    assertThatThrownBy(() -> cell.step(p, Tensor.zeros(D, 2, 3), cell.zeroState(Tensor.zeros(D, 5, 3))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("state h");
    assertThatThrownBy(() -> cell.step(p.without("bias_hh"), Tensor.zeros(D, 2, 3),
        cell.zeroState(Tensor.zeros(D, 2, 3)))).hasMessageContaining("bias_hh");
    assertThatThrownBy(() -> new LstmCell(0, 2)).isInstanceOf(IllegalArgumentException.class);
  }
}
