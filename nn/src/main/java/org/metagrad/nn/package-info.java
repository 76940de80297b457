/**
 * Neural-network layers as stateless {@link org.metagrad.nn.Module}s built only from core ops, so every
 * model is differentiable to any order (second-order MAML): {@link org.metagrad.nn.Linear},
 * {@link org.metagrad.nn.Conv2d}, {@link org.metagrad.nn.BatchNorm2d}/{@link org.metagrad.nn.BatchNorm1d}
 * with an explicit {@link org.metagrad.nn.BnMode}, pooling, activations, {@link org.metagrad.nn.Sequential},
 * PyTorch's initializers ({@link org.metagrad.nn.Init}) and ready backbones
 * ({@link org.metagrad.nn.Backbones}) whose feature extractor and head can be applied separately
 * ({@link org.metagrad.nn.Network}). Parameter and state names follow PyTorch's {@code state_dict}.
 *
 * <pre>{@code
 * Network net = Backbones.conv4(1, 64, 28, 5, BnMode.BATCH_STATS);
 * Params p = net.init(new Rng(0));
 * Tensor logits = net.apply(p, images, Mode.TRAIN);   // [N, 5]
 * }</pre>
 */
package org.metagrad.nn;
