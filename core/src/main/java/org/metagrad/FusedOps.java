package org.metagrad;

import java.util.Arrays;
import java.util.List;
import org.metagrad.internal.Composites;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ConvGeometry;
import org.metagrad.spi.View;

/**
 * The fused functions behind {@link F#conv2d}, {@link F#batchNorm(Tensor, Tensor, Tensor, double)} (batch
 * statistics), non-overlapping {@link F#maxPool2d} and {@link Tensor#relu()}: one {@link Op#FUSED} node each, whose
 * composite is the definition in {@link Composites} (see {@link Fused}).
 */
final class FusedOps {
  private FusedOps() {}

  /** gamma or beta as a rank-1 view of C elements, not recorded. */
  private static View channelView(Tensor t, int c) {
    return t == null ? null : t.detach().reshape(c).view();
  }

  /** Batch normalization with batch statistics; arguments already checked by F. */
  static Tensor batchNorm(Tensor x, Tensor gamma, Tensor beta, double eps) {
    int c = x.size(1);
    Buffer[] r = x.backend().batchNormTrain(x.view(), channelView(gamma, c), channelView(beta, c), eps);
    Tensor mean = Tensor.wrap(r[1], c);
    Tensor invStd = Tensor.wrap(r[2], c);
    BatchNormFn fn = new BatchNormFn(eps, gamma != null, beta != null, mean, invStd, false);
    return Tensor.fusedResult(r[0], x.shape(), fn, inputs(x, gamma, beta));
  }

  /** ReLU of batch normalization with batch statistics; arguments already checked by F. */
  static Tensor batchNormRelu(Tensor x, Tensor gamma, Tensor beta, double eps) {
    int c = x.size(1);
    Buffer[] r = x.backend().batchNormReluTrain(x.view(), channelView(gamma, c), channelView(beta, c), eps);
    Tensor mean = Tensor.wrap(r[1], c);
    Tensor invStd = Tensor.wrap(r[2], c);
    BatchNormFn fn = new BatchNormFn(eps, gamma != null, beta != null, mean, invStd, true);
    return Tensor.fusedResult(r[0], x.shape(), fn, inputs(x, gamma, beta));
  }

  /** k x k max pooling (stride k) of the ReLU of batch normalization with batch statistics; checked by F. */
  static Tensor batchNormReluPool(Tensor x, Tensor gamma, Tensor beta, double eps, int k) {
    int c = x.size(1);
    Buffer[] r = x.backend().batchNormReluPoolTrain(x.view(), channelView(gamma, c), channelView(beta, c), eps, k);
    Tensor mean = Tensor.wrap(r[1], c);
    Tensor invStd = Tensor.wrap(r[2], c);
    BatchNormPoolFn fn = new BatchNormPoolFn(eps, k, gamma != null, beta != null, mean, invStd);
    return Tensor.fusedResult(r[0], new int[] {x.size(0), c, x.size(2) / k, x.size(3) / k}, fn,
        inputs(x, gamma, beta));
  }

  /** Inputs {@code [x, gamma?, beta?]}; the composite is {@link Composites#batchNormReluMaxPool}. */
  record BatchNormPoolFn(double eps, int k, boolean hasGamma, boolean hasBeta, Tensor mean, Tensor invStd)
      implements Fused {
    @Override
    public Tensor composite(Tensor[] in) {
      Tensor gamma = hasGamma ? in[1] : null;
      Tensor beta = hasBeta ? in[hasGamma ? 2 : 1] : null;
      return Composites.batchNormReluMaxPool(in[0], gamma, beta, eps, k);
    }

    @Override
    public List<Tensor> backward(Node n, Tensor g) {
      Tensor x = n.in(0);
      int c = x.size(1);
      Tensor gamma = hasGamma ? n.in(1) : null;
      Tensor beta = hasBeta ? n.in(hasGamma ? 2 : 1) : null;
      Buffer[] r = x.backend().batchNormReluPoolBackward(g.view(), x.view(), n.out().view(), mean.view(),
          invStd.view(), channelView(gamma, c), channelView(beta, c), eps, k);
      return channelGrads(n, r, hasGamma, hasBeta);
    }

    @Override
    public List<Tensor> recordedBackward(Node n, Tensor g) {
      return batchNormGradRecorded(n, unpoolRecorded(n, g, eps, k, hasGamma, hasBeta), eps, hasGamma, hasBeta);
    }
  }

