package org.metagrad.nn.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.Tensor;
import org.metagrad.nn.Params;
import org.metagrad.nn.State;
import org.metagrad.nn.optim.OptimizerState;

/**
 * Saves and loads a model's {@link Params}, its module {@link State} (BatchNorm running statistics) and
 * an optimizer's state as one safetensors file. Parameter and state names are written as they are, so
 * the file reads like a PyTorch {@code state_dict}; optimizer tensors are prefixed {@code optimizer.};
 * the metadata lists which names are state ({@code metagrad.state}) and carries the caller's entries.
 * Writes are atomic (see {@link SafeTensors#write}).
 *
 * <p><b>Loading checks values.</b> {@link #load(Path)} refuses a file holding NaN or an infinity in any
 * floating-point tensor (naming the file, the tensor and the first bad element), since such parameters make
 * every later result NaN or a silent constant; {@link #load(Path, LoadOptions)} with
 * {@link LoadOptions#allowNonFinite()} loads them anyway. {@link Loaded#paramsLike} checks names, shapes
 * and dtypes (the file's dtype must be the model's: {@code I32} bytes over an {@code F32} parameter are an
 * error, not a conversion) and {@link Loaded#optimizerLike} does the same for the optimizer state.
 *
 * <pre>{@code
 * Checkpoints.save(dir.resolve("best.safetensors"), params, state, optState, Map.of("iteration", "500"));
 * Checkpoints.Loaded c = Checkpoints.load(file);
 * Params p = c.paramsLike(model.init(rng));   // names, shapes and dtypes checked
 * }</pre>
 */
public final class Checkpoints {
  /** Metadata key holding the comma-separated names of state (non-parameter) tensors. */
  public static final String STATE_KEY = "metagrad.state";
  /** Metadata key naming the format. */
  public static final String FORMAT_KEY = "metagrad.format";
  /** Prefix of optimizer tensors. */
  public static final String OPTIMIZER_PREFIX = "optimizer.";

  private Checkpoints() {}

  /**
   * How {@link #load(Path, LoadOptions)} treats the values it reads.
   *
   * @param allowNonFinite load tensors holding NaN or an infinity instead of refusing the file
   */
  public record LoadOptions(boolean allowNonFinite) {
    private static final LoadOptions STRICT = new LoadOptions(false);

    /** The default: every floating-point value must be finite. */
    public static LoadOptions strict() {
      return STRICT;
    }

    /** Loads NaN and infinities as they are (for inspecting a diverged run). */
    public static LoadOptions allowingNonFinite() {
      return new LoadOptions(true);
    }
  }

