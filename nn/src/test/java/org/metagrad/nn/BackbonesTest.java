package org.metagrad.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.junit.jupiter.api.Test;

/** Names, shapes, feature/head split and messages of the ready backbones. */
class BackbonesTest {
  @Test
  void conv4NamesShapesAndFeatureDim() {
    Network net = Backbones.conv4(1, 64, 28, 5, BnMode.BATCH_STATS);
    Params p = net.init(new Rng(0));
    assertThat(net.featureDim()).isEqualTo(64);
    assertThat(p.names()).startsWith("features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
        "features.4.weight").endsWith("features.13.bias", "head.weight", "head.bias").hasSize(18);
    assertThat(p.get("features.0.weight").shape()).containsExactly(64, 1, 3, 3);
    assertThat(p.get("features.4.weight").shape()).containsExactly(64, 64, 3, 3);
    assertThat(p.get("head.weight").shape()).containsExactly(5, 64);
    // 4 * (64 * 9 + 64 + 128) - 64 * 63 * 9 (first conv has 1 input channel) + 5 * 65
    assertThat(p.numel()).isEqualTo(4L * (64 * 64 * 9 + 64 + 128) - 64 * 63 * 9 + 5 * 65);
  }

  @Test
  void conv4FeatureAndHeadSplit() {
    Network net = Backbones.conv4(1, 4, 28, 3, BnMode.BATCH_STATS);
    Params p = net.init(new Rng(1));
    Tensor x = Tensor.randn(new Rng(2), DType.FLOAT32, 2, 1, 28, 28);
    Tensor f = net.applyFeatures(p, x, Mode.TRAIN);
    assertThat(f.shape()).containsExactly(2, 4);
    Tensor logits = net.apply(p, x, Mode.TRAIN);
    assertThat(logits.shape()).containsExactly(2, 3);
    assertThat(net.applyHead(p, f, Mode.TRAIN).toDoubleArray()).containsExactly(logits.toDoubleArray());
    assertThat(net.headParams(p).names()).containsExactly("head.weight", "head.bias");
    assertThat(net.featureParams(p).size()).isEqualTo(16);
    assertThat(net.withoutHead().apply(p, x, Mode.TRAIN).toDoubleArray()).containsExactly(f.toDoubleArray());
  }

