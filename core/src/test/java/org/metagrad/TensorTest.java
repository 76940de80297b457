package org.metagrad;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.spi.ConvGeometry;

/** Forward values against hand-computed cases, views, broadcasting and bad-input messages. */
class TensorTest {

  private static Tensor t(double[] v, int... shape) {
    return Tensor.of(v, shape);
  }

  @Test
  void firstNonFiniteIndexFindsNaNAndInfinitiesInRowMajorOrder() {
    assertThat(Tensor.of(new double[] {1, 2, 3, 4}, 2, 2).firstNonFiniteIndex()).isEqualTo(-1);
    assertThat(Tensor.of(new double[] {1, 2, Double.NEGATIVE_INFINITY, Double.NaN}, 2, 2).firstNonFiniteIndex())
        .isEqualTo(2);
    assertThat(Tensor.of(new float[] {1, Float.NaN, 3, 4}, 2, 2).permute(1, 0).firstNonFiniteIndex()).isEqualTo(2);
    assertThat(Tensor.zeros(DType.FLOAT64, 0).firstNonFiniteIndex()).isEqualTo(-1);
  }

  @Test
  void convSpecChainsKeepEverySettingInAnyOrder() {
    // Before, padding(int) was static: defaults().stride(2).padding(1) called it through the instance and
    // silently dropped the stride.
    ConvSpec a = ConvSpec.defaults().stride(2).padding(1);
    ConvSpec b = ConvSpec.defaults().padding(1).stride(2);
    assertThat(a).isEqualTo(b).isEqualTo(new ConvSpec(2, 2, 1, 1, 1, 1));
    assertThat(ConvSpec.defaults().dilation(2).padding(2).stride(3)).isEqualTo(new ConvSpec(3, 3, 2, 2, 2, 2));
  }

  @Test
  void fReluAndZipUpdateAListOfParametersInOneCall() {
    Tensor x = Tensor.of(new double[] {-1, Double.NaN, 2}, 3);
    assertThat(F.relu(x).toDoubleArray()).containsExactly(0, Double.NaN, 2);
    List<Tensor> p = List.of(Tensor.of(new double[] {1, 2}, 2), Tensor.scalar(3, DType.FLOAT64));
    List<Tensor> g = List.of(Tensor.of(new double[] {10, 20}, 2), Tensor.scalar(30, DType.FLOAT64));
    List<Tensor> next = F.zip(p, g, (a, b) -> a.sub(b.mul(0.1)));
    assertThat(next.get(0).toDoubleArray()).containsExactly(0, 0);
    assertThat(next.get(1).item()).isEqualTo(0.0);
    assertThatThrownBy(() -> F.zip(p, g.subList(0, 1), Tensor::add)).hasMessageContaining("lists of 2 and 1 tensors");
  }

  @Test
  void writingIntoAViewsShapeOrStridesDoesNotChangeTheTensor() {
    Tensor t = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
    org.metagrad.spi.View v = t.view();
    v.shape()[0] = 6;
    v.shape()[1] = 1;
    v.strides()[0] = 0;
    assertThat(t.shape()).containsExactly(2, 3);
    assertThat(t.view().strides()).containsExactly(3, 1);
    assertThat(t.sum(1, false).toDoubleArray()).containsExactly(6, 15);
  }

  @Test
  void factoriesAndConversions() {
    assertThat(Tensor.zeros(2, 3).toFloatArray()).containsOnly(0f).hasSize(6);
    assertThat(Tensor.ones(DType.FLOAT64, 2).toDoubleArray()).containsExactly(1, 1);
    assertThat(Tensor.full(7, DType.FLOAT32, 2, 2).dtype()).isEqualTo(DType.FLOAT32);
    assertThat(Tensor.arange(4).toDoubleArray()).containsExactly(0, 1, 2, 3);
    assertThat(Tensor.arange(1, 2, 0.25, DType.FLOAT64).toDoubleArray()).containsExactly(1, 1.25, 1.5, 1.75);
    assertThat(Tensor.eye(3, DType.FLOAT64).toDoubleArray()).containsExactly(1, 0, 0, 0, 1, 0, 0, 0, 1);
    assertThat(Tensor.scalar(2.5).rank()).isZero();
    assertThat(Tensor.scalar(2.5).item()).isEqualTo(2.5);
    assertThat(Tensor.zeros(0, 3).numel()).isZero();
    Tensor r1 = Tensor.randn(new Rng(7), DType.FLOAT64, 100);
    Tensor r2 = Tensor.randn(new Rng(7), DType.FLOAT64, 100);
    assertThat(r1.toDoubleArray()).containsExactly(r2.toDoubleArray());
    double[] u = Tensor.rand(new Rng(3), DType.FLOAT64, 1000).toDoubleArray();
    for (double x : u) {
      assertThat(x).isBetween(0.0, 1.0);
    }
  }

