package org.metagrad.meta.l2l;

import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.Tensor;

/**
 * The hand-designed optimizers the learned one is compared with (Andrychowicz et al. 2016 compare with SGD,
 * RMSprop, Adam and Nesterov momentum, each at its best learning rate), coordinate-wise on a flat parameter
 * vector:
 *
 * <pre>
 * SGD:      theta -= lr g
 * RMSprop:  v = 0.99 v + 0.01 g^2;  theta -= lr g / (sqrt(v) + 1e-8)                       (PyTorch's defaults)
 * Adam:     m = 0.9 m + 0.1 g;  v = 0.999 v + 0.001 g^2;
 *           theta -= lr (m / (1 - 0.9^t)) / (sqrt(v / (1 - 0.999^t)) + 1e-8)              (Kingma and Ba)
 * </pre>
 *
 * <pre>{@code double[][] curve = HandOptimizer.ADAM.trajectory(f, 0.1, 200);   // [201][B] }</pre>
 */
public enum HandOptimizer {
  /** Plain gradient descent. */
  SGD("SGD"),
  /** RMSprop (Tieleman and Hinton 2012), decay 0.99. */
  RMSPROP("RMSprop"),
  /** Adam (Kingma and Ba 2015), betas (0.9, 0.999). */
  ADAM("Adam");

  private final String label;

  HandOptimizer(String label) {
    this.label = label;
  }

  /** The name used in tables and plots. */
  public String label() {
    return label;
  }

  /**
   * The evaluation losses {@code [steps + 1][B]} of optimising f from its initial parameters with learning rate
   * lr (row 0: the start). Divergence shows as infinite or NaN losses.
   *
   * @throws IllegalArgumentException if lr is not positive and finite or steps is negative
   */
  public double[][] trajectory(Optimizee f, double lr, int steps) {
    if (!(lr > 0) || Double.isInfinite(lr) || steps < 0) {
      throw new IllegalArgumentException(label + ": need a finite lr > 0 and steps >= 0, got lr " + lr + ", steps "
          + steps);
    }
    Tensor th = f.initialParams().detach();
    Tensor m = Tensor.zeros(th.dtype(), th.shape()).to(th.device());
    Tensor v = m;
    double[][] out = new double[steps + 1][];
    out[0] = f.evalLosses(th).detach().toDoubleArray();
    for (int t = 1; t <= steps; t++) {
      Tensor leaf = th.detach().requiresGrad(true);
      Tensor g = Autograd.grad(f.losses(leaf, t - 1).sum(), List.of(leaf)).get(0).detach();
      try (Autograd.NoGrad ng = Autograd.noGrad()) {
        th = switch (this) {
          case SGD -> leaf.detach().sub(g.mul(lr));
          case RMSPROP -> {
            v = v.mul(0.99).add(g.square().mul(0.01));
            yield leaf.detach().sub(g.div(v.sqrt().add(1e-8)).mul(lr));
          }
          case ADAM -> {
            m = m.mul(0.9).add(g.mul(0.1));
            v = v.mul(0.999).add(g.square().mul(0.001));
            double bc1 = 1 - StrictMath.pow(0.9, t);
            double bc2 = 1 - StrictMath.pow(0.999, t);
            yield leaf.detach().sub(m.div(bc1).div(v.div(bc2).sqrt().add(1e-8)).mul(lr));
          }
        };
        out[t] = f.evalLosses(th).toDoubleArray();
      }
    }
    return out;
  }
}
