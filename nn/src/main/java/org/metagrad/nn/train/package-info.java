/**
 * A small supervised {@link org.metagrad.nn.train.Trainer} (cross-entropy, any optimizer and schedule)
 * for transfer-learning baselines and pre-training.
 *
 * <pre>{@code
 * Trainer.Result r = new Trainer(net, Adam.of(1e-3)).fit(params, state, 10, () -> batches.iterator(), rng);
 * }</pre>
 */
package org.metagrad.nn.train;
