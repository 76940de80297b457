package org.metagrad.nn.optim;

import java.util.Arrays;
import org.metagrad.Tensor;
import org.metagrad.nn.Params;

/** Checks shared by the optimizers (not public API). */
final class Updates {
  private Updates() {}

  static void checkGrads(String opt, Params params, Params grads) {
    for (String n : grads.names()) {
      if (!params.contains(n)) {
        throw new IllegalArgumentException(opt + ".step: gradient '" + n + "' names no parameter (have "
            + params.names() + ")");
      }
      Tensor p = params.get(n);
      Tensor g = grads.get(n);
      if (!Arrays.equals(p.shape(), g.shape())) {
        throw new IllegalArgumentException(opt + ".step: gradient of '" + n + "' has shape "
            + Arrays.toString(g.shape()) + " but the parameter has shape " + Arrays.toString(p.shape()));
      }
    }
  }

  /** The buffer or zeros shaped like the parameter, on its device and in its dtype. */
  static Tensor bufferOrZeros(OptimizerState s, String kind, String name, Tensor p) {
    Tensor b = s.get(kind, name);
    if (b == null) {
      return Tensor.zeros(p.dtype(), p.shape()).to(p.device());
    }
    return b.to(p.dtype()).to(p.device());
  }

  static Tensor leafLike(Tensor updated, Tensor original) {
    return updated.detach().requiresGrad(original.requiresGrad());
  }

  static void checkLr(String opt, double lr) {
    if (!(lr >= 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException(opt + ": learning rate must be finite and >= 0, got " + lr);
    }
  }
}
