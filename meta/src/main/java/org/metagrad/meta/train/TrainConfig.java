package org.metagrad.meta.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.metagrad.meta.data.ClassGrouping;
import org.metagrad.meta.data.Distortion;
import org.metagrad.meta.data.Framing;
import org.metagrad.meta.data.RotationMode;

/**
 * Everything that defines an Omniglot meta-training run; written as {@code config.json} beside the run's
 * outputs and read back by {@code eval}, {@code oneshot} and {@code train --resume}.
 *
 * <pre>{@code
 * TrainConfig c = TrainConfig.builder().algorithm(Algorithm.PROTONET).ways(20).shots(5).queries(5)
 *     .testWays(5).testShots(1).iterations(500).out(Path.of("runs/pn")).build();
 * }</pre>
 *
 *
 * <p>Every setting is declared once in {@link TrainOptions} (key, flag, type, default, help); this class holds
 * one value per option, and its JSON form, fingerprint and builder are made from that table. Instances are
 * immutable and compare by value.
 */
public final class TrainConfig {

  /** Largest image side: the Omniglot drawings' own, 105 pixels (larger sides would only interpolate). */
  public static final int MAX_SIDE = 105;

  /** Most conv blocks: 2^6 = 64 is the largest power of two a side of at most {@link #MAX_SIDE} reaches. */
  public static final int MAX_BLOCKS = 6;
  /** The split names. */
  public static final List<String> SPLITS = List.of("vinyals", "maml", "background", "background-all");

  /** The split without validation classes: all 30 images_background alphabets train, images_evaluation tests. */
  public static final String BACKGROUND_ALL = "background-all";
  /** The transfer heads. */
  public static final List<String> HEADS = List.of("linear", "cosine");
  /** The schedule names. */
  public static final List<String> SCHEDULES = List.of("constant", "cosine", "step");

  /** One value per option of {@link TrainOptions#all()}, in that order. */
  private final Map<TrainOption<?>, Object> values;

  private TrainConfig(Map<TrainOption<?>, Object> values) {
    this.values = values;
  }

  /** The value of {@code option}. */
  public <T> T get(TrainOption<T> option) {
    return option.cast(values.get(option));
  }

  /** {@link TrainOptions#ALGORITHM}. */
  public Algorithm algorithm() {
    return get(TrainOptions.ALGORITHM);
  }

  /** {@link TrainOptions#DATA}. */
  public Path data() {
    return get(TrainOptions.DATA);
  }

  /** {@link TrainOptions#SPLIT}. */
  public String split() {
    return get(TrainOptions.SPLIT);
  }

  /**
   * Whether the split holds validation classes: every split but {@value #BACKGROUND_ALL}, whose runs are not
   * validated (their {@code best} checkpoint is the last one).
   */
  public boolean validated() {
    return !split().equals(BACKGROUND_ALL);
  }

  /** Whether the split trains on images_background only, as Lake et al.'s one-shot challenge asks. */
  public boolean backgroundOnly() {
    return split().equals("background") || split().equals(BACKGROUND_ALL);
  }

  /** {@link TrainOptions#SIDE}. */
  public int side() {
    return get(TrainOptions.SIDE);
  }

  /** {@link TrainOptions#ROTATION}. */
  public RotationMode rotation() {
    return get(TrainOptions.ROTATION);
  }

  /** {@link TrainOptions#WAYS}. */
  public int ways() {
    return get(TrainOptions.WAYS);
  }

  /** {@link TrainOptions#SHOTS}. */
  public int shots() {
    return get(TrainOptions.SHOTS);
  }

  /** {@link TrainOptions#QUERIES}. */
  public int queries() {
    return get(TrainOptions.QUERIES);
  }

  /** {@link TrainOptions#TEST_WAYS}. */
  public int testWays() {
    return get(TrainOptions.TEST_WAYS);
  }

  /** {@link TrainOptions#TEST_SHOTS}. */
  public int testShots() {
    return get(TrainOptions.TEST_SHOTS);
  }

  /** {@link TrainOptions#TEST_QUERIES}. */
  public int testQueries() {
    return get(TrainOptions.TEST_QUERIES);
  }

  /** {@link TrainOptions#ITERATIONS}. */
  public int iterations() {
    return get(TrainOptions.ITERATIONS);
  }

  /** {@link TrainOptions#META_BATCH}. */
  public int metaBatch() {
    return get(TrainOptions.META_BATCH);
  }

