package org.metagrad.spi;

import org.metagrad.DType;
import org.metagrad.Device;

/**
 * The compute-only contract every backend implements: no autograd, no broadcasting logic. Core
 * resolves shapes (broadcast inputs arrive as stride-0 views) and calls these kernels; each returns a
 * fresh contiguous buffer on the backend's device that nobody writes to again.
 *
 * <p>Inputs of one call share one dtype (core checks) except where stated. A backend that cannot run
 * a dtype says so in {@link #supports(DType)}.
 */
public interface Backend {
  /** Short name used in logs and the {@code metagrad.backend} property, e.g. {@code reference}. */
  String name();

  /** The device whose buffers this backend reads and writes. */
  Device device();

  /**
   * Releases what the backend holds outside the Java heap (a GPU context, queues, compiled programs). Calls after
   * it fail with a {@link BackendException}, except on backends that hold nothing (the CPU backends, whose
   * default does nothing). Closing twice does nothing.
   */
  default void close() {}

  /** Whether kernels accept this dtype. */
  boolean supports(DType dtype);

  /** Copies host values into a new buffer of the given dtype (FLOAT32 rounds). */
  Buffer upload(double[] data, DType dtype);

  /** Copies host floats into a new FLOAT32 buffer. */
  Buffer upload(float[] data);

  /** Copies the elements of a view, in row-major order, to the host as doubles. */
  double[] downloadDouble(View v);

  /** Copies the elements of a view, in row-major order, to the host as floats. */
  float[] downloadFloat(View v);

  /** A new buffer of {@code n} elements all equal to {@code value}. */
  Buffer full(DType dtype, int n, double value);

  /** Elementwise {@code op(x)}; {@code param} is POW's exponent and ignored otherwise. */
  Buffer unary(UnaryOp op, double param, View x);

  /** Elementwise {@code op(a, b)} over views of equal shape. */
  Buffer binary(BinaryOp op, View a, View b);

  /** Elementwise {@code cond != 0 ? a : b} over views of equal shape. */
  Buffer where(View cond, View a, View b);

  /**
   * Reduces {@code x} to {@code outShape}, which has x's rank with 1 in every reduced dimension and
   * x's size elsewhere.
   */
  Buffer reduce(ReduceOp op, View x, int[] outShape);

  /** Materializes a view contiguously, converting to {@code to} (which may differ from x's dtype). */
  Buffer copy(View x, DType to);

  /** Zero padding: output dim k has size {@code before[k] + x.shape[k] + after[k]}. */
  Buffer pad(View x, int[] before, int[] after);

  /** Concatenation along {@code dim}; parts agree on every other dimension. */
  Buffer concat(View[] parts, int dim);

  /**
   * Batched matrix product: {@code a [B, M, K]} times {@code b [B, K, N]} gives {@code [B, M, N]}.
   * Any strides (transposed operands arrive as swapped strides; broadcast batches as stride 0).
   */
  Buffer matmul(View a, View b);

  /**
   * Batched product summed over the batch: {@code c[i, j] = sum_p sum_q a[p, i, q] * b[p, q, j]}, from
   * {@code a [B, M, K]} and {@code b [B, K, N]} to a contiguous {@code [M, N]} (the weight gradient of a
   * weight shared by a batch, e.g. a convolution's). The default is {@link #matmul} then a {@link #reduce}
   * over the batch; a backend may fuse the two and never hold the {@code [B, M, N]} products.
   */
  default Buffer matmulSumBatch(View a, View b) {
    int[] as = a.shape();
    int[] bs = b.shape();
    Buffer c = matmul(a, b);
    try {
      return reduce(ReduceOp.SUM, View.contiguous(c, as[0], as[1], bs[2]), new int[] {1, as[1], bs[2]});
    } finally {
      c.release(); // the [B, M, N] products never reach a Tensor, so no scope would free device memory
    }
  }

  /** im2col: {@code x [n, c, h, w]} to columns {@code [n, c*kh*kw, oh*ow]} (zeros in the padding). */
  Buffer unfold(View x, ConvGeometry g);

