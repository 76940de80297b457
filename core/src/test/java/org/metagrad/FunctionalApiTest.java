package org.metagrad;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The public surface of {@link F}: no test oracles (the composite definitions live in
 * {@code org.metagrad.internal.Composites}), and batch normalization's two meanings (this batch's statistics,
 * given statistics) under two names instead of two overloads of one.
 */
class FunctionalApiTest {

  private static List<Method> publicMethods(String name) {
    return Arrays.stream(F.class.getDeclaredMethods())
        .filter(m -> Modifier.isPublic(m.getModifiers()) && m.getName().equals(name)).toList();
  }

  @Test
  void noCompositeOracleIsPublicApiOfF() {
    List<String> oracles = Arrays.stream(F.class.getDeclaredMethods())
        .filter(m -> Modifier.isPublic(m.getModifiers()) && m.getName().endsWith("Composite"))
        .map(Method::getName).sorted().toList();
    assertThat(oracles).as("public F.*Composite methods").isEmpty();
  }

  @Test
  void batchNormHasOneMeaningPerName() {
    assertThat(publicMethods("batchNorm")).as("F.batchNorm overloads").hasSize(1);
    assertThat(publicMethods("batchNorm").get(0).getParameterTypes())
        .containsExactly(Tensor.class, Tensor.class, Tensor.class, double.class);
    assertThat(publicMethods("batchNormWithStats")).hasSize(1);
    assertThat(publicMethods("batchNormWithStats").get(0).getParameterTypes())
        .containsExactly(Tensor.class, Tensor.class, Tensor.class, Tensor.class, Tensor.class, double.class);
  }

  @Test
  void batchNormWithStatsUsesTheGivenStatisticsNotTheBatchs() {
    Tensor x = Tensor.of(new double[] {1, 2, 3, 4}, DType.FLOAT64, 2, 2);
    Tensor mean = Tensor.of(new double[] {1, 0}, DType.FLOAT64, 2);
    Tensor var = Tensor.of(new double[] {4, 1}, DType.FLOAT64, 2);
    Tensor gamma = Tensor.of(new double[] {2, 1}, DType.FLOAT64, 2);
    Tensor beta = Tensor.of(new double[] {0, 10}, DType.FLOAT64, 2);
    // (x - mean) / sqrt(var) * gamma + beta, per column: col 0 (x - 1) / 2 * 2, col 1 x + 10.
    assertThat(F.batchNormWithStats(x, mean, var, gamma, beta, 0).toDoubleArray()).containsExactly(0, 12, 2, 14);
    // batchNorm uses this batch's statistics: each column normalised to -1, 1.
    assertThat(F.batchNorm(x, null, null, 0).toDoubleArray()).containsExactly(-1, -1, 1, 1);
  }
}