  /** {@link TrainOptions#OUTER_LR}. */
  public double outerLr() {
    return get(TrainOptions.OUTER_LR);
  }

  /** {@link TrainOptions#SCHEDULE}. */
  public String schedule() {
    return get(TrainOptions.SCHEDULE);
  }

  /** {@link TrainOptions#LR_STEP}. */
  public int lrStep() {
    return get(TrainOptions.LR_STEP);
  }

  /** {@link TrainOptions#LR_GAMMA}. */
  public double lrGamma() {
    return get(TrainOptions.LR_GAMMA);
  }

  /** {@link TrainOptions#INNER_STEPS}. */
  public int innerSteps() {
    return get(TrainOptions.INNER_STEPS);
  }

  /** {@link TrainOptions#TEST_INNER_STEPS}. */
  public int testInnerSteps() {
    return get(TrainOptions.TEST_INNER_STEPS);
  }

  /** {@link TrainOptions#INNER_LR}. */
  public double innerLr() {
    return get(TrainOptions.INNER_LR);
  }

  /** {@link TrainOptions#HIDDEN}. */
  public int hidden() {
    return get(TrainOptions.HIDDEN);
  }

  /** {@link TrainOptions#SEED}. */
  public long seed() {
    return get(TrainOptions.SEED);
  }

  /** {@link TrainOptions#THREADS}. */
  public int threads() {
    return get(TrainOptions.THREADS);
  }

  /** {@link TrainOptions#VAL_EVERY}. */
  public int valEvery() {
    return get(TrainOptions.VAL_EVERY);
  }

  /** {@link TrainOptions#VAL_EPISODES}. */
  public int valEpisodes() {
    return get(TrainOptions.VAL_EPISODES);
  }

  /** {@link TrainOptions#TEST_EPISODES}. */
  public int testEpisodes() {
    return get(TrainOptions.TEST_EPISODES);
  }

  /** {@link TrainOptions#CHECKPOINT_EVERY}. */
  public int checkpointEvery() {
    return get(TrainOptions.CHECKPOINT_EVERY);
  }

  /** {@link TrainOptions#CLIP_NORM}. */
  public double clipNorm() {
    return get(TrainOptions.CLIP_NORM);
  }

  /** {@link TrainOptions#OUT}. */
  public Path out() {
    return get(TrainOptions.OUT);
  }

  /** {@link TrainOptions#HEAD}. */
  public String head() {
    return get(TrainOptions.HEAD);
  }

  /** {@link TrainOptions#BATCH_SIZE}. */
  public int batchSize() {
    return get(TrainOptions.BATCH_SIZE);
  }

  /** {@link TrainOptions#FINETUNE_STEPS}. */
  public int finetuneSteps() {
    return get(TrainOptions.FINETUNE_STEPS);
  }

  /** {@link TrainOptions#FINETUNE_LR}. */
  public double finetuneLr() {
    return get(TrainOptions.FINETUNE_LR);
  }

  /** {@link TrainOptions#BLOCKS}. */
  public int blocks() {
    return get(TrainOptions.BLOCKS);
  }

  /** {@link TrainOptions#FCE_STEPS}. */
  public int fceSteps() {
    return get(TrainOptions.FCE_STEPS);
  }

  /** {@link TrainOptions#ATTENTION_SCALE}. */
  public double attentionScale() {
    return get(TrainOptions.ATTENTION_SCALE);
  }

  /** {@link TrainOptions#GROUPING}. */
  public ClassGrouping grouping() {
    return get(TrainOptions.GROUPING);
  }

  /** {@link TrainOptions#INIT_FROM}: the folder of the initial weights, or "" for the seed's initialisation. */
  public String initFrom() {
    return get(TrainOptions.INIT_FROM);
  }

  /** {@link TrainOptions#FRAMING}. */
  public Framing framing() {
    return get(TrainOptions.FRAMING);
  }

  /** {@link TrainOptions#DISTORTION}. */
  public Distortion distortion() {
    return get(TrainOptions.DISTORTION);
  }

  /** {@link TrainOptions#IMAML_LAMBDA}. */
  public double imamlLambda() {
    return get(TrainOptions.IMAML_LAMBDA);
  }

  /** {@link TrainOptions#CG_STEPS}. */
  public int cgSteps() {
    return get(TrainOptions.CG_STEPS);
  }

