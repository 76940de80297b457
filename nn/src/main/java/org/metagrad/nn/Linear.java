package org.metagrad.nn;

import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * Fully connected layer {@code y = x W^T + b}, as {@code torch.nn.Linear}: input {@code [..., in]}, output
 * {@code [..., out]}, parameters {@code weight [out, in]} and (optional) {@code bias [out]}, initialised
 * like PyTorch (kaiming-uniform with a = sqrt(5), bias {@code U(-1/sqrt(in), 1/sqrt(in))}).
 *
 * <pre>{@code
 * Linear fc = new Linear(784, 256);
 * Params p = fc.init(new Rng(0));
 * Tensor y = fc.apply(p, Tensor.zeros(5, 784), Mode.TRAIN);  // [5, 256]
 * }</pre>
 */
public final class Linear implements Module {
  private final int in;
  private final int out;
  private final boolean bias;
  private final Init.Scheme weightInit;

  /** A layer with bias. */
  public Linear(int in, int out) {
    this(in, out, true);
  }

  /** A layer with or without bias. */
  public Linear(int in, int out, boolean bias) {
    this(in, out, bias, Init.TORCH_DEFAULT_WEIGHT);
  }

  private Linear(int in, int out, boolean bias, Init.Scheme weightInit) {
    this.in = Layers.positive("Linear", "in features", in);
    this.out = Layers.positive("Linear", "out features", out);
    this.bias = bias;
    this.weightInit = weightInit;
  }

  /** A copy whose weight is drawn by another scheme (the bias keeps PyTorch's default). */
  public Linear withWeightInit(Init.Scheme scheme) {
    return new Linear(in, out, bias, scheme);
  }

  /** Input features. */
  public int in() {
    return in;
  }

  /** Output features. */
  public int out() {
    return out;
  }

  /** Whether the layer has a bias. */
  public boolean hasBias() {
    return bias;
  }

  /** {@code weight [out, in]} then {@code bias [out]}, drawn in that order as PyTorch does. */
  @Override
  public Params init(Rng rng, DType dtype) {
    Params p = Params.of("weight", weightInit.init(rng, dtype, out, in));
    return bias ? p.with("bias", Init.biasUniform(rng, dtype, in, out)) : p;
  }

  /** {@code x W^T + b} for x {@code [..., in]}. */
  @Override
  public Tensor apply(Params p, Tensor x, Mode mode) {
    if (x.rank() < 1 || x.size(-1) != in) {
      throw Layers.badInput(toString(), "[..., " + in + "]", x);
    }
    Tensor w = Layers.param(p, "weight", toString(), out, in);
    Tensor b = bias ? Layers.param(p, "bias", toString(), out) : null;
    return F.linear(x, w, b);
  }

  /** {@code Linear(in->out)}, plus {@code , bias=false} without bias. */
  @Override
  public String toString() {
    return "Linear(" + in + "->" + out + (bias ? "" : ", bias=false") + ")";
  }
}
