package org.metagrad.meta.algo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.nn.Linear;
import org.metagrad.nn.Lstm;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Params;

/**
 * Memory-augmented neural network with least-recently-used access (MANN, Santoro et al. 2016, "Meta-Learning
 * with Memory-Augmented Neural Networks"), and the paper's two baselines (an LSTM alone and a feed-forward
 * network) behind the same interface.
 *
 * <p><b>Task.</b> An episode is a sequence of T images of N classes; the input at step t is image
 * {@code x_t} concatenated with the (one-step-late) label {@code y_{t-1}} (zeros at t = 0), and the output at
 * step t predicts {@code y_t}. Class-to-label bindings are new in every episode, so the network must bind them
 * in its memory as they arrive. Labels are one-hot over N ({@link Labels#ONE_HOT}) or, as the paper's 15-class
 * experiments, strings of 5 characters over 5 symbols ({@link Labels#STRING}: input 5 concatenated one-hots,
 * output 5 softmaxes; a prediction is right when all 5 characters are).
 *
 * <p><b>Step</b> ({@link Controller#MANN}; R read heads, memory M of {@code slots x width}):
 * <pre>
 * h_t        = LSTM([x_t, y_{t-1}, r_{t-1}], state)                          controller
 * k_t        = tanh(W_k h_t + b_k)            [R, width]                     keys (also the write vectors)
 * a_t        = sigmoid(W_a h_t + b_a)         [R]                            write gate
 * beta_t     = 1 + softplus(W_b h_t + b_b)    [R]                            key strength (see below)
 * w^w_t      = a_t w^r_{t-1} + (1 - a_t) w^lu_{t-1}                           write weights (LRUA)
 * M_t        = M_{t-1} with its least-used row zeroed + sum_heads w^w_t(i) k_t
 * w^r_t(i)   = softmax_i(beta_t * cos(k_t, M_t(i)))                          read weights
 * r_t        = sum_i w^r_t(i) M_t(i)
 * w^u_t      = gamma w^u_{t-1} + sum_heads (w^r_t + w^w_t)                      usage
 * w^lu_t(i)  = 1 for the R least-used slots of w^u_t (ties: lowest index), else 0
 * logits_t   = W_o [h_t, r_t] + b_o
 * </pre>
 * The least-used indicator (and the zeroed row) is piecewise constant in the parameters: it is computed from
 * the values and enters the graph as a constant, which is its derivative almost everywhere. Everything else is
 * composed from core ops, so the episode loss can be differentiated to any order. <b>Deviation from the
 * paper:</b> eq. (2) reads with {@code softmax(cos)}, i.e. {@code beta = 1}; cosines lie in [-1, 1], so over
 * 128 slots those reads are nearly uniform. The learned key strength of the Neural Turing Machine's content
 * addressing (Graves et al. 2014), {@code beta >= 1}, is used instead ({@code beta = 1} is the special case
 * {@code W_b = 0, b_b -> -inf}). Cosine norms are {@code sqrt(|v|^2 + 1e-8)} so that empty (zero) rows have
 * cosine 0 instead of NaN.
 *
 * <p>{@link Controller#LSTM}: {@code logits_t = W_o h_t + b_o} from the controller alone (no memory, no reads);
 * {@link Controller#FEEDFORWARD}: {@code logits_t = W_o relu(W_h [x_t, y_{t-1}] + b_h) + b_o}.
 *
 * <pre>{@code
 * Mann m = new Mann(Mann.Config.paper(400, 5));          // 20x20 images, 5 classes
 * Params p = m.init(new Rng(0), DType.FLOAT32);
 * MetaStep s = m.loss(p, batch);                          // batch from MannEpisodes
 * Autograd.grad(s.loss(), p.values());                    // the meta-gradient
 * }</pre>
 */
public final class Mann {
  /** What produces the predictions. */
  public enum Controller {
    /** LSTM controller with the LRUA external memory (the paper's MANN). */
    MANN("mann"),
    /** LSTM alone (the paper's LSTM baseline). */
    LSTM("lstm"),
    /** One hidden ReLU layer without recurrence (the paper's feed-forward baseline). */
    FEEDFORWARD("ff");

