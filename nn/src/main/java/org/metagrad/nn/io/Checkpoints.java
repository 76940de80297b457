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

  /** What a checkpoint holds, on the CPU. */
  public record Loaded(Params params, Map<String, Tensor> state, OptimizerState optimizer,
                       Map<String, String> metadata) {

    /**
     * The parameters checked against a template: same names, shapes and dtypes, in the template's order.
     *
     * @throws CheckpointException naming the first missing, extra or mismatched tensor
     */
    public Params paramsLike(Params template) {
      Set<String> extra = new HashSet<>(params.names());
      LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
      for (String n : template.names()) {
        Tensor want = template.get(n);
        if (!params.contains(n)) {
          throw new CheckpointException("checkpoint has no parameter '" + n + "' (it has " + params.names() + ")", n, null);
        }
        Tensor got = params.get(n);
        if (!Arrays.equals(got.shape(), want.shape())) {
          throw new CheckpointException("parameter '" + n + "' has shape " + Arrays.toString(got.shape())
              + " in the checkpoint but " + Arrays.toString(want.shape()) + " in the model", n, null);
        }
        out.put(n, got.to(want.dtype()));
        extra.remove(n);
      }
      if (!extra.isEmpty()) {
        throw new CheckpointException("checkpoint has parameters the model lacks: " + extra, extra.iterator().next(), null);
      }
      return Params.of(out);
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

  /** Loads a checkpoint written by {@link #save} (or any safetensors file: then everything is a parameter). */
  public static Loaded load(Path file) throws IOException {
    Checkpoint c = SafeTensors.read(file);
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
    OptimizerState os = opt.isEmpty() ? null : OptimizerState.fromNamedTensors(opt);
    return new Loaded(Params.of(params), state, os, c.metadata());
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
