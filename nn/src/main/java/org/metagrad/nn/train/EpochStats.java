package org.metagrad.nn.train;

/**
 * Mean loss and accuracy over one pass of batches (weighted by batch size).
 *
 * @param epoch 0-based epoch index (0 for an evaluation)
 * @param loss mean cross-entropy per sample
 * @param accuracy fraction of samples whose arg-max logit is the label
 * @param samples samples seen
 * @param lr the learning rate of the epoch's last step (NaN for an evaluation)
 */
public record EpochStats(int epoch, double loss, double accuracy, long samples, double lr) {}
