package org.metagrad.meta.semi;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.metagrad.meta.train.Algorithm;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.meta.train.TrainOption;
import org.metagrad.meta.train.TrainOptions;

/**
 * The settings of a semi- or self-supervised run on the {@link SemiSplit} of Omniglot's
 * {@code images_background}; {@link #defaults} gives each method's, {@link #with} changes one by its
 * command-line name (e.g. {@code with("labels", "2")}).
 *
 * <pre>{@code
 * SemiConfig c = SemiConfig.defaults(SemiMethod.FIXMATCH).with("labels", "2").with("steps", "500");
 * }</pre>
 *
 * @param method the method
 * @param labelsPerClass labelled drawings per class, >= 1
 * @param classes characters used (the first ones of a seeded shuffle of images_background), 0 for all 964
 * @param steps optimizer steps (pre-training steps for SimCLR and BYOL), >= 1
 * @param batchSize labelled images per step (images per step for SimCLR and BYOL), >= 2
 * @param unlabelledRatio unlabelled images per labelled image in a step (FixMatch's mu), >= 1
 * @param lr Adam learning rate (cosine decay to 0), > 0
 * @param seed seed of initialisation, minibatches and augmentations
 * @param splitSeed seed of the labelled/unlabelled/test split
 * @param hidden conv4 channels, >= 1
 * @param unsupWeight weight lambda of the unlabelled loss, >= 0
 * @param rampFraction fraction of the steps over which lambda ramps up (exp(-5(1-t)^2)), in [0, 1]
 * @param threshold confidence threshold of pseudo-labelling and FixMatch, in [0, 1]
 * @param emaDecay decay of the Mean Teacher / BYOL target average, in [0, 1]
 * @param vatXi VAT's finite-difference step xi, > 0
 * @param vatEps VAT's perturbation norm eps, >= 0
 * @param temperature SimCLR's temperature, > 0
 * @param probeSteps full-batch Adam steps of the linear probe, >= 0
 * @param finetuneSteps fine-tuning steps after self-supervised pre-training, >= 0
 */
public record SemiConfig(SemiMethod method, int labelsPerClass, int classes, int steps, int batchSize, int unlabelledRatio, double lr, long seed, long splitSeed, int hidden, double unsupWeight, double rampFraction, double threshold, double emaDecay, double vatXi, double vatEps, double temperature, int probeSteps, int finetuneSteps) {

  /** The option names {@link #with} accepts, in the order of the record's components. */
  public static final java.util.List<String> OPTIONS = java.util.List.of("labels", "classes", "steps", "batch-size", "mu", "lr", "seed", "split-seed", "hidden", "unsup-weight", "ramp", "threshold", "ema-decay", "vat-xi", "vat-eps", "temperature", "probe-steps", "finetune-steps");

  /**
   * Validates every setting.
   *
   * @throws IllegalArgumentException naming the first setting out of its range
   */
  public SemiConfig {
    if (method == null) {
      throw new IllegalArgumentException("SemiConfig: method is required");
    }
    check(labelsPerClass >= 1, "labels", labelsPerClass, ">= 1");
    check(classes >= 0, "classes", classes, ">= 0 (0 for all)");
    check(steps >= 1, "steps", steps, ">= 1");
    check(batchSize >= 2, "batch-size", batchSize, ">= 2");
    check(unlabelledRatio >= 1, "mu", unlabelledRatio, ">= 1");
    check(lr > 0 && Double.isFinite(lr), "lr", lr, "> 0 and finite");
    check(hidden >= 1, "hidden", hidden, ">= 1");
    check(unsupWeight >= 0 && Double.isFinite(unsupWeight), "unsup-weight", unsupWeight, ">= 0 and finite");
    check(rampFraction >= 0 && rampFraction <= 1, "ramp", rampFraction, "in [0, 1]");
    check(threshold >= 0 && threshold <= 1, "threshold", threshold, "in [0, 1]");
    check(emaDecay >= 0 && emaDecay <= 1, "ema-decay", emaDecay, "in [0, 1]");
    check(vatXi > 0 && Double.isFinite(vatXi), "vat-xi", vatXi, "> 0 and finite");
    check(vatEps >= 0 && Double.isFinite(vatEps), "vat-eps", vatEps, ">= 0 and finite");
    check(temperature > 0 && Double.isFinite(temperature), "temperature", temperature, "> 0 and finite");
    check(probeSteps >= 0, "probe-steps", probeSteps, ">= 0");
    check(finetuneSteps >= 0, "finetune-steps", finetuneSteps, ">= 0");
  }

