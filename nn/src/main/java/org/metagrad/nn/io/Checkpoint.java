package org.metagrad.nn.io;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The contents of a checkpoint file: tensors in file order with unique names, and string metadata
 * (the safetensors {@code __metadata__} object). Immutable.
 *
 * <pre>{@code
 * Checkpoint c = SafeTensors.read(Path.of("model.safetensors"));
 * float[] w = c.get("fc.weight").toFloats();
 * String step = c.metadata().get("step");
 * }</pre>
 */
public final class Checkpoint {
  private final Map<String, NamedArray> byName;
  private final List<NamedArray> tensors;
  private final Map<String, String> metadata;

  /**
   * Tensors (names must be unique) and metadata (keys and values non-null), both copied; the
   * iteration order of each is kept.
   */
  public Checkpoint(List<NamedArray> tensors, Map<String, String> metadata) {
    Objects.requireNonNull(tensors, "tensors");
    Objects.requireNonNull(metadata, "metadata");
    Map<String, NamedArray> m = new LinkedHashMap<>();
    for (NamedArray t : tensors) {
      Objects.requireNonNull(t, "tensor");
      if (m.putIfAbsent(t.name(), t) != null) {
        throw new IllegalArgumentException("Checkpoint: duplicate tensor name '" + t.name() + "'");
      }
    }
    Map<String, String> md = new LinkedHashMap<>();
    metadata.forEach(
        (k, v) -> {
          if (k == null || v == null) {
            throw new IllegalArgumentException(
                "Checkpoint: metadata keys and values must be non-null, got " + k + "=" + v);
          }
          md.put(k, v);
        });
    this.byName = Collections.unmodifiableMap(m);
    this.tensors = List.copyOf(m.values());
    this.metadata = Collections.unmodifiableMap(md);
  }

  /** Tensors without metadata. */
  public static Checkpoint of(List<NamedArray> tensors) {
    return new Checkpoint(tensors, Map.of());
  }

  /** The tensors in file order (unmodifiable). */
  public List<NamedArray> tensors() {
    return tensors;
  }

  /** The metadata in file order (unmodifiable); empty when the file had none. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The tensor names in file order. */
  public List<String> names() {
    return new ArrayList<>(byName.keySet());
  }

  /** The number of tensors. */
  public int size() {
    return tensors.size();
  }

  /** The tensor called {@code name}, if present. */
  public Optional<NamedArray> find(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /**
   * The tensor called {@code name}; an absent name is an {@link IllegalArgumentException} listing
   * the names present.
   */
  public NamedArray get(String name) {
    NamedArray t = byName.get(name);
    if (t == null) {
      throw new IllegalArgumentException(
          "Checkpoint: no tensor '" + name + "'; it has " + byName.keySet());
    }
    return t;
  }

  /** Equal when both hold equal tensors in the same order and equal metadata. */
  @Override
  public boolean equals(Object o) {
    return o instanceof Checkpoint c && tensors.equals(c.tensors) && metadata.equals(c.metadata);
  }

  /** Consistent with {@link #equals}. */
  @Override
  public int hashCode() {
    return 31 * tensors.hashCode() + metadata.hashCode();
  }

  /** The tensors' names, dtypes and shapes, and the metadata. */
  @Override
  public String toString() {
    return "Checkpoint" + tensors + " metadata=" + metadata;
  }
}
