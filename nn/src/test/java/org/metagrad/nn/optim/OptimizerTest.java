package org.metagrad.nn.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.Tensor;
import org.metagrad.nn.Params;
import org.junit.jupiter.api.Test;

/**
 * Two steps of each optimizer on one parameter p0 = 1 with gradients 0.5 then -0.25 (lr 0.1), against
 * values worked out by hand from PyTorch's update rules.
 */
class OptimizerTest {
  private static final double[] GRADS = {0.5, -0.25};

  private static Tensor f32(double... v) {
    return Tensor.of(v, DType.FLOAT32, v.length);
  }

  /** Runs two steps and returns the parameter after each, plus the final state. */
  private static double[] twoSteps(Optimizer opt, OptimizerState[] finalState) {
    Params p = Params.of("w", f32(1.0)).requiresGrad(true);
    OptimizerState s = opt.init(p);
    double[] out = new double[2];
    for (int i = 0; i < 2; i++) {
      Step st = opt.step(p, List.of(f32(GRADS[i])), s);
      p = st.params();
      s = st.state();
      out[i] = p.get("w").item();
      assertThat(p.get("w").requiresGrad()).isTrue();
      assertThat(p.get("w").isLeaf()).isTrue();
    }
    if (finalState != null) {
      finalState[0] = s;
    }
    return out;
  }

  @Test
  void plainSgd() {
    // p1 = 1 - 0.1 * 0.5 = 0.95; p2 = 0.95 + 0.1 * 0.25 = 0.975
    assertThat(twoSteps(SGD.of(0.1), null)).containsExactly(new double[] {0.95, 0.975}, within(1e-6));
  }

  @Test
  void sgdMomentumWithWeightDecay() {
    // g1 = 0.5 + 0.01 * 1 = 0.51, b1 = 0.51, p1 = 1 - 0.051 = 0.949
    // g2 = -0.25 + 0.01 * 0.949 = -0.24051, b2 = 0.9 * 0.51 - 0.24051 = 0.21849, p2 = 0.949 - 0.021849 = 0.927151
    OptimizerState[] s = new OptimizerState[1];
    assertThat(twoSteps(new SGD(0.1, 0.9, false, 0.01), s)).containsExactly(new double[] {0.949, 0.927151},
        within(1e-6));
    assertThat(s[0].get("momentum_buffer.w").item()).isCloseTo(0.21849, within(1e-6));
    assertThat(s[0].step()).isEqualTo(2);
  }

  @Test
  void sgdNesterovWithWeightDecay() {
    // step 1: g = 0.51, b = 0.51, g' = 0.51 + 0.9 * 0.51 = 0.969, p1 = 1 - 0.0969 = 0.9031
    // step 2: g = -0.25 + 0.009031 = -0.240969, b = 0.459 - 0.240969 = 0.218031,
    //         g' = -0.240969 + 0.9 * 0.218031 = -0.0447411, p2 = 0.9031 + 0.00447411 = 0.90757411
    assertThat(twoSteps(new SGD(0.1, 0.9, true, 0.01), null)).containsExactly(new double[] {0.9031, 0.90757411},
        within(1e-6));
  }

  @Test
  void adamWithBiasCorrection() {
    // step 1: m = 0.05, v = 0.00025, p1 = 1 - (0.1 / 0.1) * 0.05 / (sqrt(0.00025) / sqrt(0.001) + 1e-8)
    //         = 1 - 0.05 / 0.50000001 = 0.900000002
    // step 2: m = 0.045 - 0.025 = 0.02, v = 0.999 * 0.00025 + 0.001 * 0.0625 = 0.00031225,
    //         p2 = p1 - (0.1 / 0.19) * 0.02 / (sqrt(0.00031225) / sqrt(0.001999) + 1e-8) = 0.8733662987
    OptimizerState[] s = new OptimizerState[1];
    assertThat(twoSteps(Adam.of(0.1), s)).containsExactly(new double[] {0.900000002, 0.8733662987}, within(1e-6));
    assertThat(s[0].get("exp_avg", "w").item()).isCloseTo(0.02, within(1e-8));
    assertThat(s[0].get("exp_avg_sq", "w").item()).isCloseTo(0.00031225, within(1e-9));
  }

  @Test
  void adamL2WeightDecayAddsToTheGradient() {
    // g1 = 0.5 + 0.1 * 1 = 0.6 (m = 0.06), g2 = -0.25 + 0.1 * 0.9 = -0.16 (m = 0.054 - 0.016 = 0.038)
    OptimizerState[] s = new OptimizerState[1];
    assertThat(twoSteps(new Adam(0.1, 0.9, 0.999, 1e-8, 0.1), s))
        .containsExactly(new double[] {0.9000000017, 0.8544413675}, within(1e-6));
    assertThat(s[0].get("exp_avg", "w").item()).isCloseTo(0.038, within(1e-7));
  }