  /** {@link TrainOptions#CG_DAMPING}. */
  public double cgDamping() {
    return get(TrainOptions.CG_DAMPING);
  }

  /** {@link TrainOptions#MANN_CONTROLLER}. */
  public org.metagrad.meta.algo.Mann.Controller mannController() {
    return get(TrainOptions.MANN_CONTROLLER);
  }

  /** {@link TrainOptions#MANN_LABELS}. */
  public org.metagrad.meta.algo.Mann.Labels mannLabels() {
    return get(TrainOptions.MANN_LABELS);
  }

  /** {@link TrainOptions#MANN_INSTANCES}. */
  public int mannInstances() {
    return get(TrainOptions.MANN_INSTANCES);
  }

  /** {@link TrainOptions#MANN_EPISODES}. */
  public int mannEpisodes() {
    return get(TrainOptions.MANN_EPISODES);
  }

  /** {@link TrainOptions#MANN_MEMORY}. */
  public String mannMemory() {
    return get(TrainOptions.MANN_MEMORY);
  }

  /** {@link TrainOptions#MANN_READS}. */
  public int mannReads() {
    return get(TrainOptions.MANN_READS);
  }

  /** {@link TrainOptions#MANN_GAMMA}. */
  public double mannGamma() {
    return get(TrainOptions.MANN_GAMMA);
  }