  @Test
  void anilStyleHeadAdaptationKeepsTheFeaturesFixed() {
    Network net = Backbones.conv4(1, 4, 28, 2, BnMode.BATCH_STATS);
    Params p = net.init(new Rng(3));
    Tensor x = Tensor.randn(new Rng(4), DType.FLOAT32, 4, 1, 28, 28);
    int[] y = {0, 1, 0, 1};
    Tensor feats;
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      feats = net.applyFeatures(p, x, Mode.TRAIN);
    }
    Params head = net.headParams(p).requiresGrad(true);
    Params fast = head;
    for (int s = 0; s < 3; s++) {
      Tensor loss = org.metagrad.F.crossEntropy(net.applyHead(fast, feats, Mode.TRAIN), y);
      List<Tensor> g = Autograd.grad(loss, fast.values(), GradOptions.createGraph(true));
      fast = fast.zip(g, (w, gw) -> w.sub(gw.mul(0.5)));
    }
    Tensor after = org.metagrad.F.crossEntropy(net.apply(p.merge(fast), x, Mode.TRAIN), y);
    Tensor before = org.metagrad.F.crossEntropy(net.apply(p, x, Mode.TRAIN), y);
    assertThat(after.item()).isLessThan(before.item());
    // The adapted head is still a function of the initial head: second-order meta-gradients exist.
    List<Tensor> meta = Autograd.grad(after, head.values());
    assertThat(meta.get(0).shape()).containsExactly(2, 4);
  }

  @Test
  void swappingTheHead() {
    Network net = Backbones.conv4(1, 4, 28, 5, BnMode.BATCH_STATS);
    Network ten = net.withHead(10);
    Params p = net.init(new Rng(0));
    Params q = p.merge(ten.initHead(new Rng(1), DType.FLOAT32));
    assertThat(q.get("head.weight").shape()).containsExactly(10, 4);
    assertThat(ten.apply(q, Tensor.zeros(3, 1, 28, 28), Mode.TRAIN).shape()).containsExactly(3, 10);
    // The old 5-way head on the 10-way network is reported with the full path.
    assertThatThrownBy(() -> ten.apply(p, Tensor.zeros(3, 1, 28, 28), Mode.TRAIN))
        .hasMessage("at head: Linear(4->10): parameter 'weight' has shape [5, 4], expected [10, 4]");
  }

  @Test
  void conv4StridedShrinksWithoutPooling() {
    Network net = Backbones.conv4Strided(1, 4, 28, 5, BnMode.BATCH_STATS);
    assertThat(net.featureDim()).isEqualTo(4 * 2 * 2);
    Params p = net.init(new Rng(0));
    assertThat(p.names()).contains("features.0.weight", "features.1.weight", "features.3.weight", "features.9.weight",
        "features.10.bias", "head.weight");
    assertThat(net.apply(p, Tensor.zeros(2, 1, 28, 28), Mode.TRAIN).shape()).containsExactly(2, 5);
  }

  @Test
  void conv4OnMiniImageNetSizes() {
    assertThat(Backbones.conv4(3, 32, 84, 5, BnMode.RUNNING_STATS).featureDim()).isEqualTo(800);
    assertThatThrownBy(() -> Backbones.conv4(1, 8, 8, 5, BnMode.BATCH_STATS)).hasMessageContaining("too small");
  }

  @Test
  void moreBlocksForLargerImages() {
    // 56 -> 28 -> 14 -> 7 -> 3 -> 1: five blocks give the 28 x 28 conv4's [N, hidden] features at 56 x 56
    Network net = Backbones.conv(5, 1, 4, 56, 0, BnMode.BATCH_STATS);
    assertThat(net.featureDim()).isEqualTo(4);
    Params p = net.init(new Rng(0));
    assertThat(p.names()).hasSize(20).contains("features.16.weight", "features.17.bias");
    assertThat(net.apply(p, Tensor.zeros(3, 1, 56, 56), Mode.TRAIN).shape()).containsExactly(3, 4);
    assertThat(Backbones.conv(5, 1, 4, 32, 0, BnMode.BATCH_STATS).toString()).contains("conv5(1->4, 32x32)");
    // four blocks are conv4 itself: same names, same parameters from the same seed
    Params four = Backbones.conv(4, 1, 4, 28, 5, BnMode.BATCH_STATS).init(new Rng(3));
    Params ref = Backbones.conv4(1, 4, 28, 5, BnMode.BATCH_STATS).init(new Rng(3));
    assertThat(four.names()).isEqualTo(ref.names());
    for (String n : ref.names()) {
      assertThat(four.get(n).toDoubleArray()).as(n).containsExactly(ref.get(n).toDoubleArray());
    }
    assertThat(Backbones.convStrided(5, 1, 4, 56, 5, BnMode.BATCH_STATS).featureDim()).isEqualTo(4 * 2 * 2);
    assertThatThrownBy(() -> Backbones.conv(5, 1, 4, 31, 0, BnMode.BATCH_STATS))
        .hasMessageContaining("image size 31 is too small for 5 blocks (at least 32 pixels)");
    assertThatThrownBy(() -> Backbones.conv(0, 1, 4, 28, 0, BnMode.BATCH_STATS)).hasMessageContaining("blocks");
  }

  @Test
  void conv4BadInputMessages() {
    Network net = Backbones.conv4(1, 64, 28, 5, BnMode.BATCH_STATS);
    Params p = net.init(new Rng(0));
    assertThatThrownBy(() -> net.apply(p, Tensor.zeros(5, 3, 28, 28), Mode.TRAIN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("conv4(1->64, 28x28): expected input [N, 1, 28, 28], got [5, 3, 28, 28]");
    assertThatThrownBy(() -> net.apply(p.without("features.4.bias"), Tensor.zeros(2, 1, 28, 28), Mode.TRAIN))
        .hasMessage("at features.4: Conv2d(64->64, k=3): missing parameter 'bias' (have [weight])");
    assertThatThrownBy(() -> net.withoutHead().applyHead(p, Tensor.zeros(2, 64), Mode.TRAIN))
        .hasMessageContaining("no head");
  }

  @Test
  void omniglotMlp() {
    Network net = Backbones.omniglotMlp(5, BnMode.RUNNING_STATS);
    Params p = net.init(new Rng(0));
    assertThat(p.names()).containsExactly("features.0.weight", "features.0.bias", "features.1.weight",
        "features.1.bias", "features.3.weight", "features.3.bias", "features.4.weight", "features.4.bias",
        "features.6.weight", "features.6.bias", "features.7.weight", "features.7.bias", "features.9.weight",
        "features.9.bias", "features.10.weight", "features.10.bias", "head.weight", "head.bias");
    assertThat(p.get("features.6.weight").shape()).containsExactly(64, 128);
    State s = net.newState(DType.FLOAT32);
    assertThat(s.snapshot()).containsKeys("features.1.running_mean", "features.10.running_var");
    Tensor img = Tensor.randn(new Rng(1), DType.FLOAT32, 3, 1, 28, 28);
    Tensor a = net.apply(p, img, Mode.train().withState(s));
    Tensor b = net.apply(p, img.reshape(3, 784), Mode.TRAIN);
    assertThat(a.shape()).containsExactly(3, 5);
    assertThat(a.toDoubleArray()).containsExactly(b.toDoubleArray(), within(1e-5));
  }

  @Test
  void sineMlp() {
    Network net = Backbones.sineMlp();
    Params p = net.init(new Rng(0));
    assertThat(p.names()).containsExactly("features.0.weight", "features.0.bias", "features.2.weight",
        "features.2.bias", "head.weight", "head.bias");
    assertThat(p.numel()).isEqualTo(40 + 40 + 1600 + 40 + 40 + 1);
    assertThat(net.apply(p, Tensor.zeros(10, 1), Mode.TRAIN).shape()).containsExactly(10, 1);
    assertThatThrownBy(() -> net.apply(p, Tensor.zeros(10), Mode.TRAIN))
        .hasMessage("mlp(1-40-40-1): expected input [N, 1], got [10]");
  }

  @Test
  void resnet12() {
    Network net = Backbones.resnet12(3, new int[] {2, 3, 4, 5}, 16, 4, BnMode.RUNNING_STATS);
    assertThat(net.featureDim()).isEqualTo(5);
    Params p = net.init(new Rng(0));
    assertThat(p.names()).startsWith("features.0.conv1.weight", "features.0.bn1.weight", "features.0.bn1.bias",
        "features.0.conv2.weight").contains("features.0.shortcut.0.weight", "features.0.shortcut.1.bias",
        "features.3.conv3.weight").endsWith("head.weight", "head.bias");
    assertThat(p.get("features.1.conv1.weight").shape()).containsExactly(3, 2, 3, 3);
    assertThat(p.get("features.1.shortcut.0.weight").shape()).containsExactly(3, 2, 1, 1);
    State s = net.newState(DType.FLOAT32);
    assertThat(s.snapshot()).containsKeys("features.0.bn1.running_mean", "features.3.shortcut.1.running_var");
    Tensor y = net.apply(p, Tensor.randn(new Rng(1), DType.FLOAT32, 2, 3, 16, 16), Mode.train().withState(s));
    assertThat(y.shape()).containsExactly(2, 4);
    assertThat(s.get("features.2.bn2.num_batches_tracked").item()).isEqualTo(1.0);
    Tensor z = net.apply(p, Tensor.randn(new Rng(1), DType.FLOAT32, 1, 3, 16, 16), Mode.eval().withState(s));
    assertThat(z.shape()).containsExactly(1, 4);
    assertThatThrownBy(() -> Backbones.resnet12(3, new int[] {64, 160, 320}, 84, 5, BnMode.BATCH_STATS))
        .hasMessageContaining("4 channel counts");
    assertThatThrownBy(() -> Backbones.resnet12(3, new int[] {1, 1, 1, 1}, 8, 5, BnMode.BATCH_STATS))
        .hasMessageContaining("at least 16");
  }
}
