package org.metagrad.nn;

import org.metagrad.ConvSpec;

/**
 * Ready networks of the few-shot literature, each a {@link Network} whose parameters are named
 * {@code features.*} and {@code head.*} so the head can be applied, adapted or replaced alone. A
 * {@code classes} argument of 0 gives the feature extractor without head.
 *
 * <pre>{@code
 * Network net = Backbones.conv4(1, 64, 28, 5, BnMode.BATCH_STATS);  // Omniglot 5-way, MAML
 * net.featureDim();  // 64
 * }</pre>
 */
public final class Backbones {
  private Backbones() {}

  /**
   * The 4-block convolutional backbone of MAML / Prototypical Networks: 4 x [conv3x3 (padding 1),
   * BatchNorm2d, ReLU, MaxPool2d(2)], flattened; for 1x28x28 Omniglot and {@code hidden = 64} the
   * features are {@code [N, 64]} (28 -> 14 -> 7 -> 3 -> 1), for 3x84x84 miniImageNet with 32 channels
   * {@code [N, 800]}. Parameters {@code features.{4b}.weight/bias} (conv) and
   * {@code features.{4b+1}.weight/bias} (BatchNorm) for blocks b = 0..3, then {@code head.weight/bias}.
   *
   * @param classes head outputs, or 0 for no head
   */
  public static Network conv4(int inChannels, int hidden, int imageSize, int classes, BnMode bn) {
    return conv(4, inChannels, hidden, imageSize, classes, bn);
  }

  /**
   * {@link #conv4} with {@code blocks} blocks instead of 4, for larger images: each block halves the maps, so
   * 56 x 56 Omniglot drawings with 5 blocks give {@code [N, hidden]} features (56 -> 28 -> 14 -> 7 -> 3 -> 1)
   * and a receptive field covering the whole image, as 4 blocks do at 28 x 28. Named {@code conv<blocks>}.
   *
   * @throws IllegalArgumentException when {@code blocks < 1} or the image is smaller than {@code 2^blocks}
   */
  public static Network conv(int blocks, int inChannels, int hidden, int imageSize, int classes, BnMode bn) {
    return convNet("conv" + blocks, blocks, inChannels, hidden, imageSize, classes, bn, false);
  }

  /**
   * The strided variant of the MAML paper for Omniglot: 4 x [conv3x3 stride 2 padding 1, BatchNorm2d,
   * ReLU] without max-pooling, flattened; for 1x28x28 and {@code hidden = 64} the maps shrink
   * 28 -> 14 -> 7 -> 4 -> 2 and the features are {@code [N, 256]}. (MAML's TensorFlow code averages the
   * final 2x2 map instead of flattening; append a {@link GlobalAvgPool2d} to a custom network for that.)
   * Names as {@link #conv4}, the blocks being 3 layers long: {@code features.{3b}.weight} (conv),
   * {@code features.{3b+1}.weight} (BatchNorm).
   */
  public static Network conv4Strided(int inChannels, int hidden, int imageSize, int classes, BnMode bn) {
    return convStrided(4, inChannels, hidden, imageSize, classes, bn);
  }

  /**
   * {@link #conv4Strided} with {@code blocks} blocks instead of 4 (each halves the maps, rounding up). Named
   * {@code conv<blocks>Strided}.
   *
   * @throws IllegalArgumentException when {@code blocks < 1}
   */
  public static Network convStrided(int blocks, int inChannels, int hidden, int imageSize, int classes, BnMode bn) {
    return convNet("conv" + blocks + "Strided", blocks, inChannels, hidden, imageSize, classes, bn, true);
  }

  private static Network convNet(String kind, int blocks, int in, int hidden, int size, int classes, BnMode bn,
      boolean strided) {
    String name = kind + "(" + in + "->" + hidden + ", " + size + "x" + size + ")";
    Layers.positive(name, "blocks", blocks);
    Layers.positive(name, "in channels", in);
    Layers.positive(name, "hidden channels", hidden);
    Layers.positive(name, "image size", size);
    Sequential.Builder b = Sequential.builder();
    int s = size;
    for (int block = 0; block < blocks; block++) {
      int c = block == 0 ? in : hidden;
      if (strided) {
        Conv2d conv = new Conv2d(c, hidden, 3, ConvSpec.defaults().padding(1).stride(2));
        b.add(conv).add(new BatchNorm2d(hidden, bn)).add(new ReLU());
        s = conv.outputSize(s);
      } else {
        b.add(new Conv2d(c, hidden, 3, ConvSpec.defaults().padding(1))).add(new BatchNorm2d(hidden, bn)).add(new ReLU())
            .add(new MaxPool2d(2));
        s = s / 2;
      }
      if (s < 1) {
        throw new IllegalArgumentException(name + ": image size " + size + " is too small for " + blocks + " blocks"
            + " (at least " + (1 << blocks) + " pixels)");
      }
    }
    b.add(new Flatten());
    return finish(name, b.build(), hidden * s * s, classes, new int[] {in, size, size});
  }

