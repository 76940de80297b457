package org.metagrad;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Tensor's one dtype rule: a Java array keeps its precision (double[] FLOAT64, float[] FLOAT32); every factory
 * without data and without a dtype makes the default dtype, FLOAT32 unless configured
 * ({@code Metagrad.configure().defaultDType(...)}, {@code -Dmetagrad.dtype}); a mixed-dtype error names both dtypes
 * and the fix.
 */
class DefaultDTypeTest {

  @BeforeEach
  @AfterEach
  void reset() {
    System.clearProperty(Metagrad.DTYPE_PROPERTY);
    Metagrad.close();
  }

  @Test
  void factoriesWithoutDataMakeTheDefaultFloat32AndArraysKeepTheirPrecision() {
    assertThat(Metagrad.defaultDType()).isEqualTo(DType.FLOAT32);
    assertThat(Tensor.scalar(2.5).dtype()).isEqualTo(DType.FLOAT32);
    assertThat(Tensor.zeros(2, 3).dtype()).isEqualTo(DType.FLOAT32);
    assertThat(Tensor.ones(2).dtype()).isEqualTo(DType.FLOAT32);
    assertThat(Tensor.arange(4).dtype()).isEqualTo(DType.FLOAT32);
    assertThat(Tensor.of(new double[] {1, 2}, 2).dtype()).isEqualTo(DType.FLOAT64);
    assertThat(Tensor.of(new float[] {1, 2}, 2).dtype()).isEqualTo(DType.FLOAT32);
    assertThat(Tensor.scalar(2.5, DType.FLOAT64).dtype()).isEqualTo(DType.FLOAT64);
    // the factories without data agree with each other: no mixed-dtype error between them
    Tensor y = Tensor.ones(3).mul(Tensor.scalar(2)).add(Tensor.arange(3)).sub(Tensor.zeros(3));
    assertThat(y.toDoubleArray()).containsExactly(2, 3, 4);
  }

  @Test
  void aConfiguredDefaultDTypeGovernsEveryFactoryWithoutData() {
    Metagrad.configure().defaultDType(DType.FLOAT64).apply();
    assertThat(Metagrad.defaultDType()).isEqualTo(DType.FLOAT64);
    assertThat(Metagrad.settings().describe(Metagrad.cpuBackend().name())).contains("default dtype FLOAT64");
    for (Tensor t : new Tensor[] {Tensor.scalar(1), Tensor.zeros(2), Tensor.ones(2), Tensor.arange(2)}) {
      assertThat(t.dtype()).isEqualTo(DType.FLOAT64);
    }
    assertThat(Tensor.of(new float[] {1}, 1).dtype()).as("a float[] keeps its precision").isEqualTo(DType.FLOAT32);
    assertThat(Tensor.of(new double[] {1, 2}, 2).add(Tensor.ones(2)).toDoubleArray()).containsExactly(2, 3);
  }

  @Test
  void theDefaultDTypeCannotChangeUnderTensorsAlreadyMade() {
    Tensor.zeros(1);   // made with FLOAT32
    assertThatThrownBy(() -> Metagrad.configure().defaultDType(DType.FLOAT64).apply())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("default dtype FLOAT64 requested")
        .hasMessageContaining("already made with the default dtype FLOAT32")
        .hasMessageContaining("Metagrad.close()");
    assertThat(Tensor.zeros(1).dtype()).isEqualTo(DType.FLOAT32);
    Metagrad.configure().defaultDType(DType.FLOAT32).apply();   // the same one: fine
    Metagrad.close();
    Metagrad.configure().defaultDType(DType.FLOAT64).apply();
    assertThat(Tensor.zeros(1).dtype()).isEqualTo(DType.FLOAT64);
  }

  @Test
  void thePropertyIsReadWhereEveryOtherSettingIs() {
    System.setProperty(Metagrad.DTYPE_PROPERTY, "Float64");
    assertThat(Metagrad.settings().defaultDType()).isEqualTo(DType.FLOAT64);
    assertThat(Tensor.ones(1).dtype()).isEqualTo(DType.FLOAT64);
    Metagrad.close();
    System.setProperty(Metagrad.DTYPE_PROPERTY, "half");
    assertThatThrownBy(Metagrad::settings).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("metagrad.dtype: expected float32 or float64, got 'half'");
  }

  @Test
  void aMixedDTypeErrorNamesBothDTypesAndTheFix() {
    Tensor d = Tensor.of(new double[] {1, 2}, 2);
    Tensor f = Tensor.ones(2);
    assertThatThrownBy(() -> d.add(f)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("add: mixed dtypes FLOAT64 and FLOAT32")
        .hasMessageContaining(".to(DType.FLOAT64)")
        .hasMessageContaining(".to(DType.FLOAT32)")
        .hasMessageContaining("default dtype, FLOAT32");
    assertThat(d.to(DType.FLOAT32).add(f).toDoubleArray()).containsExactly(2, 3);
    assertThatThrownBy(() -> F.batchNorm(Tensor.zeros(2, 3), Tensor.ones(DType.FLOAT64, 3), null, 1e-5))
        .hasMessageContaining("batchNorm: mixed dtypes FLOAT32 and FLOAT64").hasMessageContaining(".to(DType.");
    Tensor leaf = d.requiresGrad(true);
    Tensor y = leaf.mul(2.0);
    assertThatThrownBy(() -> Autograd.grad(java.util.List.of(y), java.util.List.of(leaf),
        GradOptions.createGraph(false).outputGrads(java.util.List.of(f))))
        .hasMessageContaining("is FLOAT32 but output is FLOAT64; cast it with .to(DType.FLOAT64)");
  }
}
