package org.metagrad.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.metagrad.ConvSpec;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.junit.jupiter.api.Test;

/** PyTorch's initializer formulas: bounds, moments of large draws, fans, determinism. */
class InitTest {
  private static double maxAbs(Tensor t) {
    double m = 0;
    for (double v : t.toDoubleArray()) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  private static double std(Tensor t) {
    double[] v = t.toDoubleArray();
    double s = 0;
    double s2 = 0;
    for (double x : v) {
      s += x;
      s2 += x * x;
    }
    double mean = s / v.length;
    return Math.sqrt(s2 / v.length - mean * mean);
  }

  @Test
  void fans() {
    assertThat(Init.fanIn(64, 3, 3, 3)).isEqualTo(27);
    assertThat(Init.fanOut(64, 3, 3, 3)).isEqualTo(576);
    assertThat(Init.fanIn(10, 784)).isEqualTo(784);
    assertThatThrownBy(() -> Init.fanIn(5)).hasMessageContaining("rank >= 2");
  }

  @Test
  void kaimingUniformWithSqrt5IsOneOverSqrtFanIn() {
    // gain sqrt(2 / 6) times sqrt(3 / fan_in) = 1 / sqrt(fan_in) = 1/3 for fan_in 9.
    Tensor w = Init.kaimingUniform(new Rng(1), DType.FLOAT64, Math.sqrt(5), 400, 1, 3, 3);
    assertThat(maxAbs(w)).isLessThanOrEqualTo(1 / 3.0).isGreaterThan(0.33);
    // Uniform on [-b, b] has standard deviation b / sqrt(3).
    assertThat(std(w)).isCloseTo(1 / 3.0 / Math.sqrt(3), within(0.005));
    Tensor relu = Init.kaimingUniform(new Rng(1), DType.FLOAT64, 0, 100, 50);
    assertThat(maxAbs(relu)).isLessThanOrEqualTo(Math.sqrt(6.0 / 50));
  }

  @Test
  void kaimingNormalAndXavier() {
    assertThat(std(Init.kaimingNormal(new Rng(2), DType.FLOAT64, 0, 200, 100))).isCloseTo(Math.sqrt(2.0 / 100),
        within(0.003));
    // fan_in 100, fan_out 200: bound sqrt(6 / 300), std sqrt(2 / 300).
    Tensor xu = Init.xavierUniform(new Rng(3), DType.FLOAT64, 1, 200, 100);
    assertThat(maxAbs(xu)).isLessThanOrEqualTo(Math.sqrt(6.0 / 300)).isGreaterThan(0.99 * Math.sqrt(6.0 / 300));
    assertThat(std(Init.xavierNormal(new Rng(4), DType.FLOAT64, 2, 200, 100))).isCloseTo(2 * Math.sqrt(2.0 / 300),
        within(0.003));
    assertThat(std(Init.normal(new Rng(4), DType.FLOAT64, 3, 0.5, 10000))).isCloseTo(0.5, within(0.02));
  }

  @Test
  void layerDefaultsMatchPyTorch() {
    Params p = new Conv2d(4, 300, 3, ConvSpec.defaults().padding(1)).init(new Rng(5));
    double bound = 1 / Math.sqrt(36);
    assertThat(maxAbs(p.get("weight"))).isLessThanOrEqualTo(bound).isGreaterThan(0.99 * bound);
    assertThat(maxAbs(p.get("bias"))).isLessThanOrEqualTo(bound);
    assertThat(p.get("weight").dtype()).isEqualTo(DType.FLOAT32);
    Params q = new Linear(16, 500).init(new Rng(5), DType.FLOAT64);
    assertThat(maxAbs(q.get("bias"))).isLessThanOrEqualTo(0.25).isGreaterThan(0.24);
    assertThat(q.get("bias").dtype()).isEqualTo(DType.FLOAT64);
    assertThat(Init.zeros(DType.FLOAT32, 2).toDoubleArray()).containsExactly(0, 0);
    assertThat(Init.ones(DType.FLOAT32, 2).toDoubleArray()).containsExactly(1, 1);
  }

  @Test
  void sameSeedSameParametersAndCustomSchemes() {
    Linear fc = new Linear(5, 3);
    assertThat(fc.init(new Rng(42)).get("weight").toDoubleArray())
        .containsExactly(fc.init(new Rng(42)).get("weight").toDoubleArray());
    assertThat(fc.init(new Rng(42)).get("weight").toDoubleArray())
        .isNotEqualTo(fc.init(new Rng(43)).get("weight").toDoubleArray());
    Linear zero = fc.withWeightInit((rng, dt, shape) -> Init.zeros(dt, shape));
    assertThat(maxAbs(zero.init(new Rng(1)).get("weight"))).isZero();
    Linear xavier = fc.withWeightInit((rng, dt, shape) -> Init.xavierUniform(rng, dt, 1, shape));
    assertThat(maxAbs(xavier.init(new Rng(1)).get("weight"))).isLessThanOrEqualTo(Math.sqrt(6.0 / 8));
  }
}
