package org.metagrad.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.Tensor;

/**
 * An immutable ordered map from dotted names ({@code features.0.weight}) to tensors: a model's
 * differentiable parameters. MAML's fast weights are just another {@code Params}:
 *
 * <pre>{@code
 * List<Tensor> g = Autograd.grad(loss, fast.values(), GradOptions.createGraph(true));
 * fast = fast.zip(g, (p, gi) -> p.sub(gi.mul(innerLr)));
 * }</pre>
 */
public final class Params {
  private static final Params EMPTY = new Params(new LinkedHashMap<>());
  private final LinkedHashMap<String, Tensor> map;

  private Params(LinkedHashMap<String, Tensor> map) {
    this.map = map;
  }

  /** No parameters. */
  public static Params empty() {
    return EMPTY;
  }

  /** A copy of the given map, in its iteration order; names must be non-empty and tensors non-null. */
  public static Params of(Map<String, Tensor> entries) {
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : entries.entrySet()) {
      check(e.getKey(), e.getValue());
      m.put(e.getKey(), e.getValue());
    }
    return new Params(m);
  }

  /** One named tensor. */
  public static Params of(String name, Tensor t) {
    check(name, t);
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
    m.put(name, t);
    return new Params(m);
  }

  private static void check(String name, Tensor t) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("Params: empty parameter name");
    }
    if (t == null) {
      throw new IllegalArgumentException("Params: parameter '" + name + "' is null");
    }
  }

  /** The tensor called {@code name}; the message lists the known names otherwise. */
  public Tensor get(String name) {
    Tensor t = map.get(name);
    if (t == null) {
      throw new IllegalArgumentException("Params: no parameter '" + name + "' (have " + map.keySet() + ")");
    }
    return t;
  }

  /** Whether a parameter of that name exists. */
  public boolean contains(String name) {
    return map.containsKey(name);
  }

  /** Names in order. */
  public List<String> names() {
    return List.copyOf(map.keySet());
  }

  /** Tensors in name order. */
  public List<Tensor> values() {
    return List.copyOf(map.values());
  }

  /** Read-only view of the entries in order. */
  public Map<String, Tensor> asMap() {
    return Collections.unmodifiableMap(map);
  }

  /** Number of tensors. */
  public int size() {
    return map.size();
  }

  /** Total number of scalar parameters. */
  public long numel() {
    long n = 0;
    for (Tensor t : map.values()) {
      n += t.numel();
    }
    return n;
  }

  /** Applies f to every tensor, keeping names. */
  public Params map(UnaryOperator<Tensor> f) {
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
    map.forEach((k, v) -> m.put(k, f.apply(v)));
    return new Params(m);
  }

  /** Combines each tensor with the list element at the same position (e.g. its gradient). */
  public Params zip(List<Tensor> others, BiFunction<Tensor, Tensor, Tensor> f) {
    if (others.size() != map.size()) {
      throw new IllegalArgumentException("Params.zip: " + map.size() + " parameters but " + others.size()
          + " tensors");
    }
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
    int i = 0;
    for (Map.Entry<String, Tensor> e : map.entrySet()) {
      m.put(e.getKey(), f.apply(e.getValue(), others.get(i++)));
    }
    return new Params(m);
  }

  /** Combines with the same-named tensors of {@code other}, which must have exactly these names. */
  public Params zip(Params other, BiFunction<Tensor, Tensor, Tensor> f) {
    if (!map.keySet().equals(other.map.keySet())) {
      throw new IllegalArgumentException("Params.zip: names differ: " + map.keySet() + " vs " + other.map.keySet());
    }
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
    map.forEach((k, v) -> m.put(k, f.apply(v, other.map.get(k))));
    return new Params(m);
  }

  /** A copy with one tensor added or replaced. */
  public Params with(String name, Tensor t) {
    check(name, t);
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>(map);
    m.put(name, t);
    return new Params(m);
  }

  /** The union; names in {@code other} replace names here. */
  public Params merge(Params other) {
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>(map);
    m.putAll(other.map);
    return new Params(m);
  }

  /** Every name prefixed with {@code prefix + "."}. */
  public Params prefixed(String prefix) {
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
    map.forEach((k, v) -> m.put(prefix + "." + k, v));
    return new Params(m);
  }

  /** The entries under {@code prefix + "."}, with that prefix removed. */
  public Params sub(String prefix) {
    String p = prefix + ".";
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
    map.forEach((k, v) -> {
      if (k.startsWith(p)) {
        m.put(k.substring(p.length()), v);
      }
    });
    return new Params(m);
  }

  /** Only the named entries, in this object's order. */
  public Params select(List<String> names) {
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
    for (String n : names) {
      m.put(n, get(n));
    }
    return new Params(m);
  }

  /** Entries whose name does not start with any of the prefixes. */
  public Params without(String prefix) {
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
    map.forEach((k, v) -> {
      if (!k.startsWith(prefix)) {
        m.put(k, v);
      }
    });
    return new Params(m);
  }

  /** Leaves that require gradients (the usual starting point of a training step). */
  public Params requiresGrad(boolean on) {
    return map(t -> t.requiresGrad(on));
  }

  /** Detached leaves. */
  public Params detach() {
    return map(Tensor::detach);
  }

  /** Converted to a dtype. */
  public Params to(DType dtype) {
    return map(t -> t.to(dtype));
  }

  /** Moved to a device. */
  public Params to(Device device) {
    return map(t -> t.to(device));
  }

  /** Names with shapes, one per line. */
  @Override
  public String toString() {
    List<String> lines = new ArrayList<>();
    map.forEach((k, v) -> lines.add(k + " " + java.util.Arrays.toString(v.shape()) + " " + v.dtype()));
    return "Params{" + String.join(", ", lines) + "}";
  }
}
