package org.metagrad.meta.train;

import java.util.Locale;
import org.metagrad.meta.algo.Mann;

/**
 * A MANN run ({@code train --algorithm mann}) as read from its {@link TrainConfig}: the shared settings (data,
 * split, side, rotation, {@code ways} = classes per episode, {@code hidden} = controller units, iterations,
 * {@code metaBatch} = batches per step, learning rate and schedule, seed, threads, validation, test episodes,
 * checkpoints, clipping, output folder, distortion) plus the MANN options of {@link TrainOptions}
 * ({@code --controller}, {@code --labels}, {@code --instances}, {@code --episodes}, {@code --memory-slots},
 * {@code --memory-width}, {@code --read-heads}, {@code --gamma}). {@code config.json} is the base's.
 *
 * <pre>{@code
 * MannConfig c = MannConfig.of(TrainConfig.builder().algorithm(Algorithm.MANN).ways(5).side(20).hidden(200).build());
 * c.mann();   // the network's architecture
 * }</pre>
 *
 * @param base the run's settings (its algorithm must be {@link Algorithm#MANN})
 * @param controller MANN (LSTM + memory), LSTM alone or feed-forward
 * @param labels one-hot or 5-character string labels
 * @param instances images of each class per episode (episode length: ways x instances)
 * @param episodes episodes per batch; a training step averages {@code metaBatch} batches
 * @param slots memory rows
 * @param width memory row width
 * @param reads read heads
 * @param gamma usage decay
 */
public record MannConfig(TrainConfig base, Mann.Controller controller, Mann.Labels labels, int instances,
                         int episodes, int slots, int width, int reads, double gamma) {
  /**
   * Validates.
   *
   * @throws IllegalArgumentException naming the bad option
   */
  public MannConfig {
    if (base == null || base.algorithm() != Algorithm.MANN) {
      throw new IllegalArgumentException("MannConfig: the base configuration's algorithm must be mann");
    }
    if (instances < 1 || instances > 20) {
      throw new IllegalArgumentException("--instances must be in 1..20 (Omniglot has 20 drawings per character),"
          + " got " + instances);
    }
    if (episodes < 1) {
      throw new IllegalArgumentException("--episodes (per batch) must be >= 1, got " + episodes);
    }
    if (base.testWays() != base.ways()) {
      throw new IllegalArgumentException("mann has an N-way output: --test-ways (" + base.testWays()
          + ") must equal --ways (" + base.ways() + ")");
    }
    // Checks the architecture's values (memory, reads, gamma, classes) with their messages.
    mann(base, controller, labels, slots, width, reads, gamma);
  }

  /**
   * The MANN settings of a configuration.
   *
   * @throws IllegalArgumentException for another algorithm or a bad MANN option (naming it)
   */
  public static MannConfig of(TrainConfig c) {
    if (c == null || c.algorithm() != Algorithm.MANN) {
      throw new IllegalArgumentException("MannConfig: the configuration's algorithm must be mann");
    }
    return new MannConfig(c, Mann.Controller.parse(c.get(TrainOptions.MANN_CONTROLLER)),
        Mann.Labels.parse(c.get(TrainOptions.MANN_LABELS)), c.get(TrainOptions.MANN_INSTANCES),
        c.get(TrainOptions.MANN_EPISODES), c.get(TrainOptions.MANN_SLOTS), c.get(TrainOptions.MANN_WIDTH),
        c.get(TrainOptions.MANN_READS), c.get(TrainOptions.MANN_GAMMA));
  }

  private static Mann.Config mann(TrainConfig b, Mann.Controller controller, Mann.Labels labels, int slots,
                                  int width, int reads, double gamma) {
    return new Mann.Config(controller, labels, b.side() * b.side(), b.ways(), b.hidden(), slots, width, reads, gamma);
  }

  /** The network's architecture. */
  public Mann.Config mann() {
    return mann(base, controller, labels, slots, width, reads, gamma);
  }

  /** Steps per episode. */
  public int steps() {
    return base.ways() * instances;
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%s, %d classes x %d instances per episode (%d steps), %d episodes x %d"
        + " batches per step, %d steps%s", new org.metagrad.meta.algo.Mann(mann()), base.ways(), instances, steps(),
        episodes, base.metaBatch(), base.iterations(), base.distortion().isIdentity() ? ""
            : ", training images distorted (" + base.distortion().name() + ")");
  }
}
