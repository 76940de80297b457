package org.metagrad;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.metagrad.spi.ConvGeometry;

/**
 * Orders 1 and 2 of every primitive and composite against central finite differences in FLOAT64,
 * including broadcast shapes, size-1 and zero-size dims and odd lengths.
 */
class GradCheckOpsTest {

  private static Tensor rnd(long seed, int... shape) {
    return Tensor.randn(new Rng(seed), DType.FLOAT64, shape);
  }

  private static Tensor pos(long seed, int... shape) {
    return Tensor.uniform(new Rng(seed), 0.5, 2.0, DType.FLOAT64, shape);
  }

  /** Values kept away from kinks (relu, abs, max ties) so finite differences are meaningful. */
  private static Tensor awayFromZero(long seed, int... shape) {
    Rng r = new Rng(seed);
    double[] v = new double[Shapes.numel(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (0.2 + r.nextDouble()) * (r.nextDouble() < 0.5 ? -1 : 1) + i * 1e-3;
    }
    return Tensor.of(v, DType.FLOAT64, shape);
  }

  private static Arguments c(String name, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
    return Arguments.of(name, f, List.of(inputs));
  }

  static Stream<Arguments> cases() {
    List<Arguments> l = new ArrayList<>();
    l.add(c("neg", x -> x.get(0).neg(), rnd(1, 3, 4)));
    l.add(c("exp", x -> x.get(0).exp(), rnd(2, 7)));
    l.add(c("log", x -> x.get(0).log(), pos(3, 2, 3)));
    l.add(c("sqrt", x -> x.get(0).sqrt(), pos(4, 13)));
    l.add(c("tanh", x -> x.get(0).tanh(), rnd(5, 3, 1, 2)));
    l.add(c("pow 3", x -> x.get(0).pow(3), rnd(6, 5)));
    l.add(c("pow -1.5", x -> x.get(0).pow(-1.5), pos(7, 4)));
    l.add(c("pow tensor", x -> x.get(0).pow(x.get(1)), pos(8, 3), rnd(9, 3)));
    l.add(c("add broadcast", x -> x.get(0).add(x.get(1)), rnd(10, 2, 3), rnd(11, 3)));
    l.add(c("sub broadcast size-1", x -> x.get(0).sub(x.get(1)), rnd(12, 2, 1, 3), rnd(13, 4, 1)));
    l.add(c("mul broadcast", x -> x.get(0).mul(x.get(1)), rnd(14, 3, 1), rnd(15, 1, 5)));
    l.add(c("div broadcast", x -> x.get(0).div(x.get(1)), rnd(16, 2, 3), pos(17, 2, 1)));
    l.add(c("mul scalar tensor", x -> x.get(0).mul(x.get(1)), rnd(18, 7), rnd(19)));
    l.add(c("zero-size add", x -> x.get(0).add(x.get(1)).sum().add(x.get(2).sum()), rnd(20, 0, 3), rnd(21, 3),
        rnd(22, 2)));
    l.add(c("where", x -> Tensor.where(x.get(0).gt(0), x.get(0).mul(x.get(1)), x.get(1).exp()), awayFromZero(23, 3, 4),
        rnd(24, 4)));
    l.add(c("maximum", x -> x.get(0).maximum(x.get(1)), awayFromZero(25, 5), awayFromZero(26, 5).mul(0.5)));
    l.add(c("minimum", x -> x.get(0).minimum(x.get(1)), awayFromZero(27, 5), awayFromZero(28, 1)));
    l.add(c("abs", x -> x.get(0).abs(), awayFromZero(29, 6)));
    l.add(c("relu", x -> x.get(0).relu().mul(x.get(0)), awayFromZero(30, 8)));
    l.add(c("sigmoid", x -> x.get(0).sigmoid(), rnd(31, 2, 5).mul(3.0)));
    l.add(c("clamp", x -> x.get(0).clamp(-0.5, 0.5), awayFromZero(32, 7)));
    l.add(c("sum all", x -> x.get(0).mul(x.get(0)).sum(), rnd(33, 3, 4)));
    l.add(c("sum dims keepDim", x -> x.get(0).pow(2).sum(new int[] {0, 2}, true), rnd(34, 3, 2, 5)));
    l.add(c("sum dim", x -> x.get(0).pow(2).sum(1, false), rnd(35, 3, 65)));
    l.add(c("mean", x -> x.get(0).pow(3).mean(-1, true), rnd(36, 2, 7)));
    l.add(c("max dim", x -> x.get(0).max(1, false).pow(2), awayFromZero(37, 3, 4)));
    l.add(c("max all", x -> x.get(0).max().mul(x.get(0).sum()), awayFromZero(38, 13)));
    l.add(c("min dims", x -> x.get(0).min(new int[] {0}, true).exp(), awayFromZero(39, 3, 2)));
    l.add(c("var unbiased", x -> x.get(0).var(new int[] {1}, false, 1), rnd(40, 2, 5)));
    l.add(c("var biased all", x -> x.get(0).var(new int[] {0, 1}, true, 0), rnd(41, 3, 3)));
    l.add(c("reshape", x -> x.get(0).reshape(4, -1).pow(2).mul(x.get(1)), rnd(42, 2, 6), rnd(43, 3)));
    l.add(c("permute", x -> x.get(0).permute(2, 0, 1).pow(2).reshape(-1), rnd(44, 2, 3, 4)));
    l.add(c("transpose view reshape", x -> x.get(0).mT().reshape(-1).exp(), rnd(45, 3, 5)));
    l.add(c("expand", x -> x.get(0).expand(4, 3, 2).pow(2).mul(x.get(1)), rnd(46, 3, 1), rnd(47, 4, 1, 2)));
    l.add(c("slice", x -> x.get(0).slice(1, 1, 4).pow(3), rnd(48, 2, 5)));
    l.add(c("select", x -> x.get(0).select(0, -1).exp(), rnd(49, 3, 2)));
    l.add(c("squeeze unsqueeze", x -> x.get(0).unsqueeze(1).squeeze(2).pow(2), rnd(50, 3, 1)));
    l.add(c("pad", x -> x.get(0).pad(new int[] {1, 0}, new int[] {2, 3}).pow(2).mul(x.get(1)), rnd(51, 2, 2),
        rnd(52, 5, 5)));
    l.add(c("concat", x -> Tensor.concat(List.of(x.get(0), x.get(1).pow(2), x.get(0)), 1).exp(), rnd(53, 2, 1),
        rnd(54, 2, 3)));
    l.add(c("stack", x -> Tensor.stack(List.of(x.get(0), x.get(1)), 0).pow(3), rnd(55, 3), rnd(56, 3)));
    l.add(c("flatten", x -> x.get(0).flatten(1, 2).pow(2), rnd(57, 2, 3, 2)));
    l.add(c("contiguous", x -> x.get(0).mT().contiguous().pow(2), rnd(58, 3, 2)));
    l.add(c("matmul", x -> x.get(0).matmul(x.get(1)), rnd(60, 3, 4), rnd(61, 4, 2)));
    l.add(c("matmul batched broadcast", x -> x.get(0).matmul(x.get(1)).pow(2), rnd(62, 2, 1, 3, 4),
        rnd(63, 3, 4, 2)));
    l.add(c("matmul transposed views", x -> x.get(0).mT().matmul(x.get(1).mT()), rnd(64, 4, 3), rnd(65, 2, 4)));
    l.add(c("matmul vector", x -> x.get(0).matmul(x.get(1)).pow(2), rnd(66, 3, 5), rnd(67, 5)));
    l.add(c("matmul zero-size K", x -> x.get(0).matmul(x.get(1)).add(x.get(2)), rnd(68, 2, 0), rnd(69, 0, 3),
        rnd(70, 2, 3)));
    ConvGeometry g = new ConvGeometry(2, 2, 5, 4, 3, 2, 2, 1, 1, 0, 1, 2);
    l.add(c("unfold", x -> x.get(0).unfold(g).pow(2), rnd(71, 2, 2, 5, 4)));
    l.add(c("fold", x -> x.get(0).fold(g).pow(2), rnd(72, 2, g.rows(), g.cols())));
    l.add(c("conv2d", x -> F.conv2d(x.get(0), x.get(1), x.get(2), ConvSpec.defaults().padding(1)).pow(2), rnd(73, 2, 2, 5, 5),
        rnd(74, 3, 2, 3, 3), rnd(75, 3)));
    l.add(c("conv2d stride dilation", x -> F.conv2d(x.get(0), x.get(1), null,
        ConvSpec.defaults().stride(2).dilation(2).padding(1)).tanh(), rnd(76, 1, 2, 7, 6), rnd(77, 2, 2, 2, 3)));
    l.add(c("maxPool2d", x -> F.maxPool2d(x.get(0), 2, 2, 0).pow(2), awayFromZero(78, 2, 2, 5, 4)));
    l.add(c("maxPool2d overlapping padded", x -> F.maxPool2d(x.get(0), 3, 2, 1).pow(2),
        awayFromZero(79, 1, 2, 5, 5)));
    l.add(c("avgPool2d", x -> F.avgPool2d(x.get(0), 2, 2, 0).pow(2), rnd(80, 1, 2, 4, 5)));
    l.add(c("avgPool2d padded", x -> F.avgPool2d(x.get(0), 3, 1, 1).pow(2), rnd(81, 1, 1, 4, 4)));
    l.add(c("batchNorm batch stats 4d", x -> F.batchNorm(x.get(0), x.get(1), x.get(2), F.BN_EPS).pow(3),
        rnd(82, 3, 2, 2, 3), pos(83, 2), rnd(84, 2)));
    l.add(c("batchNorm batch stats 2d", x -> F.batchNorm(x.get(0), x.get(1), null, F.BN_EPS).mul(x.get(0)),
        rnd(85, 5, 3), pos(86, 3)));
    l.add(c("batchNorm given stats", x -> F.batchNormWithStats(x.get(0), x.get(1), x.get(2), x.get(3), null, F.BN_EPS).pow(2),
        rnd(87, 2, 3, 2, 2), rnd(88, 3), pos(89, 3), pos(90, 3)));
    l.add(c("logSoftmax", x -> F.logSoftmax(x.get(0), 1), rnd(91, 3, 5)));
    l.add(c("softmax", x -> F.softmax(x.get(0), 0), rnd(92, 4, 2)));
    l.add(c("logSumExp", x -> F.logSumExp(x.get(0), -1, false), rnd(93, 2, 7)));
    l.add(c("crossEntropy", x -> F.crossEntropy(x.get(0), new int[] {2, 0, 1, 2}), rnd(94, 4, 3)));
    l.add(c("mse", x -> F.mse(x.get(0), x.get(1)), rnd(95, 3, 2), rnd(96, 3, 2)));
    l.add(c("linear", x -> F.linear(x.get(0), x.get(1), x.get(2)).tanh(), rnd(97, 4, 3), rnd(98, 2, 3), rnd(99, 2)));
    l.add(c("squaredDistances", x -> F.squaredDistances(x.get(0), x.get(1)), rnd(100, 3, 4), rnd(101, 2, 4)));
    l.add(c("cosineSimilarity", x -> F.cosineSimilarity(x.get(0), x.get(1), 1e-8), rnd(102, 3, 4), rnd(103, 2, 4)));
    l.add(c("pad2d", x -> F.pad2d(x.get(0), 1).exp(), rnd(104, 1, 1, 2, 3)));
    l.add(c("reciprocal square", x -> x.get(0).reciprocal().add(x.get(0).square()), pos(105, 4)));
    return l.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void orderOne(String name, Function<List<Tensor>, Tensor> f, List<Tensor> inputs) {
    GradCheck.Report r = GradCheck.check(f, inputs, 1);
    assertThat(r.passed()).as(r.toString()).isTrue();
    assertThat(r.elementsChecked()).isEqualTo(inputs.stream().mapToInt(Tensor::numel).sum());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void orderTwo(String name, Function<List<Tensor>, Tensor> f, List<Tensor> inputs) {
    GradCheck.Report r = GradCheck.check(f, inputs, 2);
    assertThat(r.passed()).as(r.toString()).isTrue();
  }
}
