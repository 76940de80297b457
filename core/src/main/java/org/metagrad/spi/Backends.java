package org.metagrad.spi;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.logging.Logger;
import org.metagrad.Device;
import org.metagrad.Metagrad;

/**
 * Backend lookup, in the manner of Lucene's vectorization provider: walk an explicit order, load each
 * candidate by class name inside try/catch, and log one line per fallback that says what to do.
 *
 * <p>CPU order: the backend named by {@link Metagrad#settings()} if any (one of {@code cpu-vector},
 * {@code cpu-scalar}, {@code reference}; a required one is an error when it does not load), then
 * {@code cpu-vector}, {@code cpu-scalar}, {@code reference}. OpenCL and CUDA devices are opened by their
 * factories on first use.
 *
 * <p>The default device for new tensors is the settings' device: {@code cpu} (default), {@code opencl:N},
 * {@code cuda:N}, or {@code auto} ({@link #autoDevice()}: cuda:0 if it opens, else the first OpenCL device that
 * opens and is not the host CPU, else cpu).
 */
public final class Backends {
  private static final Logger LOG = Logger.getLogger("org.metagrad");

  /** Known factories by name, in fallback order within each kind. */
  private static final Map<String, String> FACTORIES = new LinkedHashMap<>();

  static {
    FACTORIES.put("cuda", "org.metagrad.kernels.cuda.CudaBackendFactory");
    FACTORIES.put("opencl", "org.metagrad.kernels.opencl.OpenClBackendFactory");
    FACTORIES.put("cpu-vector", "org.metagrad.kernels.cpu.VectorBackendFactory");
    FACTORIES.put("cpu-scalar", "org.metagrad.kernels.cpu.ScalarBackendFactory");
  }

  private static final Map<Device, Backend> OPEN = new ConcurrentHashMap<>();
  private static final ThreadLocal<Backend> CPU_OVERRIDE = new ThreadLocal<>();
  private static volatile Backend cpu;
  private static volatile Device defaultDevice;
  /** The settings the shared CPU backend was opened with; null while it is not open. */
  private static volatile Metagrad.Settings openedWith;

  private Backends() {}

  /** The backend that computes on host buffers for the calling thread. */
  public static Backend cpu() {
    Backend o = CPU_OVERRIDE.get();
    if (o != null) {
      return o;
    }
    Backend b = cpu;
    if (b == null) {
      synchronized (Backends.class) {
        if (cpu == null) {
          Metagrad.Settings s = Metagrad.settings();
          cpu = selectCpu(s);
          openedWith = s;
          LOG.info("metagrad: " + s.describe(cpu.name()));
        }
        b = cpu;
      }
    }
    return b;
  }

  /** Whether the shared CPU backend is open. */
  public static boolean isCpuOpen() {
    return cpu != null;
  }

  /** The settings the shared CPU backend was opened with, or null while it is not open. */
  public static Metagrad.Settings openedWith() {
    return openedWith;
  }

  /** Whether the default device has been chosen (by the first tensor made without a device). */
  public static boolean isDefaultDeviceChosen() {
    return defaultDevice != null;
  }

  /**
   * Closes every open backend ({@link Backend#close}) and forgets it and the default device ({@link
   * Metagrad#close}); the next use opens them again.
   */
  public static synchronized void closeAll() {
    RuntimeException first = null;
    for (Backend b : new ArrayList<>(OPEN.values())) {
      try {
        b.close();
      } catch (RuntimeException e) {
        first = first == null ? e : first;
      }
    }
    OPEN.clear();
    Backend c = cpu;
    cpu = null;
    openedWith = null;
    defaultDevice = null;
    if (c != null) {
      c.close();
    }
    if (first != null) {
      throw first;
    }
  }