  /**
   * The gradient of the ReLU'd batch norm {@code a = relu(z)} from the gradient g of {@code maxPool(a)}, as
   * recorded primitives linear in g: {@code gz = unpool(g) * mask}, with the composite's constant mask (1 / the
   * number of elements equal to the window's maximum where an element is that maximum and positive, else 0;
   * zero in rows and columns the floor-mode windows drop), computed without recording by the fused kernels.
   */
  private static Tensor unpoolRecorded(Node n, Tensor g, double eps, int k, boolean hasGamma, boolean hasBeta) {
    Tensor x = n.in(0);
    int[] xs = x.shape();
    int oh = xs[2] / k;
    int ow = xs[3] / k;
    Tensor mask;
    try (Autograd.NoGrad ignored = Autograd.noGrad()) {
      Tensor gamma = hasGamma ? n.in(1) : null;
      Tensor beta = hasBeta ? n.in(hasGamma ? 2 : 1) : null;
      // The activation and its pooling recomputed together, so that the equality test sees the same roundings.
      Tensor a = batchNormRelu(x, gamma, beta, eps);
      Tensor p = maxPool2d(a, k);
      // A window whose maximum is 0 is all ReLU'd out: the composite's relu mask zeroes its gradient. A window
      // whose maximum is NaN gets 0 / 0 * 0 = NaN in every element, where the composite's relu mask would keep
      // 0 for its elements <= 0; batch norm's backward sums gz over the channel, so the channel's gradients are
      // NaN either way and the two agree.
      Buffer m = x.backend().maxPool2dTiledBackward(a.view(), p.view(), p.gt(0).view(), k);
      mask = Tensor.wrap(m, xs).slice(2, 0, oh * k).slice(3, 0, ow * k).reshape(xs[0], xs[1], oh, k, ow, k);
    }
    Tensor gz = g.reshape(xs[0], xs[1], oh, 1, ow, 1).mul(mask).reshape(xs[0], xs[1], oh * k, ow * k);
    if (oh * k != xs[2] || ow * k != xs[3]) {
      gz = gz.pad(new int[4], new int[] {0, 0, xs[2] - oh * k, xs[3] - ow * k});
    }
    return gz;
  }

  /**
   * Batch norm's vector-Jacobian product in closed form, recorded: with m elements per channel, {@code
   * xhat = (x - mean) / sqrt(var + eps)} (biased variance) and gz the gradient of {@code z = xhat * gamma + beta},
   * <pre>
   *   gBeta = sum(gz),  gGamma = sum(gz * xhat),
   *   gx = gamma / sqrt(var + eps) * (gz - gBeta / m - xhat * gGamma / m)
   * </pre>
   * (Ioffe and Szegedy 2015, section 3). The statistics are recomputed from x with recorded primitives, so
   * this is the same function of (x, gamma, gz) as the composite's product and every derivative of it is
   * the composite's; it records less than half the full-size ops (eight, against about twenty counted in the composite's forward and
   * VJP for conv4's block).
   */
  private static List<Tensor> batchNormGradRecorded(Node n, Tensor gz, double eps, boolean hasGamma,
      boolean hasBeta) {
    Tensor x = n.in(0);
    int[] dims = Composites.reducedDims(x);
    int[] cs = Composites.channelShape(x);
    double m = (double) x.numel() / x.size(1);
    int bi = hasGamma ? 2 : 1;
    boolean needX = n.need(0);
    boolean needGamma = hasGamma && n.need(1);
    Tensor[] out = new Tensor[n.inputs.length];
    Tensor gBeta = gz.sum(dims, true);
    if (hasBeta && n.need(bi)) {
      out[bi] = gBeta.reshape(n.in(bi).shape());
    }
    if (needX || needGamma) {
      // xhat = xc * invStd is never formed: gGamma = sum(gz * xc) * invStd and the xhat term of gx scales xc,
      // one full-size op fewer (and xc squared as a power: one operand, so one gradient, not two to sum).
      Tensor xc = x.sub(x.mean(dims, true));
      Tensor is = xc.pow(2).mean(dims, true).add(eps).pow(-0.5);
      Tensor gGamma = gz.mul(xc).sum(dims, true).mul(is);
      if (needGamma) {
        out[1] = gGamma.reshape(n.in(1).shape());
      }
      if (needX) {
        Tensor a = hasGamma ? is.mul(n.in(1).reshape(cs)) : is;
        out[0] = gz.mul(a).sub(xc.mul(a.mul(is).mul(gGamma).div(m))).sub(a.mul(gBeta).div(m));
      }
    }
    return Arrays.asList(out);
  }