  /**
   * What a checkpoint holds, on the CPU.
   *
   * @param params the parameters
   * @param state the module state entries
   * @param optimizer the optimizer state, or null when the file has none
   * @param metadata the file's metadata
   * @param source the file it was read from (named in error messages)
   * @param dtypes the dtype each tensor had in the file, by its name in the file
   */
  public record Loaded(Params params, Map<String, Tensor> state, OptimizerState optimizer,
                       Map<String, String> metadata, String source, Map<String, SafeDType> dtypes) {

    /**
     * The parameters checked against a template: same names, shapes and dtypes, in the template's order.
     *
     * @throws CheckpointException naming the file and the first missing, extra or mismatched tensor
     */
    public Params paramsLike(Params template) {
      Set<String> extra = new HashSet<>(params.names());
      LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
      for (String n : template.names()) {
        Tensor want = template.get(n);
        if (!params.contains(n)) {
          throw new CheckpointException(source + ": checkpoint has no parameter '" + n + "' (it has "
              + params.names() + ")", n, null);
        }
        Tensor got = params.get(n);
        if (!Arrays.equals(got.shape(), want.shape())) {
          throw new CheckpointException(source + ": parameter '" + n + "' has shape " + Arrays.toString(got.shape())
              + " in the checkpoint but " + Arrays.toString(want.shape()) + " in the model", n, null);
        }
        checkDtype(n, n, want.dtype());
        out.put(n, got.to(want.dtype()));
        extra.remove(n);
      }
      if (!extra.isEmpty()) {
        throw new CheckpointException(source + ": checkpoint has parameters the model lacks: " + extra,
            extra.iterator().next(), null);
      }
      return Params.of(out);
    }

    /**
     * The optimizer state checked against a template (e.g. {@code adam.init(params)}): present, with exactly
     * the template's buffers (no missing, no extra), each of exactly the template buffer's shape (not
     * merely broadcastable to it) and dtype. The step count is the file's; the caller checks its range.
     *
     * @throws CheckpointException naming the file and the first missing, extra or mismatched tensor
     */
    public OptimizerState optimizerLike(OptimizerState template) {
      if (optimizer == null) {
        throw new CheckpointException(source + ": checkpoint holds no optimizer state (no '" + OPTIMIZER_PREFIX
            + "*' tensors), so training cannot continue exactly from it");
      }
      if (!dtypes.containsKey(OPTIMIZER_PREFIX + OptimizerState.STEP)) {
        throw new CheckpointException(source + ": optimizer state has no step count '" + OPTIMIZER_PREFIX
            + OptimizerState.STEP + "'", OPTIMIZER_PREFIX + OptimizerState.STEP, null);
      }
      Set<String> extra = new HashSet<>(optimizer.buffers().keySet());
      LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : template.buffers().entrySet()) {
        String n = e.getKey();
        String fileName = OPTIMIZER_PREFIX + n;
        Tensor want = e.getValue();
        Tensor got = optimizer.get(n);
        if (got == null) {
          throw new CheckpointException(source + ": optimizer state has no tensor '" + fileName + "'", fileName, null);
        }
        if (!Arrays.equals(got.shape(), want.shape())) {
          throw new CheckpointException(source + ": optimizer tensor '" + fileName + "' has shape "
              + Arrays.toString(got.shape()) + " but the parameter's state needs exactly "
              + Arrays.toString(want.shape()), fileName, null);
        }
        checkDtype(fileName, fileName, want.dtype());
        out.put(n, got.to(want.dtype()));
        extra.remove(n);
      }
      if (!extra.isEmpty()) {
        String first = OPTIMIZER_PREFIX + extra.iterator().next();
        throw new CheckpointException(source + ": optimizer state has tensors the model lacks: " + extra, first, null);
      }
      return new OptimizerState(optimizer.step(), out);
    }

    private void checkDtype(String what, String fileName, DType want) {
      SafeDType have = dtypes.get(fileName);
      SafeDType expected = want == DType.FLOAT32 ? SafeDType.F32 : SafeDType.F64;
      if (have != null && have != expected) {
        throw new CheckpointException(source + ": tensor '" + what + "' is stored as " + have + " but the model's is "
            + want + " (" + expected + "); a checkpoint's dtypes must be the model's", fileName, null);
      }
    }

