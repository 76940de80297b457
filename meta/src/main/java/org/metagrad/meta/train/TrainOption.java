package org.metagrad.meta.train;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One setting of a training run: its {@code config.json} key, its command-line flag, its type, its default and
 * its help text, declared once in {@link TrainOptions}. {@link TrainConfig} (values, JSON, fingerprint), its
 * {@link TrainConfig.Builder}, and {@code metagrad train}'s options are all made from these declarations, so
 * an option's default and spelling cannot disagree between the library and the command line.
 *
 * <p>Adding an option is one entry in {@link TrainOptions} (and, for convenience, a typed accessor in
 * {@link TrainConfig} and a setter in its builder): the JSON reader and writer, the fingerprint and the
 * command line pick it up from {@link TrainOptions#all()}. An option that only some algorithms use names them
 * with {@link #only}: it is then written to {@code config.json} only for those, the command line refuses it for
 * the others, and a configuration of another algorithm that sets it to anything but its default is refused.
 *
 * @param <T> the value type: {@link Integer}, {@link Long}, {@link Double}, {@link String},
 *     {@link java.nio.file.Path} or an enum-like type with a parser
 */
public final class TrainOption<T> {

  /** When an option is written to {@code config.json}, and whether a reader may find it missing. */
  public enum Presence {
    /** Written whenever the option applies to the run's algorithm; a configuration without it is then refused. */
    REQUIRED,
    /** Written when the run's algorithm is one the option applies to; a missing entry means the default. */
    IF_APPLIES,
    /**
     * Written only when not the default (so configurations made before the option existed keep their
     * fingerprint); a missing entry means the default.
     */
    IF_NOT_DEFAULT,
    /**
     * Never written: a folder of the machine the run was made on (the data root, the output folder), not a setting
     * of the model, so that a run folder can be copied, shipped and loaded elsewhere. A reader accepts the entry in
     * files written before and ignores it: the command reading the run takes the folder from its own options
     * ({@code --data} or {@code $METAGRAD_DATA}, {@code --out}).
     */
    NEVER
  }

  private final String key;
  private final String flag;
  private final List<String> aliases;
  private final Class<T> type;
  private final Function<Algorithm, T> defaults;
  private final String defaultText;
  private final String description;
  private final Function<String, T> parser;
  private final Function<T, Object> json;
  private final Presence presence;
  private final Set<Algorithm> appliesTo;
  private final boolean inFingerprint;

  private TrainOption(String key, String flag, List<String> aliases, Class<T> type, Function<Algorithm, T> defaults,
      String defaultText, String description, Function<String, T> parser, Function<T, Object> json,
      Presence presence, Set<Algorithm> appliesTo, boolean inFingerprint) {
    this.key = Objects.requireNonNull(key);
    this.flag = Objects.requireNonNull(flag);
    this.aliases = List.copyOf(aliases);
    this.type = Objects.requireNonNull(type);
    this.defaults = Objects.requireNonNull(defaults);
    this.defaultText = defaultText;
    this.description = Objects.requireNonNull(description);
    this.parser = Objects.requireNonNull(parser);
    this.json = Objects.requireNonNull(json);
    this.presence = Objects.requireNonNull(presence);
    this.appliesTo = appliesTo.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(appliesTo));
    this.inFingerprint = inFingerprint;
  }

  /**
   * A new option, required in {@code config.json}, applying to every algorithm and part of the fingerprint.
   *
   * @param key the {@code config.json} key, in snake case
   * @param flag the long command-line flag, e.g. {@code --ways}
   * @param type the value type
   * @param defaultValue the default (the same for every algorithm)
   * @param parser text (a command-line argument or a JSON scalar) to value; throws
   *     {@link IllegalArgumentException} on a malformed text
   * @param json value to what {@code config.json} holds (a number or a string)
   * @param description the help text, without the default (the command line appends it)
   * @param <T> the value type
   * @return the option
   */
  static <T> TrainOption<T> of(String key, String flag, Class<T> type, T defaultValue, Function<String, T> parser,
      Function<T, Object> json, String description) {
    return new TrainOption<>(key, flag, List.of(), type, a -> defaultValue, null, description, parser, json,
        Presence.REQUIRED, Set.of(), true);
  }

  /** This option with short aliases, e.g. {@code -n}. */
  TrainOption<T> alias(String... more) {
    return new TrainOption<>(key, flag, Arrays.asList(more), type, defaults, defaultText, description, parser, json,
        presence, appliesTo, inFingerprint);
  }

  /** This option with a default that depends on the algorithm. */
  TrainOption<T> defaultPer(Function<Algorithm, T> perAlgorithm) {
    return new TrainOption<>(key, flag, aliases, type, perAlgorithm, defaultText, description, parser, json,
        presence, appliesTo, inFingerprint);
  }

  /** This option with a default computed when a configuration is built (e.g. the processor count). */
  TrainOption<T> defaultFrom(java.util.function.Supplier<T> supplier, String text) {
    return new TrainOption<>(key, flag, aliases, type, a -> supplier.get(), text, description, parser, json,
        presence, appliesTo, inFingerprint);
  }

  /** This option written to {@code config.json} as {@code p} says. */
  TrainOption<T> presence(Presence p) {
    return new TrainOption<>(key, flag, aliases, type, defaults, defaultText, description, parser, json, p,
        appliesTo, inFingerprint);
  }

  /** This option, meaningful only for these algorithms (implies {@link Presence#IF_APPLIES} when required). */
  TrainOption<T> only(Algorithm first, Algorithm... rest) {
    Presence p = presence == Presence.REQUIRED ? Presence.IF_APPLIES : presence;
    return new TrainOption<>(key, flag, aliases, type, defaults, defaultText, description, parser, json, p,
        EnumSet.of(first, rest), inFingerprint);
  }

  /**
   * This option, meaningless for these algorithms (the few-labels methods do not draw episodes, so --ways does
   * not apply to them): refused for them on the command line, not written to their {@code config.json}.
   */
  TrainOption<T> except(Algorithm... excluded) {
    EnumSet<Algorithm> keep = EnumSet.allOf(Algorithm.class);
    keep.removeAll(Arrays.asList(excluded));
    return new TrainOption<>(key, flag, aliases, type, defaults, defaultText, description, parser, json, presence,
        keep, inFingerprint);
  }

  /**
   * The error for this option given to an algorithm it does not apply to.
   *
   * @param algorithm the run's algorithm
   * @param value the value given, or null to name only the flag
   * @return the message
   */
  public String notApplicable(Algorithm algorithm, Object value) {
    String given = flag + (value == null ? "" : " " + value);
    List<String> names = onlyFor();
    return names.size() <= 10 ? given + " applies only to --algorithm " + String.join(", ", names) + ", not "
        + algorithm.cliName() : given + " does not apply to --algorithm " + algorithm.cliName();
  }

  /** This option, left out of {@link TrainConfig#fingerprint()}: it does not change the trained bits. */
  TrainOption<T> notInFingerprint() {
    return new TrainOption<>(key, flag, aliases, type, defaults, defaultText, description, parser, json, presence,
        appliesTo, false);
  }

  /** The {@code config.json} key. */
  public String key() {
    return key;
  }

  /** The long command-line flag, e.g. {@code --ways}. */
  public String flag() {
    return flag;
  }

  /** Short aliases of the flag (possibly none). */
  public List<String> aliases() {
    return aliases;
  }

  /** The value type. */
  public Class<T> type() {
    return type;
  }

  /** The help text, without the default. */
  public String description() {
    return description;
  }

  /** How the option is written to and read from {@code config.json}. */
  public Presence presence() {
    return presence;
  }

  /** Whether the option changes the trained parameters (part of {@link TrainConfig#fingerprint()}). */
  public boolean inFingerprint() {
    return inFingerprint;
  }

  /** Whether the option means something for {@code algorithm}. */
  public boolean appliesTo(Algorithm algorithm) {
    return appliesTo.isEmpty() || appliesTo.contains(algorithm);
  }

  /** The algorithms the option is restricted to, by command-line name; empty when it applies to all. */
  public List<String> onlyFor() {
    return appliesTo.stream().sorted().map(Algorithm::cliName).collect(Collectors.toList());
  }

  /** The default for a run of {@code algorithm}. */
  public T defaultValue(Algorithm algorithm) {
    return defaults.apply(algorithm);
  }

  /** The default as the help text shows it. */
  public String defaultText() {
    if (defaultText != null) {
      return defaultText;
    }
    Object d = defaults.apply(Algorithm.PROTONET);
    return d == null ? "none" : String.valueOf(json.apply(type.cast(d)));
  }

  /**
   * Parses a command-line argument or a {@code config.json} scalar.
   *
   * @throws IllegalArgumentException naming the option and the text when it is malformed
   */
  public T parse(String text) {
    try {
      return parser.apply(text.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + ": '" + text + "' is not " + (type == Double.class ? "a number"
          : "an integer"), e);
    }
  }

  /** The value as {@code config.json} holds it (a number or a string). */
  public Object jsonValue(T value) {
    return json.apply(value);
  }

  /** The value cast to this option's type (checks an untyped value). */
  T cast(Object value) {
    if (!type.isInstance(value)) {
      throw new IllegalArgumentException(flag + ": expected a " + type.getSimpleName() + ", got "
          + (value == null ? "null" : value.getClass().getSimpleName()));
    }
    return type.cast(value);
  }

  @Override
  public String toString() {
    return key;
  }
}
