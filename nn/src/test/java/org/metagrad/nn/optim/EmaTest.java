package org.metagrad.nn.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.Tensor;
import org.metagrad.nn.Params;

class EmaTest {
  private static Params p(double a, double b) {
    return Params.of("w", Tensor.of(new double[] {a, b}, DType.FLOAT64, 2)).with("b",
        Tensor.scalar(a - b, DType.FLOAT64));
  }

  @Test
  void updateIsDecayTimesAveragePlusTheRestTimesParameters() {
    Ema ema = Ema.of(0.9);
    Params avg = ema.init(p(1, 2));
    avg = ema.update(avg, p(11, -8), 1);
    // 0.9 * 1 + 0.1 * 11 = 2.0; 0.9 * 2 + 0.1 * -8 = 1.0; 0.9 * -1 + 0.1 * 19 = 1.0
    assertThat(avg.get("w").toDoubleArray()).containsExactly(new double[] {2.0, 1.0}, within(1e-15));
    assertThat(avg.get("b").item()).isCloseTo(1.0, within(1e-15));
    avg = ema.update(avg, p(2, 1), 2);
    assertThat(avg.get("w").toDoubleArray()).containsExactly(new double[] {2.0, 1.0}, within(1e-15));
    assertThat(avg.names()).containsExactly("w", "b");
  }

  @Test
  void warmupRampsTheDecayAsTheMeanTeacherCodeDoes() {
    Ema ema = new Ema(0.99, true);
    assertThat(ema.decayAt(1)).isEqualTo(0.5);
    assertThat(ema.decayAt(3)).isEqualTo(0.75);
    assertThat(ema.decayAt(1000)).isEqualTo(0.99);
    // with warm-up, the first update averages the start and the parameters equally; a constant stays constant
    Params avg = ema.update(ema.init(p(0, 0)), p(4, 2), 1);
    assertThat(avg.get("w").toDoubleArray()).containsExactly(2.0, 1.0);
    Params c = p(3, 3);
    Params a = ema.init(c);
    for (int t = 1; t <= 50; t++) {
      a = ema.update(a, c, t);
    }
    assertThat(a.get("w").toDoubleArray()).containsExactly(3.0, 3.0);
    // the average of a constant sequence x_t = t after many fixed-decay steps lags by d/(1-d)
    Ema fixed = Ema.of(0.5);
    Params lag = fixed.init(p(0, 0));
    for (int t = 1; t <= 60; t++) {
      lag = fixed.update(lag, p(t, t), t);
    }
    assertThat(lag.get("w").toDoubleArray()[0]).isCloseTo(59.0, within(1e-9));
  }

  @Test
  void theAverageIsDetachedAndNoGradientFlowsIntoIt() {
    Tensor w = Tensor.of(new double[] {1, 2}, DType.FLOAT64, 2).requiresGrad(true);
    Params params = Params.of("w", w);
    Params avg = Ema.of(0.5).update(Params.of("w", Tensor.zeros(DType.FLOAT64, 2)), params, 1);
    assertThat(avg.get("w").requiresGrad()).isFalse();
    Tensor loss = w.mul(avg.get("w")).sum();
    assertThat(Autograd.grad(loss, List.of(w)).get(0).toDoubleArray()).containsExactly(0.5, 1.0);
  }

  @Test
  void sameInputsSameBitsAndNanPropagates() {
    Params a = Ema.of(0.999).update(p(0.1, 0.2), p(0.3, 0.7), 5);
    Params b = Ema.of(0.999).update(p(0.1, 0.2), p(0.3, 0.7), 5);
    assertThat(a.get("w").toDoubleArray()).containsExactly(b.get("w").toDoubleArray());
    Params n = Ema.of(0.5).update(p(0, 0), p(Double.NaN, 1), 1);
    assertThat(n.get("w").toDoubleArray()[0]).isNaN();
  }

  @Test
  void badArgumentsAreNamed() {
    assertThatThrownBy(() -> Ema.of(1.5)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("decay");
    assertThatThrownBy(() -> Ema.of(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Ema.of(0.9).decayAt(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("starts at 1");
    assertThatThrownBy(() -> Ema.of(0.9).update(p(1, 2), Params.of("w", Tensor.zeros(DType.FLOAT64, 2)), 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds");
    Params wrongShape = Params.of("w", Tensor.zeros(DType.FLOAT64, 3)).with("b", Tensor.scalar(0, DType.FLOAT64));
    assertThatThrownBy(() -> Ema.of(0.9).update(p(1, 2), wrongShape, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'w'");
  }
}
