package org.metagrad.nn.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.List;
import org.metagrad.DType;
import org.metagrad.Tensor;
import org.metagrad.nn.Params;
import org.junit.jupiter.api.Test;

class GradClipTest {
  private static Tensor t(double... v) {
    return Tensor.of(v, DType.FLOAT32, v.length);
  }

  @Test
  void clipsToTheGlobalNorm() {
    // ||(3, 4)|| = 5 and ||(12)|| = 12: global norm 13; coefficient 6.5 / (13 + 1e-6) ~ 0.5.
    GradClip.Clipped<List<Tensor>> c = GradClip.byGlobalNorm(List.of(t(3, 4), t(12)), 6.5);
    assertThat(c.norm()).isCloseTo(13, within(1e-9));
    assertThat(c.grads().get(0).toDoubleArray()).containsExactly(new double[] {1.5, 2}, within(1e-6));
    assertThat(c.grads().get(1).item()).isCloseTo(6, within(1e-6));
    assertThat(GradClip.globalNorm(c.grads())).isCloseTo(6.5, within(1e-5));
  }

  @Test
  void leavesSmallGradientsAloneAndKeepsNulls() {
    List<Tensor> g = Arrays.asList(t(0.3, 0.4), null);
    GradClip.Clipped<List<Tensor>> c = GradClip.byGlobalNorm(g, 1.0);
    assertThat(c.norm()).isCloseTo(0.5, within(1e-7));
    assertThat(c.grads()).isSameAs(g);
  }

  @Test
  void namedGradientsKeepTheirNames() {
    Params g = Params.of("a", t(6)).with("b", t(8));
    GradClip.Clipped<Params> c = GradClip.byGlobalNorm(g, 5);
    assertThat(c.grads().names()).containsExactly("a", "b");
    assertThat(c.grads().get("a").item()).isCloseTo(3, within(1e-5));
    assertThat(c.grads().get("b").item()).isCloseTo(4, within(1e-5));
    assertThatThrownBy(() -> GradClip.byGlobalNorm(g, 0)).hasMessageContaining("maxNorm");
  }
}