  /** The gradients {@code {gx, gGamma, gBeta}} of a batch-norm kernel as the node's inputs {@code [x, gamma?, beta?]} want them. */
  private static List<Tensor> channelGrads(Node n, Buffer[] r, boolean hasGamma, boolean hasBeta) {
    Tensor x = n.in(0);
    int c = x.size(1);
    Tensor[] out = new Tensor[n.inputs.length];
    out[0] = n.need(0) ? Tensor.wrap(r[0], x.shape()) : null;
    int i = 1;
    if (hasGamma) {
      out[i] = n.need(i) ? Tensor.wrap(r[1], c).reshape(n.in(i).shape()) : null;
      i++;
    }
    if (hasBeta) {
      out[i] = n.need(i) ? Tensor.wrap(r[2], c).reshape(n.in(i).shape()) : null;
    }
    return Arrays.asList(out);
  }

  private static Tensor[] inputs(Tensor x, Tensor gamma, Tensor beta) {
    return gamma == null && beta == null ? new Tensor[] {x}
        : gamma == null ? new Tensor[] {x, beta} : beta == null ? new Tensor[] {x, gamma} : new Tensor[] {x, gamma, beta};
  }

  /** Non-overlapping k x k max pooling of [N, C, H, W] (floor mode); arguments already checked by F. */
  static Tensor maxPool2d(Tensor x, int k) {
    Buffer b = x.backend().maxPool2dTiled(x.view(), k);
    return Tensor.fusedResult(b, new int[] {x.size(0), x.size(1), x.size(2) / k, x.size(3) / k},
        new MaxPoolFn(k), x);
  }

  /** The weight [O, C, kh, kw] as the [O, C*kh*kw] matrix the conv kernels take, not recorded. */
  private static View weightMatrix(Tensor w) {
    return w.detach().reshape(w.size(0), w.numel() / w.size(0)).view();
  }

  /** 2-d convolution of x [N, C, H, W] by w [O, C, kh, kw] plus b [O] (or null); arguments already checked by F. */
  static Tensor conv2d(Tensor x, Tensor w, Tensor b, ConvGeometry g) {
    Buffer y = x.backend().conv2d(x.view(), weightMatrix(w), b == null ? null : b.detach().reshape(w.size(0)).view(), g);
    int[] shape = {g.n(), w.size(0), g.oh(), g.ow()};
    Conv2dFn fn = new Conv2dFn(g, b != null);
    return b == null ? Tensor.fusedResult(y, shape, fn, x, w) : Tensor.fusedResult(y, shape, fn, x, w, b);
  }

  /** Inputs {@code [x, w, b?]}; the composite is {@link Composites#conv2d}. */
  record Conv2dFn(ConvGeometry g, boolean hasBias) implements Fused {
    @Override
    public Tensor composite(Tensor[] in) {
      return Composites.conv2d(in[0], in[1], hasBias ? in[2] : null, spec());
    }

    private ConvSpec spec() {
      return new ConvSpec(g.sh(), g.sw(), g.ph(), g.pw(), g.dh(), g.dw());
    }

    @Override
    public List<Tensor> backward(Node n, Tensor gy) {
      Tensor x = n.in(0);
      Tensor w = n.in(1);
      View g3 = columns(gy, g);
      Tensor[] out = new Tensor[n.inputs.length];
      if (n.need(0)) {
        out[0] = Tensor.wrap(x.backend().conv2dBackwardInput(g3, weightMatrix(w), g), x.shape());
      }
      if (n.need(1)) {
        out[1] = Tensor.wrap(x.backend().conv2dBackwardWeight(g3, x.view(), g), w.shape());
      }
      return withBiasGrad(n, gy, out);
    }

