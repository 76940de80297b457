package org.metagrad.nn;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Metagrad;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/** {@code Module.init(rng)} follows Tensor's dtype rule: the default dtype, as every factory without data. */
class ModuleDefaultDTypeTest {

  @AfterEach
  void reset() {
    Metagrad.close();
  }

  @Test
  void initWithoutADTypeMakesTheDefaultDTypeAndMatchesTheOtherFactories() {
    Metagrad.close();
    Module net = Sequential.of(new Linear(3, 4), new ReLU(), new Linear(4, 2));
    Params p = net.init(new Rng(1));
    assertThat(p.values()).allSatisfy(t -> assertThat(t.dtype()).isEqualTo(DType.FLOAT32));
    // a batch made by a factory without data mixes with the parameters without a cast
    Tensor y = net.apply(p, Tensor.ones(5, 3), Mode.EVAL);
    assertThat(y.shape()).containsExactly(5, 2);

    Metagrad.close();
    Metagrad.configure().defaultDType(DType.FLOAT64).apply();
    Params p64 = net.init(new Rng(1));
    assertThat(p64.values()).allSatisfy(t -> assertThat(t.dtype()).isEqualTo(DType.FLOAT64));
    assertThat(net.apply(p64, Tensor.of(new double[15], 5, 3), Mode.EVAL).dtype()).isEqualTo(DType.FLOAT64);
  }
}