  @Test
  void theCallersArrayIsCopied() {
    double[] v = {1, 2};
    Tensor x = t(v, 2);
    v[0] = 100;
    assertThat(x.toDoubleArray()).containsExactly(1, 2);
  }

  @Test
  void toStringShowsShapeDtypeAndAbbreviatedValues() {
    assertThat(t(new double[] {1, 2, 3, 4, 5, 6}, 2, 3).toString())
        .isEqualTo("Tensor[2, 3] FLOAT64 [[1., 2., 3.], [4., 5., 6.]]");
    assertThat(Tensor.arange(10).toString()).contains("[0., 1., 2., ..., 7., 8., 9.]").contains("FLOAT32");
    assertThat(Tensor.scalar(0.5, DType.FLOAT64).toString()).isEqualTo("Tensor[] FLOAT64 0.5000");
  }

  @Test
  void elementwiseForward() {
    Tensor a = t(new double[] {1, 4, 9}, 3);
    assertThat(a.sqrt().toDoubleArray()).containsExactly(1, 2, 3);
    assertThat(a.neg().toDoubleArray()).containsExactly(-1, -4, -9);
    assertThat(a.log().exp().toDoubleArray()).containsExactly(new double[] {1, 4, 9}, within(1e-12));
    assertThat(a.pow(0.5).toDoubleArray()).containsExactly(1, 2, 3);
    assertThat(t(new double[] {-2, 0, 3}, 3).abs().toDoubleArray()).containsExactly(2, 0, 3);
    assertThat(t(new double[] {-2, 0, 3}, 3).relu().toDoubleArray()).containsExactly(0, 0, 3);
    assertThat(t(new double[] {0}, 1).sigmoid().item()).isEqualTo(0.5);
    assertThat(t(new double[] {-800, 800}, 2).sigmoid().toDoubleArray()).containsExactly(0, 1);
    assertThat(t(new double[] {0.5}, 1).tanh().item()).isCloseTo(Math.tanh(0.5), within(1e-15));
    assertThat(t(new double[] {1, 5}, 2).maximum(t(new double[] {3, 2}, 2)).toDoubleArray()).containsExactly(3, 5);
    assertThat(t(new double[] {1, 5}, 2).minimum(t(new double[] {3, 2}, 2)).toDoubleArray()).containsExactly(1, 2);
    assertThat(t(new double[] {-3, 0.5, 3}, 3).clamp(-1, 1).toDoubleArray()).containsExactly(-1, 0.5, 1);
    assertThat(t(new double[] {1, 2}, 2).gt(1.5).toDoubleArray()).containsExactly(0, 1);
    assertThat(t(new double[] {1, 2}, 2).eq(2).toDoubleArray()).containsExactly(0, 1);
    Tensor w = Tensor.where(t(new double[] {1, 0}, 2), t(new double[] {10, 20}, 2), Tensor.scalar(-1, DType.FLOAT64));
    assertThat(w.toDoubleArray()).containsExactly(10, -1);
  }

  @Test
  void broadcastingFollowsNumpy() {
    Tensor a = t(new double[] {1, 2, 3}, 3, 1);
    Tensor b = t(new double[] {10, 20}, 2);
    Tensor s = a.add(b);
    assertThat(s.shape()).containsExactly(3, 2);
    assertThat(s.toDoubleArray()).containsExactly(11, 21, 12, 22, 13, 23);
    assertThat(a.mul(Tensor.scalar(2, DType.FLOAT64)).toDoubleArray()).containsExactly(2, 4, 6);
    assertThat(t(new double[] {8, 9}, 2).div(t(new double[] {2, 3}, 2)).toDoubleArray()).containsExactly(4, 3);
    assertThat(t(new double[] {8, 9}, 2).sub(1).toDoubleArray()).containsExactly(7, 8);
  }