    /** out with the bias gradient (the output gradient summed over batch and pixels) where the bias wants one. */
    private List<Tensor> withBiasGrad(Node n, Tensor gy, Tensor[] out) {
      if (hasBias && n.need(2)) {
        out[2] = gy.sum(new int[] {0, 2, 3}, false).reshape(n.in(2).shape());
      }
      return Arrays.asList(out);
    }

    /**
     * The composite's product written with the transposed convolutions as fused ops of their own (the input
     * gradient {@link ConvInputGradFn}, the weight gradient {@link ConvWeightGradFn}), whose backward passes
     * are convolutions again: the unfolded columns are never stored, and the composite's forward product,
     * which its recorded VJP needs only to build the graph, is not computed.
     */
    @Override
    public List<Tensor> recordedBackward(Node n, Tensor gy) {
      Tensor x = n.in(0);
      Tensor w = n.in(1);
      Tensor[] out = new Tensor[n.inputs.length];
      View g3 = n.need(0) || n.need(1) ? columns(gy, g) : null;
      if (n.need(0)) {
        Buffer b = x.backend().conv2dBackwardInput(g3, weightMatrix(w), g);
        out[0] = Tensor.fusedResult(b, x.shape(), new ConvInputGradFn(g), gy, w);
      }
      if (n.need(1)) {
        Buffer b = x.backend().conv2dBackwardWeight(g3, x.view(), g);
        out[1] = Tensor.fusedResult(b, w.shape(), new ConvWeightGradFn(g), gy, x);
      }
      return withBiasGrad(n, gy, out);
    }
  }

  /** An output-shaped {@code [N, O, oh, ow]} tensor as the {@code [N, O, oh*ow]} view the conv kernels take, not recorded. */
  private static View columns(Tensor gy, ConvGeometry g) {
    return gy.detach().reshape(g.n(), gy.size(1), g.cols()).view();
  }

  /**
   * Inputs {@code [gy, w]}: conv2d's input gradient {@code fold(W^T . gy)} (a transposed convolution), linear in
   * each input; composite {@link #convInputGradComposite}. Its backward: {@code conv2d(u, w)} for gy and the
   * weight gradient of conv2d at input u for w, where u is the incoming gradient (shaped like conv2d's input).
   */
  record ConvInputGradFn(ConvGeometry g) implements Fused {
    @Override
    public Tensor composite(Tensor[] in) {
      return convInputGradComposite(in[0], in[1], g);
    }

    @Override
    public List<Tensor> backward(Node n, Tensor u) {
      Tensor gy = n.in(0);
      Tensor w = n.in(1);
      Tensor[] out = new Tensor[2];
      if (n.need(0)) {
        out[0] = Tensor.wrap(u.backend().conv2d(u.view(), weightMatrix(w), null, g), gy.shape());
      }
      if (n.need(1)) {
        out[1] = Tensor.wrap(u.backend().conv2dBackwardWeight(columns(gy, g), u.view(), g), w.shape());
      }
      return Arrays.asList(out);
    }
  }

  /**
   * Inputs {@code [gy, x]}: conv2d's weight gradient {@code sum_p gy[p] . unfold(x)[p]^T}, linear in each input;
   * composite {@link #convWeightGradComposite}. Its backward, for an incoming gradient u shaped like the
   * weight: {@code conv2d(x, u)} for gy and conv2d's input gradient {@code fold(u^T . gy)} for x.
   */
  record ConvWeightGradFn(ConvGeometry g) implements Fused {
    @Override
    public Tensor composite(Tensor[] in) {
      return convWeightGradComposite(in[0], in[1], g);
    }

    @Override
    public List<Tensor> backward(Node n, Tensor u) {
      Tensor gy = n.in(0);
      Tensor x = n.in(1);
      Tensor[] out = new Tensor[2];
      if (n.need(0)) {
        out[0] = Tensor.wrap(u.backend().conv2d(x.view(), weightMatrix(u), null, g), gy.shape());
      }
      if (n.need(1)) {
        out[1] = Tensor.wrap(u.backend().conv2dBackwardInput(columns(gy, g), weightMatrix(u), g), x.shape());
      }
      return Arrays.asList(out);
    }
  }

