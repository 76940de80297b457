package org.metagrad.nn.optim;

import org.metagrad.nn.Params;

/**
 * The result of one optimizer step: the updated (detached) parameters and the new optimizer state.
 *
 * <pre>{@code Step s = sgd.step(params, grads, state); params = s.params(); state = s.state();}</pre>
 */
public record Step(Params params, OptimizerState state) {}
