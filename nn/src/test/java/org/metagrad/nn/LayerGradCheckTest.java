package org.metagrad.nn;

import java.util.ArrayList;
import java.util.List;
import org.metagrad.ConvSpec;
import org.metagrad.DType;
import org.metagrad.GradCheck;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Orders 1 and 2 gradchecks (FLOAT64) of the layers and blocks with respect to the input and the
 * parameters; every layer is a composition of core ops, so these check the compositions.
 */
class LayerGradCheckTest {
  /** Gradchecks module m at input shape xShape with respect to x and the named parameters. */
  private static void check(Module m, int[] xShape, Mode mode, String... paramNames) {
    Rng rng = new Rng(3);
    Params p0 = m.init(rng, DType.FLOAT64);
    Tensor x = Tensor.randn(rng, DType.FLOAT64, xShape);
    List<Tensor> inputs = new ArrayList<>();
    inputs.add(x);
    for (String n : paramNames) {
      inputs.add(p0.get(n));
    }
    GradCheck.assertOrders12(in -> {
      Params p = p0;
      for (int i = 0; i < paramNames.length; i++) {
        p = p.with(paramNames[i], in.get(i + 1));
      }
      return m.apply(p, in.get(0), mode);
    }, inputs);
  }

  @Test
  void linear() {
    check(new Linear(3, 2), new int[] {4, 3}, Mode.TRAIN, "weight", "bias");
  }

  @Test
  void conv2dStridedPadded() {
    check(new Conv2d(2, 2, 3, ConvSpec.defaults().padding(1).stride(2)), new int[] {2, 2, 4, 4}, Mode.TRAIN, "weight", "bias");
  }

  @Test
  void pools() {
    // Random inputs have no ties, so max pooling is smooth at the checked point.
    check(new MaxPool2d(2), new int[] {1, 2, 4, 4}, Mode.TRAIN);
    check(new MaxPool2d(3, 2, 1), new int[] {1, 1, 5, 5}, Mode.TRAIN);
    check(new AvgPool2d(3, 2, 1), new int[] {1, 1, 5, 5}, Mode.TRAIN);
    check(new GlobalAvgPool2d(), new int[] {2, 2, 3, 3}, Mode.TRAIN);
  }

  @Test
  void activations() {
    check(new LeakyReLU(0.1), new int[] {3, 4}, Mode.TRAIN);
    check(new ReLU(), new int[] {3, 4}, Mode.TRAIN);
    check(new Dropout(0.3), new int[] {3, 4}, Mode.EVAL);
  }

  @Test
  void convBlockWithBatchNorm() {
    Sequential block = Sequential.of(new Conv2d(1, 2, 3, ConvSpec.defaults().padding(1)), new BatchNorm2d(2, BnMode.BATCH_STATS),
        new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(8, 3));
    check(block, new int[] {3, 1, 4, 4}, Mode.TRAIN, "0.weight", "1.weight", "5.weight");
  }

  @Test
  void residualBlock() {
    ResidualBlock rb = new ResidualBlock(1, 2, BnMode.BATCH_STATS, 0.1);
    check(rb, new int[] {2, 1, 4, 4}, Mode.TRAIN, "conv1.weight", "bn3.bias", "shortcut.0.weight");
  }
}