    /** Copies the state entries into a module state. */
    public void restoreInto(State s) {
      s.restore(state);
    }
  }

  /** Saves parameters, state (may be null) and optimizer state (may be null) with extra metadata. */
  public static void save(Path file, Params params, State state, OptimizerState optimizer,
                          Map<String, String> metadata) throws IOException {
    List<NamedArray> arrays = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (Map.Entry<String, Tensor> e : params.asMap().entrySet()) {
      arrays.add(toArray(e.getKey(), e.getValue(), names));
    }
    List<String> stateNames = new ArrayList<>();
    if (state != null) {
      for (Map.Entry<String, Tensor> e : state.snapshot().entrySet()) {
        arrays.add(toArray(e.getKey(), e.getValue(), names));
        stateNames.add(e.getKey());
      }
    }
    if (optimizer != null) {
      for (Map.Entry<String, Tensor> e : optimizer.toNamedTensors().entrySet()) {
        arrays.add(toArray(OPTIMIZER_PREFIX + e.getKey(), e.getValue(), names));
      }
    }
    LinkedHashMap<String, String> meta = new LinkedHashMap<>();
    if (metadata != null) {
      meta.putAll(metadata);
    }
    meta.put(FORMAT_KEY, "1");
    meta.put(STATE_KEY, String.join(",", stateNames));
    SafeTensors.write(file, arrays, meta);
  }

  /**
   * Loads a checkpoint written by {@link #save} (or any safetensors file: then everything is a parameter),
   * refusing non-finite values; see {@link #load(Path, LoadOptions)}.
   */
  public static Loaded load(Path file) throws IOException {
    return load(file, LoadOptions.strict());
  }

  /**
   * Loads a checkpoint written by {@link #save} (or any safetensors file: then everything is a parameter).
   *
   * @param file the file (must be a regular file)
   * @param options whether NaN and infinities are refused (the default) or loaded
   * @throws CheckpointException for a malformed file, or (unless allowed) a floating-point tensor holding
   *     NaN or an infinity, naming the file, the tensor and the first bad element
   * @throws IOException when the file cannot be read
   */
  public static Loaded load(Path file, LoadOptions options) throws IOException {
    Checkpoint c = SafeTensors.read(file);
    Map<String, SafeDType> dtypes = new LinkedHashMap<>();
    for (NamedArray a : c.tensors()) {
      dtypes.put(a.name(), a.dtype());
      if (!options.allowNonFinite()) {
        checkFinite(file, a);
      }
    }
    Set<String> stateNames = new HashSet<>();
    String s = c.metadata().get(STATE_KEY);
    if (s != null && !s.isEmpty()) {
      stateNames.addAll(Arrays.asList(s.split(",")));
    }
    LinkedHashMap<String, Tensor> params = new LinkedHashMap<>();
    LinkedHashMap<String, Tensor> state = new LinkedHashMap<>();
    LinkedHashMap<String, Tensor> opt = new LinkedHashMap<>();
    for (NamedArray a : c.tensors()) {
      Tensor t = toTensor(a);
      if (a.name().startsWith(OPTIMIZER_PREFIX)) {
        opt.put(a.name().substring(OPTIMIZER_PREFIX.length()), t);
      } else if (stateNames.contains(a.name())) {
        state.put(a.name(), t);
      } else {
        params.put(a.name(), t);
      }
    }
    OptimizerState os;
    try {
      os = opt.isEmpty() ? null : OptimizerState.fromNamedTensors(opt);
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(file + ": bad optimizer state: " + e.getMessage(), OPTIMIZER_PREFIX
          + OptimizerState.STEP, e);
    }
    return new Loaded(Params.of(params), state, os, c.metadata(), file.toString(), Map.copyOf(dtypes));
  }

  private static void checkFinite(Path file, NamedArray a) {
    if (a.dtype() == SafeDType.F32) {
      float[] v = a.toFloats();
      for (int i = 0; i < v.length; i++) {
        if (!Float.isFinite(v[i])) {
          throw nonFinite(file, a.name(), i, v[i]);
        }
      }
    } else if (a.dtype() == SafeDType.F64) {
      double[] v = a.toDoubles();
      for (int i = 0; i < v.length; i++) {
        if (!Double.isFinite(v[i])) {
          throw nonFinite(file, a.name(), i, v[i]);
        }
      }
    }
  }

  private static CheckpointException nonFinite(Path file, String name, int index, double value) {
    return new CheckpointException(file + ": tensor '" + name + "' holds " + value + " at flat index " + index
        + " (the first non-finite value); a diverged run's weights are refused unless non-finite values are"
        + " explicitly allowed", name, null);
  }

  private static NamedArray toArray(String name, Tensor t, Set<String> seen) {
    if (!seen.add(name)) {
      throw new IllegalArgumentException("Checkpoints.save: duplicate tensor name '" + name + "'");
    }
    Tensor host = t.device().equals(Device.cpu()) ? t : t.to(Device.cpu());
    long[] shape = Arrays.stream(host.shape()).asLongStream().toArray();
    if (isCounter(name)) {
      // PyTorch stores these counters as int64; core has no integer dtype, so convert at the file boundary.
      double[] v = host.toDoubleArray();
      long[] l = new long[v.length];
      for (int i = 0; i < v.length; i++) {
        l[i] = Math.round(v[i]);
      }
      return NamedArray.fromLongs(name, shape, l);
    }
    return host.dtype() == DType.FLOAT32
        ? NamedArray.fromFloats(name, shape, host.toFloatArray())
        : NamedArray.fromDoubles(name, shape, host.toDoubleArray());
  }

  private static boolean isCounter(String name) {
    return name.endsWith("num_batches_tracked") || name.equals(OPTIMIZER_PREFIX + OptimizerState.STEP);
  }

  private static Tensor toTensor(NamedArray a) {
    int[] shape = new int[a.shape().length];
    for (int i = 0; i < shape.length; i++) {
      if (a.shape()[i] > Integer.MAX_VALUE) {
        throw new CheckpointException("tensor '" + a.name() + "' has a dimension of " + a.shape()[i]
            + " elements, more than a Tensor can hold", a.name(), null);
      }
      shape[i] = (int) a.shape()[i];
    }
    return switch (a.dtype()) {
      case F32 -> Tensor.of(a.toFloats(), shape);
      case F64 -> Tensor.of(a.toDoubles(), shape);
      case I32, I64 -> Tensor.of(Arrays.stream(a.toLongs()).asDoubleStream().toArray(), DType.FLOAT64, shape);
    };
  }
}
