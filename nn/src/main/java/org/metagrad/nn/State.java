package org.metagrad.nn;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.metagrad.Tensor;

/**
 * Non-differentiable module state, such as BatchNorm running statistics: a mutable, thread-safe map
 * from dotted names to (detached) tensors, kept apart from {@link Params}. Modules read and write it
 * through {@link #scoped(String)} views so names match the parameter names
 * ({@code features.1.running_mean}).
 */
public final class State {
  private final Map<String, Tensor> root;
  private final String prefix;

  /** An empty state. */
  public State() {
    this(Collections.synchronizedMap(new LinkedHashMap<>()), "");
  }

  private State(Map<String, Tensor> root, String prefix) {
    this.root = root;
    this.prefix = prefix;
  }

  /** A view whose names are prefixed with {@code name + "."}. */
  public State scoped(String name) {
    return new State(root, prefix + name + ".");
  }

  /** The tensor stored under name, or null. */
  public Tensor get(String name) {
    return root.get(prefix + name);
  }

  /** Stores a detached copy reference under name. */
  public void put(String name, Tensor t) {
    root.put(prefix + name, t.detach());
  }

  /** All entries with full names (a snapshot). */
  public Map<String, Tensor> snapshot() {
    synchronized (root) {
      return new LinkedHashMap<>(root);
    }
  }

  /** Replaces all entries with the given ones (e.g. when loading a checkpoint). */
  public void restore(Map<String, Tensor> entries) {
    synchronized (root) {
      root.clear();
      root.putAll(entries);
    }
  }

  /**
   * The monitor shared by this state and all its scoped views, for read-modify-write updates that must
   * not interleave (BatchNorm's running statistics when tasks run in parallel).
   */
  public Object lock() {
    return root;
  }
}
