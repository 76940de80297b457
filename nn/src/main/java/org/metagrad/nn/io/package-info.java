/**
 * Checkpoints: reading and writing named arrays in the safetensors format, independent of the
 * tensor engine so that files can be inspected, converted or validated without it.
 *
 * <p>{@link org.metagrad.nn.io.NamedArray} is the neutral in-memory form of one tensor (name,
 * dtype, shape, little-endian bytes); {@link org.metagrad.nn.io.Checkpoint} is a file's content;
 * {@link org.metagrad.nn.io.SafeTensors} reads (validating a possibly hostile file completely
 * before allocating tensor memory) and writes (atomically); a malformed file is a {@link
 * org.metagrad.nn.io.CheckpointException}.
 */
package org.metagrad.nn.io;
