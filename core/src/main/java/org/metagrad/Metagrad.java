package org.metagrad;

import java.util.Locale;
import java.util.Objects;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BackendException;
import org.metagrad.spi.Backends;

/**
 * The runtime configuration of the engine, in one place: which CPU backend computes host tensors, whether it is
 * required, how many kernel threads it uses, and the default device and dtype of new tensors. An application sets
 * it once, before the first tensor op, and can ask what runs:
 *
 * <pre>{@code
 * Metagrad.configure().cpuBackend("cpu-vector").required(true).threads(2).apply();  // opens it now, or throws
 * Metagrad.defaultDType();        // FLOAT32: what Tensor.zeros(2, 3), Module.init(rng), ... make
 * Metagrad.cpuBackend().name();   // "cpu-vector"
 * ...
 * Metagrad.close();               // releases GPU contexts; the next op opens backends again
 * }</pre>
 *
 * <p>Without {@link #configure}, the settings come from system properties, read here and nowhere else, when the
 * first backend opens: {@value #BACKEND_PROPERTY} ({@code cpu-vector}, {@code cpu-scalar}, {@code reference}),
 * {@value #REQUIRED_PROPERTY} ({@code true}: a named backend that does not load is an error instead of a fallback),
 * {@value #THREADS_PROPERTY} (kernel threads of the CPU backend, default the processor count),
 * {@value #DEVICE_PROPERTY} ({@code cpu}, {@code opencl:N}, {@code cuda:N} or {@code auto}) and
 * {@value #DTYPE_PROPERTY} ({@code float32}, the default, or {@code float64}: see {@link #defaultDType()}). The
 * effective settings are logged once, when the CPU backend opens.
 *
 * <p>A setting that arrives after the backend it governs is open, or a default dtype after a tensor was made
 * with the previous one, fails loudly ({@link IllegalStateException}) instead of being ignored: {@link #close}
 * first, or configure before the first op.
 */
public final class Metagrad {
  /** System property naming the CPU backend to try first. */
  public static final String BACKEND_PROPERTY = "metagrad.backend";
  /** System property: {@code true} makes a backend named by {@value #BACKEND_PROPERTY} required. */
  public static final String REQUIRED_PROPERTY = "metagrad.backend.required";
  /** System property: kernel threads of the CPU backend. */
  public static final String THREADS_PROPERTY = "metagrad.threads";
  /** System property: the default device of new tensors. */
  public static final String DEVICE_PROPERTY = "metagrad.device";
  /** System property: the default dtype of new tensors made without data or dtype ({@code float32}, {@code float64}). */
  public static final String DTYPE_PROPERTY = "metagrad.dtype";

  private static volatile Settings configured;
  /** The default dtype once a factory has used it (until {@link #close}); null before. */
  private static volatile DType dtypeInUse;

  private Metagrad() {}

  /**
   * The engine's settings.
   *
   * @param cpuBackend the CPU backend to try first, or null for the default order (cpu-vector, cpu-scalar,
   *     reference)
   * @param required whether {@code cpuBackend} must load (no fallback)
   * @param threads kernel threads of the CPU backend, at least 1 ({@link #defaultThreads()} unless set)
   * @param device the default device of new tensors: {@code cpu}, {@code opencl:N}, {@code cuda:N} or {@code auto}
   * @param defaultDType the dtype of new tensors made without data and without a dtype ({@link #defaultDType()})
   */
  public record Settings(String cpuBackend, boolean required, int threads, String device, DType defaultDType) {
    /** Checks the values. */
    public Settings {
      if (threads < 1) {
        throw new IllegalArgumentException("Metagrad: threads must be >= 1, got " + threads);
      }
      if (required && cpuBackend == null) {
        throw new IllegalArgumentException("Metagrad: required(true) needs a CPU backend name (cpuBackend(...))");
      }
      Objects.requireNonNull(device, "Metagrad: device");
      Objects.requireNonNull(defaultDType, "Metagrad: defaultDType");
      if (!device.trim().equalsIgnoreCase("auto")) {
        Backends.parseDevice(device);
      }
    }