  /** Checks every value and the rules between them; called by {@link Builder#build()}. */
  private static void validate(TrainConfig c) {
    Algorithm algorithm = c.algorithm();
    Path data = c.data();
    String split = c.split();
    int side = c.side();
    RotationMode rotation = c.rotation();
    int ways = c.ways();
    int shots = c.shots();
    int queries = c.queries();
    int testWays = c.testWays();
    int testShots = c.testShots();
    int testQueries = c.testQueries();
    int iterations = c.iterations();
    int metaBatch = c.metaBatch();
    double outerLr = c.outerLr();
    String schedule = c.schedule();
    int lrStep = c.lrStep();
    double lrGamma = c.lrGamma();
    int innerSteps = c.innerSteps();
    int testInnerSteps = c.testInnerSteps();
    double innerLr = c.innerLr();
    int hidden = c.hidden();
    long seed = c.seed();
    int threads = c.threads();
    int valEvery = c.valEvery();
    int valEpisodes = c.valEpisodes();
    int testEpisodes = c.testEpisodes();
    int checkpointEvery = c.checkpointEvery();
    double clipNorm = c.clipNorm();
    Path out = c.out();
    String head = c.head();
    int batchSize = c.batchSize();
    int finetuneSteps = c.finetuneSteps();
    double finetuneLr = c.finetuneLr();
    int fceSteps = c.fceSteps();
    ClassGrouping grouping = c.grouping();
    Distortion distortion = c.distortion();

    if (algorithm == null) {
      throw new IllegalArgumentException("no algorithm given; known: " + Algorithm.names());
    }
    if (!SPLITS.contains(split)) {
      throw new IllegalArgumentException("unknown split '" + split + "'; known: " + String.join(", ", SPLITS));
    }
    if (!SCHEDULES.contains(schedule)) {
      throw new IllegalArgumentException("unknown schedule '" + schedule + "'; known: constant, cosine, step");
    }
    boolean transfer = algorithm == Algorithm.TRANSFER;
    if (split.equals(BACKGROUND_ALL) && algorithm == Algorithm.MANN) {
      throw new IllegalArgumentException("--split " + BACKGROUND_ALL + " has no validation classes, which MANN's"
          + " per-instance validation needs; use --split background");
    }
    if (!distortion.equals(Distortion.NONE) && !distortion.equals(Distortion.AFFINE)) {
      throw new IllegalArgumentException("a run's distortion must be none or affine (config.json stores its name),"
          + " got " + distortion.name());
    }
    if (transfer && !HEADS.contains(head)) {
      throw new IllegalArgumentException("unknown head '" + head + "'; known: linear (Baseline), cosine (Baseline++)");
    }
    positive("batch size", batchSize);
    if (finetuneSteps < 0 || !(finetuneLr >= 0) || Double.isInfinite(finetuneLr)) {
      throw new IllegalArgumentException("fine-tune steps must be >= 0 and the fine-tune learning rate finite and"
          + " >= 0; got " + finetuneSteps + " and " + finetuneLr);
    }
    if (!(c.imamlLambda() > 0) || Double.isInfinite(c.imamlLambda())) {
      throw new IllegalArgumentException("--lambda (iMAML's proximal regularisation) must be finite and > 0, got "
          + c.imamlLambda());
    }
    if (c.cgSteps() < 1) {
      throw new IllegalArgumentException("--cg-steps must be >= 1, got " + c.cgSteps());
    }
    if (!(c.cgDamping() >= 0) || Double.isInfinite(c.cgDamping())) {
      throw new IllegalArgumentException("--cg-damping must be finite and >= 0, got " + c.cgDamping());
    }
    if (fceSteps < 0) {
      throw new IllegalArgumentException("--fce-steps must be >= 1, got " + fceSteps);
    }
    if (!(c.attentionScale() > 0) || Double.isInfinite(c.attentionScale())) {
      throw new IllegalArgumentException("--attention-scale must be finite and > 0, got " + c.attentionScale());
    }
    positive("ways", ways);
    positive("shots", shots);
    positive("queries", queries);
    positive("test ways", testWays);
    positive("test shots", testShots);
    positive("test queries", testQueries);
    if (ways < 2 || testWays < 2) {
      throw new IllegalArgumentException("ways must be >= 2 (a 1-way task has nothing to classify), got "
          + ways + " for training and " + testWays + " for testing");
    }
    if (shots + queries > 20 || testShots + testQueries > 20) {
      throw new IllegalArgumentException("Omniglot has 20 drawings per character, so shots + queries must be"
          + " <= 20; got " + shots + " + " + queries + " (training) and " + testShots + " + " + testQueries
          + " (testing)");
    }
    if (algorithm.fixedWays() && ways != testWays) {
      throw new IllegalArgumentException(algorithm.cliName() + " has an N-way head: --test-ways (" + testWays
          + ") must equal --ways (" + ways + ")");
    }
    positive("side", side);
    int blocks = c.blocks();
    if (blocks < 1 || blocks > MAX_BLOCKS) {
      throw new IllegalArgumentException("blocks must be in [1, " + MAX_BLOCKS + "] (each halves the maps of a side"
          + " of at most " + MAX_SIDE + "), got " + blocks);
    }
    int minSide = Math.max(16, 1 << blocks);
    if (side < minSide) {
      throw new IllegalArgumentException("side must be >= " + minSide + " for the " + blocks + "-block conv net, got "
          + side);
    }
    if (side > MAX_SIDE) {
      throw new IllegalArgumentException("side must be <= " + MAX_SIDE + " (the Omniglot drawings are " + MAX_SIDE
          + " x " + MAX_SIDE + " pixels, so a larger side only interpolates, at quadratic memory cost), got "
          + side);
    }
    positive("iterations", iterations);
    positive("meta-batch", metaBatch);
    positive("hidden", hidden);
    positive("threads", threads);
    positive("val episodes", valEpisodes);
    positive("test episodes", testEpisodes);
    if (innerSteps < 0 || testInnerSteps < 0 || valEvery < 0 || checkpointEvery < 0 || lrStep < 1) {
      throw new IllegalArgumentException("inner steps, test inner steps, val-every and checkpoint-every must be"
          + " >= 0 and lr-step >= 1");
    }
    if (!(outerLr > 0) || !(innerLr >= 0) || !(lrGamma > 0) || !(clipNorm >= 0)
        || Double.isInfinite(outerLr) || Double.isInfinite(innerLr) || Double.isInfinite(lrGamma)
        || Double.isInfinite(clipNorm)) {
      throw new IllegalArgumentException("learning rates must be finite and > 0 (inner >= 0), lr-gamma finite and"
          + " > 0, clip finite and >= 0; got outer " + outerLr + ", inner " + innerLr + ", gamma " + lrGamma
          + ", clip " + clipNorm);
    }
    if (rotation == null || out == null || data == null) {
      throw new IllegalArgumentException("rotation, data folder and output folder must be given");
    }
    }

  private static void positive(String what, int v) {
    if (v < 1) {
      throw new IllegalArgumentException(what + " must be >= 1, got " + v);
    }
  }