  /** col2im, the adjoint of {@link #unfold}: columns back to {@code [n, c, h, w]}, summing overlaps. */
  Buffer fold(View cols, ConvGeometry g);

  /**
   * 2-d convolution (cross-correlation, PyTorch's {@code conv2d}) as one kernel:
   * {@code y[p] = w . unfold(x)[p] + bias} for {@code x [n, c, h, w]}, {@code w [o, c*kh*kw]} (the
   * weight flattened, in {@link ConvGeometry}'s row order) and {@code bias [o]} or null, giving a
   * contiguous {@code [n, o, oh*ow]}. The default runs {@link #unfold}, {@link #matmul} and an ADD; a
   * backend may form the unfolded columns piece by piece and never hold the {@code [n, c*kh*kw, oh*ow]}
   * matrix.
   */
  default Buffer conv2d(View x, View w, View bias, ConvGeometry g) {
    return FusedDefaults.conv2d(this, x, w, bias, g);
  }

  /**
   * The input gradient of {@link #conv2d}: {@code fold(w^T . gy[p])} for {@code gy [n, o, oh*ow]} and
   * {@code w [o, c*kh*kw]}, a contiguous {@code [n, c, h, w]} (a transposed convolution; when a backward is
   * recorded, core records it as an op of its own whose derivatives are {@link #conv2d} and
   * {@link #conv2dBackwardWeight}). The default runs {@link #matmul} and {@link #fold}.
   */
  default Buffer conv2dBackwardInput(View gy, View w, ConvGeometry g) {
    return FusedDefaults.conv2dBackwardInput(this, gy, w, g);
  }

  /**
   * The weight gradient of {@link #conv2d}: {@code sum_p gy[p] . unfold(x)[p]^T} for
   * {@code gy [n, o, oh*ow]} and {@code x [n, c, h, w]}, a contiguous {@code [o, c*kh*kw]}. The default
   * runs {@link #unfold} and {@link #matmulSumBatch}.
   */
  default Buffer conv2dBackwardWeight(View gy, View x, ConvGeometry g) {
    return FusedDefaults.conv2dBackwardWeight(this, gy, x, g);
  }

  /**
   * Batch normalization with batch statistics, fused: for {@code x [N, C, ...]} (rank at least 2) and
   * per channel c over the other dims ({@code M = numel / C} elements), {@code mean = sum(x) / M},
   * {@code var = sum((x - mean)^2) / M} (biased), {@code invStd = 1 / sqrt(var + eps)} and
   * {@code y = (x - mean) * invStd * gamma + beta}. gamma and beta are rank-1 views of length C, or null
   * (then 1 and 0). Returns {@code {y [x's shape], mean [C], invStd [C]}}, all contiguous. The default
   * composes the other kernels; a backend may override it with one or two passes over x.
   */
  default Buffer[] batchNormTrain(View x, View gamma, View beta, double eps) {
    return FusedDefaults.batchNormTrain(this, x, gamma, beta, eps);
  }

  /**
   * The backward of {@link #batchNormTrain} (not differentiable again: core only calls it when the
   * gradient is not recorded): from the output gradient {@code g} (x's shape), x, and the saved
   * {@code mean}, {@code invStd} ([C]), with {@code xhat = (x - mean) * invStd}, returns
   * {@code {gx, gGamma [C], gBeta [C]}} where {@code gBeta = sum(g)}, {@code gGamma = sum(g * xhat)} and
   * {@code gx = gamma * invStd * (g - gBeta / M - xhat * gGamma / M)}; gamma may be null (1).
   */
  default Buffer[] batchNormBackward(View g, View x, View mean, View invStd, View gamma) {
    return FusedDefaults.batchNormBackward(this, g, x, mean, invStd, gamma);
  }