  @Test
  void tensorParametersUpdateElementwiseAndKeepRequiresGradOff() {
    Params p = Params.of("a", Tensor.of(new float[] {1, 2, 3, 4}, 2, 2)).with("b", f32(1));
    Params g = Params.of("a", Tensor.of(new float[] {1, 0, -1, 2}, 2, 2));
    Step s = SGD.of(0.5).step(p, g, OptimizerState.empty());
    assertThat(s.params().get("a").toDoubleArray()).containsExactly(0.5, 2, 3.5, 3);
    assertThat(s.params().get("a").requiresGrad()).isFalse();
    assertThat(s.params().get("b")).isSameAs(p.get("b"));
    assertThat(s.params().names()).containsExactly("a", "b");
  }

  @Test
  void stepsRunWithoutRecordingEvenForGradientsWithAGraph() {
    Tensor w = f32(2).requiresGrad(true);
    Params p = Params.of("w", w);
    Tensor loss = w.mul(w).sum();
    List<Tensor> g = Autograd.grad(loss, p.values(), org.metagrad.GradOptions.createGraph(true));
    Step s = Adam.of(0.1).step(p, g, OptimizerState.empty());
    assertThat(s.params().get("w").isLeaf()).isTrue();
    assertThat(s.state().get("exp_avg.w").isLeaf()).isTrue();
    assertThat(s.state().get("exp_avg.w").requiresGrad()).isFalse();
    assertThat(Autograd.isEnabled()).isTrue();
  }

  @Test
  void missingBuffersAreCreatedAndNullGradsSkipped() {
    Params p = Params.of("u", f32(1)).with("v", f32(1));
    Step s = new SGD(0.1, 0.5, false, 0).step(p, Arrays.asList(f32(1), null), OptimizerState.empty());
    assertThat(s.params().get("u").item()).isCloseTo(0.9, within(1e-7));
    assertThat(s.params().get("v").item()).isEqualTo(1.0);
    assertThat(s.state().buffers()).containsOnlyKeys("momentum_buffer.u");
  }

  @Test
  void stateExportsAsNamedTensorsAndReadsBack() {
    Params p = Params.of("features.0.weight", f32(1, 2)).with("head.bias", f32(3));
    OptimizerState s = Adam.of(0.1).init(p);
    s = Adam.of(0.1).step(p, List.of(f32(0.1, 0.2), f32(0.3)), s).state();
    Map<String, Tensor> named = s.toNamedTensors();
    assertThat(named).containsOnlyKeys("exp_avg.features.0.weight", "exp_avg_sq.features.0.weight",
        "exp_avg.head.bias", "exp_avg_sq.head.bias", "step");
    assertThat(named.get("step").item()).isEqualTo(1.0);
    OptimizerState back = OptimizerState.fromNamedTensors(named);
    assertThat(back.step()).isEqualTo(1);
    assertThat(back.get("exp_avg.head.bias").item()).isCloseTo(0.03, within(1e-7));
    // Resuming from the read-back state gives the same next step as continuing.
    Step a = Adam.of(0.1).step(p, List.of(f32(1, 1), f32(1)), s);
    Step b = Adam.of(0.1).step(p, List.of(f32(1, 1), f32(1)), back);
    assertThat(b.params().get("head.bias").item()).isEqualTo(a.params().get("head.bias").item());
  }

  @Test
  void badGradientsAndSettingsAreRejected() {
    Params p = Params.of("w", f32(1, 2));
    assertThatThrownBy(() -> SGD.of(0.1).step(p, Params.of("x", f32(1, 2)), OptimizerState.empty()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'x'").hasMessageContaining("[w]");
    assertThatThrownBy(() -> Adam.of(0.1).step(p, Params.of("w", f32(1)), OptimizerState.empty()))
        .hasMessageContaining("[1]").hasMessageContaining("[2]");
    assertThatThrownBy(() -> SGD.of(0.1).step(p, List.of(), OptimizerState.empty()))
        .hasMessageContaining("1 parameters but 0 gradients");
    assertThatThrownBy(() -> new SGD(0.1, 0, true, 0)).hasMessageContaining("Nesterov");
    assertThatThrownBy(() -> new Adam(0.1, 1.0, 0.999, 1e-8, 0)).hasMessageContaining("betas");
    assertThatThrownBy(() -> SGD.of(-1)).hasMessageContaining("learning rate");
  }

  @Test
  void withLrChangesOnlyTheRate() {
    assertThat(new SGD(0.1, 0.9, true, 0.01).withLr(0.5)).isEqualTo(new SGD(0.5, 0.9, true, 0.01));
    assertThat(Adam.of(0.1).withLr(0.2).lr()).isEqualTo(0.2);
  }
}