    private final String cliName;

    Controller(String cliName) {
      this.cliName = cliName;
    }

    /** The command-line name: {@code mann}, {@code lstm} or {@code ff}. */
    public String cliName() {
      return cliName;
    }

    /**
     * The controller of a command-line name ({@code lstm-only} and {@code feedforward} are accepted too).
     *
     * @throws IllegalArgumentException naming the known names
     */
    public static Controller parse(String s) {
      String n = s == null ? "" : s.toLowerCase(Locale.ROOT);
      return switch (n) {
        case "mann" -> MANN;
        case "lstm", "lstm-only", "lstmonly" -> LSTM;
        case "ff", "feedforward", "feed-forward" -> FEEDFORWARD;
        default -> throw new IllegalArgumentException("unknown controller '" + s + "'; known: mann, lstm (or"
            + " lstm-only), ff (or feedforward)");
      };
    }
  }

  /** How labels are presented and predicted. */
  public enum Labels {
    /** One-hot over the episode's N classes. */
    ONE_HOT("onehot"),
    /** Each class gets a random distinct string of {@value #STRING_LENGTH} characters over {@value #STRING_SYMBOLS} symbols per episode. */
    STRING("string");

    /** Characters of a string label. */
    public static final int STRING_LENGTH = 5;
    /** Symbols per character of a string label. */
    public static final int STRING_SYMBOLS = 5;

    private final String cliName;

    Labels(String cliName) {
      this.cliName = cliName;
    }

    /** The command-line name: {@code onehot} or {@code string}. */
    public String cliName() {
      return cliName;
    }

    /**
     * The labels of a command-line name.
     *
     * @throws IllegalArgumentException naming the known names
     */
    public static Labels parse(String s) {
      String n = s == null ? "" : s.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
      return switch (n) {
        case "onehot" -> ONE_HOT;
        case "string" -> STRING;
        default -> throw new IllegalArgumentException("unknown labels '" + s + "'; known: onehot, string");
      };
    }

    /** Output groups: 1 softmax (one-hot) or 5 (one per character). */
    public int groups() {
      return this == ONE_HOT ? 1 : STRING_LENGTH;
    }

    /** Classes of each output softmax: N (one-hot) or 5 symbols. */
    public int groupSize(int classes) {
      return this == ONE_HOT ? classes : STRING_SYMBOLS;
    }

    /** Width of the label part of the input and of the output: {@code groups() * groupSize(classes)}. */
    public int width(int classes) {
      return groups() * groupSize(classes);
    }

    /** Symbol {@code g} (0-based character) of code {@code code}; for one-hot the code itself. */
    public int symbol(int code, int g) {
      if (this == ONE_HOT) {
        return code;
      }
      int c = code;
      for (int i = 0; i < g; i++) {
        c /= STRING_SYMBOLS;
      }
      return c % STRING_SYMBOLS;
    }

    /** How many distinct codes exist for N classes: N (one-hot) or {@code 5^5 = 3125}. */
    public int codes(int classes) {
      return this == ONE_HOT ? classes : 3125;
    }
  }

