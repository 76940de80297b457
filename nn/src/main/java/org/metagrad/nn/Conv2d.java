package org.metagrad.nn;

import org.metagrad.ConvSpec;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * 2-d convolution (cross-correlation) with a square {@code k x k} kernel, as {@code torch.nn.Conv2d}:
 * input {@code [N, in, H, W]}, output {@code [N, out, OH, OW]} with
 * {@code OH = floor((H + 2 pad - dil (k - 1) - 1) / stride) + 1}; parameters {@code weight [out, in, k, k]}
 * and optional {@code bias [out]}, initialised like PyTorch (kaiming-uniform a = sqrt(5), bias
 * {@code U(-1/sqrt(in k k), 1/sqrt(in k k))}).
 *
 * <pre>{@code
 * Conv2d conv = new Conv2d(1, 64, 3, ConvSpec.defaults().padding(1));
 * Tensor y = conv.apply(conv.init(rng), Tensor.zeros(5, 1, 28, 28), Mode.TRAIN);  // [5, 64, 28, 28]
 * }</pre>
 */
public final class Conv2d implements Module {
  private final int in;
  private final int out;
  private final int k;
  private final ConvSpec spec;
  private final boolean bias;
  private final Init.Scheme weightInit;

  /** A convolution with bias. */
  public Conv2d(int in, int out, int k, ConvSpec spec) {
    this(in, out, k, spec, true);
  }

  /** A convolution with or without bias. */
  public Conv2d(int in, int out, int k, ConvSpec spec, boolean bias) {
    this(in, out, k, spec, bias, Init.TORCH_DEFAULT_WEIGHT);
  }

  private Conv2d(int in, int out, int k, ConvSpec spec, boolean bias, Init.Scheme weightInit) {
    this.in = Layers.positive("Conv2d", "in channels", in);
    this.out = Layers.positive("Conv2d", "out channels", out);
    this.k = Layers.positive("Conv2d", "kernel size", k);
    if (spec == null) {
      throw new IllegalArgumentException("Conv2d: spec is null (use ConvSpec.defaults())");
    }
    this.spec = spec;
    this.bias = bias;
    this.weightInit = weightInit;
  }

  /** A copy whose weight is drawn by another scheme. */
  public Conv2d withWeightInit(Init.Scheme scheme) {
    return new Conv2d(in, out, k, spec, bias, scheme);
  }

  /** Input channels. */
  public int in() {
    return in;
  }

  /** Output channels. */
  public int out() {
    return out;
  }

  /** Kernel size. */
  public int kernel() {
    return k;
  }

  /** Stride, padding, dilation. */
  public ConvSpec spec() {
    return spec;
  }

  /** Output height for input height h (width likewise with the W entries of the spec). */
  public int outputSize(int h) {
    return Math.floorDiv(h + 2 * spec.padH() - spec.dilationH() * (k - 1) - 1, spec.strideH()) + 1;
  }

  /** {@code weight [out, in, k, k]} then {@code bias [out]}. */
  @Override
  public Params init(Rng rng, DType dtype) {
    Params p = Params.of("weight", weightInit.init(rng, dtype, out, in, k, k));
    return bias ? p.with("bias", Init.biasUniform(rng, dtype, in * k * k, out)) : p;
  }

  /** The convolution of x {@code [N, in, H, W]}. */
  @Override
  public Tensor apply(Params p, Tensor x, Mode mode) {
    if (x.rank() != 4 || x.size(1) != in) {
      throw Layers.badInput(toString(), "[N, " + in + ", H, W]", x);
    }
    int oh = outputSize(x.size(2));
    int ow = Math.floorDiv(x.size(3) + 2 * spec.padW() - spec.dilationW() * (k - 1) - 1, spec.strideW()) + 1;
    if (oh < 1 || ow < 1) {
      throw new IllegalArgumentException(this + ": input " + Layers.str(x.shape()) + " is smaller than the "
          + k + "x" + k + " kernel (after padding)");
    }
    Tensor w = Layers.param(p, "weight", toString(), out, in, k, k);
    Tensor b = bias ? Layers.param(p, "bias", toString(), out) : null;
    return F.conv2d(x, w, b, spec);
  }

  /**
   * {@code Conv2d(in->out, k=3)}, the name used in error messages; stride and padding are left out so
   * messages stay short ({@link #spec()} has them).
   */
  @Override
  public String toString() {
    return "Conv2d(" + in + "->" + out + ", k=" + k + (bias ? "" : ", bias=false") + ")";
  }
}
