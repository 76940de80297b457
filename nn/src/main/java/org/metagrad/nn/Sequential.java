package org.metagrad.nn;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * Modules applied one after the other, as {@code torch.nn.Sequential}. Children are named {@code "0"},
 * {@code "1"}, ... or by the given names; their parameters and state are prefixed with the child's name
 * ({@code 0.weight}, {@code features.0.weight} when nested under {@code features}), so names match a
 * PyTorch {@code state_dict}. An argument error inside a child is rethrown with the child's path in
 * front ({@code at 4: Conv2d(64->64, k=3): expected input ...}).
 *
 * <pre>{@code
 * Sequential net = Sequential.of(new Linear(1, 40), new ReLU(), new Linear(40, 1));
 * Params p = net.init(new Rng(0));   // 0.weight, 0.bias, 2.weight, 2.bias
 * Tensor y = net.apply(p, Tensor.zeros(10, 1), Mode.TRAIN);  // [10, 1]
 * }</pre>
 */
public final class Sequential implements Module {
  private final List<String> names;
  private final List<Module> modules;

  private Sequential(List<String> names, List<Module> modules) {
    this.names = List.copyOf(names);
    this.modules = List.copyOf(modules);
  }

  /** Children named {@code "0"}, {@code "1"}, ... in order. */
  public static Sequential of(Module... modules) {
    Builder b = builder();
    for (Module m : modules) {
      b.add(m);
    }
    return b.build();
  }

  /** Children named {@code "0"}, {@code "1"}, ... in order. */
  public static Sequential of(List<? extends Module> modules) {
    return of(modules.toArray(new Module[0]));
  }

  /** A builder for children with given names: {@code Sequential.builder().add("features", f).add("head", h).build()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Collects children; names must be unique, non-empty and free of dots. */
  public static final class Builder {
    private final List<String> names = new ArrayList<>();
    private final List<Module> modules = new ArrayList<>();
    private final Set<String> seen = new HashSet<>();

    private Builder() {}

    /** Adds a child named by its position ({@code "0"}, {@code "1"}, ...). */
    public Builder add(Module m) {
      return add(String.valueOf(modules.size()), m);
    }

    /** Adds a named child. */
    public Builder add(String name, Module m) {
      if (name == null || name.isEmpty() || name.contains(".")) {
        throw new IllegalArgumentException("Sequential: child name must be non-empty and contain no '.', got '"
            + name + "'");
      }
      if (m == null) {
        throw new IllegalArgumentException("Sequential: child '" + name + "' is null");
      }
      if (!seen.add(name)) {
        throw new IllegalArgumentException("Sequential: duplicate child name '" + name + "'");
      }
      names.add(name);
      modules.add(m);
      return this;
    }

    /** The sequence. */
    public Sequential build() {
      return new Sequential(names, modules);
    }
  }

  /** Number of children. */
  public int size() {
    return modules.size();
  }

  /** Child names in order. */
  public List<String> names() {
    return names;
  }

  /** Children in order. */
  public List<Module> modules() {
    return modules;
  }

  /** The i-th child. */
  public Module get(int i) {
    if (i < 0 || i >= modules.size()) {
      throw new IllegalArgumentException("Sequential: child index " + i + " out of range [0, " + modules.size() + ")");
    }
    return modules.get(i);
  }

  /** The child called name. */
  public Module get(String name) {
    int i = names.indexOf(name);
    if (i < 0) {
      throw new IllegalArgumentException("Sequential: no child '" + name + "' (have " + names + ")");
    }
    return modules.get(i);
  }

  /**
   * Children {@code from..to-1} keeping their names, so the same {@link Params} apply: e.g.
   * {@code net.slice(0, 4).apply(p, x, mode)} gives the activations after the first block.
   */
  public Sequential slice(int from, int to) {
    if (from < 0 || to > modules.size() || from > to) {
      throw new IllegalArgumentException("Sequential.slice: range [" + from + ", " + to + ") invalid for "
          + modules.size() + " children");
    }
    return new Sequential(names.subList(from, to), modules.subList(from, to));
  }

  /** The children's parameters, each prefixed with the child's name, in order. */
  @Override
  public Params init(Rng rng, DType dtype) {
    Params p = Params.empty();
    for (int i = 0; i < modules.size(); i++) {
      p = p.merge(modules.get(i).init(rng, dtype).prefixed(names.get(i)));
    }
    return p;
  }

  /** Each child's initial state in a scope named after it. */
  @Override
  public void initState(State state, DType dtype) {
    for (int i = 0; i < modules.size(); i++) {
      modules.get(i).initState(state.scoped(names.get(i)), dtype);
    }
  }

  /**
   * x through every child in order, each with its own parameters and state scope. A batch norm directly
   * followed by a {@link ReLU} runs as one fused op ({@link BatchNorm#applyRelu}), and if a non-overlapping
   * {@link MaxPool2d} (stride = window, no padding) follows too, the three do ({@link BatchNorm#applyReluPool}):
   * the same values and derivatives, fewer passes over the activations.
   */
  @Override
  public Tensor apply(Params p, Tensor x, Mode mode) {
    Tensor h = x;
    for (int i = 0; i < modules.size(); i++) {
      if (modules.get(i) instanceof BatchNorm bn && i + 2 < modules.size() && modules.get(i + 1) instanceof ReLU
          && modules.get(i + 2) instanceof MaxPool2d mp && mp.stride == mp.kernel && mp.padding == 0
          && h.rank() == 4 && h.size(2) >= mp.kernel && h.size(3) >= mp.kernel) {
        int k = mp.kernel;
        h = Layers.child(names.get(i), (q, t, m) -> bn.applyReluPool(q, t, m, k), p, h, mode);
        i += 2;
        continue;
      }
      if (modules.get(i) instanceof BatchNorm bn && i + 1 < modules.size() && modules.get(i + 1) instanceof ReLU) {
        h = Layers.child(names.get(i), bn::applyRelu, p, h, mode);
        i++;
        continue;
      }
      h = Layers.child(names.get(i), modules.get(i), p, h, mode);
    }
    return h;
  }

  /** {@code Sequential(0: Linear(1->40), 1: ReLU, ...)}. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Sequential(");
    for (int i = 0; i < modules.size(); i++) {
      sb.append(i == 0 ? "" : ", ").append(names.get(i)).append(": ").append(modules.get(i));
    }
    return sb.append(')').toString();
  }
}
