package org.metagrad.meta.l2l;

import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * Random quadratics of Andrychowicz et al. (2016, section 3.1): {@code f(theta) = ||W theta - y||^2} with
 * {@code W [d, d]}, {@code y [d]} and the starting point {@code theta_0 [d]} drawn i.i.d. N(0, 1), B of them
 * batched ({@code theta [B d]}). The paper's problems have {@code d = 10}.
 *
 * <pre>{@code
 * QuadraticFunctions f = QuadraticFunctions.sample(new Rng(3), 128, 10, DType.FLOAT32);
 * }</pre>
 */
public final class QuadraticFunctions implements Optimizee {
  private final Tensor w;
  private final Tensor y;
  private final Tensor theta0;
  private final int b;
  private final int d;

  private QuadraticFunctions(Tensor w, Tensor y, Tensor theta0) {
    this.w = w;
    this.y = y;
    this.theta0 = theta0;
    this.b = w.size(0);
    this.d = w.size(1);
  }

  /**
   * B random quadratics in d dimensions.
   *
   * @throws IllegalArgumentException if b or d is below 1
   */
  public static QuadraticFunctions sample(Rng rng, int b, int d, DType dtype) {
    if (b < 1 || d < 1) {
      throw new IllegalArgumentException("QuadraticFunctions: need b >= 1 functions and d >= 1 dimensions, got b "
          + b + ", d " + d);
    }
    Tensor w = Tensor.randn(rng, dtype, b, d, d);
    Tensor y = Tensor.randn(rng, dtype, b, d, 1);
    Tensor t0 = Tensor.randn(rng, dtype, b * d);
    return new QuadraticFunctions(w, y, t0);
  }

  /** Dimensions per function. */
  public int dim() {
    return d;
  }

  @Override
  public Tensor initialParams() {
    return theta0;
  }

  @Override
  public int functions() {
    return b;
  }

  /** {@code ||W_b theta_b - y_b||^2} for every b: {@code [B]}. */
  @Override
  public Tensor losses(Tensor theta, int step) {
    if (theta.rank() != 1 || theta.size(0) != b * d) {
      throw new IllegalArgumentException("QuadraticFunctions: expected theta [" + b * d + "], got "
          + java.util.Arrays.toString(theta.shape()));
    }
    Tensor r = w.matmul(theta.reshape(b, d, 1)).sub(y);
    return r.square().sum(new int[] {1, 2}, false);
  }
}