  /** The backend for a device, opening it on first use. */
  public static Backend forDevice(Device device) {
    if (device.kind() == Device.Kind.CPU) {
      return cpu();
    }
    return OPEN.computeIfAbsent(device, d -> {
      BackendFactory f = factory(d.kind() == Device.Kind.OPENCL ? "opencl" : "cuda");
      if (f == null) {
        throw new BackendException(d + ": backend module not on the class path (add metagrad-kernels-"
            + (d.kind() == Device.Kind.OPENCL ? "opencl" : "cuda") + ")");
      }
      return f.open(d);
    });
  }

  /** Runs {@code body} with {@code backend} computing host tensors on this thread (tests, benchmarks). */
  public static <T> T withCpuBackend(Backend backend, Supplier<T> body) {
    if (backend.device().kind() != Device.Kind.CPU) {
      throw new IllegalArgumentException("withCpuBackend: " + backend.name() + " is not a CPU backend");
    }
    Backend prev = CPU_OVERRIDE.get();
    CPU_OVERRIDE.set(backend);
    try {
      return body.get();
    } finally {
      if (prev == null) {
        CPU_OVERRIDE.remove();
      } else {
        CPU_OVERRIDE.set(prev);
      }
    }
  }

  /** Opens a CPU backend by name ({@code cpu-vector}, {@code cpu-scalar}, {@code reference}). */
  public static Backend openCpu(String name) {
    if (name.equals("reference")) {
      return ReferenceBackend.INSTANCE;
    }
    BackendFactory f = factory(name);
    if (f == null || f.kind() != Device.Kind.CPU) {
      throw new BackendException(name + ": no such CPU backend on the class path");
    }
    return f.open(Device.cpu());
  }

  /** The device new tensors go to when none is named ({@code metagrad.device}, default cpu). */
  public static Device defaultDevice() {
    Device d = defaultDevice;
    if (d == null) {
      synchronized (Backends.class) {
        if (defaultDevice == null) {
          defaultDevice = selectDefaultDevice(Metagrad.settings().device());
        }
        d = defaultDevice;
      }
    }
    return d;
  }

  /**
   * Every device that can be opened here, with its name, e.g. {@code opencl:0 -> Portable Computing Language /
   * cpu-... (computes on the host CPU: auto passes over it)}.
   */
  public static Map<Device, String> listDevices() {
    Map<Device, String> out = new LinkedHashMap<>();
    out.put(Device.cpu(), "cpu (" + cpu().name() + ")");
    for (String kind : List.of("opencl", "cuda")) {
      BackendFactory f = factory(kind);
      if (f == null) {
        continue;
      }
      try {
        List<String> names = f.deviceNames();
        for (int i = 0; i < names.size(); i++) {
          out.put(kind.equals("opencl") ? Device.openCl(i) : Device.cuda(i), names.get(i)
              + (f.hostDevice(i) ? " (computes on the host CPU: auto passes over it)" : ""));
        }
      } catch (RuntimeException | LinkageError e) {
        LOG.info("metagrad: " + kind + " devices not listed: " + e.getMessage());
      }
    }
    return out;
  }

  /**
   * The GPU device kinds ({@code opencl}, {@code cuda}) with no device here, each with the reason: the backend
   * module is not on the class path, its factory's {@link BackendFactory#unavailableReason()}, or that it lists no
   * device. Kinds with at least one device are absent.
   */
  public static Map<String, String> unavailableDevices() {
    Map<String, String> out = new LinkedHashMap<>();
    for (String kind : List.of("opencl", "cuda")) {
      try {
        BackendFactory f = factory(kind);
        if (f == null) {
          out.put(kind, "backend module not on the class path (add metagrad-kernels-" + kind + ")");
        } else if (f.deviceNames().isEmpty()) {
          String why = f.unavailableReason();
          out.put(kind, why != null ? why : "no device found");
        }
      } catch (RuntimeException | LinkageError e) {
        out.put(kind, e.getMessage());
      }
    }
    return out;
  }

