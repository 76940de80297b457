package org.metagrad;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.metagrad.spi.ConvGeometry;

/**
 * Every factory and op that allocates rejects an output of more than 2^31-1 elements with one message
 * naming the op and the shape, before allocating anything (so these tests run in a small heap: none of the
 * operands is bigger than a few elements, most are stride-0 views).
 */
class ShapeSizeLimitTest {

  private static void tooBig(ThrowingCallable call, String op, String shape) {
    assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(op + ": shape " + shape + " has more than 2^31-1 elements");
  }

  /** A tensor of the given shape without its memory: one element seen through stride 0. */
  private static Tensor big(int... shape) {
    int[] ones = new int[shape.length];
    java.util.Arrays.fill(ones, 1);
    return Tensor.zeros(ones).expand(shape);
  }

  @Test
  void factories() {
    tooBig(() -> Tensor.zeros(65536, 65536), "zeros", "[65536, 65536]");
    tooBig(() -> Tensor.zeros(DType.FLOAT64, 65536, 65536), "zeros", "[65536, 65536]");
    tooBig(() -> Tensor.ones(3, 1 << 30), "ones", "[3, 1073741824]");
    tooBig(() -> Tensor.full(2, DType.FLOAT32, 1 << 16, 1 << 16, 2), "full", "[65536, 65536, 2]");
    tooBig(() -> Tensor.rand(new Rng(1), DType.FLOAT32, 50000, 50000), "rand", "[50000, 50000]");
    tooBig(() -> Tensor.uniform(new Rng(1), 0, 1, DType.FLOAT32, 50000, 50000), "uniform", "[50000, 50000]");
    tooBig(() -> Tensor.randn(new Rng(1), DType.FLOAT64, 50000, 50000), "randn", "[50000, 50000]");
    tooBig(() -> Tensor.of(new double[1], 65536, 65536), "of", "[65536, 65536]");
    tooBig(() -> Tensor.of(new float[1], 65536, 65536), "of", "[65536, 65536]");
    tooBig(() -> Tensor.eye(46341, DType.FLOAT32), "eye", "[46341, 46341]");
    tooBig(() -> Tensor.arange(0, 3e9, 1, DType.FLOAT32), "arange", "[3000000000]");
    tooBig(() -> Tensor.arange(-2e9, 2e9, 0.5, DType.FLOAT64), "arange", "[8000000000]");
    tooBig(() -> F.oneHot(new int[70000], 70000, DType.FLOAT32), "oneHot", "[70000, 70000]");
  }

  @Test
  void zeroSizedShapesWithHugeOtherDimsAreEmptyNotTooBig() {
    assertThat(Tensor.zeros(65536, 65536, 0).numel()).isZero();
    assertThat(Tensor.zeros(0, 65536, 65536).numel()).isZero();
  }

  @Test
  void arangeNeedsFiniteBounds() {
    assertThatThrownBy(() -> Tensor.arange(0, Double.POSITIVE_INFINITY, 1, DType.FLOAT32))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("arange").hasMessageContaining("finite");
  }

  @Test
  void matmulOutputs() {
    tooBig(() -> big(65536, 1).matmul(big(1, 65536)), "matmul", "[65536, 65536]");
    tooBig(() -> big(40000, 1, 1).matmul(big(1, 1, 60000)), "matmul", "[40000, 1, 60000]");
    tooBig(() -> big(4, 1, 1, 1).matmul(big(1, 1 << 30, 1, 1)), "matmul", "[4, 1073741824, 1, 1]");
    tooBig(() -> big(1, 65536, 1).matmul(big(65536, 1, 1)), "matmul", "[65536, 65536, 1]");
  }

  @Test
  void broadcastingOutputs() {
    tooBig(() -> big(65536, 1).add(big(1, 65536)), "add", "[65536, 65536]");
    tooBig(() -> big(65536, 1).mul(big(65536)), "mul", "[65536, 65536]");
    tooBig(() -> Tensor.where(big(65536, 1), big(1, 65536), big(1)), "where", "[65536, 65536]");
    tooBig(() -> big(65536, 1).expand(65536, 65536), "expand", "[65536, 65536]");
    tooBig(() -> Tensor.zeros(1).expand(3, 1 << 30, -1), "expand", "[3, 1073741824, 1]");
  }

  @Test
  void movementOutputs() {
    Tensor half = big(1 << 30, 1);
    tooBig(() -> Tensor.concat(List.of(half, half, half), 0), "concat", "[3221225472, 1]");
    tooBig(() -> Tensor.stack(List.of(half, half, half), 0), "concat", "[3, 1073741824, 1]");
    tooBig(() -> Tensor.zeros(2).pad(new int[] {Integer.MAX_VALUE}, new int[] {10}), "pad", "[2147483659]");
    tooBig(() -> big(1 << 20, 1).pad(new int[] {0, 0}, new int[] {0, 4096}), "pad", "[1048576, 4097]");
    tooBig(() -> F.pad2d(big(1, 1, 40000, 40000), 5000), "pad", "[1, 1, 50000, 50000]");
    // 2^64 elements: a long product would wrap to 0 and match the empty tensor
    tooBig(() -> Tensor.zeros(0).reshape(65536, 65536, 65536, 65536), "reshape", "[65536, 65536, 65536, 65536]");
  }

  @Test
  void windowOutputs() {
    Tensor x = big(1, 1, 20000, 20000);
    tooBig(() -> F.conv2d(x, Tensor.zeros(64, 1, 1, 1), null, ConvSpec.defaults()), "conv2d", "[1, 64, 20000, 20000]");
    Tensor img = big(1, 1, 2000, 2000);
    ConvGeometry g = new ConvGeometry(1, 1, 2000, 2000, 100, 100, 1, 1, 50, 50, 1, 1);
    tooBig(() -> img.unfold(g), "unfold", "[1, 10000, 4004001]");
  }

  @Test
  void convGeometryWhoseSizesOverflowAnIntIsRejected() {
    assertThatThrownBy(() -> new ConvGeometry(1, 1, Integer.MAX_VALUE, 8, 3, 3, 1, 1, 1 << 30, 1, 1, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ConvGeometry");
    assertThatThrownBy(() -> new ConvGeometry(1, 300000, 8, 8, 100, 100, 1, 1, 50, 50, 1, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2^31-1");
    // c*kh*kw = 2^64 wraps a long to 0
    assertThatThrownBy(() -> new ConvGeometry(1, 1 << 20, 1 << 21, 1 << 25, 1 << 20, 1 << 24, 1 << 21, 1 << 25,
        0, 0, 1, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2^31-1");
  }
}