  /**
   * The architecture.
   *
   * @param controller MANN, LSTM alone, or feed-forward
   * @param labels one-hot or string labels
   * @param inputSize features of one image ({@code side * side})
   * @param classes classes per episode, N >= 2
   * @param hidden controller units (LSTM or the feed-forward hidden layer)
   * @param slots memory rows
   * @param width memory row width (also the key width)
   * @param reads read heads R (each with its write head); at most {@code slots}
   * @param gamma usage decay, in [0, 1]
   */
  public record Config(Controller controller, Labels labels, int inputSize, int classes, int hidden, int slots,
                       int width, int reads, double gamma) {
    /**
     * Validates.
     *
     * @throws IllegalArgumentException naming the bad value
     */
    public Config {
      if (controller == null || labels == null) {
        throw new IllegalArgumentException("Mann: controller and labels are required");
      }
      if (inputSize < 1 || hidden < 1 || slots < 1 || width < 1 || reads < 1) {
        throw new IllegalArgumentException("Mann: input size, hidden units, memory slots, memory width and read heads"
            + " must be >= 1, got " + inputSize + ", " + hidden + ", " + slots + ", " + width + ", " + reads);
      }
      if (classes < 2) {
        throw new IllegalArgumentException("Mann: classes per episode must be >= 2, got " + classes);
      }
      if (labels == Labels.STRING && classes > labels.codes(classes)) {
        throw new IllegalArgumentException("Mann: string labels have 3125 codes, not enough for " + classes
            + " classes");
      }
      if (reads > slots) {
        throw new IllegalArgumentException("Mann: " + reads + " read heads need at least as many memory slots, got "
            + slots);
      }
      if (!(gamma >= 0 && gamma <= 1)) {
        throw new IllegalArgumentException("Mann: usage decay gamma must be in [0, 1], got " + gamma);
      }
    }

    /**
     * The paper's MANN (200 LSTM units, 128 x 40 memory, 4 read heads, gamma 0.95) with one-hot labels.
     *
     * @param inputSize features per image
     * @param classes classes per episode
     */
    public static Config paper(int inputSize, int classes) {
      return new Config(Controller.MANN, Labels.ONE_HOT, inputSize, classes, 200, 128, 40, 4, 0.95);
    }

    /** A copy with another controller. */
    public Config controller(Controller c) {
      return new Config(c, labels, inputSize, classes, hidden, slots, width, reads, gamma);
    }

    /** A copy with other labels. */
    public Config labels(Labels l) {
      return new Config(controller, l, inputSize, classes, hidden, slots, width, reads, gamma);
    }

    /** A copy with another memory: slots x width and R read heads. */
    public Config memory(int slots, int width, int reads) {
      return new Config(controller, labels, inputSize, classes, hidden, slots, width, reads, gamma);
    }

    /** A copy with another controller size. */
    public Config hidden(int h) {
      return new Config(controller, labels, inputSize, classes, h, slots, width, reads, gamma);
    }

    /** A copy with another usage decay. */
    public Config gamma(double g) {
      return new Config(controller, labels, inputSize, classes, hidden, slots, width, reads, g);
    }
  }

  /**
   * A batch of B episodes of T steps, time-major.
   *
   * @param x images {@code [T, B, inputSize]}
   * @param labels {@code labels[b][t]}: the class (0..N-1) of step t of episode b
   * @param codes {@code codes[b][n]}: the label code of class n in episode b (for one-hot: n)
   * @param instance {@code instance[b][t]}: how many times the class of step t has been shown in episode b up to
   *     and including step t (1 = first presentation)
   */
  public record Batch(Tensor x, int[][] labels, int[][] codes, int[][] instance) {
    /**
     * Validates the shapes.
     *
     * @throws IllegalArgumentException when the arrays do not match x
     */
    public Batch {
      if (x == null || x.rank() != 3) {
        throw new IllegalArgumentException("Mann.Batch: x must be [T, B, features], got "
            + (x == null ? "null" : Arrays.toString(x.shape())));
      }
      int t = x.size(0);
      int b = x.size(1);
      if (labels.length != b || codes.length != b || instance.length != b) {
        throw new IllegalArgumentException("Mann.Batch: " + b + " episodes in x but " + labels.length + " label, "
            + codes.length + " code and " + instance.length + " instance rows");
      }
      for (int i = 0; i < b; i++) {
        if (labels[i].length != t || instance[i].length != t) {
          throw new IllegalArgumentException("Mann.Batch: episode " + i + " has " + labels[i].length + " labels and "
              + instance[i].length + " instance numbers for " + t + " steps");
        }
      }
    }

    /** Steps per episode. */
    public int steps() {
      return x.size(0);
    }

    /** Episodes. */
    public int episodes() {
      return x.size(1);
    }
  }

