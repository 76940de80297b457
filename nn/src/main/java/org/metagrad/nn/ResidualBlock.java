package org.metagrad.nn;

import org.metagrad.ConvSpec;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * The residual block of ResNet-12 (as in MetaOptNet/TADAM): three 3x3 convolutions (padding 1, no bias)
 * each followed by BatchNorm, leaky-ReLU after the first two; a shortcut of a 1x1 convolution and
 * BatchNorm; then {@code leakyRelu(main + shortcut)} and 2x2 max-pooling. Input {@code [N, in, H, W]},
 * output {@code [N, out, H/2, W/2]}. Parameter names: {@code conv1.weight}, {@code bn1.weight},
 * {@code bn1.bias}, ..., {@code conv3.weight}, {@code bn3.*}, {@code shortcut.0.weight},
 * {@code shortcut.1.weight}, {@code shortcut.1.bias}.
 *
 * <pre>{@code new ResidualBlock(3, 64, BnMode.RUNNING_STATS, 0.1)  // [N, 3, 84, 84] -> [N, 64, 42, 42]}</pre>
 */
public final class ResidualBlock implements Module {
  private final int in;
  private final int out;
  private final double slope;
  private final Sequential parts;
  private final Sequential shortcut;

  /** A block from {@code in} to {@code out} channels with the given BatchNorm mode and leaky-ReLU slope. */
  public ResidualBlock(int in, int out, BnMode bn, double slope) {
    this.in = Layers.positive("ResidualBlock", "in channels", in);
    this.out = Layers.positive("ResidualBlock", "out channels", out);
    this.slope = slope;
    ConvSpec same = ConvSpec.defaults().padding(1);
    this.parts = Sequential.builder()
        .add("conv1", new Conv2d(in, out, 3, same, false)).add("bn1", new BatchNorm2d(out, bn))
        .add("conv2", new Conv2d(out, out, 3, same, false)).add("bn2", new BatchNorm2d(out, bn))
        .add("conv3", new Conv2d(out, out, 3, same, false)).add("bn3", new BatchNorm2d(out, bn))
        .add("shortcut", Sequential.of(new Conv2d(in, out, 1, ConvSpec.defaults(), false), new BatchNorm2d(out, bn)))
        .build();
    this.shortcut = (Sequential) parts.get("shortcut");
  }

  /** Parameters of the three convolutions, their BatchNorms and the shortcut, in that order. */
  @Override
  public Params init(Rng rng, DType dtype) {
    return parts.init(rng, dtype);
  }

  /** The BatchNorm states, scoped by child name. */
  @Override
  public void initState(State state, DType dtype) {
    parts.initState(state, dtype);
  }

  /** {@code maxPool2(leaky(bn3(conv3(leaky(bn2(conv2(leaky(bn1(conv1 x)))))))) + shortcut(x)))}. */
  @Override
  public Tensor apply(Params p, Tensor x, Mode mode) {
    if (x.rank() != 4 || x.size(1) != in) {
      throw Layers.badInput(toString(), "[N, " + in + ", H, W]", x);
    }
    if (x.size(2) < 2 || x.size(3) < 2) {
      throw Layers.badInput(toString(), "[N, " + in + ", H >= 2, W >= 2]", x);
    }
    Tensor h = x;
    for (int i = 0; i < 3; i++) {
      h = Layers.child("conv" + (i + 1), parts.get("conv" + (i + 1)), p, h, mode);
      h = Layers.child("bn" + (i + 1), parts.get("bn" + (i + 1)), p, h, mode);
      if (i < 2) {
        h = LeakyReLU.leakyRelu(h, slope);
      }
    }
    Tensor s = Layers.child("shortcut", shortcut, p, x, mode);
    return org.metagrad.F.maxPool2d(LeakyReLU.leakyRelu(h.add(s), slope), 2, 2, 0);
  }

  /** {@code ResidualBlock(in->out)}. */
  @Override
  public String toString() {
    return "ResidualBlock(" + in + "->" + out + ")";
  }
}
