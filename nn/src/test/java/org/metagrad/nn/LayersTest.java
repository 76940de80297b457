package org.metagrad.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.metagrad.ConvSpec;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.junit.jupiter.api.Test;

/** Forward values of the layers on tiny inputs, worked out by hand; names; error messages. */
class LayersTest {
  private static Tensor f32(double[] v, int... shape) {
    return Tensor.of(v, DType.FLOAT32, shape);
  }

  private static double[] seq(int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = i + 1;
    }
    return v;
  }

  @Test
  void linearForward() {
    Linear fc = new Linear(2, 3);
    Params p = Params.of("weight", f32(new double[] {1, 0, 2, -1, 0.5, 0.5}, 3, 2))
        .with("bias", f32(new double[] {0.1, 0.2, 0.3}, 3));
    // [1, 2] . rows (1, 0), (2, -1), (0.5, 0.5) = 1, 0, 1.5; plus bias.
    Tensor y = fc.apply(p, f32(new double[] {1, 2}, 1, 2), Mode.TRAIN);
    assertThat(y.shape()).containsExactly(1, 3);
    assertThat(y.toDoubleArray()).containsExactly(new double[] {1.1, 0.2, 1.8}, within(1e-6));
    assertThat(fc.init(new Rng(1)).names()).containsExactly("weight", "bias");
    Linear noBias = new Linear(2, 3, false);
    assertThat(noBias.init(new Rng(1)).names()).containsExactly("weight");
    assertThat(noBias.apply(p, f32(new double[] {1, 2}, 1, 2), Mode.TRAIN).toDoubleArray())
        .containsExactly(new double[] {1, 0, 1.5}, within(1e-6));
  }

  @Test
  void conv2dForward() {
    // x = 1..9 as 3x3, w = [[1, 0], [0, -1]]: each output is x[i][j] - x[i+1][j+1] = -4, plus bias 0.5.
    Conv2d conv = new Conv2d(1, 1, 2, ConvSpec.defaults());
    Params p = Params.of("weight", f32(new double[] {1, 0, 0, -1}, 1, 1, 2, 2)).with("bias", f32(new double[] {0.5}, 1));
    Tensor x = f32(seq(9), 1, 1, 3, 3);
    assertThat(conv.apply(p, x, Mode.TRAIN).toDoubleArray()).containsExactly(-3.5, -3.5, -3.5, -3.5);
    // Stride 2, padding 1: windows of the zero-padded 5x5 at (0,0), (0,2), (2,0), (2,2):
    // 0 - 1, 0 - 3, 0 - 7, 5 - 9, each plus 0.5.
    Conv2d strided = new Conv2d(1, 1, 2, ConvSpec.defaults().padding(1).stride(2));
    Tensor y = strided.apply(p, x, Mode.TRAIN);
    assertThat(y.shape()).containsExactly(1, 1, 2, 2);
    assertThat(y.toDoubleArray()).containsExactly(-0.5, -2.5, -6.5, -3.5);
    assertThat(strided.outputSize(3)).isEqualTo(2);
    // Two input channels are summed: the second channel's weight of 1 at the top left adds x[i][j] again.
    Conv2d two = new Conv2d(2, 1, 2, ConvSpec.defaults(), false);
    Params p2 = Params.of("weight", f32(new double[] {1, 0, 0, -1, 1, 0, 0, 0}, 1, 2, 2, 2));
    Tensor x2 = Tensor.concat(java.util.List.of(x, x), 1);
    assertThat(two.apply(p2, x2, Mode.TRAIN).toDoubleArray()).containsExactly(-3, -2, 0, 1);
  }

  @Test
  void pooling() {
    Tensor x = f32(seq(16), 1, 1, 4, 4);
    assertThat(new MaxPool2d(2).apply(Params.empty(), x, Mode.TRAIN).toDoubleArray()).containsExactly(6, 8, 14, 16);
    assertThat(new AvgPool2d(2).apply(Params.empty(), x, Mode.TRAIN).toDoubleArray())
        .containsExactly(3.5, 5.5, 11.5, 13.5);
    // Window 3, stride 1, padding 1 on a 2x2 map: every window covers all four values.
    Tensor small = f32(new double[] {1, 2, 3, 4}, 1, 1, 2, 2);
    assertThat(new MaxPool2d(3, 1, 1).apply(Params.empty(), small, Mode.TRAIN).toDoubleArray())
        .containsExactly(4, 4, 4, 4);
    // Zero padding counts in the mean: 10 / 9.
    assertThat(new AvgPool2d(3, 1, 1).apply(Params.empty(), small, Mode.TRAIN).toDoubleArray())
        .containsExactly(new double[] {10 / 9.0, 10 / 9.0, 10 / 9.0, 10 / 9.0}, within(1e-6));
    // Max pooling with negative values and padding: the padding is -infinity, not 0.
    Tensor neg = f32(new double[] {-1, -2, -3, -4}, 1, 1, 2, 2);
    assertThat(new MaxPool2d(3, 1, 1).apply(Params.empty(), neg, Mode.TRAIN).toDoubleArray())
        .containsExactly(-1, -1, -1, -1);
    assertThat(new GlobalAvgPool2d().apply(Params.empty(), x, Mode.TRAIN).toDoubleArray()).containsExactly(8.5);
  }

  @Test
  void activationsAndFlatten() {
    Tensor x = f32(new double[] {-2, -0.5, 0, 3}, 2, 2);
    assertThat(new ReLU().apply(Params.empty(), x, Mode.TRAIN).toDoubleArray()).containsExactly(0, 0, 0, 3);
    assertThat(new LeakyReLU(0.1).apply(Params.empty(), x, Mode.TRAIN).toDoubleArray())
        .containsExactly(new double[] {-0.2, -0.05, 0, 3}, within(1e-7));
    assertThat(new LeakyReLU().slope()).isEqualTo(0.01);
    Tensor img = Tensor.zeros(5, 4, 2, 3);
    assertThat(new Flatten().apply(Params.empty(), img, Mode.TRAIN).shape()).containsExactly(5, 24);
  }

  @Test
  void dropout() {
    Tensor x = Tensor.ones(DType.FLOAT32, 1000);
    Dropout d = new Dropout(0.5);
    assertThat(d.apply(Params.empty(), x, Mode.EVAL.withRng(new Rng(1)))).isSameAs(x);
    assertThat(d.apply(Params.empty(), x, Mode.TRAIN)).isSameAs(x);
    double[] a = d.apply(Params.empty(), x, Mode.train().withRng(new Rng(3))).toDoubleArray();
    double[] b = d.apply(Params.empty(), x, Mode.train().withRng(new Rng(3))).toDoubleArray();
    assertThat(a).containsExactly(b);
    int zeros = 0;
    for (double v : a) {
      assertThat(v).isIn(0.0, 2.0);
      zeros += v == 0 ? 1 : 0;
    }
    assertThat(zeros).isBetween(420, 580);
    assertThatThrownBy(() -> new Dropout(1)).hasMessageContaining("[0, 1)");
  }

  @Test
  void sequentialNamesAndNesting() {
    Sequential net = Sequential.of(new Linear(1, 4), new ReLU(), new Linear(4, 2));
    Params p = net.init(new Rng(0));
    assertThat(p.names()).containsExactly("0.weight", "0.bias", "2.weight", "2.bias");
    Sequential outer = Sequential.builder().add("features", net).add("head", new Linear(2, 3)).build();
    Params q = outer.init(new Rng(0));
    assertThat(q.names()).containsExactly("features.0.weight", "features.0.bias", "features.2.weight",
        "features.2.bias", "head.weight", "head.bias");
    // Same seed, same draws in the same order: nesting does not change the values.
    assertThat(q.get("features.2.weight").toDoubleArray()).containsExactly(p.get("2.weight").toDoubleArray());
    Tensor x = f32(new double[] {0.5, -1, 2}, 3, 1);
    Tensor y = outer.apply(q, x, Mode.TRAIN);
    Tensor manual = outer.get("head").apply(q.sub("head"), net.apply(q.sub("features"), x, Mode.TRAIN), Mode.TRAIN);
    assertThat(y.toDoubleArray()).containsExactly(manual.toDoubleArray());
    assertThat(net.slice(0, 2).apply(p, x, Mode.TRAIN).shape()).containsExactly(3, 4);
    assertThat(net.names()).containsExactly("0", "1", "2");
  }

  @Test
  void sequentialRejectsBadNames() {
    assertThatThrownBy(() -> Sequential.builder().add("a.b", new ReLU())).hasMessageContaining("'a.b'");
    assertThatThrownBy(() -> Sequential.builder().add("a", new ReLU()).add("a", new ReLU()))
        .hasMessageContaining("duplicate child name 'a'");
    assertThatThrownBy(() -> Sequential.of(new ReLU()).get("x")).hasMessageContaining("no child 'x'");
  }

  @Test
  void badInputMessagesNameLayerAndShapes() {
    Conv2d conv = new Conv2d(1, 64, 3, ConvSpec.defaults().padding(1));
    Params p = conv.init(new Rng(0));
    assertThatThrownBy(() -> conv.apply(p, Tensor.zeros(5, 3, 28, 28), Mode.TRAIN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Conv2d(1->64, k=3): expected input [N, 1, H, W], got [5, 3, 28, 28]");
    assertThatThrownBy(() -> new Conv2d(1, 4, 5, ConvSpec.defaults()).apply(new Conv2d(1, 4, 5, ConvSpec.defaults())
        .init(new Rng(0)), Tensor.zeros(1, 1, 3, 3), Mode.TRAIN)).hasMessageContaining("smaller than the 5x5 kernel");
    Linear fc = new Linear(784, 256);
    assertThatThrownBy(() -> fc.apply(fc.init(new Rng(0)), Tensor.zeros(5, 28, 28), Mode.TRAIN))
        .hasMessage("Linear(784->256): expected input [..., 784], got [5, 28, 28]");
    assertThatThrownBy(() -> fc.apply(Params.empty(), Tensor.zeros(5, 784), Mode.TRAIN))
        .hasMessage("Linear(784->256): missing parameter 'weight' (have [])");
    Params wrong = Params.of("weight", Tensor.zeros(256, 100)).with("bias", Tensor.zeros(256));
    assertThatThrownBy(() -> fc.apply(wrong, Tensor.zeros(5, 784), Mode.TRAIN))
        .hasMessage("Linear(784->256): parameter 'weight' has shape [256, 100], expected [256, 784]");
    assertThatThrownBy(() -> new MaxPool2d(2).apply(Params.empty(), Tensor.zeros(5, 28), Mode.TRAIN))
        .hasMessage("MaxPool2d(k=2): expected input [N, C, H, W], got [5, 28]");
    assertThatThrownBy(() -> new MaxPool2d(2).apply(Params.empty(), Tensor.zeros(1, 1, 1, 1), Mode.TRAIN))
        .hasMessageContaining("smaller than the window");
    assertThatThrownBy(() -> new Linear(0, 3)).hasMessageContaining("in features must be >= 1");
  }

  @Test
  void errorsInsideSequentialCarryThePath() {
    Sequential inner = Sequential.of(new Linear(4, 3), new ReLU(), new Linear(2, 1));
    Sequential outer = Sequential.builder().add("features", inner).build();
    Params p = outer.init(new Rng(0));
    assertThatThrownBy(() -> outer.apply(p, Tensor.zeros(2, 4), Mode.TRAIN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("at features.2: Linear(2->1): expected input [..., 2], got [2, 3]");
    assertThatThrownBy(() -> outer.apply(p.without("features.0.bias"), Tensor.zeros(2, 4), Mode.TRAIN))
        .hasMessage("at features.0: Linear(4->3): missing parameter 'bias' (have [weight])");
  }
}
