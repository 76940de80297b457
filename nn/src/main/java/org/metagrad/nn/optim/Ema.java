package org.metagrad.nn.optim;

import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.Tensor;
import org.metagrad.nn.Params;

/**
 * An exponential moving average of parameters, the "teacher" of Mean Teacher (Tarvainen and Valpola 2017) and
 * the target network of BYOL (Grill et al. 2020): after each optimizer step,
 * {@code ema = d * ema + (1 - d) * params} for every tensor, with the decay {@code d} either fixed or, with
 * {@link #warmup}, {@code min(decay, 1 - 1/(t + 1))} at update {@code t} (1-based), as the Mean Teacher code
 * does so that the early average is not dominated by the random initialisation (update 1 copies the
 * parameters).
 *
 * <p>The average is a plain value: {@link #update} returns detached tensors (no graph is recorded and no
 * gradient flows into the average), the names and shapes must be those of the parameters, and NaN or
 * infinities propagate into it.
 *
 * <pre>{@code
 * Ema ema = Ema.of(0.99);
 * Params teacher = ema.init(student);
 * // after each optimizer step t = 1, 2, ...:
 * teacher = ema.update(teacher, student, t);
 * }</pre>
 *
 * @param decay the decay {@code d}, in [0, 1]
 * @param warmup whether the decay ramps up as {@code min(d, 1 - 1/(t + 1))}
 */
public record Ema(double decay, boolean warmup) {

  /**
   * Validates the decay.
   *
   * @throws IllegalArgumentException when {@code decay} is outside [0, 1]
   */
  public Ema {
    if (!(decay >= 0 && decay <= 1)) {
      throw new IllegalArgumentException("Ema: decay must be in [0, 1], got " + decay);
    }
  }

  /**
   * A fixed decay (BYOL's target update with a constant tau).
   *
   * @param decay the decay, in [0, 1]
   * @return the average
   */
  public static Ema of(double decay) {
    return new Ema(decay, false);
  }

  /**
   * The decay used at update {@code t} (1-based).
   *
   * @param t the update count, >= 1
   * @return {@code decay}, or {@code min(decay, 1 - 1/(t + 1))} with warm-up
   * @throws IllegalArgumentException for {@code t < 1}
   */
  public double decayAt(long t) {
    if (t < 1) {
      throw new IllegalArgumentException("Ema: the update count starts at 1, got " + t);
    }
    return warmup ? Math.min(decay, 1 - 1.0 / (t + 1)) : decay;
  }

  /**
   * The starting average: a detached copy of the parameters.
   *
   * @param params the parameters
   * @return detached parameters with the same names
   */
  public Params init(Params params) {
    return params.detach();
  }

  /**
   * One update: {@code d * ema + (1 - d) * params} per tensor with {@code d = decayAt(t)}.
   *
   * @param ema the current average
   * @param params the parameters after optimizer step {@code t}
   * @param t the update count, >= 1
   * @return the new average, detached
   * @throws IllegalArgumentException when the names, shapes or dtypes differ (naming the first mismatch)
   */
  public Params update(Params ema, Params params, long t) {
    double d = decayAt(t);
    List<String> names = params.names();
    if (!ema.names().equals(names)) {
      throw new IllegalArgumentException("Ema.update: the average holds " + ema.names() + " but the parameters are "
          + names);
    }
    for (String n : names) {
      Tensor a = ema.get(n);
      Tensor p = params.get(n);
      if (!java.util.Arrays.equals(a.shape(), p.shape()) || a.dtype() != p.dtype()) {
        throw new IllegalArgumentException("Ema.update: '" + n + "' is " + a.dtype() + java.util.Arrays.toString(
            a.shape()) + " in the average but " + p.dtype() + java.util.Arrays.toString(p.shape())
            + " in the parameters");
      }
    }
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return ema.zip(params, (a, p) -> a.mul(d).add(p.detach().mul(1 - d)).detach());
    }
  }
}
