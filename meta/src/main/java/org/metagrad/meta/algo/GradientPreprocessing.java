package org.metagrad.meta.algo;

import org.metagrad.Tensor;

/**
 * The log/sign input preprocessing of Andrychowicz et al. (2016, appendix A), used by coordinate-wise
 * LSTM optimisers (the learned optimizer and Ravi and Larochelle's meta-learner LSTM) so that gradients and
 * losses of very different magnitudes reach the LSTM on one scale:
 *
 * <pre>
 * x  -&gt;  (log|x| / p, sign(x))   if |x| &gt;= e^-p
 *        (-1,          e^p x)     otherwise
 * </pre>
 *
 * <p>Built from differentiable core ops ({@code abs}, {@code log}, {@code sign}, {@code where}), so it can sit
 * inside a second-order meta-gradient. The log is taken of {@code max(|x|, e^-p)}, so the branch that
 * {@code where} discards is finite and its (masked) derivative is 0, not NaN, at {@code x = 0}. NaN in
 * {@code x} stays NaN in both outputs.
 *
 * <pre>{@code
 * Tensor g = grads;                                   // [n, 1]
 * Tensor in = GradientPreprocessing.logSign(g, 10);   // [n, 2]
 * }</pre>
 */
public final class GradientPreprocessing {
  /** The paper's p. */
  public static final double P = 10;

  private GradientPreprocessing() {}

  /**
   * The two preprocessed features of every element of {@code x}: for {@code x} of shape {@code [n, 1]} the
   * result is {@code [n, 2]} (first column the log feature, second the sign feature); any other shape
   * {@code s} gives {@code [s..., 2]}.
   *
   * @param p the preprocessing constant (> 0; the paper's value is 10)
   * @throws IllegalArgumentException if p is not positive and finite
   */
  public static Tensor logSign(Tensor x, double p) {
    if (!(p > 0) || Double.isInfinite(p)) {
      throw new IllegalArgumentException("logSign: p must be finite and > 0, got " + p);
    }
    double threshold = StrictMath.exp(-p);
    Tensor a = x.abs();
    // NaN compares false, so NaN falls into the small branch, whose e^p x keeps it NaN; the first feature
    // must then be NaN too, not the constant -1.
    Tensor big = a.ge(threshold);
    Tensor minusOne = Tensor.full(-1, x.dtype(), 1).to(x.device());
    Tensor f1 = Tensor.where(big, a.maximum(Tensor.full(threshold, x.dtype(), 1).to(x.device())).log().div(p),
        minusOne);
    f1 = Tensor.where(x.ne(x), x, f1);
    Tensor f2 = Tensor.where(big, x.sign(), x.mul(StrictMath.exp(p)));
    int[] s = x.shape();
    boolean lastIsOne = s.length > 0 && s[s.length - 1] == 1;
    int dim = lastIsOne ? s.length - 1 : s.length;
    if (!lastIsOne) {
      f1 = f1.unsqueeze(dim);
      f2 = f2.unsqueeze(dim);
    }
    return Tensor.concat(java.util.List.of(f1, f2), dim);
  }
}
