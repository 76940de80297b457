/**
 * Learning to learn by gradient descent by gradient descent (Andrychowicz et al. 2016): a coordinate-wise LSTM
 * optimizer ({@link org.metagrad.meta.l2l.LstmOptimizer}) trained by truncated backpropagation through unrolled
 * optimisation, first order (as the paper) or second order, on batches of problems
 * ({@link org.metagrad.meta.l2l.Optimizee}: {@link org.metagrad.meta.l2l.QuadraticFunctions},
 * {@link org.metagrad.meta.l2l.MlpClassification}); {@link org.metagrad.meta.l2l.HandOptimizer} holds the SGD,
 * RMSprop and Adam baselines and {@link org.metagrad.meta.l2l.LearnToOptimize} the whole experiment behind
 * {@code metagrad learn-optimizer}.
 */
package org.metagrad.meta.l2l;
