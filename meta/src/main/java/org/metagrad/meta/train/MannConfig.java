package org.metagrad.meta.train;

import java.util.Locale;
import org.metagrad.meta.algo.Mann;

/**
 * A MANN run ({@code train --algorithm mann}) seen through its {@link TrainConfig}: the shared settings (data,
 * split, side, rotation, {@code ways} = classes per episode, {@code hidden} = controller units, iterations,
 * {@code metaBatch} = batches per step, learning rate and schedule, seed, threads, validation, test episodes,
 * checkpoints, clipping, output folder, distortion) and the MANN's own, which are ordinary {@link TrainOptions}
 * entries ({@code mann_*}, only for {@link Algorithm#MANN}). So {@code config.json}, its strict reader, the
 * fingerprint and the command line are the ones of every other run.
 *
 * <pre>{@code
 * MannConfig c = MannConfig.of(TrainConfig.builder().algorithm(Algorithm.MANN).ways(5).build());
 * }</pre>
 *
 * @param base the run's settings (its algorithm must be {@link Algorithm#MANN})
 */
public record MannConfig(TrainConfig base) {

  /**
   * Validates the MANN's settings together with the shared ones.
   *
   * @throws IllegalArgumentException naming the bad option
   */
  public MannConfig {
    if (base == null || base.algorithm() != Algorithm.MANN) {
      throw new IllegalArgumentException("MannConfig: the base configuration's algorithm must be mann");
    }
    int instances = base.mannInstances();
    if (instances < 1 || instances > 20) {
      throw new IllegalArgumentException("--instances must be in 1..20 (Omniglot has 20 drawings per character),"
          + " got " + instances);
    }
    if (base.mannEpisodes() < 1) {
      throw new IllegalArgumentException("--episodes (per batch) must be >= 1, got " + base.mannEpisodes());
    }
    if (base.testWays() != base.ways()) {
      throw new IllegalArgumentException("mann has an N-way output: --test-ways (" + base.testWays()
          + ") must equal --ways (" + base.ways() + ")");
    }
    // Checks the architecture's values (memory, reads, gamma, classes) with their messages.
    architecture(base);
  }

  /** The MANN view of a configuration (same as the constructor). */
  public static MannConfig of(TrainConfig base) {
    return new MannConfig(base);
  }

  private static Mann.Config architecture(TrainConfig b) {
    return new Mann.Config(b.mannController(), b.mannLabels(), b.side() * b.side(), b.ways(), b.hidden(), slots(b),
        width(b), b.mannReads(), b.mannGamma());
  }

  private static int slots(TrainConfig b) {
    return Integer.parseInt(b.mannMemory().substring(0, b.mannMemory().indexOf('x')));
  }

  private static int width(TrainConfig b) {
    return Integer.parseInt(b.mannMemory().substring(b.mannMemory().indexOf('x') + 1));
  }

  /** The network's architecture. */
  public Mann.Config mann() {
    return architecture(base);
  }

  /** MANN, LSTM alone or feed-forward. */
  public Mann.Controller controller() {
    return base.mannController();
  }

  /** One-hot or 5-character string labels. */
  public Mann.Labels labels() {
    return base.mannLabels();
  }

  /** Images of each class per episode (episode length: ways x instances). */
  public int instances() {
    return base.mannInstances();
  }

  /** Episodes per batch; a training step averages {@code metaBatch} batches. */
  public int episodes() {
    return base.mannEpisodes();
  }

  /** Memory rows. */
  public int slots() {
    return slots(base);
  }

  /** Memory row width. */
  public int width() {
    return width(base);
  }

  /** Read heads. */
  public int reads() {
    return base.mannReads();
  }

  /** Usage decay. */
  public double gamma() {
    return base.mannGamma();
  }

  /** Steps per episode. */
  public int steps() {
    return base.ways() * instances();
  }

  /** {@code config.json}'s text (the base's, which holds the {@code mann_*} entries). */
  public String toJson() {
    return base.toJson();
  }

  /** The entries that determine the trained bits (the base's fingerprint, which holds the MANN's settings). */
  public String fingerprint() {
    return base.fingerprint();
  }

  /**
   * Reads a MANN run's {@code config.json}.
   *
   * @throws IllegalArgumentException naming a missing, unknown or malformed entry, or a run of another algorithm
   */
  public static MannConfig fromJson(String json) {
    return new MannConfig(TrainConfig.fromJson(json));
  }

  /** Whether a {@code config.json} text is a MANN run's. */
  public static boolean isMannJson(String json) {
    return TrainConfig.fromJson(json).algorithm() == Algorithm.MANN;
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%s, %d classes x %d instances per episode (%d steps), %d episodes x %d"
        + " batches per step, %d steps%s", new org.metagrad.meta.algo.Mann(mann()), base.ways(), instances(), steps(),
        episodes(), base.metaBatch(), base.iterations(), base.distortion().isIdentity() ? ""
            : ", training images distorted (" + base.distortion().name() + ")");
  }
}