  private static void check(boolean ok, String name, double v, String range) {
    if (!ok) {
      throw new IllegalArgumentException("--" + name + " must be " + range + ", got " + v);
    }
  }

  /**
   * The defaults of a method, which are {@link TrainOptions}' (the command line's): 1 label per class, all 964
   * classes, 300 steps of 64 labelled and 2 x 64 unlabelled images, Adam 3e-3, conv4 with 32 channels; lambda 10
   * for the Pi-model and Mean Teacher (their squared error summed over classes), 1 for VAT, pseudo-labels and
   * FixMatch; ramp over 40% of the steps for the Pi-model, Mean Teacher and pseudo-labels; threshold 0.95; EMA
   * decay 0.99; VAT xi 0.01, eps 2.0; SimCLR temperature 0.5; probe 300 steps, fine-tuning 300 steps.
   *
   * @param m the method
   * @return the settings
   */
  public static SemiConfig defaults(SemiMethod m) {
    return of(TrainConfig.builder().algorithm(algorithm(m)).build());
  }

  /**
   * The settings of a training run of a few-labels algorithm ({@code metagrad train --algorithm fixmatch ...}).
   *
   * @param c the run's configuration; its algorithm must be one of {@link SemiMethod}'s
   * @return the settings
   * @throws IllegalArgumentException for another algorithm or a value out of range
   */
  public static SemiConfig of(TrainConfig c) {
    if (!c.algorithm().fewLabels()) {
      throw new IllegalArgumentException(c.algorithm().cliName() + " is not a semi-/self-supervised method");
    }
    return new SemiConfig(SemiMethod.parse(c.algorithm().cliName()), c.get(TrainOptions.LABELS_PER_CLASS),
        c.get(TrainOptions.CLASSES), c.iterations(), c.batchSize(), c.get(TrainOptions.MU), c.outerLr(), c.seed(),
        c.get(TrainOptions.SPLIT_SEED), c.hidden(), c.get(TrainOptions.UNSUP_WEIGHT), c.get(TrainOptions.RAMP),
        c.get(TrainOptions.THRESHOLD), c.get(TrainOptions.EMA_DECAY), c.get(TrainOptions.VAT_XI),
        c.get(TrainOptions.VAT_EPS), c.get(TrainOptions.TEMPERATURE), c.get(TrainOptions.PROBE_STEPS),
        c.finetuneSteps());
  }

  private static Algorithm algorithm(SemiMethod m) {
    return Algorithm.parse(m.cliName());
  }

  /** The option of a {@link #with} name: a {@code metagrad train} flag without dashes, or an alias. */
  private static TrainOption<?> option(String name) {
    String flag = "--" + switch (name) {
      case "labels" -> "labels-per-class";
      case "steps" -> "iterations";
      case "lr" -> "outer-lr";
      default -> name;
    };
    for (TrainOption<?> o : TrainOptions.all()) {
      if (o.flag().equals(flag) && OPTIONS.contains(name)) {
        return o;
      }
    }
    throw new IllegalArgumentException("unknown option '" + name + "'; known: " + String.join(", ", OPTIONS));
  }

  /**
   * A copy with one setting changed, by its option name (see {@link #OPTIONS}: the {@code metagrad train} flag
   * without dashes, with {@code labels}, {@code steps} and {@code lr} for {@code labels-per-class},
   * {@code iterations} and {@code outer-lr}; {@code method} by {@link SemiMethod#parse}), parsed and checked by
   * the option's {@link TrainOptions} entry.
   *
   * @param name the option name without dashes, e.g. {@code labels}
   * @param value the value as text
   * @return the changed settings (validated)
   * @throws IllegalArgumentException for an unknown option, one the method does not use, or a value that does
   *     not parse or is out of range
   */
  public SemiConfig with(String name, String value) {
    if (name.equals("method")) {
      SemiConfig d = defaults(SemiMethod.parse(value));
      return new SemiConfig(d.method, labelsPerClass, classes, steps, batchSize, unlabelledRatio, lr, seed,
          splitSeed, hidden, unsupWeight, rampFraction, threshold, emaDecay, vatXi, vatEps, temperature, probeSteps,
          finetuneSteps);
    }
    TrainOption<?> o = option(name);
    TrainConfig.Builder b = TrainConfig.builder().algorithm(algorithm(method));
    for (TrainOption<?> x : TrainOptions.all()) {
      if (x != TrainOptions.ALGORITHM && x.appliesTo(algorithm(method)) && OPTION_OF.containsKey(x.key())) {
        b.parse(x, String.valueOf(toMap().get(OPTION_OF.get(x.key()))));
      }
    }
    b.parse(o, value);
    return of(b.build());
  }