  /**
   * {@link #batchNormTrain} followed by ReLU ({@code y <= 0 ? +0 : y}, as {@link #relu}) in one kernel:
   * returns {@code {relu(y), mean [C], invStd [C]}}. The default runs the two kernels.
   */
  default Buffer[] batchNormReluTrain(View x, View gamma, View beta, double eps) {
    return FusedDefaults.batchNormReluTrain(this, x, gamma, beta, eps);
  }

  /**
   * The backward of {@link #batchNormReluTrain}: {@link #batchNormBackward} of the masked gradient
   * {@code out <= 0 ? +0 : g}, where {@code out} is the fused op's output (positive exactly where the
   * normalised value is, NaN exactly where it is). The default runs {@link #reluBackward} and {@link #batchNormBackward}.
   */
  default Buffer[] batchNormReluBackward(View g, View x, View out, View mean, View invStd, View gamma) {
    return FusedDefaults.batchNormReluBackward(this, g, x, out, mean, invStd, gamma);
  }

  /**
   * {@link #batchNormReluTrain} followed by {@link #maxPool2dTiled} in one kernel: returns
   * {@code {pooled [N, C, H/k, W/k], mean [C], invStd [C]}} for x {@code [N, C, H, W]}; the full-size
   * activation need not be held. The default runs the two kernels.
   */
  default Buffer[] batchNormReluPoolTrain(View x, View gamma, View beta, double eps, int k) {
    return FusedDefaults.batchNormReluPoolTrain(this, x, gamma, beta, eps, k);
  }

  /**
   * The backward of {@link #batchNormReluPoolTrain} from the pooled output gradient {@code g} and output
   * {@code out} (the saved {@code mean} and {@code invStd}, gamma and beta as given to the forward, or
   * null): the activation {@code relu(batchNorm(x))} is recomputed from them (so a backend must recompute
   * exactly the values its forward pooled), then {@link #maxPool2dTiledBackward} and
   * {@link #batchNormReluBackward}. Returns {@code {gx, gGamma [C], gBeta [C]}}.
   */
  default Buffer[] batchNormReluPoolBackward(View g, View x, View out, View mean, View invStd, View gamma, View beta,
      double eps, int k) {
    return FusedDefaults.batchNormReluPoolBackward(this, g, x, out, mean, invStd, gamma, beta, eps, k);
  }

  /**
   * Max pooling over non-overlapping {@code k x k} windows (stride k, no padding, floor mode: trailing
   * rows and columns that do not fill a window are dropped): {@code x [N, C, H, W]} to
   * {@code [N, C, H / k, W / k]}. NaN propagates as in {@link #reduce}.
   */
  default Buffer maxPool2dTiled(View x, int k) {
    return FusedDefaults.maxPool2dTiled(this, x, k);
  }

  /**
   * The backward of {@link #maxPool2dTiled}: from x, its pooled output {@code out} and the output
   * gradient {@code g} ({@code [N, C, H / k, W / k]}), the gradient of x ({@code [N, C, H, W]}): every
   * element of a window equal to the window's maximum gets {@code g / count} (count: how many are equal,
   * so ties share the gradient equally), every other element and the dropped remainder 0.
   */
  default Buffer maxPool2dTiledBackward(View x, View out, View g, int k) {
    return FusedDefaults.maxPool2dTiledBackward(this, x, out, g, k);
  }

  /**
   * ReLU as core defines it, {@code x <= 0 ? +0 : x} (-0 gives +0 and NaN gives NaN, as {@code where(x <= 0,
   * 0, x)} and PyTorch's relu), as one pass: a contiguous buffer of x's shape. The default composes
   * {@link #binary} (LE) and {@link #where}.
   */
  default Buffer relu(View x) {
    return FusedDefaults.relu(this, x);
  }

  /**
   * The backward of {@link #relu}: {@code x <= 0 ? +0 : g} (g where x is NaN, as PyTorch's threshold_backward)
   * for x and the output gradient g of the same shape (not differentiable again: core only calls it when the backward is not recorded).
   */
  default Buffer reluBackward(View x, View g) {
    return FusedDefaults.reluBackward(this, x, g);
  }
}
