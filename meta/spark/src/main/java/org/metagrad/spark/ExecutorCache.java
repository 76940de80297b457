package org.metagrad.spark;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * What an executor JVM builds once and reuses across tasks: the pool (from its broadcast), the learner and
 * the objective of a configuration. Keyed by the broadcast id and the configuration's JSON, so a sweep's
 * configurations do not share entries; cleared when it grows past a few entries.
 */
final class ExecutorCache {
  private static final int MAX = 32;
  private static final ConcurrentHashMap<String, Object> CACHE = new ConcurrentHashMap<>();

  private ExecutorCache() {}

  @SuppressWarnings("unchecked")
  static <T> T get(String key, Supplier<T> build) {
    Object v = CACHE.get(key);
    if (v == null) {
      if (CACHE.size() >= MAX) {
        CACHE.clear();
      }
      // Built outside the map: a builder may itself use the cache (the objective needs the pool).
      v = build.get();
      Object prev = CACHE.putIfAbsent(key, v);
      if (prev != null) {
        v = prev;
      }
    }
    return (T) v;
  }
}