  /**
   * Whether the method uses the option of this {@link #with} name (e.g. {@code threshold} only pseudo-labelling
   * and FixMatch).
   *
   * @param name the option name without dashes
   * @return whether {@link #with} may set it for this method
   */
  public boolean uses(String name) {
    return name.equals("method") || option(name).appliesTo(algorithm(method));
  }

  /** {@code config.json} key of the table's option to this record's option name. */
  private static final Map<String, String> OPTION_OF = Map.ofEntries(Map.entry("labels_per_class", "labels"),
      Map.entry("classes", "classes"), Map.entry("iterations", "steps"), Map.entry("batch_size", "batch-size"),
      Map.entry("mu", "mu"), Map.entry("outer_lr", "lr"), Map.entry("seed", "seed"), Map.entry("split_seed",
          "split-seed"), Map.entry("hidden", "hidden"), Map.entry("unsup_weight", "unsup-weight"), Map.entry("ramp",
          "ramp"), Map.entry("threshold", "threshold"), Map.entry("ema_decay", "ema-decay"), Map.entry("vat_xi",
          "vat-xi"), Map.entry("vat_eps", "vat-eps"), Map.entry("temperature", "temperature"), Map.entry(
          "probe_steps", "probe-steps"), Map.entry("finetune_steps", "finetune-steps"));

  /**
   * The settings by option name (and {@code method}), in order, for {@code config.json}.
   *
   * @return a new map
   */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("method", method);
    m.put("labels", labelsPerClass);
    m.put("classes", classes);
    m.put("steps", steps);
    m.put("batch-size", batchSize);
    m.put("mu", unlabelledRatio);
    m.put("lr", lr);
    m.put("seed", seed);
    m.put("split-seed", splitSeed);
    m.put("hidden", hidden);
    m.put("unsup-weight", unsupWeight);
    m.put("ramp", rampFraction);
    m.put("threshold", threshold);
    m.put("ema-decay", emaDecay);
    m.put("vat-xi", vatXi);
    m.put("vat-eps", vatEps);
    m.put("temperature", temperature);
    m.put("probe-steps", probeSteps);
    m.put("finetune-steps", finetuneSteps);
    return m;
  }

  private static SemiConfig fromMap(Map<String, Object> m) {
    return new SemiConfig((SemiMethod) m.get("method"),
        (Integer) m.get("labels"),
        (Integer) m.get("classes"),
        (Integer) m.get("steps"),
        (Integer) m.get("batch-size"),
        (Integer) m.get("mu"),
        (Double) m.get("lr"),
        (Long) m.get("seed"),
        (Long) m.get("split-seed"),
        (Integer) m.get("hidden"),
        (Double) m.get("unsup-weight"),
        (Double) m.get("ramp"),
        (Double) m.get("threshold"),
        (Double) m.get("ema-decay"),
        (Double) m.get("vat-xi"),
        (Double) m.get("vat-eps"),
        (Double) m.get("temperature"),
        (Integer) m.get("probe-steps"),
        (Integer) m.get("finetune-steps"));
  }

  /**
   * One line for logs: the method and every setting.
   *
   * @return the description
   */
  public String describe() {
    StringBuilder sb = new StringBuilder(method.cliName());
    toMap().forEach((k, v) -> {
      if (!k.equals("method")) {
        sb.append(' ').append(k).append('=').append(v instanceof Double d ? String.format(Locale.ROOT, "%.4g", d) : v);
      }
    });
    return sb.toString();
  }
}