    /**
     * One line for logs, e.g. {@code cpu backend cpu-vector (required), 2 kernel threads, default device cpu, default
     * dtype FLOAT32}.
     *
     * @param opened the name of the CPU backend that opened
     * @return the line
     */
    public String describe(String opened) {
      return "cpu backend " + opened + (required ? " (required)" : cpuBackend != null && !cpuBackend.equals(opened)
          ? " (asked for " + cpuBackend + ")" : "") + ", " + threads + " kernel thread" + (threads == 1 ? "" : "s")
          + ", default device " + device + ", default dtype " + defaultDType;
    }
  }

  /** The processor count: the default number of kernel threads. */
  public static int defaultThreads() {
    return Math.max(1, Runtime.getRuntime().availableProcessors());
  }

  /**
   * The settings in force: those of the last {@link Builder#apply}, else the system properties (read now).
   *
   * @throws IllegalArgumentException when a property does not parse, naming it
   */
  public static Settings settings() {
    Settings s = configured;
    return s != null ? s : fromProperties();
  }

  private static Settings fromProperties() {
    String backend = System.getProperty(BACKEND_PROPERTY);
    backend = backend == null || backend.isBlank() ? null : backend.trim();
    String req = System.getProperty(REQUIRED_PROPERTY, "false").trim().toLowerCase(Locale.ROOT);
    if (!req.equals("true") && !req.equals("false")) {
      throw new IllegalArgumentException(REQUIRED_PROPERTY + ": expected true or false, got '" + req + "'");
    }
    String t = System.getProperty(THREADS_PROPERTY);
    int threads = defaultThreads();
    if (t != null && !t.isBlank()) {
      try {
        threads = Integer.parseInt(t.trim());
      } catch (NumberFormatException e) {
        threads = 0;
      }
      if (threads < 1) {
        throw new IllegalArgumentException(THREADS_PROPERTY + ": expected a positive integer, got '" + t + "'");
      }
    }
    return new Settings(backend, req.equals("true") && backend != null, threads,
        System.getProperty(DEVICE_PROPERTY, "cpu"), parseDType(System.getProperty(DTYPE_PROPERTY)));
  }

  private static DType parseDType(String v) {
    if (v == null || v.isBlank()) {
      return DType.FLOAT32;
    }
    return switch (v.trim().toLowerCase(Locale.ROOT)) {
      case "float32" -> DType.FLOAT32;
      case "float64" -> DType.FLOAT64;
      default -> throw new IllegalArgumentException(DTYPE_PROPERTY + ": expected float32 or float64, got '" + v + "'");
    };
  }

  /**
   * The dtype of new tensors made without data and without a dtype: {@code Tensor.zeros(shape)},
   * {@code ones(shape)}, {@code arange(n)}, {@code scalar(v)} and the parameters of {@code Module.init(rng)} in
   * {@code nn}. FLOAT32 unless configured ({@link Builder#defaultDType}, or the {@value #DTYPE_PROPERTY} property).
   * Factories given data keep the data's precision ({@code Tensor.of(double[])} is FLOAT64, {@code of(float[])}
   * FLOAT32), and a factory given a dtype uses it. Once a factory has used it, the default dtype is fixed until
   * {@link #close}: a {@link Builder#apply} with another one is an {@link IllegalStateException}, so that tensors
   * made before and after cannot silently differ.
   *
   * @return the default dtype in force
   * @throws IllegalArgumentException when {@value #DTYPE_PROPERTY} does not parse
   */
  public static DType defaultDType() {
    DType d = dtypeInUse;
    if (d == null) {
      synchronized (Backends.class) {
        if (dtypeInUse == null) {
          dtypeInUse = settings().defaultDType();
        }
        d = dtypeInUse;
      }
    }
    return d;
  }

  /** A builder starting from the settings in force ({@link #settings()}). */
  public static Builder configure() {
    return new Builder(settings());
  }

  /**
   * The CPU backend computing host tensors on this thread, opening it with the settings in force on first use.
   *
   * @throws BackendException when a required backend does not load
   */
  public static Backend cpuBackend() {
    return Backends.cpu();
  }

  /** Whether the shared CPU backend has been opened (by an op, {@link #cpuBackend} or {@link Builder#apply}). */
  public static boolean isCpuBackendOpen() {
    return Backends.isCpuOpen();
  }

