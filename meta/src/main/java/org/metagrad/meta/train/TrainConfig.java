package org.metagrad.meta.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.metagrad.meta.data.ClassGrouping;
import org.metagrad.meta.data.Distortion;
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
 * @param algorithm the meta-learning algorithm
 * @param data the data root (the folder holding {@code omniglot/}), as {@code METAGRAD_DATA}
 * @param split class split: {@code vinyals}, {@code maml} or {@code background}
 * @param side image side in pixels
 * @param rotation how rotations are used for all splits
 * @param ways training classes per task
 * @param shots training support images per class
 * @param queries training query images per class
 * @param testWays validation/test classes per task
 * @param testShots validation/test support images per class
 * @param testQueries validation/test query images per class
 * @param iterations meta-iterations (outer steps)
 * @param metaBatch tasks per meta-iteration
 * @param outerLr Adam's (initial) learning rate
 * @param schedule {@code constant}, {@code cosine} (to 0 over the run) or {@code step}
 * @param lrStep for {@code step}: iterations between decays
 * @param lrGamma for {@code step}: the decay factor
 * @param innerSteps inner gradient steps at training time (gradient-based algorithms)
 * @param testInnerSteps inner gradient steps at validation/test time
 * @param innerLr inner step size (the initial one for Meta-SGD)
 * @param hidden conv4 channels
 * @param seed seed of initialisation and of the task sequences
 * @param threads worker threads for meta-batches and evaluation
 * @param valEvery validate every this many iterations (0: at the end only)
 * @param valEpisodes validation episodes
 * @param testEpisodes test episodes after training
 * @param checkpointEvery write {@code last.safetensors} every this many iterations (0: at the end only)
 * @param clipNorm global-norm clipping of the meta-gradient (0: off)
 * @param out the output folder
 * @param head transfer only: the classifier head, {@code linear} (Baseline) or {@code cosine} (Baseline++);
 *     {@code none} for the other algorithms (null picks the default: {@code linear} resp. {@code none})
 * @param batchSize transfer only: images per pre-training minibatch (a meta-batch of B is B minibatches)
 * @param finetuneSteps transfer only: gradient steps fine-tuning the new head on each task's support set
 * @param finetuneLr transfer only: the step size of that fine-tuning (plain full-batch gradient descent)
 * @param fceSteps matchingnet only: read steps K of the full-context embeddings' attention LSTM; 0 = no FCE
 * @param grouping which classes one training, validation or test episode may mix: {@link ClassGrouping#ANY}
 *     (the benchmark protocol) or {@link ClassGrouping#SAME_ALPHABET} (within one alphabet, as Lake et al.'s
 *     one-shot runs); null means ANY. Transfer pre-training draws labelled minibatches, so there it only
 *     applies to the validation and test episodes
 * @param distortion random affine distortion of every training image ({@link Distortion#AFFINE}, Koch et al.
 *     2015) or none ({@link Distortion#NONE}; null means none); validation and test images are never
 *     distorted
 * @param imamlLambda imaml only: the proximal regularisation strength lambda (Rajeswaran et al. 2019 use 2.0)
 * @param cgSteps imaml only: conjugate-gradient steps for the implicit meta-gradient (the paper uses 5)
 * @param cgDamping imaml only: Tikhonov damping added to the support-loss Hessian in the CG system (0 = exact)
 */
public record TrainConfig(Algorithm algorithm, Path data, String split, int side, RotationMode rotation,
                          int ways, int shots, int queries, int testWays, int testShots, int testQueries,
                          int iterations, int metaBatch, double outerLr, String schedule, int lrStep,
                          double lrGamma, int innerSteps, int testInnerSteps, double innerLr, int hidden,
                          long seed, int threads, int valEvery, int valEpisodes, int testEpisodes,
                          int checkpointEvery, double clipNorm, Path out, String head, int batchSize,
                          int finetuneSteps, double finetuneLr, int fceSteps, ClassGrouping grouping,
                          Distortion distortion, double imamlLambda, int cgSteps, double cgDamping) {

  /** Largest image side: the Omniglot drawings' own, 105 pixels (larger sides would only interpolate). */
  public static final int MAX_SIDE = 105;
  /** The split names. */
  public static final List<String> SPLITS = List.of("vinyals", "maml", "background");
  /** The transfer heads. */
  public static final List<String> HEADS = List.of("linear", "cosine");
  /** The schedule names. */
  public static final List<String> SCHEDULES = List.of("constant", "cosine", "step");

  /**
   * Validates every value.
   *
   * @throws IllegalArgumentException naming the bad option and what is allowed
   */
  public TrainConfig {
    if (algorithm == null) {
      throw new IllegalArgumentException("no algorithm given; known: " + Algorithm.names());
    }
    if (!SPLITS.contains(split)) {
      throw new IllegalArgumentException("unknown split '" + split + "'; known: vinyals, maml, background");
    }
    if (!SCHEDULES.contains(schedule)) {
      throw new IllegalArgumentException("unknown schedule '" + schedule + "'; known: constant, cosine, step");
    }
    boolean transfer = algorithm == Algorithm.TRANSFER;
    if (grouping == null) {
      grouping = ClassGrouping.ANY;
    }
    if (distortion == null) {
      distortion = Distortion.NONE;
    }
    if (!distortion.equals(Distortion.NONE) && !distortion.equals(Distortion.AFFINE)) {
      throw new IllegalArgumentException("a run's distortion must be none or affine (config.json stores its name),"
          + " got " + distortion.name());
    }
    if (head == null) {
      head = transfer ? "linear" : "none";
    }
    if (!transfer && !head.equals("none")) {
      throw new IllegalArgumentException("--head " + head + " applies only to --algorithm transfer, not "
          + algorithm.cliName());
    }
    if (transfer && !HEADS.contains(head)) {
      throw new IllegalArgumentException("unknown head '" + head + "'; known: linear (Baseline), cosine (Baseline++)");
    }
    positive("batch size", batchSize);
    if (finetuneSteps < 0 || !(finetuneLr >= 0) || Double.isInfinite(finetuneLr)) {
      throw new IllegalArgumentException("fine-tune steps must be >= 0 and the fine-tune learning rate finite and"
          + " >= 0; got " + finetuneSteps + " and " + finetuneLr);
    }
    if (fceSteps < 0) {
      throw new IllegalArgumentException("--fce-steps must be >= 1, got " + fceSteps);
    }
    if (!(imamlLambda > 0) || Double.isInfinite(imamlLambda)) {
      throw new IllegalArgumentException("--lambda (iMAML's proximal regularisation) must be finite and > 0, got "
          + imamlLambda);
    }
    if (cgSteps < 1) {
      throw new IllegalArgumentException("--cg-steps must be >= 1, got " + cgSteps);
    }
    if (!(cgDamping >= 0) || Double.isInfinite(cgDamping)) {
      throw new IllegalArgumentException("--cg-damping must be finite and >= 0, got " + cgDamping);
    }
    if (fceSteps > 0 && algorithm != Algorithm.MATCHINGNET) {
      throw new IllegalArgumentException("--fce applies only to --algorithm matchingnet, not " + algorithm.cliName());
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
    if (side < 16) {
      throw new IllegalArgumentException("side must be >= 16 for the 4-block conv net, got " + side);
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

  /** A builder with the defaults of the command line. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this configuration's values. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.algorithm = algorithm;
    b.data = data;
    b.split = split;
    b.side = side;
    b.rotation = rotation;
    b.ways = ways;
    b.shots = shots;
    b.queries = queries;
    b.testWays = testWays;
    b.testShots = testShots;
    b.testQueries = testQueries;
    b.iterations = iterations;
    b.metaBatch = metaBatch;
    b.outerLr = outerLr;
    b.schedule = schedule;
    b.lrStep = lrStep;
    b.lrGamma = lrGamma;
    b.innerSteps = innerSteps;
    b.testInnerSteps = testInnerSteps;
    b.innerLr = innerLr;
    b.hidden = hidden;
    b.seed = seed;
    b.threads = threads;
    b.valEvery = valEvery;
    b.valEpisodes = valEpisodes;
    b.testEpisodes = testEpisodes;
    b.checkpointEvery = checkpointEvery;
    b.clipNorm = clipNorm;
    b.out = out;
    b.head = head;
    b.batchSize = batchSize;
    b.finetuneSteps = finetuneSteps;
    b.finetuneLr = finetuneLr;
    b.fceSteps = fceSteps;
    b.grouping = grouping;
    b.distortion = distortion;
    b.imamlLambda = imamlLambda;
    b.cgSteps = cgSteps;
    b.cgDamping = cgDamping;
    return b;
  }

  /** The entries of {@code config.json}, in declaration order (paths and enums as strings). */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("algorithm", algorithm.cliName());
    m.put("data", data.toString());
    m.put("split", split);
    m.put("side", side);
    m.put("rotation", rotation.name());
    m.put("ways", ways);
    m.put("shots", shots);
    m.put("queries", queries);
    m.put("test_ways", testWays);
    m.put("test_shots", testShots);
    m.put("test_queries", testQueries);
    m.put("iterations", iterations);
    m.put("meta_batch", metaBatch);
    m.put("outer_lr", outerLr);
    m.put("schedule", schedule);
    m.put("lr_step", lrStep);
    m.put("lr_gamma", lrGamma);
    m.put("inner_steps", innerSteps);
    m.put("test_inner_steps", testInnerSteps);
    m.put("inner_lr", innerLr);
    m.put("hidden", hidden);
    m.put("seed", seed);
    m.put("threads", threads);
    m.put("val_every", valEvery);
    m.put("val_episodes", valEpisodes);
    m.put("test_episodes", testEpisodes);
    m.put("checkpoint_every", checkpointEvery);
    m.put("clip_norm", clipNorm);
    m.put("out", out.toString());
    if (algorithm == Algorithm.TRANSFER) {
      m.put("head", head);
      m.put("batch_size", batchSize);
      m.put("finetune_steps", finetuneSteps);
      m.put("finetune_lr", finetuneLr);
    }
    if (fceSteps > 0) {
      m.put("fce_steps", fceSteps);
    }
    if (algorithm == Algorithm.IMAML) {
      m.put("imaml_lambda", imamlLambda);
      m.put("cg_steps", cgSteps);
      m.put("cg_damping", cgDamping);
    }
    if (grouping != ClassGrouping.ANY) {
      m.put("grouping", grouping.name());
    }
    if (!distortion.equals(Distortion.NONE)) {
      m.put("distortion", distortion.name());
    }
    return m;
  }

  /** {@code config.json}'s text: a flat JSON object, one entry per line. */
  public String toJson() {
    return Json.object(toMap());
  }

  /**
   * The entries that determine the trained bits (everything except threads, output and data folders and
   * the evaluation-only settings); two runs with equal fingerprints produce equal parameters.
   */
  public String fingerprint() {
    Map<String, Object> m = toMap();
    for (String k : new String[] {"threads", "out", "data", "test_episodes", "test_inner_steps"}) {
      m.remove(k);
    }
    return m.toString();
  }

  /** Every entry {@link #toJson} may write; {@link #fromJson} rejects any other. */
  private static final List<String> JSON_KEYS = List.of("algorithm", "data", "split", "side", "rotation", "ways",
      "shots", "queries", "test_ways", "test_shots", "test_queries", "iterations", "meta_batch", "outer_lr", "schedule",
      "lr_step", "lr_gamma", "inner_steps", "test_inner_steps", "inner_lr", "hidden", "seed", "threads", "val_every",
      "val_episodes", "test_episodes", "checkpoint_every", "clip_norm", "out", "head", "batch_size", "finetune_steps",
      "finetune_lr", "fce_steps", "grouping", "distortion", "imaml_lambda", "cg_steps", "cg_damping");

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
   * Reads a configuration written by {@link #toJson()}.
   *
   * @throws IllegalArgumentException naming a missing or malformed entry
   */
  public static TrainConfig fromJson(String json) {
    Map<String, Object> doc;
    try {
      doc = org.metagrad.nn.io.JsonDocuments.object(json, "config.json");
    } catch (org.metagrad.nn.io.CheckpointException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : doc.entrySet()) {
      if (!JSON_KEYS.contains(e.getKey())) {
        // A misspelled key would otherwise fall back to its default silently and train another model.
        throw new IllegalArgumentException("config.json: unknown entry '" + e.getKey() + "' (known: "
            + String.join(", ", JSON_KEYS) + ")");
      }
      Object v = e.getValue();
      if (v instanceof Map || v instanceof List || v == org.metagrad.nn.io.JsonDocuments.NULL) {
        throw new IllegalArgumentException("config.json: entry '" + e.getKey() + "' must be a string or a number, got "
            + v);
      }
      m.put(e.getKey(), v.toString());
    }
    try {
      Builder b = builder();
      b.algorithm = Algorithm.parse(get(m, "algorithm"));
      b.data = Path.of(get(m, "data"));
      b.split = get(m, "split");
      b.side = Integer.parseInt(get(m, "side"));
      b.rotation = rotation(get(m, "rotation"));
      b.ways = Integer.parseInt(get(m, "ways"));
      b.shots = Integer.parseInt(get(m, "shots"));
      b.queries = Integer.parseInt(get(m, "queries"));
      b.testWays = Integer.parseInt(get(m, "test_ways"));
      b.testShots = Integer.parseInt(get(m, "test_shots"));
      b.testQueries = Integer.parseInt(get(m, "test_queries"));
      b.iterations = Integer.parseInt(get(m, "iterations"));
      b.metaBatch = Integer.parseInt(get(m, "meta_batch"));
      b.outerLr = Double.parseDouble(get(m, "outer_lr"));
      b.schedule = get(m, "schedule");
      b.lrStep = Integer.parseInt(get(m, "lr_step"));
      b.lrGamma = Double.parseDouble(get(m, "lr_gamma"));
      b.innerSteps = Integer.parseInt(get(m, "inner_steps"));
      b.testInnerSteps = Integer.parseInt(get(m, "test_inner_steps"));
      b.innerLr = Double.parseDouble(get(m, "inner_lr"));
      b.hidden = Integer.parseInt(get(m, "hidden"));
      b.seed = Long.parseLong(get(m, "seed"));
      b.threads = Integer.parseInt(get(m, "threads"));
      b.valEvery = Integer.parseInt(get(m, "val_every"));
      b.valEpisodes = Integer.parseInt(get(m, "val_episodes"));
      b.testEpisodes = Integer.parseInt(get(m, "test_episodes"));
      b.checkpointEvery = Integer.parseInt(get(m, "checkpoint_every"));
      b.clipNorm = Double.parseDouble(get(m, "clip_norm"));
      b.out = Path.of(get(m, "out"));
      // Transfer-only entries (absent for the other algorithms and in configurations of older versions).
      b.head = m.get("head");
      b.batchSize = m.containsKey("batch_size") ? Integer.parseInt(m.get("batch_size")) : b.batchSize;
      b.finetuneSteps = m.containsKey("finetune_steps") ? Integer.parseInt(m.get("finetune_steps")) : b.finetuneSteps;
      b.finetuneLr = m.containsKey("finetune_lr") ? Double.parseDouble(m.get("finetune_lr")) : b.finetuneLr;
      // Matching-net full-context embeddings (absent without FCE).
      b.fceSteps = m.containsKey("fce_steps") ? Integer.parseInt(m.get("fce_steps")) : 0;
      // iMAML's implicit-gradient settings (absent for the other algorithms).
      b.imamlLambda = m.containsKey("imaml_lambda") ? Double.parseDouble(m.get("imaml_lambda")) : b.imamlLambda;
      b.cgSteps = m.containsKey("cg_steps") ? Integer.parseInt(m.get("cg_steps")) : b.cgSteps;
      b.cgDamping = m.containsKey("cg_damping") ? Double.parseDouble(m.get("cg_damping")) : b.cgDamping;
      // Episode grouping (absent for ANY and in configurations of older versions).
      b.grouping = m.containsKey("grouping") ? grouping(m.get("grouping")) : ClassGrouping.ANY;
      // Training-image distortion (absent for none and in configurations of older versions).
      b.distortion = m.containsKey("distortion") ? distortion(m.get("distortion")) : Distortion.NONE;
      return b.build();
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("config.json: malformed number: " + e.getMessage(), e);
    }
  }

  private static ClassGrouping grouping(String v) {
    try {
      return ClassGrouping.valueOf(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("config.json: unknown grouping '" + v + "'; known: "
          + java.util.Arrays.toString(ClassGrouping.values()), e);
    }
  }

  private static Distortion distortion(String v) {
    try {
      return Distortion.parse(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("config.json: " + e.getMessage(), e);
    }
  }

  private static RotationMode rotation(String name) {
    for (RotationMode r : RotationMode.values()) {
      if (r.name().equals(name)) {
        return r;
      }
    }
    throw new IllegalArgumentException("config.json: unknown rotation '" + name + "' (known: "
        + java.util.Arrays.toString(RotationMode.values()) + ")");
  }

  private static String get(Map<String, String> m, String k) {
    String v = m.get(k);
    if (v == null) {
      throw new IllegalArgumentException("config.json: missing entry '" + k + "'");
    }
    return v;
  }

  @Override
  public String toString() {
    if (algorithm == Algorithm.TRANSFER) {
      return String.format(Locale.ROOT, "transfer (%s head) pre-trained on %d x %d images per step, %d steps;"
          + " fine-tune %d steps at lr %s -> test %d-way %d-shot%s", head, metaBatch, batchSize, iterations,
          finetuneSteps, finetuneLr, testWays, testShots,
          distortion.isIdentity() ? "" : ", training images distorted (" + distortion.name() + ")");
    }
    return String.format(Locale.ROOT, "%s %d-way %d-shot (%d queries) -> test %d-way %d-shot, %d iterations x %d%s%s",
        algorithm.cliName(), ways, shots, queries, testWays, testShots, iterations, metaBatch,
        grouping == ClassGrouping.SAME_ALPHABET ? ", every episode within one alphabet" : "",
        distortion.isIdentity() ? "" : ", training images distorted (" + distortion.name() + ")");
  }

  /** Mutable builder of a {@link TrainConfig}; fields default to the command line's defaults. */
  public static final class Builder {
    private Algorithm algorithm = Algorithm.PROTONET;
    private Path data = Path.of(".");
    private String split = "vinyals";
    private int side = 28;
    private RotationMode rotation = RotationMode.AS_NEW_CLASSES;
    private int ways = 20;
    private int shots = 5;
    private int queries = 5;
    private int testWays = 5;
    private int testShots = 1;
    private int testQueries = 15;
    private int iterations = 1000;
    private int metaBatch = 1;
    private double outerLr = 1e-3;
    private String schedule = "constant";
    private int lrStep = 2000;
    private double lrGamma = 0.5;
    private int innerSteps = 1;
    private int testInnerSteps = 3;
    private double innerLr = 0.4;
    private int hidden = 64;
    private long seed = 1;
    private int threads = 1;
    private int valEvery = 0;
    private int valEpisodes = 100;
    private int testEpisodes = 600;
    private int checkpointEvery = 0;
    private double clipNorm = 0;
    private Path out = Path.of("runs", "train");
    private String head = null;
    private int batchSize = 64;
    private int finetuneSteps = 100;
    private double finetuneLr = 0.1;
    private int fceSteps = 0;
    private ClassGrouping grouping = ClassGrouping.ANY;
    private Distortion distortion = Distortion.NONE;
    private double imamlLambda = 2.0;
    private int cgSteps = 5;
    private double cgDamping = 0.0;

    private Builder() {}

    /** Sets the algorithm. */
    public Builder algorithm(Algorithm v) {
      algorithm = v;
      return this;
    }

    /** Sets the data root. */
    public Builder data(Path v) {
      data = v;
      return this;
    }

    /** Sets the split name. */
    public Builder split(String v) {
      split = v;
      return this;
    }

    /** Sets the image side. */
    public Builder side(int v) {
      side = v;
      return this;
    }

    /** Sets the rotation mode. */
    public Builder rotation(RotationMode v) {
      rotation = v;
      return this;
    }

    /** Sets the training ways. */
    public Builder ways(int v) {
      ways = v;
      return this;
    }

    /** Sets the training shots. */
    public Builder shots(int v) {
      shots = v;
      return this;
    }

    /** Sets the training queries per class. */
    public Builder queries(int v) {
      queries = v;
      return this;
    }

    /** Sets the test ways. */
    public Builder testWays(int v) {
      testWays = v;
      return this;
    }

    /** Sets the test shots. */
    public Builder testShots(int v) {
      testShots = v;
      return this;
    }

    /** Sets the test queries per class. */
    public Builder testQueries(int v) {
      testQueries = v;
      return this;
    }

    /** Sets the number of meta-iterations. */
    public Builder iterations(int v) {
      iterations = v;
      return this;
    }

    /** Sets the meta-batch size. */
    public Builder metaBatch(int v) {
      metaBatch = v;
      return this;
    }

    /** Sets the outer learning rate. */
    public Builder outerLr(double v) {
      outerLr = v;
      return this;
    }

    /** Sets the schedule name. */
    public Builder schedule(String v) {
      schedule = v;
      return this;
    }

    /** Sets the step-decay interval. */
    public Builder lrStep(int v) {
      lrStep = v;
      return this;
    }

    /** Sets the step-decay factor. */
    public Builder lrGamma(double v) {
      lrGamma = v;
      return this;
    }

    /** Sets the training inner steps. */
    public Builder innerSteps(int v) {
      innerSteps = v;
      return this;
    }

    /** Sets the test-time inner steps. */
    public Builder testInnerSteps(int v) {
      testInnerSteps = v;
      return this;
    }

    /** Sets the inner learning rate. */
    public Builder innerLr(double v) {
      innerLr = v;
      return this;
    }

    /** Sets the conv4 width. */
    public Builder hidden(int v) {
      hidden = v;
      return this;
    }

    /** Sets the seed. */
    public Builder seed(long v) {
      seed = v;
      return this;
    }

    /** Sets the worker threads. */
    public Builder threads(int v) {
      threads = v;
      return this;
    }

    /** Sets the validation interval. */
    public Builder valEvery(int v) {
      valEvery = v;
      return this;
    }

    /** Sets the validation episodes. */
    public Builder valEpisodes(int v) {
      valEpisodes = v;
      return this;
    }

    /** Sets the test episodes. */
    public Builder testEpisodes(int v) {
      testEpisodes = v;
      return this;
    }

    /** Sets the checkpoint interval. */
    public Builder checkpointEvery(int v) {
      checkpointEvery = v;
      return this;
    }

    /** Sets the clipping norm. */
    public Builder clipNorm(double v) {
      clipNorm = v;
      return this;
    }

    /** Sets the transfer head ({@code linear} or {@code cosine}; null for the algorithm's default). */
    public Builder head(String v) {
      head = v;
      return this;
    }

    /** Sets the images per pre-training minibatch (transfer). */
    public Builder batchSize(int v) {
      batchSize = v;
      return this;
    }

    /** Sets the fine-tuning steps per task (transfer). */
    public Builder finetuneSteps(int v) {
      finetuneSteps = v;
      return this;
    }

    /** Sets the fine-tuning learning rate (transfer). */
    public Builder finetuneLr(double v) {
      finetuneLr = v;
      return this;
    }

    /** Sets the full-context-embedding read steps of matchingnet (0: no FCE). */
    public Builder fceSteps(int v) {
      fceSteps = v;
      return this;
    }

    /** Sets which classes one training, validation or test episode may mix. */
    public Builder grouping(ClassGrouping v) {
      grouping = v;
      return this;
    }

    /** Sets the distortion of training images ({@link Distortion#NONE} or {@link Distortion#AFFINE}). */
    public Builder distortion(Distortion v) {
      distortion = v;
      return this;
    }

    /** Sets iMAML's proximal regularisation strength lambda (default 2.0, the paper's Omniglot value). */
    public Builder imamlLambda(double v) {
      imamlLambda = v;
      return this;
    }

    /** Sets iMAML's conjugate-gradient steps (default 5, as the paper). */
    public Builder cgSteps(int v) {
      cgSteps = v;
      return this;
    }

    /** Sets iMAML's CG damping (default 0: the exact implicit gradient). */
    public Builder cgDamping(double v) {
      cgDamping = v;
      return this;
    }

    /** Sets the output folder. */
    public Builder out(Path v) {
      out = v;
      return this;
    }

    /**
     * The configuration.
     *
     * @throws IllegalArgumentException naming the first bad value
     */
    public TrainConfig build() {
      return new TrainConfig(algorithm, data, split, side, rotation, ways, shots, queries, testWays, testShots,
          testQueries, iterations, metaBatch, outerLr, schedule, lrStep, lrGamma, innerSteps, testInnerSteps,
          innerLr, hidden, seed, threads, valEvery, valEpisodes, testEpisodes, checkpointEvery, clipNorm, out, head,
          batchSize, finetuneSteps, finetuneLr, fceSteps, grouping, distortion, imamlLambda, cgSteps, cgDamping);
    }
  }
}