  @Test
  void reductions() {
    Tensor x = t(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
    assertThat(x.sum().item()).isEqualTo(21);
    assertThat(x.sum(0, false).toDoubleArray()).containsExactly(5, 7, 9);
    assertThat(x.sum(1, true).shape()).containsExactly(2, 1);
    assertThat(x.sum(1, true).toDoubleArray()).containsExactly(6, 15);
    assertThat(x.mean(-1, false).toDoubleArray()).containsExactly(2, 5);
    assertThat(x.max(1, false).toDoubleArray()).containsExactly(3, 6);
    assertThat(x.max().item()).isEqualTo(6);
    assertThat(x.min(new int[] {0}, false).toDoubleArray()).containsExactly(1, 2, 3);
    assertThat(x.var(new int[] {1}, false, 1).toDoubleArray()).containsExactly(1, 1);
    assertThat(x.var(new int[] {0, 1}, false, 0).item()).isCloseTo(35.0 / 12, within(1e-12));
    assertThat(Tensor.zeros(DType.FLOAT64, 0, 3).sum(0, false).toDoubleArray()).containsExactly(0, 0, 0);
  }

  @Test
  void maxGradientIsSharedBetweenTies() {
    Tensor x = t(new double[] {2, 5, 5, 1}, 4).requiresGrad(true);
    double[] g = Autograd.grad(x.max(), List.of(x)).get(0).toDoubleArray();
    assertThat(g).containsExactly(0, 0.5, 0.5, 0);
  }

  @Test
  void viewsShareMemoryAndCompose() {
    Tensor x = Tensor.arange(0, 24, 1, DType.FLOAT64).reshape(2, 3, 4);
    Tensor p = x.permute(2, 0, 1);
    assertThat(p.shape()).containsExactly(4, 2, 3);
    assertThat(p.get(1, 1, 2)).isEqualTo(x.get(1, 2, 1));
    assertThat(p.isContiguous()).isFalse();
    assertThat(p.reshape(-1).toDoubleArray()[1]).isEqualTo(4);
    assertThat(x.slice(2, 1, 3).toDoubleArray()).containsExactly(1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22);
    assertThat(x.select(1, -1).toDoubleArray()).containsExactly(8, 9, 10, 11, 20, 21, 22, 23);
    assertThat(x.unsqueeze(0).shape()).containsExactly(1, 2, 3, 4);
    assertThat(x.unsqueeze(-1).shape()).containsExactly(2, 3, 4, 1);
    assertThat(x.unsqueeze(0).squeeze(0).shape()).containsExactly(2, 3, 4);
    assertThat(t(new double[] {1, 2}, 2, 1).expand(2, 3).toDoubleArray()).containsExactly(1, 1, 1, 2, 2, 2);
    assertThat(x.flatten(0, 1).shape()).containsExactly(6, 4);
    assertThat(x.mT().shape()).containsExactly(2, 4, 3);
    assertThat(x.mT().contiguous().isContiguous()).isTrue();
  }

  @Test
  void padConcatStack() {
    Tensor a = t(new double[] {1, 2}, 1, 2);
    assertThat(a.pad(new int[] {1, 0}, new int[] {0, 1}).toDoubleArray()).containsExactly(0, 0, 0, 1, 2, 0);
    Tensor b = t(new double[] {3, 4, 5, 6}, 2, 2);
    assertThat(Tensor.concat(List.of(a, b), 0).toDoubleArray()).containsExactly(1, 2, 3, 4, 5, 6);
    assertThat(Tensor.concat(List.of(b, b.slice(1, 0, 1)), 1).toDoubleArray()).containsExactly(3, 4, 3, 5, 6, 5);
    assertThat(Tensor.stack(List.of(a, a), 0).shape()).containsExactly(2, 1, 2);
  }

  @Test
  void matmulForward() {
    Tensor a = t(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
    Tensor b = t(new double[] {7, 8, 9, 10, 11, 12}, 3, 2);
    assertThat(a.matmul(b).toDoubleArray()).containsExactly(58, 64, 139, 154);
    assertThat(a.matmul(t(new double[] {1, 0, -1}, 3)).toDoubleArray()).containsExactly(-2, -2);
    Tensor batch = Tensor.stack(List.of(a, a.mul(2.0)), 0);
    Tensor r = batch.matmul(b);
    assertThat(r.shape()).containsExactly(2, 2, 2);
    assertThat(r.toDoubleArray()).containsExactly(58, 64, 139, 154, 116, 128, 278, 308);
    assertThat(b.mT().matmul(a.mT()).toDoubleArray()).containsExactly(58, 139, 64, 154);
    assertThat(Tensor.zeros(DType.FLOAT64, 2, 0).matmul(Tensor.zeros(DType.FLOAT64, 0, 3)).toDoubleArray())
        .containsOnly(0.0).hasSize(6);
  }

  @Test
  void convAndPoolingForwardByHand() {
    // 1x1x3x3 image, 2x2 kernel of ones: each output is the sum of a 2x2 window.
    Tensor x = Tensor.arange(1, 10, 1, DType.FLOAT64).reshape(1, 1, 3, 3);
    Tensor w = Tensor.ones(DType.FLOAT64, 1, 1, 2, 2);
    Tensor y = F.conv2d(x, w, Tensor.of(new double[] {0.5}, 1), ConvSpec.defaults());
    assertThat(y.toDoubleArray()).containsExactly(12.5, 16.5, 24.5, 28.5);
    Tensor yp = F.conv2d(x, w, null, ConvSpec.defaults().padding(1));
    assertThat(yp.shape()).containsExactly(1, 1, 4, 4);
    assertThat(yp.toDoubleArray()[0]).isEqualTo(1);
    assertThat(yp.toDoubleArray()[5]).isEqualTo(12);
    Tensor big = Tensor.arange(0, 16, 1, DType.FLOAT64).reshape(1, 1, 4, 4);
    assertThat(F.maxPool2d(big, 2, 2, 0).toDoubleArray()).containsExactly(5, 7, 13, 15);
    assertThat(F.avgPool2d(big, 2, 2, 0).toDoubleArray()).containsExactly(2.5, 4.5, 10.5, 12.5);
    assertThat(F.maxPool2d(big, 3, 1, 1).toDoubleArray()[0]).isEqualTo(5);
    assertThat(F.maxPool2d(big.neg(), 3, 1, 1).toDoubleArray()[0]).isEqualTo(0);
    ConvGeometry g = new ConvGeometry(1, 1, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1);
    assertThat(x.unfold(g).toDoubleArray()).containsExactly(1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9);
    // fold of unfold counts how many windows cover each pixel.
    assertThat(Tensor.ones(DType.FLOAT64, 1, 1, 3, 3).unfold(g).fold(g).toDoubleArray())
        .containsExactly(1, 2, 1, 2, 4, 2, 1, 2, 1);
  }

  @Test
  void lossesAndNormalisationByHand() {
    Tensor logits = t(new double[] {0, 0, 0, 1, 2, 3}, 2, 3);
    double ce = F.crossEntropy(logits, new int[] {0, 2}).item();
    double expected = (Math.log(3) + (Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3)) / 2;
    assertThat(ce).isCloseTo(expected, within(1e-12));
    assertThat(F.softmax(logits, 1).sum(1, false).toDoubleArray()).containsExactly(new double[] {1, 1}, within(1e-12));
    assertThat(F.mse(t(new double[] {1, 2}, 2), t(new double[] {3, 2}, 2)).item()).isEqualTo(2);
    Tensor x = t(new double[] {1, 3, 2, 6}, 2, 2); // channel 0: {1, 2}, channel 1: {3, 6}
    double[] bn = F.batchNorm(x, null, null, 0).toDoubleArray();
    assertThat(bn).containsExactly(new double[] {-1, -1, 1, 1}, within(1e-12));
    double[] bnEval = F.batchNormWithStats(x, t(new double[] {1, 3}, 2), t(new double[] {4, 9}, 2), null, null, 0)
        .toDoubleArray();
    assertThat(bnEval).containsExactly(new double[] {0, 0, 0.5, 1}, within(1e-12));
    assertThat(F.oneHot(new int[] {1, 0}, 3, DType.FLOAT32).toFloatArray()).containsExactly(0, 1, 0, 1, 0, 0);
    assertThat(F.squaredDistances(t(new double[] {0, 0, 1, 1}, 2, 2), t(new double[] {1, 0}, 1, 2)).toDoubleArray())
        .containsExactly(1, 1);
    assertThat(F.cosineSimilarity(t(new double[] {1, 0}, 1, 2), t(new double[] {2, 0, 0, 3}, 2, 2), 1e-8).toDoubleArray())
        .containsExactly(new double[] {1, 0}, within(1e-12));
  }

  @Test
  void castGradientIsCastBack() {
    Tensor x = t(new double[] {1.5, -2}, 2).requiresGrad(true);
    Tensor y = x.to(DType.FLOAT32).mul(Tensor.of(new float[] {2, 3}, 2)).sum();
    assertThat(y.dtype()).isEqualTo(DType.FLOAT32);
    Tensor g = Autograd.grad(y, List.of(x)).get(0);
    assertThat(g.dtype()).isEqualTo(DType.FLOAT64);
    assertThat(g.toDoubleArray()).containsExactly(2, 3);
  }

  @Test
  void badInputsNameTheOpAndShapes() {
    Tensor a = Tensor.zeros(DType.FLOAT64, 2, 3);
    assertThatThrownBy(() -> a.add(Tensor.zeros(DType.FLOAT64, 4)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("add: shapes [2, 3] and [4] cannot be broadcast");
    assertThatThrownBy(() -> a.matmul(Tensor.zeros(DType.FLOAT64, 4, 5)))
        .hasMessage("matmul: cannot contract [2, 3] with [4, 5] (3 != 4)");
    assertThatThrownBy(() -> a.add(Tensor.zeros(DType.FLOAT32, 2, 3)))
        .hasMessageContaining("add: mixed dtypes FLOAT64 and FLOAT32");
    assertThatThrownBy(() -> a.sum(2, false)).hasMessageContaining("sum: dim 2 out of range for a tensor of rank 2");
    assertThatThrownBy(() -> a.reshape(4, 2)).hasMessageContaining("reshape: cannot reshape [2, 3]");
    assertThatThrownBy(() -> a.permute(0, 0)).hasMessageContaining("permute: dim 0 repeated");
    assertThatThrownBy(() -> a.slice(1, 2, 1)).hasMessageContaining("slice: range [2, 1) invalid");
    assertThatThrownBy(() -> a.squeeze(0)).hasMessageContaining("squeeze: dim 0 has size 2");
    assertThatThrownBy(() -> Tensor.of(new double[] {1, 2, 3}, 2, 2))
        .hasMessageContaining("of: 3 values do not fill shape [2, 2]");
    assertThatThrownBy(() -> F.crossEntropy(a, new int[] {0, 3}))
        .hasMessageContaining("crossEntropy: label 3 at position 1 out of range [0, 3)");
    assertThatThrownBy(() -> F.crossEntropy(a, new int[] {0}))
        .hasMessageContaining("crossEntropy: logits [2, 3] do not match 1 labels");
    assertThatThrownBy(() -> F.conv2d(Tensor.zeros(DType.FLOAT64, 1, 2, 5, 5), Tensor.zeros(DType.FLOAT64, 3, 1, 3, 3),
        null, ConvSpec.defaults())).hasMessageContaining("conv2d: input [1, 2, 5, 5] and weight [3, 1, 3, 3]");
    assertThatThrownBy(() -> F.conv2d(Tensor.zeros(DType.FLOAT64, 1, 1, 2, 2), Tensor.zeros(DType.FLOAT64, 1, 1, 3, 3),
        null, ConvSpec.defaults())).hasMessageContaining("does not fit input 2x2");
    assertThatThrownBy(() -> a.item()).hasMessageContaining("item: tensor of shape [2, 3] has 6 elements");
    assertThatThrownBy(() -> Tensor.where(a, a, Tensor.zeros(DType.FLOAT64, 5)))
        .hasMessageContaining("where: shapes");
    assertThatThrownBy(() -> F.batchNorm(a, Tensor.zeros(DType.FLOAT64, 2), null, 1e-5))
        .hasMessageContaining("batchNorm: gamma [2] does not match 3 channels");
    assertThatThrownBy(() -> GradCheck.check(x -> x.get(0).sum(), List.of(Tensor.zeros(2)), 1))
        .hasMessageContaining("GradCheck: input 0 is FLOAT32");
  }
}