  /**
   * Closes every open backend (GPU contexts and queues; the CPU backends hold no native resources) and forgets
   * them and the configured settings: the next op opens backends again with the settings then in force. Tensors
   * on a closed GPU device can no longer be used.
   */
  public static void close() {
    synchronized (Backends.class) {
      Backends.closeAll();
      configured = null;
      dtypeInUse = null;
    }
  }

  /** Settings to {@link #apply}; each setter returns this builder. */
  public static final class Builder {
    private String cpuBackend;
    private boolean required;
    private int threads;
    private String device;
    private DType defaultDType;

    private Builder(Settings from) {
      cpuBackend = from.cpuBackend();
      required = from.required();
      threads = from.threads();
      device = from.device();
      defaultDType = from.defaultDType();
    }

    /** The CPU backend to use: {@code cpu-vector}, {@code cpu-scalar} or {@code reference}. */
    public Builder cpuBackend(String name) {
      this.cpuBackend = Objects.requireNonNull(name, "cpuBackend").trim();
      return this;
    }

    /** Whether the named CPU backend is required: when it does not load, {@link #apply} throws (default false). */
    public Builder required(boolean on) {
      this.required = on;
      return this;
    }

    /** Kernel threads of the CPU backend (default the processor count; results do not depend on it). */
    public Builder threads(int n) {
      this.threads = n;
      return this;
    }

    /** The default device of new tensors: {@code cpu}, {@code opencl:N}, {@code cuda:N} or {@code auto}. */
    public Builder device(String spec) {
      this.device = Objects.requireNonNull(spec, "device");
      return this;
    }

    /** The default device of new tensors. */
    public Builder device(Device d) {
      return device(d.toString());
    }

    /**
     * The dtype of new tensors made without data and without a dtype (default FLOAT32; see
     * {@link Metagrad#defaultDType()}).
     */
    public Builder defaultDType(DType dtype) {
      this.defaultDType = Objects.requireNonNull(dtype, "defaultDType");
      return this;
    }

    /**
     * Makes these the settings in force and opens the CPU backend now, so that a required backend that does not
     * load fails here. Applying the settings the open backends already run with does nothing.
     *
     * @return the CPU backend now open
     * @throws IllegalStateException when a backend these settings govern is already open with other settings, or
     *     when a tensor was already made with another default dtype
     * @throws BackendException when a required backend does not load
     * @throws IllegalArgumentException for an invalid value
     */
    public Backend apply() {
      Settings s = new Settings(cpuBackend, required, threads, device, defaultDType);
      synchronized (Backends.class) {
        if (dtypeInUse != null && dtypeInUse != s.defaultDType()) {
          throw new IllegalStateException("Metagrad.configure: default dtype " + s.defaultDType() + " requested, but"
              + " tensors were already made with the default dtype " + dtypeInUse + ". Configure before the first"
              + " tensor op, or call Metagrad.close() first");
        }
        Settings open = Backends.openedWith();
        if (open != null) {
          String conflict = conflict(open, s);
          if (conflict != null) {
            throw new IllegalStateException("Metagrad.configure: " + conflict + "; the backend is already open ("
                + open.describe(Backends.cpu().name()) + "). Configure before the first tensor op, or call"
                + " Metagrad.close() first");
          }
        }
        Settings before = configured;
        configured = s;
        try {
          return Backends.cpu();
        } catch (RuntimeException e) {
          configured = before;
          throw e;
        }
      }
    }

    private static String conflict(Settings open, Settings s) {
      if (!Objects.equals(open.cpuBackend(), s.cpuBackend()) && s.cpuBackend() != null
          && !s.cpuBackend().equals(Backends.cpu().name())) {
        return "CPU backend " + s.cpuBackend() + " requested";
      }
      if (open.threads() != s.threads()) {
        return s.threads() + " kernel threads requested";
      }
      if (!open.device().trim().equalsIgnoreCase(s.device().trim()) && Backends.isDefaultDeviceChosen()) {
        return "default device " + s.device() + " requested";
      }
      return null;
    }
  }
}
