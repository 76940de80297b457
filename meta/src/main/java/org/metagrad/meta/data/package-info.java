/**
 * Data layer of the meta-learning module: Omniglot and Lake et al.'s one-shot runs, class splits,
 * and an episodic N-way K-shot sampler, written with the JDK only.
 *
 * <p>Images are plain {@code float[]} buffers, row-major, {@code side * side} floats per image
 * (28 x 28 by default), with strokes 1.0 and background 0.0; several images are concatenated
 * image after image. Nothing here depends on {@code Tensor}: callers wrap the arrays themselves.
 *
 * <p>Data location: the environment variable {@value org.metagrad.meta.data.DataPaths#ENV}
 * names a folder holding {@code omniglot/} and {@code omniglot-oneshot/} (see {@link
 * org.metagrad.meta.data.DataPaths}). Typical use:
 *
 * <pre>{@code
 * OmniglotReader reader = OmniglotReader.fromEnvironment();
 * ClassSplit split = OmniglotSplits.vinyals(reader.allCharacters());
 * ImageClasses train = reader.load(split.train());
 * EpisodeSampler sampler = new EpisodeSampler(train, TaskSpec.of(5, 1, 15), RotationMode.AS_NEW_CLASSES, 42L);
 * try (EpisodeSource episodes = sampler.prefetching(8)) {
 *   Episode e = episodes.next();   // e.supportX(): 5*1*28*28 floats, e.supportY(): labels 0..4
 * }
 * }</pre>
 */
package org.metagrad.meta.data;