  /**
   * The outcome of running a batch.
   *
   * @param loss mean cross-entropy over all steps, episodes (and characters, for string labels)
   * @param correct {@code correct[b][t]}: whether step t of episode b was predicted right (all characters)
   */
  public record Run(Tensor loss, boolean[][] correct) {}

  private static final double COS_EPS = 1e-8;
  private final Config config;
  private final Lstm lstm;
  private final Linear keys;
  private final Linear gate;
  private final Linear strength;
  private final Linear head;
  private final Linear ffHidden;

  /** A network of the given architecture. */
  public Mann(Config config) {
    if (config == null) {
      throw new IllegalArgumentException("Mann: config is required");
    }
    this.config = config;
    int lw = config.labels().width(config.classes());
    int in = config.inputSize() + lw;
    int rw = config.reads() * config.width();
    boolean memory = config.controller() == Controller.MANN;
    this.lstm = config.controller() == Controller.FEEDFORWARD ? null
        : new Lstm(in + (memory ? rw : 0), config.hidden());
    this.keys = memory ? new Linear(config.hidden(), rw) : null;
    this.gate = memory ? new Linear(config.hidden(), config.reads()) : null;
    this.strength = memory ? new Linear(config.hidden(), config.reads()) : null;
    this.ffHidden = config.controller() == Controller.FEEDFORWARD ? new Linear(in, config.hidden()) : null;
    this.head = new Linear(config.hidden() + (memory ? rw : 0), lw);
  }

  /** The architecture. */
  public Config config() {
    return config;
  }

  /**
   * Fresh parameters: {@code controller.*} (LSTM, {@link Lstm} names) or {@code hidden.*} (feed-forward),
   * {@code keys.*}, {@code gate.*}, {@code strength.*} (MANN only) and {@code out.*}, PyTorch's default
   * initialisations.
   */
  public Params init(Rng rng, DType dtype) {
    Params p = Params.empty();
    if (lstm != null) {
      p = p.merge(lstm.init(rng, dtype).prefixed("controller"));
    }
    if (ffHidden != null) {
      p = p.merge(ffHidden.init(rng, dtype).prefixed("hidden"));
    }
    if (keys != null) {
      p = p.merge(keys.init(rng, dtype).prefixed("keys")).merge(gate.init(rng, dtype).prefixed("gate"))
          .merge(strength.init(rng, dtype).prefixed("strength"));
    }
    return p.merge(head.init(rng, dtype).prefixed("out"));
  }

  /** The episode loss and the batch's accuracy (over all steps): {@link #run}'s loss as a {@link MetaStep}. */
  public MetaStep loss(Params p, Batch batch) {
    Run r = run(p, batch);
    int right = 0;
    int all = 0;
    for (boolean[] row : r.correct()) {
      for (boolean c : row) {
        right += c ? 1 : 0;
        all++;
      }
    }
    return new MetaStep(r.loss(), (double) right / all);
  }

