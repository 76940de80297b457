package org.metagrad.meta.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.metagrad.meta.algo.Mann;

/**
 * A MANN run ({@code train --algorithm mann}): the shared settings of a {@link TrainConfig} (data, split,
 * side, rotation, {@code ways} = classes per episode, {@code hidden} = controller units, iterations,
 * {@code metaBatch} = batches per step, learning rate and schedule, seed, threads, validation, test episodes,
 * checkpoints, clipping, output folder, distortion) plus the MANN's own. Written into {@code config.json} as the
 * base's entries followed by {@code mann_*} entries.
 *
 * <pre>{@code
 * MannConfig c = new MannConfig(base, Mann.Controller.MANN, Mann.Labels.ONE_HOT, 10, 16, 128, 40, 4, 0.95);
 * }</pre>
 *
 * @param base the shared settings (its algorithm must be {@link Algorithm#MANN})
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
  /** Keys of the MANN entries in {@code config.json}. */
  static final List<String> KEYS = List.of("mann_controller", "mann_labels", "mann_instances", "mann_episodes",
      "mann_slots", "mann_width", "mann_reads", "mann_gamma");

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

  /** The paper's settings (MANN, one-hot labels, 10 instances, 128 x 40 memory, 4 reads, gamma 0.95), 16 episodes per batch. */
  public static MannConfig defaults(TrainConfig base) {
    return new MannConfig(base, Mann.Controller.MANN, Mann.Labels.ONE_HOT, 10, 16, 128, 40, 4, 0.95);
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

  /** The base's entries, then the MANN's. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>(base.toMap());
    m.put("mann_controller", controller.cliName());
    m.put("mann_labels", labels.cliName());
    m.put("mann_instances", instances);
    m.put("mann_episodes", episodes);
    m.put("mann_slots", slots);
    m.put("mann_width", width);
    m.put("mann_reads", reads);
    m.put("mann_gamma", gamma);
    return m;
  }

  /** {@code config.json}'s text. */
  public String toJson() {
    return Json.object(toMap());
  }

  /** The entries that determine the trained bits (as {@link TrainConfig#fingerprint()}, plus the MANN's). */
  public String fingerprint() {
    Map<String, Object> m = toMap();
    for (String k : new String[] {"threads", "out", "data", "test_episodes", "test_inner_steps"}) {
      m.remove(k);
    }
    return m.toString();
  }

  /**
   * Reads a MANN run's {@code config.json}.
   *
   * @throws IllegalArgumentException naming a missing, unknown or malformed entry
   */
  public static MannConfig fromJson(String json) {
    Map<String, Object> doc;
    try {
      doc = org.metagrad.nn.io.JsonDocuments.object(json, "config.json");
    } catch (org.metagrad.nn.io.CheckpointException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    Map<String, Object> baseEntries = new LinkedHashMap<>();
    Map<String, String> own = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : doc.entrySet()) {
      if (KEYS.contains(e.getKey())) {
        own.put(e.getKey(), String.valueOf(e.getValue()));
      } else {
        baseEntries.put(e.getKey(), e.getValue());
      }
    }
    for (String k : KEYS) {
      if (!own.containsKey(k)) {
        throw new IllegalArgumentException("config.json: missing entry '" + k + "' of a mann run");
      }
    }
    TrainConfig base = TrainConfig.fromJson(Json.object(baseEntries));
    try {
      return new MannConfig(base, Mann.Controller.parse(own.get("mann_controller")),
          Mann.Labels.parse(own.get("mann_labels")), Integer.parseInt(own.get("mann_instances")),
          Integer.parseInt(own.get("mann_episodes")), Integer.parseInt(own.get("mann_slots")),
          Integer.parseInt(own.get("mann_width")), Integer.parseInt(own.get("mann_reads")),
          Double.parseDouble(own.get("mann_gamma")));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("config.json: malformed number: " + e.getMessage(), e);
    }
  }

  /** Whether a {@code config.json} text is a MANN run's (it has {@code mann_*} entries). */
  public static boolean isMannJson(String json) {
    return json.contains("\"mann_controller\"");
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%s, %d classes x %d instances per episode (%d steps), %d episodes x %d"
        + " batches per step, %d steps%s", new org.metagrad.meta.algo.Mann(mann()), base.ways(), instances, steps(),
        episodes, base.metaBatch(), base.iterations(), base.distortion().isIdentity() ? ""
            : ", training images distorted (" + base.distortion().name() + ")");
  }
}
