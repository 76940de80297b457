package org.metagrad.nn;

import java.util.Arrays;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * Parameter initializers with PyTorch's formulas ({@code torch.nn.init}), drawing only from the given
 * {@link Rng}. For a weight of shape {@code [out, in, k...]}, {@code fan_in = in * prod(k)} and
 * {@code fan_out = out * prod(k)}; a 2-d weight {@code [out, in]} has receptive field 1.
 *
 * <pre>{@code
 * Tensor w = Init.kaimingUniform(rng, DType.FLOAT32, Math.sqrt(5), 64, 1, 3, 3);  // U(-1/3, 1/3)
 * Tensor b = Init.biasUniform(rng, DType.FLOAT32, 9, 64);                          // U(-1/3, 1/3)
 * }</pre>
 */
public final class Init {
  private Init() {}

  /**
   * A weight initializer: a tensor of the given shape drawn from rng, e.g. {@code Init::xavierUniform}
   * with gain 1 bound as {@code (r, d, s) -> Init.xavierUniform(r, d, 1, s)}.
   */
  @FunctionalInterface
  public interface Scheme {
    /** A fresh tensor of {@code shape} in {@code dtype}. */
    Tensor init(Rng rng, DType dtype, int... shape);
  }

  /** PyTorch's default for {@code nn.Linear}/{@code nn.Conv2d} weights: kaiming-uniform with a = sqrt(5). */
  public static final Scheme TORCH_DEFAULT_WEIGHT = (rng, dtype, shape) -> kaimingUniform(rng, dtype, Math.sqrt(5),
      shape);

  /**
   * {@code fan_in} of a weight shape {@code [out, in, k...]}: {@code in * prod(k)} (PyTorch's
   * {@code _calculate_fan_in_and_fan_out}); needs rank >= 2.
   */
  public static int fanIn(int... shape) {
    checkRank("fanIn", shape);
    return shape[1] * receptive(shape);
  }

  /** {@code fan_out} of a weight shape {@code [out, in, k...]}: {@code out * prod(k)}. */
  public static int fanOut(int... shape) {
    checkRank("fanOut", shape);
    return shape[0] * receptive(shape);
  }

  private static int receptive(int[] shape) {
    int r = 1;
    for (int i = 2; i < shape.length; i++) {
      r *= shape[i];
    }
    return r;
  }

  private static void checkRank(String op, int[] shape) {
    if (shape.length < 2) {
      throw new IllegalArgumentException("Init." + op + ": fan in and fan out need a weight of rank >= 2, got "
          + Arrays.toString(shape));
    }
  }

  /** Leaky-ReLU gain {@code sqrt(2 / (1 + a^2))} (PyTorch's {@code calculate_gain('leaky_relu', a)}). */
  public static double leakyReluGain(double a) {
    return Math.sqrt(2.0 / (1 + a * a));
  }

  /**
   * Kaiming (He) uniform with fan_in mode, as {@code torch.nn.init.kaiming_uniform_(w, a)}:
   * {@code U(-bound, bound)}, {@code bound = gain * sqrt(3 / fan_in)}, {@code gain = sqrt(2 / (1 + a^2))}.
   * With {@code a = sqrt(5)} (PyTorch's layer default) this is {@code bound = 1 / sqrt(fan_in)}.
   */
  public static Tensor kaimingUniform(Rng rng, DType dtype, double a, int... shape) {
    double bound = leakyReluGain(a) * Math.sqrt(3.0 / fanIn(shape));
    return Tensor.uniform(rng, -bound, bound, dtype, shape);
  }

  /**
   * Kaiming (He) normal with fan_in mode, as {@code kaiming_normal_(w, a)}:
   * {@code N(0, std^2)}, {@code std = gain / sqrt(fan_in)}.
   */
  public static Tensor kaimingNormal(Rng rng, DType dtype, double a, int... shape) {
    double std = leakyReluGain(a) / Math.sqrt(fanIn(shape));
    return Tensor.randn(rng, dtype, shape).mul(std);
  }

  /**
   * PyTorch's default bias of {@code nn.Linear}/{@code nn.Conv2d}: {@code U(-1/sqrt(fan_in), 1/sqrt(fan_in))}
   * where fan_in is that of the layer's weight.
   */
  public static Tensor biasUniform(Rng rng, DType dtype, int fanIn, int... shape) {
    double bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    return Tensor.uniform(rng, -bound, bound, dtype, shape);
  }

  /**
   * Xavier (Glorot) uniform, as {@code xavier_uniform_(w, gain)}:
   * {@code U(-a, a)}, {@code a = gain * sqrt(6 / (fan_in + fan_out))}.
   */
  public static Tensor xavierUniform(Rng rng, DType dtype, double gain, int... shape) {
    double a = gain * Math.sqrt(6.0 / (fanIn(shape) + fanOut(shape)));
    return Tensor.uniform(rng, -a, a, dtype, shape);
  }

  /**
   * Xavier (Glorot) normal, as {@code xavier_normal_(w, gain)}:
   * {@code N(0, std^2)}, {@code std = gain * sqrt(2 / (fan_in + fan_out))}.
   */
  public static Tensor xavierNormal(Rng rng, DType dtype, double gain, int... shape) {
    double std = gain * Math.sqrt(2.0 / (fanIn(shape) + fanOut(shape)));
    return Tensor.randn(rng, dtype, shape).mul(std);
  }

  /** {@code U(lo, hi)}, as {@code uniform_(w, lo, hi)}. */
  public static Tensor uniform(Rng rng, DType dtype, double lo, double hi, int... shape) {
    return Tensor.uniform(rng, lo, hi, dtype, shape);
  }

  /** {@code N(mean, std^2)}, as {@code normal_(w, mean, std)}. */
  public static Tensor normal(Rng rng, DType dtype, double mean, double std, int... shape) {
    return Tensor.randn(rng, dtype, shape).mul(std).add(mean);
  }

  /** Zeros, as {@code zeros_} (BatchNorm bias, PyTorch's {@code reset_parameters}). */
  public static Tensor zeros(DType dtype, int... shape) {
    return Tensor.zeros(dtype, shape);
  }

  /** Ones, as {@code ones_} (BatchNorm weight). */
  public static Tensor ones(DType dtype, int... shape) {
    return Tensor.ones(dtype, shape);
  }
}