  /** The input gradient of {@link Composites#conv2d} as its recorded VJP computes it: {@code fold(W^T . gy)}. */
  static Tensor convInputGradComposite(Tensor gy, Tensor w, ConvGeometry g) {
    int o = w.size(0);
    return w.reshape(o, g.rows()).mT().matmul(gy.reshape(g.n(), o, g.cols())).fold(g);
  }

  /** The weight gradient of {@link Composites#conv2d} as its recorded VJP computes it: {@code sum_p gy[p] . unfold(x)[p]^T}. */
  static Tensor convWeightGradComposite(Tensor gy, Tensor x, ConvGeometry g) {
    int o = gy.size(1);
    return gy.reshape(g.n(), o, g.cols()).matmul(x.unfold(g).mT()).sum(0, false).reshape(o, g.c(), g.kh(), g.kw());
  }

  /** ReLU of x (any shape, at least one element) as one pass forward and one backward. */
  static Tensor relu(Tensor x) {
    return Tensor.fusedResult(x.backend().relu(x.view()), x.shape(), ReluFn.INSTANCE, x);
  }

  /** Input {@code [x]}; the composite is {@link Composites#relu}. */
  enum ReluFn implements Fused {
    INSTANCE;

    @Override
    public Tensor composite(Tensor[] in) {
      return Composites.relu(in[0]);
    }

    @Override
    public List<Tensor> backward(Node n, Tensor g) {
      Tensor x = n.in(0);
      return Arrays.asList(Tensor.wrap(x.backend().reluBackward(x.view(), g.view()), x.shape()));
    }
  }

  /**
   * Inputs {@code [x, gamma?, beta?]}; saves the batch mean and 1 / sqrt(var + eps) of the forward; with
   * {@code relu} the node is {@code relu(batchNorm(...))} (composite {@link Composites#batchNormRelu}).
   */
  record BatchNormFn(double eps, boolean hasGamma, boolean hasBeta, Tensor mean, Tensor invStd, boolean relu)
      implements Fused {
    @Override
    public Tensor composite(Tensor[] in) {
      Tensor gamma = hasGamma ? in[1] : null;
      Tensor beta = hasBeta ? in[hasGamma ? 2 : 1] : null;
      return relu ? Composites.batchNormRelu(in[0], gamma, beta, eps) : Composites.batchNorm(in[0], gamma, beta, eps);
    }

    @Override
    public List<Tensor> backward(Node n, Tensor g) {
      Tensor x = n.in(0);
      int c = x.size(1);
      Tensor gamma = hasGamma ? n.in(1) : null;
      Buffer[] r = relu
          ? x.backend().batchNormReluBackward(g.view(), x.view(), n.out().view(), mean.view(), invStd.view(),
              channelView(gamma, c))
          : x.backend().batchNormBackward(g.view(), x.view(), mean.view(), invStd.view(), channelView(gamma, c));
      return channelGrads(n, r, hasGamma, hasBeta);
    }

    @Override
    public List<Tensor> recordedBackward(Node n, Tensor g) {
      // The composite's ReLU backward, where(z <= 0, 0, g); z <= 0 exactly where relu(z) <= 0, and z is NaN
      // exactly where relu(z) is (le is a constant mask).
      Tensor gz = relu ? Tensor.where(n.out().le(0), g.scalarLike(0), g) : g;
      return batchNormGradRecorded(n, gz, eps, hasGamma, hasBeta);
    }
  }

  /** Input {@code [x]}; the window size. */
  record MaxPoolFn(int k) implements Fused {
    @Override
    public Tensor composite(Tensor[] in) {
      return Composites.maxPool2d(in[0], k, k, 0);
    }

    @Override
    public List<Tensor> backward(Node n, Tensor g) {
      Tensor x = n.in(0);
      Buffer b = x.backend().maxPool2dTiledBackward(x.view(), n.out().view(), g.view(), k);
      return Arrays.asList(Tensor.wrap(b, x.shape()));
    }
  }
}
