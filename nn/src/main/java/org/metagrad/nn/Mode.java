package org.metagrad.nn;

import org.metagrad.Rng;

/**
 * How a forward pass runs: training or evaluation, with optional module state (BatchNorm running
 * statistics), the inner-step index (per-step BatchNorm statistics of MAML++), and an {@link Rng} for
 * dropout. Immutable; the {@code with*} methods return copies.
 *
 * <pre>{@code model.apply(params, x, Mode.train().withState(state).withStep(k)) }</pre>
 */
public final class Mode {
  /** Training without state or randomness. */
  public static final Mode TRAIN = new Mode(true, null, 0, null);
  /** Evaluation without state. */
  public static final Mode EVAL = new Mode(false, null, 0, null);

  private final boolean training;
  private final State state;
  private final int step;
  private final Rng rng;

  private Mode(boolean training, State state, int step, Rng rng) {
    this.training = training;
    this.state = state;
    this.step = step;
    this.rng = rng;
  }

  /** Training mode. */
  public static Mode train() {
    return TRAIN;
  }

  /** Evaluation mode. */
  public static Mode eval() {
    return EVAL;
  }

  /** Whether this is training. */
  public boolean training() {
    return training;
  }

  /** Module state or null. */
  public State state() {
    return state;
  }

  /** Inner-loop step index (0 outside inner loops). */
  public int step() {
    return step;
  }

  /** Random generator for stochastic layers, or null (then they act as in evaluation). */
  public Rng rng() {
    return rng;
  }

  /** A copy with state. */
  public Mode withState(State s) {
    return new Mode(training, s, step, rng);
  }

  /** A copy with the inner-step index. */
  public Mode withStep(int k) {
    if (k < 0) {
      throw new IllegalArgumentException("Mode: step must be >= 0, got " + k);
    }
    return new Mode(training, state, k, rng);
  }

  /** A copy with a random generator. */
  public Mode withRng(Rng r) {
    return new Mode(training, state, step, r);
  }

  /** The same mode with state scoped to a child module's name. */
  public Mode scoped(String name) {
    return state == null ? this : new Mode(training, state.scoped(name), step, rng);
  }

  @Override
  public String toString() {
    return (training ? "TRAIN" : "EVAL") + (step > 0 ? " step " + step : "");
  }
}
