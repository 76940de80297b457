/**
 * Learning with few labels beyond episodes: semi-supervised learning (Pi-model, Mean Teacher, VAT,
 * pseudo-labelling, FixMatch) and self-supervised pre-training (SimCLR, BYOL) followed by a linear probe or
 * fine-tuning, on the same Omniglot data as the few-shot learners, built on core and {@code nn} only.
 *
 * <p>{@link org.metagrad.meta.semi.SemiSplit} turns {@code images_background} into a classification problem
 * with a few labelled drawings per character; {@link org.metagrad.meta.semi.Augmentations} holds the seeded
 * transforms and the weak / strong / contrastive policies; {@link org.metagrad.meta.semi.SemiLosses} the
 * losses; {@link org.metagrad.meta.semi.SemiTraining} the per-step objectives (run by the meta-learners'
 * {@link org.metagrad.meta.train.MetaTrainer}); {@link org.metagrad.meta.semi.SemiRun} one run into a run
 * folder; {@link org.metagrad.meta.semi.SemiBenchmark} the table of {@code meta/RESULTS.md}.
 *
 * <pre>{@code
 * SemiSplit split = SemiSplit.of(SemiRun.load(reader, 200, 0), 1, 0);
 * SemiRun.Outcome o = SemiRun.run(SemiConfig.defaults(SemiMethod.FIXMATCH), split, Path.of("runs/fm"), false,
 *     System.out);
 * }</pre>
 */
package org.metagrad.meta.semi;