  /**
   * Runs the network over a batch of episodes.
   *
   * @throws IllegalArgumentException when the batch's images are not {@code inputSize} wide, or a label or code
   *     is out of range
   */
  public Run run(Params p, Batch batch) {
    int t = batch.steps();
    int b = batch.episodes();
    int n = config.classes();
    Labels lab = config.labels();
    int groups = lab.groups();
    int gs = lab.groupSize(n);
    if (batch.x().size(2) != config.inputSize()) {
      throw new IllegalArgumentException("Mann: images have " + batch.x().size(2) + " features, the network expects "
          + config.inputSize());
    }
    // Targets (time-major, then episode, then character) and the one-step-late label inputs.
    int[] targets = new int[t * b * groups];
    double[] late = new double[t * b * groups * gs];
    for (int e = 0; e < b; e++) {
      if (batch.codes()[e].length != n) {
        throw new IllegalArgumentException("Mann: episode " + e + " has " + batch.codes()[e].length + " class codes,"
            + " expected " + n);
      }
      for (int s = 0; s < t; s++) {
        int y = batch.labels()[e][s];
        if (y < 0 || y >= n) {
          throw new IllegalArgumentException("Mann: label " + y + " at step " + s + " of episode " + e
              + " is outside 0.." + (n - 1));
        }
        int code = batch.codes()[e][y];
        if (code < 0 || code >= lab.codes(n)) {
          throw new IllegalArgumentException("Mann: code " + code + " of class " + y + " in episode " + e
              + " is outside 0.." + (lab.codes(n) - 1));
        }
        for (int g = 0; g < groups; g++) {
          int sym = lab.symbol(code, g);
          targets[(s * b + e) * groups + g] = sym;
          if (s + 1 < t) {
            late[(((s + 1) * b + e) * groups + g) * gs + sym] = 1;
          }
        }
      }
    }
    DType dt = p.values().get(0).dtype();
    Tensor x = batch.x().to(dt);
    Tensor yLate = Tensor.of(late, dt, t, b, groups * gs).to(x.device());
    Tensor inputs = Tensor.concat(List.of(x, yLate), 2);
    Tensor logits = switch (config.controller()) {
      case FEEDFORWARD -> head.apply(p.sub("out"), ffHidden.apply(p.sub("hidden"), inputs, Mode.TRAIN).relu(),
          Mode.TRAIN);
      case LSTM -> head.apply(p.sub("out"), lstm.forward(p.sub("controller"), inputs, null).output(), Mode.TRAIN);
      case MANN -> memoryRun(p, inputs);
    };
    Tensor flat = logits.reshape(t * b * groups, gs);
    Tensor loss = F.crossEntropy(flat, targets);
    boolean[][] correct = new boolean[b][t];
    double[] v = flat.detach().toDoubleArray();
    for (int s = 0; s < t; s++) {
      for (int e = 0; e < b; e++) {
        boolean ok = true;
        for (int g = 0; g < groups; g++) {
          int row = (s * b + e) * groups + g;
          int arg = 0;
          for (int k = 1; k < gs; k++) {
            // NaN never wins: a NaN row is predicted as class 0 and its loss is NaN anyway.
            if (v[row * gs + k] > v[row * gs + arg]) {
              arg = k;
            }
          }
          ok &= arg == targets[row];
        }
        correct[e][s] = ok;
      }
    }
    return new Run(loss, correct);
  }

  /** The MANN recurrence over {@code inputs [T, B, in]}: logits {@code [T, B, labelWidth]}. */
  private Tensor memoryRun(Params p, Tensor inputs) {
    int t = inputs.size(0);
    int b = inputs.size(1);
    int nSlots = config.slots();
    int w = config.width();
    int r = config.reads();
    DType dt = inputs.dtype();
    Params pc = p.sub("controller");
    Params pk = p.sub("keys");
    Params pg = p.sub("gate");
    Params ps = p.sub("strength");
    Params po = p.sub("out");
    // Slot-major layout: weights are [B, slots, R], so no product or sum ever meets a transposed view of the
    // memory [B, slots, W] (elementwise kernels on transposed operands take a slow strided path: 21% of a JFR profile
    // of the earlier layout; the new layout's time was not measured).
    Tensor memory = Tensor.zeros(dt, b, nSlots, w).to(inputs.device());
    Tensor readW = Tensor.zeros(dt, b, nSlots, r).to(inputs.device());
    Tensor usage = Tensor.zeros(dt, b, nSlots).to(inputs.device());
    Tensor reads = Tensor.zeros(dt, b, r * w).to(inputs.device());
    // The least-used slots of the initial (all-zero) usage: 0..R-1 by the lowest-index tie rule.
    double[] usageValues = new double[b * nSlots];
    Tensor leastUsed = leastUsed(usageValues, b, dt).to(inputs.device());
    Tensor keepRows = keepRows(usageValues, b, dt).to(inputs.device());
    Lstm.State state = null;
    List<Tensor> out = new ArrayList<>(t);
    for (int s = 0; s < t; s++) {
      state = lstm.step(pc, Tensor.concat(List.of(inputs.select(0, s), reads), 1), state);
      Tensor h = state.top();
      Tensor k = keys.apply(pk, h, Mode.TRAIN).tanh().reshape(b, r, w);
      Tensor a = gate.apply(pg, h, Mode.TRAIN).sigmoid().reshape(b, 1, r);
      Tensor beta = softplus(strength.apply(ps, h, Mode.TRAIN)).add(1.0).reshape(b, 1, r);
      Tensor writeW = a.mul(readW).add(a.neg().add(1.0).mul(leastUsed.reshape(b, nSlots, 1)));   // [B, slots, R]
      memory = memory.mul(keepRows.reshape(b, nSlots, 1)).add(writeW.matmul(k));
      Tensor kNorm = k.square().sum(2, false).add(COS_EPS).sqrt().reshape(b, 1, r);
      Tensor mNorm = memory.square().sum(2, true).add(COS_EPS).sqrt();                 // [B, slots, 1]
      Tensor cos = memory.matmul(k.mT()).div(mNorm.mul(kNorm));                         // [B, slots, R]
      readW = F.softmax(cos.mul(beta), 1);
      Tensor read = readW.mT().matmul(memory);                                          // [B, R, W]
      usage = usage.mul(config.gamma()).add(readW.sum(2, false)).add(writeW.sum(2, false));
      reads = read.reshape(b, r * w);
      out.add(head.apply(po, Tensor.concat(List.of(h, reads), 1), Mode.TRAIN));
      if (s + 1 < t) {
        usageValues = usage.detach().toDoubleArray();
        leastUsed = leastUsed(usageValues, b, dt).to(inputs.device());
        keepRows = keepRows(usageValues, b, dt).to(inputs.device());
      }
    }
    return Tensor.stack(out, 0);
  }

