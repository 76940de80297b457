/**
 * Few-shot learning algorithms on the public {@code nn}/{@code core} API.
 *
 * <p>Two contracts: {@link org.metagrad.meta.algo.FewShotLearner} (adapt to a task's support set, then
 * predict on its queries) and {@link org.metagrad.meta.algo.MetaLearner} (additionally a query loss that
 * is differentiable with respect to the meta-parameters, so a meta-gradient is
 * {@code Autograd.grad(learner.metaLoss(params, task).loss(), params.values())}).
 *
 * <p>Gradient-based: {@link org.metagrad.meta.algo.Maml} (Finn et al. 2017, first or second order),
 * {@link org.metagrad.meta.algo.MetaSgd} (Li et al. 2017), {@link org.metagrad.meta.algo.Anil} (Raghu et
 * al. 2020), {@link org.metagrad.meta.algo.Reptile} (Nichol et al. 2018, not a gradient method).
 * Metric-based: {@link org.metagrad.meta.algo.ProtoNet} (Snell et al. 2017),
 * {@link org.metagrad.meta.algo.MatchingNet} (Vinyals et al. 2016, optionally with full-context embeddings),
 * {@link org.metagrad.meta.algo.Siamese} (Koch et al. 2015). Hybrid: {@link org.metagrad.meta.algo.ProtoMaml}
 * (Triantafillou et al. 2020). Transfer: {@link org.metagrad.meta.algo.TransferBaseline} (Baseline and
 * Baseline++ of Chen et al. 2019). {@link org.metagrad.meta.algo.MetaGradCheck} verifies meta-gradients
 * against finite differences. Optimization as a model: {@link org.metagrad.meta.algo.MetaLstm} (Ravi and
 * Larochelle 2017's meta-learner LSTM, first or second order); the learned optimizer of Andrychowicz et al.
 * (2016) is in {@code org.metagrad.meta.l2l}.
 *
 * <p>Names: parameters a learner adds are prefixed ({@code alpha.}, {@code proto.}, {@code siamese.},
 * {@code classifier.}, {@code metalstm.}); tensors derived from a task by {@code adapt} live under {@code task.}.
 */
package org.metagrad.meta.algo;