  /** Parses {@code cpu}, {@code opencl:N}, {@code cuda:N}. */
  public static Device parseDevice(String s) {
    String t = s.trim().toLowerCase(java.util.Locale.ROOT);
    if (t.equals("cpu")) {
      return Device.cpu();
    }
    int colon = t.indexOf(':');
    String kind = colon < 0 ? t : t.substring(0, colon);
    int idx;
    try {
      idx = colon < 0 ? 0 : Integer.parseInt(t.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("device: cannot parse '" + s + "' (expected cpu, opencl:N or cuda:N)");
    }
    return switch (kind) {
      case "opencl" -> Device.openCl(idx);
      case "cuda" -> Device.cuda(idx);
      default -> throw new IllegalArgumentException("device: unknown kind in '" + s
          + "' (expected cpu, opencl:N or cuda:N)");
    };
  }

  private static Device selectDefaultDevice(String spec) {
    return spec.equalsIgnoreCase("auto") ? autoDevice() : parseDevice(spec);
  }

  /**
   * The device {@code auto} stands for here: {@code cuda:0} if it opens, else the first OpenCL device that opens
   * and does not compute on the host CPU ({@link BackendFactory#hostDevice}: on PoCL the CPU backend is faster),
   * else {@code cpu}. Opens the device it returns (and keeps it open, as {@link #forDevice} does); logs one line
   * for each device it passes over, saying why.
   *
   * @return the chosen device; never null
   */
  public static Device autoDevice() {
    if (tryOpen(Device.cuda(0))) {
      return Device.cuda(0);
    }
    BackendFactory cl = null;
    List<String> names = List.of();
    try {
      cl = factory("opencl");
      names = cl == null ? List.of() : cl.deviceNames();
    } catch (RuntimeException | LinkageError e) {
      LOG.info("metagrad: no OpenCL device (" + e.getMessage() + "); trying the next device");
    }
    for (int i = 0; i < names.size(); i++) {
      Device d = Device.openCl(i);
      boolean host;
      try {
        host = cl.hostDevice(i);
      } catch (RuntimeException | LinkageError e) {
        host = false;
      }
      if (host) {
        LOG.info("metagrad: auto passes over " + d + " (" + names.get(i) + "): it computes on the host CPU, where"
            + " the cpu backend is faster; name it (--device " + d + ") to use it");
      } else if (tryOpen(d)) {
        return d;
      }
    }
    return Device.cpu();
  }

  private static boolean tryOpen(Device d) {
    try {
      forDevice(d);
      return true;
    } catch (RuntimeException | LinkageError e) {
      LOG.info("metagrad: " + d + " unavailable (" + e.getMessage() + "); trying the next device");
      return false;
    }
  }

  private static Backend selectCpu(Metagrad.Settings settings) {
    List<String> order = new ArrayList<>();
    String forced = settings.cpuBackend();
    if (forced != null) {
      if (settings.required()) {
        try {
          return openCpu(forced);
        } catch (RuntimeException | LinkageError e) {
          throw new BackendException("metagrad: the required CPU backend " + forced + " did not load: "
              + e.getMessage(), e);
        }
      }
      order.add(forced);
    }
    for (String n : List.of("cpu-vector", "cpu-scalar", "reference")) {
      if (!order.contains(n)) {
        order.add(n);
      }
    }
    for (String n : order) {
      try {
        return openCpu(n);
      } catch (RuntimeException | LinkageError e) {
        LOG.info("metagrad: CPU backend " + n + " unavailable: " + e.getMessage()
            + (n.equals("cpu-vector") ? " (pass --add-modules jdk.incubator.vector and put metagrad-kernels-cpu"
                + " on the class path for the vectorized kernels)" : "") + "; falling back");
      }
    }
    return ReferenceBackend.INSTANCE;
  }

  private static BackendFactory factory(String name) {
    String cls = FACTORIES.get(name);
    if (cls == null) {
      return null;
    }
    try {
      return (BackendFactory) Class.forName(cls).getDeclaredConstructor().newInstance();
    } catch (ClassNotFoundException e) {
      return null;
    } catch (ReflectiveOperationException | LinkageError e) {
      throw new BackendException(name + ": factory " + cls + " failed to load: " + e, e);
    }
  }
}