  /**
   * The fully connected Omniglot network of the MAML paper: 784-256-128-64-64, each Linear followed by
   * BatchNorm1d and ReLU, then the head {@code Linear(64, classes)}. Accepts {@code [N, 784]} or images
   * {@code [N, 1, 28, 28]} (flattened first). Names {@code features.0.weight} (Linear 784->256),
   * {@code features.1.weight} (BatchNorm1d), {@code features.3.weight}, ..., {@code head.weight}.
   */
  public static Network omniglotMlp(int classes, BnMode bn) {
    int[] sizes = {784, 256, 128, 64, 64};
    Sequential.Builder b = Sequential.builder().add("flatten", new Flatten());
    for (int i = 0; i + 1 < sizes.length; i++) {
      b.add(String.valueOf(3 * i), new Linear(sizes[i], sizes[i + 1]))
          .add(String.valueOf(3 * i + 1), new BatchNorm1d(sizes[i + 1], bn))
          .add(String.valueOf(3 * i + 2), new ReLU());
    }
    return finish("omniglotMlp(784-256-128-64-64)", b.build(), 64, classes, null);
  }

  /**
   * The sinusoid-regression MLP of the MAML paper: 1-40-40-1 with ReLU. Features
   * {@code features.0} (Linear 1->40), {@code features.2} (Linear 40->40), head {@code Linear(40, 1)};
   * input {@code [N, 1]}, output {@code [N, 1]}.
   */
  public static Network sineMlp() {
    return mlp(1, new int[] {40, 40}, 1);
  }

  /**
   * A ReLU MLP {@code in -> hidden[0] -> ... -> hidden[k-1] -> out}: features are the hidden Linear+ReLU
   * layers (named {@code features.0}, {@code features.2}, ...), the head is the last Linear
   * ({@code out} = 0 for no head).
   */
  public static Network mlp(int in, int[] hidden, int out) {
    if (hidden.length == 0) {
      throw new IllegalArgumentException("mlp: needs at least one hidden layer");
    }
    Sequential.Builder b = Sequential.builder();
    int prev = in;
    for (int h : hidden) {
      b.add(new Linear(prev, h)).add(new ReLU());
      prev = h;
    }
    StringBuilder name = new StringBuilder("mlp(").append(in);
    for (int h : hidden) {
      name.append('-').append(h);
    }
    name.append('-').append(out).append(')');
    return finish(name.toString(), b.build(), prev, out, new int[] {in});
  }

  /**
   * A ResNet-12 backbone (MetaOptNet/TADAM style without DropBlock): 4 {@link ResidualBlock}s with the
   * given channels (e.g. {@code {64, 160, 320, 640}}), leaky-ReLU slope 0.1, each halving the spatial
   * size, then global average pooling to {@code [N, channels[3]]}. Names
   * {@code features.0.conv1.weight}, {@code features.0.bn1.weight}, {@code features.0.shortcut.0.weight},
   * ..., {@code features.3.*}, {@code head.weight}.
   *
   * @param imageSize at least 16 (four halvings)
   */
  public static Network resnet12(int inChannels, int[] channels, int imageSize, int classes, BnMode bn) {
    if (channels == null || channels.length != 4) {
      throw new IllegalArgumentException("resnet12: needs 4 channel counts (e.g. {64, 160, 320, 640})");
    }
    String name = "resnet12(" + inChannels + "->" + channels[0] + "-" + channels[1] + "-" + channels[2] + "-"
        + channels[3] + ", " + imageSize + "x" + imageSize + ")";
    if (imageSize < 16) {
      throw new IllegalArgumentException(name + ": image size must be at least 16 for four 2x2 poolings, got "
          + imageSize);
    }
    Sequential.Builder b = Sequential.builder();
    int c = inChannels;
    for (int i = 0; i < 4; i++) {
      b.add(new ResidualBlock(c, channels[i], bn, 0.1));
      c = channels[i];
    }
    b.add("pool", new GlobalAvgPool2d());
    return finish(name, b.build(), c, classes, new int[] {inChannels, imageSize, imageSize});
  }

  private static Network finish(String name, Module features, int dim, int classes, int[] inputShape) {
    if (classes < 0) {
      throw new IllegalArgumentException(name + ": classes must be >= 0 (0 for no head), got " + classes);
    }
    return new Network(name, features, dim, classes == 0 ? null : new Linear(dim, classes), inputShape);
  }
}
