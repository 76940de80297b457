package org.metagrad.nn.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
  @Test
  void constant() {
    assertThat(LrSchedule.constant(0.1).lr(0)).isEqualTo(0.1);
    assertThat(LrSchedule.constant(0.1).lr(1_000_000)).isEqualTo(0.1);
  }

  @Test
  void stepDecayAsStepLR() {
    LrSchedule s = LrSchedule.stepDecay(1.0, 3, 0.5);
    assertThat(new double[] {s.lr(0), s.lr(2), s.lr(3), s.lr(5), s.lr(6), s.lr(9)})
        .containsExactly(1, 1, 0.5, 0.5, 0.25, 0.125);
  }

  @Test
  void cosineWithoutWarmupIsCosineAnnealing() {
    LrSchedule s = LrSchedule.cosine(1.0, 0.0, 4, 0);
    // 0.5 (1 + cos(pi t / 4)): 1, 0.8536, 0.5, 0.1464, 0, then stays at the floor.
    assertThat(new double[] {s.lr(0), s.lr(1), s.lr(2), s.lr(3), s.lr(4), s.lr(10)})
        .containsExactly(new double[] {1, 0.8535533906, 0.5, 0.1464466094, 0, 0}, within(1e-9));
  }

  @Test
  void cosineWithWarmupAndFloor() {
    LrSchedule s = LrSchedule.cosine(1.0, 0.1, 6, 2);
    // warmup 0, 0.5; then 0.1 + 0.9 * 0.5 (1 + cos(pi (t - 2) / 4))
    assertThat(new double[] {s.lr(0), s.lr(1), s.lr(2), s.lr(4), s.lr(6)})
        .containsExactly(new double[] {0, 0.5, 1.0, 0.55, 0.1}, within(1e-12));
  }

  @Test
  void badArgumentsAreRejected() {
    assertThatThrownBy(() -> LrSchedule.cosine(1, 2, 10, 0)).hasMessageContaining("minLr");
    assertThatThrownBy(() -> LrSchedule.cosine(1, 0, 5, 5)).hasMessageContaining("warmupSteps < totalSteps");
    assertThatThrownBy(() -> LrSchedule.stepDecay(1, 0, 0.5)).hasMessageContaining("stepSize");
    assertThatThrownBy(() -> LrSchedule.constant(Double.NaN)).hasMessageContaining("learning rate");
  }
}