  /** A builder with the defaults of {@link TrainOptions} (the command line's). */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this configuration's values. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.explicit.putAll(values);
    return b;
  }

  /**
   * The entries of {@code config.json}, in {@link TrainOptions#all()}'s order (paths and enums as strings):
   * every option whose {@link TrainOption#presence()} says it is written for this run.
   */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    for (TrainOption<?> o : TrainOptions.all()) {
      if (written(o)) {
        m.put(o.key(), json(o));
      }
    }
    return m;
  }

  private boolean written(TrainOption<?> o) {
    return switch (o.presence()) {
      case REQUIRED -> o.appliesTo(algorithm());
      case IF_APPLIES -> o.appliesTo(algorithm());
      case IF_NOT_DEFAULT -> o.appliesTo(algorithm()) && !values.get(o).equals(o.defaultValue(algorithm()));
      case NEVER -> false;
    };
  }

  private <T> Object json(TrainOption<T> o) {
    return o.jsonValue(get(o));
  }

  /**
   * {@code config.json}'s text: a flat JSON object, one entry per line. It holds no folder of this machine: the
   * data root and the output folder are {@link TrainOption.Presence#NEVER} written, so the file can be shipped
   * with the weights, and {@link #fromJson} of it gives this configuration with those two at their defaults.
   */
  public String toJson() {
    return Json.object(toMap());
  }

  /**
   * The entries that determine the trained bits (every option with {@link TrainOption#inFingerprint()}: not
   * threads, output and data folders or the evaluation-only settings); two runs with equal fingerprints
   * produce equal parameters.
   */
  public String fingerprint() {
    Map<String, Object> m = toMap();
    for (TrainOption<?> o : TrainOptions.all()) {
      if (!o.inFingerprint()) {
        m.remove(o.key());
      }
    }
    return m.toString();
  }

  /**
   * Reads a run's {@code config.json}; every error names the file by its absolute path.
   *
   * @throws IllegalArgumentException naming the file and the missing or malformed entry, or a file that is not
   *     a regular file (a FIFO would block the read)
   * @throws java.io.UncheckedIOException naming the file when it cannot be read
   */
  public static TrainConfig read(Path file) {
    Path abs = file.toAbsolutePath();
    org.metagrad.meta.data.DataPaths.requireRegularFile(abs, "run configuration");
    try {
      return fromJson(java.nio.file.Files.readString(abs));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot read " + abs + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException | IllegalStateException e) {
      // fromJson's messages say "config.json: ..."; the user needs to know which run's
      String m = String.valueOf(e.getMessage()).replaceFirst("^config\\.json: ", "");
      throw new IllegalArgumentException(abs + ": " + m, e);
    }
  }

  /**
   * Reads a configuration written by {@link #toJson()}: every key must be an option's
   * ({@link TrainOptions#byKey}), every {@link TrainOption.Presence#REQUIRED} option present, and a missing
   * optional one takes its default. The entries of {@link TrainOption.Presence#NEVER} written options ({@code data}
   * and {@code out} in files of older versions) are accepted and ignored: they take their defaults.
   *
   * @throws IllegalArgumentException naming an unknown, missing or malformed entry
   */
  public static TrainConfig fromJson(String json) {
    Map<String, Object> doc;
    try {
      doc = org.metagrad.nn.io.JsonDocuments.object(json, "config.json");
    } catch (org.metagrad.nn.io.CheckpointException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    Builder b = builder();
    for (Map.Entry<String, Object> e : doc.entrySet()) {
      TrainOption<?> o;
      try {
        // A misspelled key would otherwise fall back to its default silently and train another model.
        o = TrainOptions.byKey(e.getKey());
      } catch (IllegalArgumentException unknown) {
        throw new IllegalArgumentException("config.json: " + unknown.getMessage(), unknown);
      }
      if (o.presence() == TrainOption.Presence.NEVER) {
        // a machine's folder recorded by an older version: this machine's comes from the command's options
        continue;
      }
      Object v = e.getValue();
      if (v instanceof Map || v instanceof List || v == org.metagrad.nn.io.JsonDocuments.NULL) {
        throw new IllegalArgumentException("config.json: entry '" + e.getKey() + "' must be a string or a number, got "
            + v);
      }
      try {
        b.parse(o, v.toString());
      } catch (IllegalArgumentException bad) {
        throw new IllegalArgumentException("config.json: entry '" + o.key() + "': "
            + bad.getMessage().replaceFirst("^" + o.flag() + ": ", ""), bad);
      }
    }
    for (TrainOption<?> o : TrainOptions.all()) {
      if (o.presence() == TrainOption.Presence.REQUIRED && o.appliesTo(algorithmOf(doc))
          && !doc.containsKey(o.key())) {
        throw new IllegalArgumentException("config.json: missing entry '" + o.key() + "'");
      }
    }
    return b.build();
  }

  private static Algorithm algorithmOf(Map<String, Object> doc) {
    Object a = doc.get(TrainOptions.ALGORITHM.key());
    if (a == null) {
      throw new IllegalArgumentException("config.json: missing entry 'algorithm'");
    }
    return TrainOptions.ALGORITHM.parse(a.toString());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TrainConfig c && values.equals(c.values);
  }

  @Override
  public int hashCode() {
    return values.hashCode();
  }

  @Override
  public String toString() {
    Algorithm algorithm = algorithm();
    Distortion distortion = distortion();
    ClassGrouping grouping = grouping();
    int ways = ways();
    int shots = shots();
    int queries = queries();
    int testWays = testWays();
    int testShots = testShots();
    int iterations = iterations();
    int metaBatch = metaBatch();
    String head = head();
    int batchSize = batchSize();
    int finetuneSteps = finetuneSteps();
    double finetuneLr = finetuneLr();
    if (algorithm == Algorithm.TRANSFER) {
      return String.format(Locale.ROOT, "transfer (%s head) pre-trained on %d x %d images per step, %d steps;"
          + " fine-tune %d steps at lr %s -> test %d-way %d-shot%s", head, metaBatch, batchSize, iterations,
          finetuneSteps, finetuneLr, testWays, testShots,
          distortion.isIdentity() ? "" : ", training images distorted (" + distortion.name() + ")");
    }
    return String.format(Locale.ROOT, "%s %d-way %d-shot (%d queries) -> test %d-way %d-shot, %d iterations x %d%s%s%s",
        algorithm.cliName(), ways, shots, queries, testWays, testShots, iterations, metaBatch,
        grouping == ClassGrouping.ANY ? "" : grouping == ClassGrouping.SAME_ALPHABET
            ? ", every episode within one alphabet" : ", every episode made as a Lake et al. run",
        distortion.isIdentity() ? "" : ", training images distorted (" + distortion.name() + ")",
        initFrom().isEmpty() ? "" : ", initialised from " + initFrom());
  }

  /**
   * Mutable builder of a {@link TrainConfig}: options not set take their {@link TrainOptions} default (which
   * may depend on the algorithm) when {@link #build()} runs.
   */
  public static final class Builder {
    private final Map<TrainOption<?>, Object> explicit = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Sets an option (null: back to its default).
     *
     * @param option the option
     * @param value its value
     * @param <T> the value type
     * @return this builder
     */
    public <T> Builder set(TrainOption<T> option, T value) {
      if (value == null) {
        explicit.remove(option);
      } else {
        explicit.put(option, option.cast(value));
      }
      return this;
    }

    /**
     * Sets an option from its text (a command-line argument or a {@code config.json} scalar).
     *
     * @throws IllegalArgumentException naming the option when the text is malformed
     */
    public Builder parse(TrainOption<?> option, String text) {
      explicit.put(option, option.parse(text));
      return this;
    }

    /** Whether {@code option} was set (by a setter, {@link #parse} or {@link TrainConfig#toBuilder()}). */
    public boolean isSet(TrainOption<?> option) {
      return explicit.containsKey(option);
    }

    /** Sets {@link TrainOptions#ALGORITHM} (null: the default). */
    public Builder algorithm(Algorithm v) {
      return set(TrainOptions.ALGORITHM, v);
    }

    /** Sets {@link TrainOptions#DATA} (null: the default). */
    public Builder data(Path v) {
      return set(TrainOptions.DATA, v);
    }

    /** Sets {@link TrainOptions#SPLIT} (null: the default). */
    public Builder split(String v) {
      return set(TrainOptions.SPLIT, v);
    }

    /** Sets {@link TrainOptions#SIDE}. */
    public Builder side(int v) {
      return set(TrainOptions.SIDE, v);
    }

    /** Sets {@link TrainOptions#ROTATION} (null: the default). */
    public Builder rotation(RotationMode v) {
      return set(TrainOptions.ROTATION, v);
    }

    /** Sets {@link TrainOptions#WAYS}. */
    public Builder ways(int v) {
      return set(TrainOptions.WAYS, v);
    }

    /** Sets {@link TrainOptions#SHOTS}. */
    public Builder shots(int v) {
      return set(TrainOptions.SHOTS, v);
    }

    /** Sets {@link TrainOptions#QUERIES}. */
    public Builder queries(int v) {
      return set(TrainOptions.QUERIES, v);
    }

    /** Sets {@link TrainOptions#TEST_WAYS}. */
    public Builder testWays(int v) {
      return set(TrainOptions.TEST_WAYS, v);
    }

    /** Sets {@link TrainOptions#TEST_SHOTS}. */
    public Builder testShots(int v) {
      return set(TrainOptions.TEST_SHOTS, v);
    }

    /** Sets {@link TrainOptions#TEST_QUERIES}. */
    public Builder testQueries(int v) {
      return set(TrainOptions.TEST_QUERIES, v);
    }

    /** Sets {@link TrainOptions#ITERATIONS}. */
    public Builder iterations(int v) {
      return set(TrainOptions.ITERATIONS, v);
    }

    /** Sets {@link TrainOptions#META_BATCH}. */
    public Builder metaBatch(int v) {
      return set(TrainOptions.META_BATCH, v);
    }

    /** Sets {@link TrainOptions#OUTER_LR}. */
    public Builder outerLr(double v) {
      return set(TrainOptions.OUTER_LR, v);
    }

    /** Sets {@link TrainOptions#SCHEDULE} (null: the default). */
    public Builder schedule(String v) {
      return set(TrainOptions.SCHEDULE, v);
    }

    /** Sets {@link TrainOptions#LR_STEP}. */
    public Builder lrStep(int v) {
      return set(TrainOptions.LR_STEP, v);
    }

    /** Sets {@link TrainOptions#LR_GAMMA}. */
    public Builder lrGamma(double v) {
      return set(TrainOptions.LR_GAMMA, v);
    }

    /** Sets {@link TrainOptions#INNER_STEPS}. */
    public Builder innerSteps(int v) {
      return set(TrainOptions.INNER_STEPS, v);
    }

    /** Sets {@link TrainOptions#TEST_INNER_STEPS}. */
    public Builder testInnerSteps(int v) {
      return set(TrainOptions.TEST_INNER_STEPS, v);
    }

    /** Sets {@link TrainOptions#INNER_LR}. */
    public Builder innerLr(double v) {
      return set(TrainOptions.INNER_LR, v);
    }

    /** Sets {@link TrainOptions#HIDDEN}. */
    public Builder hidden(int v) {
      return set(TrainOptions.HIDDEN, v);
    }

    /** Sets {@link TrainOptions#SEED}. */
    public Builder seed(long v) {
      return set(TrainOptions.SEED, v);
    }

    /** Sets {@link TrainOptions#THREADS}. */
    public Builder threads(int v) {
      return set(TrainOptions.THREADS, v);
    }

    /** Sets {@link TrainOptions#VAL_EVERY}. */
    public Builder valEvery(int v) {
      return set(TrainOptions.VAL_EVERY, v);
    }

    /** Sets {@link TrainOptions#VAL_EPISODES}. */
    public Builder valEpisodes(int v) {
      return set(TrainOptions.VAL_EPISODES, v);
    }

    /** Sets {@link TrainOptions#TEST_EPISODES}. */
    public Builder testEpisodes(int v) {
      return set(TrainOptions.TEST_EPISODES, v);
    }

    /** Sets {@link TrainOptions#CHECKPOINT_EVERY}. */
    public Builder checkpointEvery(int v) {
      return set(TrainOptions.CHECKPOINT_EVERY, v);
    }

    /** Sets {@link TrainOptions#CLIP_NORM}. */
    public Builder clipNorm(double v) {
      return set(TrainOptions.CLIP_NORM, v);
    }

    /** Sets {@link TrainOptions#OUT} (null: the default). */
    public Builder out(Path v) {
      return set(TrainOptions.OUT, v);
    }

    /** Sets {@link TrainOptions#HEAD} (null: the default). */
    public Builder head(String v) {
      return set(TrainOptions.HEAD, v);
    }

    /** Sets {@link TrainOptions#BATCH_SIZE}. */
    public Builder batchSize(int v) {
      return set(TrainOptions.BATCH_SIZE, v);
    }

    /** Sets {@link TrainOptions#FINETUNE_STEPS}. */
    public Builder finetuneSteps(int v) {
      return set(TrainOptions.FINETUNE_STEPS, v);
    }

    /** Sets {@link TrainOptions#FINETUNE_LR}. */
    public Builder finetuneLr(double v) {
      return set(TrainOptions.FINETUNE_LR, v);
    }

    /** Sets {@link TrainOptions#BLOCKS}. */
    public Builder blocks(int v) {
      return set(TrainOptions.BLOCKS, v);
    }

    /** Sets {@link TrainOptions#FCE_STEPS}. */
    public Builder fceSteps(int v) {
      return set(TrainOptions.FCE_STEPS, v);
    }

    /** Sets {@link TrainOptions#ATTENTION_SCALE}. */
    public Builder attentionScale(double v) {
      return set(TrainOptions.ATTENTION_SCALE, v);
    }

    /** Sets {@link TrainOptions#GROUPING} (null: the default). */
    public Builder grouping(ClassGrouping v) {
      return set(TrainOptions.GROUPING, v);
    }

    /** Sets {@link TrainOptions#INIT_FROM} (null or "": the seed's initialisation). */
    public Builder initFrom(String v) {
      return set(TrainOptions.INIT_FROM, v);
    }

    /** Sets {@link TrainOptions#FRAMING} (null: the default). */
    public Builder framing(Framing v) {
      return set(TrainOptions.FRAMING, v);
    }

    /** Sets {@link TrainOptions#DISTORTION} (null: the default). */
    public Builder distortion(Distortion v) {
      return set(TrainOptions.DISTORTION, v);
    }

    /** Sets {@link TrainOptions#IMAML_LAMBDA}. */
    public Builder imamlLambda(double v) {
      return set(TrainOptions.IMAML_LAMBDA, v);
    }

    /** Sets {@link TrainOptions#CG_STEPS}. */
    public Builder cgSteps(int v) {
      return set(TrainOptions.CG_STEPS, v);
    }

    /** Sets {@link TrainOptions#CG_DAMPING}. */
    public Builder cgDamping(double v) {
      return set(TrainOptions.CG_DAMPING, v);
    }

    /** Sets {@link TrainOptions#MANN_CONTROLLER}. */
    public Builder mannController(org.metagrad.meta.algo.Mann.Controller v) {
      return set(TrainOptions.MANN_CONTROLLER, v);
    }

    /** Sets {@link TrainOptions#MANN_LABELS}. */
    public Builder mannLabels(org.metagrad.meta.algo.Mann.Labels v) {
      return set(TrainOptions.MANN_LABELS, v);
    }

    /** Sets {@link TrainOptions#MANN_INSTANCES}. */
    public Builder mannInstances(int v) {
      return set(TrainOptions.MANN_INSTANCES, v);
    }

    /** Sets {@link TrainOptions#MANN_EPISODES}. */
    public Builder mannEpisodes(int v) {
      return set(TrainOptions.MANN_EPISODES, v);
    }

    /** Sets {@link TrainOptions#MANN_MEMORY}. */
    public Builder mannMemory(String v) {
      return set(TrainOptions.MANN_MEMORY, v);
    }

    /** Sets {@link TrainOptions#MANN_READS}. */
    public Builder mannReads(int v) {
      return set(TrainOptions.MANN_READS, v);
    }

    /** Sets {@link TrainOptions#MANN_GAMMA}. */
    public Builder mannGamma(double v) {
      return set(TrainOptions.MANN_GAMMA, v);
    }

    /**
     * The configuration.
     *
     * @throws IllegalArgumentException naming the first bad value
     */
    public TrainConfig build() {
      Object a = explicit.get(TrainOptions.ALGORITHM);
      Algorithm algorithm = a == null ? TrainOptions.ALGORITHM.defaultValue(null) : (Algorithm) a;
      Map<TrainOption<?>, Object> v = new LinkedHashMap<>();
      for (TrainOption<?> o : TrainOptions.all()) {
        Object x = explicit.containsKey(o) ? explicit.get(o) : o.defaultValue(algorithm);
        v.put(o, x);
      }
      if (algorithm.fixedWays() && !explicit.containsKey(TrainOptions.TEST_WAYS)) {
        // an N-way head is tested on N classes: --ways alone sets both
        v.put(TrainOptions.TEST_WAYS, v.get(TrainOptions.WAYS));
      }
      TrainConfig c = new TrainConfig(java.util.Collections.unmodifiableMap(v));
      for (TrainOption<?> o : TrainOptions.all()) {
        if (!o.appliesTo(algorithm) && !v.get(o).equals(o.defaultValue(algorithm))) {
          throw new IllegalArgumentException(o.notApplicable(algorithm, c.json(o)));
        }
      }
      validate(c);
      return c;
    }
  }
}
