package org.metagrad.nn.io;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Named points of the checkpoint-writing sequence at which crash tests halt the JVM, to prove that a kill
 * at any of them leaves a run folder that {@code --resume} continues exactly. Inert unless the system
 * property {@value #PROPERTY} is set (only the crash tests' forked JVMs set it): its value
 * {@code NAME} or {@code NAME@K} halts the JVM with {@link Runtime#halt} (no shutdown hooks, no flushing,
 * like {@code kill -9}) with status {@value #HALT_STATUS} the K-th time (default the first) the point
 * {@code NAME} is reached.
 *
 * <p>The points are {@code <file>:temp-written}, {@code <file>:temp-synced} and {@code <file>:renamed}
 * inside {@link SafeTensors#write} (for {@code file} the target's name, e.g. {@code last.safetensors}),
 * and the trainer's own steps (see {@code MetaTrainer}).
 *
 * <pre>{@code java -Dmetagrad.test.haltAt=last.safetensors:temp-synced@2 ...   // second write of last }</pre>
 */
public final class CrashPoints {
  /** The system property naming the point (and occurrence) to halt at. */
  public static final String PROPERTY = "metagrad.test.haltAt";
  /** The exit status of a halted JVM. */
  public static final int HALT_STATUS = 86;

  // Read once: the property is set on the command line of a crash test's JVM, never changed at run time.
  private static final String NAME;
  private static final int OCCURRENCE;
  private static final ConcurrentHashMap<String, AtomicInteger> SEEN = new ConcurrentHashMap<>();

  static {
    String spec = System.getProperty(PROPERTY);
    if (spec == null || spec.isEmpty()) {
      NAME = null;
      OCCURRENCE = 0;
    } else {
      int at = spec.lastIndexOf('@');
      NAME = at < 0 ? spec : spec.substring(0, at);
      OCCURRENCE = at < 0 ? 1 : Integer.parseInt(spec.substring(at + 1));
    }
  }

  private CrashPoints() {}

  /**
   * Marks that the point {@code name} was reached; halts the JVM if it is the configured one.
   *
   * @param name the point's name
   */
  public static void reached(String name) {
    if (NAME == null || !NAME.equals(name)) {
      return;
    }
    if (SEEN.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet() == OCCURRENCE) {
      Runtime.getRuntime().halt(HALT_STATUS);
    }
  }
}
