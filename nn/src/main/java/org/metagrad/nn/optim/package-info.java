/**
 * Functional optimizers ({@link org.metagrad.nn.optim.SGD}, {@link org.metagrad.nn.optim.Adam}) with
 * immutable, checkpointable {@link org.metagrad.nn.optim.OptimizerState}, learning-rate schedules
 * ({@link org.metagrad.nn.optim.LrSchedule}) and clipping by global norm
 * ({@link org.metagrad.nn.optim.GradClip}), all matching {@code torch.optim}'s formulas.
 *
 * <pre>{@code
 * Step s = Adam.of(1e-3).step(params, Autograd.grad(loss, params.values()), state);
 * }</pre>
 */
package org.metagrad.nn.optim;