  /** {@code log(1 + exp(x))}, stable for large |x|: {@code relu(x) + log(1 + exp(-|x|))}. */
  private static Tensor softplus(Tensor x) {
    return x.relu().add(x.abs().neg().exp().add(1.0).log());
  }

  /** The indicator of the R least-used slots of each episode, {@code [B, slots]} (ties: lowest index). */
  private Tensor leastUsed(double[] usage, int b, DType dt) {
    int n = config.slots();
    double[] m = new double[b * n];
    for (int e = 0; e < b; e++) {
      for (int i : smallest(usage, e * n, n, config.reads())) {
        m[e * n + i] = 1;
      }
    }
    return Tensor.of(m, dt, b, n);
  }

  /** 1 everywhere except 0 at each episode's least-used slot (the row zeroed before writing), {@code [B, slots]}. */
  private Tensor keepRows(double[] usage, int b, DType dt) {
    int n = config.slots();
    double[] m = new double[b * n];
    Arrays.fill(m, 1);
    for (int e = 0; e < b; e++) {
      m[e * n + smallest(usage, e * n, n, 1)[0]] = 0;
    }
    return Tensor.of(m, dt, b, n);
  }

  /**
   * The indices of the {@code k} smallest of {@code v[off .. off+n)}, by value then index (a NaN usage sorts
   * last, so it is never chosen while finite slots remain).
   */
  static int[] smallest(double[] v, int off, int n, int k) {
    int[] idx = new int[k];
    boolean[] taken = new boolean[n];
    for (int j = 0; j < k; j++) {
      int best = -1;
      for (int i = 0; i < n; i++) {
        if (!taken[i] && (best < 0 || Double.compare(v[off + i], v[off + best]) < 0)) {
          best = i;
        }
      }
      taken[best] = true;
      idx[j] = best;
    }
    return idx;
  }

  /** {@code Mann(controller, labels, N classes, hidden, memory slots x width, R reads, gamma)}. */
  @Override
  public String toString() {
    Config c = config;
    return String.format(Locale.ROOT, "Mann(%s, %s labels, %d classes, %d hidden%s)", c.controller().cliName(),
        c.labels().cliName(), c.classes(), c.hidden(), c.controller() == Controller.MANN
            ? String.format(Locale.ROOT, ", memory %dx%d, %d reads, gamma %s", c.slots(), c.width(), c.reads(),
            c.gamma()) : "");
  }
}
