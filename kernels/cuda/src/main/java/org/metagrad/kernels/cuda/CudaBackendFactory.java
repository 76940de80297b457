package org.metagrad.kernels.cuda;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.metagrad.Device;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BackendException;
import org.metagrad.spi.BackendFactory;

/**
 * Core's entry point to the CUDA backend, loaded by class name ({@code org.metagrad.kernels.cuda.CudaBackendFactory});
 * {@code Device.cuda(i)} opens the GPU of CUDA ordinal i. Each device is opened once per JVM (one context and one
 * stream shared by every caller) until its backend is closed.
 *
 * <p>Nothing fails at class loading: JCuda's native library (which links the NVIDIA driver, {@code libcuda.so.1}) is
 * first touched by {@link #deviceNames()}, {@link #open} or {@link #unavailableReason()}, inside a try that turns a
 * missing driver, a missing GPU or a failed {@code cuInit} into a reason: {@link #open} throws a
 * {@link BackendException} with it (so {@code auto} device selection moves on to the next backend),
 * {@link #deviceNames()} is empty, and {@link #unavailableReason()} returns it (what {@code metagrad devices} prints).
 *
 * <pre>{@code
 * BackendFactory f = new CudaBackendFactory();
 * f.deviceNames();                    // [NVIDIA H100 80GB HBM3 (sm_90, 81559 MiB, driver CUDA 13.0)]
 * Backend cu = f.open(Device.cuda(0));
 * }</pre>
 */
public final class CudaBackendFactory implements BackendFactory {
  private static final Map<Integer, CudaBackend> OPEN = new ConcurrentHashMap<>();
  private static volatile Probe probe;

  /**
   * What probing the driver found: device names, or why there are none.
   *
   * @param names the devices, in ordinal order (empty when unavailable)
   * @param reason why CUDA is unavailable here, or null
   */
  record Probe(List<String> names, String reason) {}

  /** Does no work: no native library is touched until a device is listed or opened. */
  public CudaBackendFactory() {}

  @Override
  public String name() {
    return "cuda";
  }

  @Override
  public Device.Kind kind() {
    return Device.Kind.CUDA;
  }

  /** The driver probe, run once per JVM (a driver does not appear while the JVM runs). */
  static Probe probe() {
    Probe p = probe;
    if (p == null) {
      synchronized (CudaBackendFactory.class) {
        if (probe == null) {
          probe = runProbe();
        }
        p = probe;
      }
    }
    return p;
  }

  private static Probe runProbe() {
    try {
      int r = JCudaDriver.cuInit(0);
      if (r != CUresult.CUDA_SUCCESS) {
        return new Probe(List.of(), "cuInit failed: " + CUresult.stringFor(r)
            + (r == CUresult.CUDA_ERROR_NO_DEVICE ? " (the NVIDIA driver is installed but sees no GPU)" : ""));
      }
      int[] count = new int[1];
      r = JCudaDriver.cuDeviceGetCount(count);
      if (r != CUresult.CUDA_SUCCESS) {
        return new Probe(List.of(), "cuDeviceGetCount failed: " + CUresult.stringFor(r));
      }
      if (count[0] == 0) {
        return new Probe(List.of(), "the NVIDIA driver is installed but reports no CUDA device");
      }
      int[] version = new int[1];
      JCudaDriver.cuDriverGetVersion(version);
      String driver = "driver CUDA " + version[0] / 1000 + "." + version[0] % 1000 / 10;
      List<String> names = new ArrayList<>();
      for (int i = 0; i < count[0]; i++) {
        CUdevice d = new CUdevice();
        JCudaDriver.cuDeviceGet(d, i);
        byte[] name = new byte[256];
        JCudaDriver.cuDeviceGetName(name, name.length, d);
        int len = 0;
        while (len < name.length && name[len] != 0) {
          len++;
        }
        int[] major = new int[1];
        int[] minor = new int[1];
        JCudaDriver.cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
        JCudaDriver.cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
        long[] mem = new long[1];
        JCudaDriver.cuDeviceTotalMem(mem, d);
        names.add(new String(name, 0, len, StandardCharsets.UTF_8) + " (sm_" + major[0] + minor[0] + ", "
            + (mem[0] >> 20) + " MiB, " + driver + ")");
      }
      return new Probe(List.copyOf(names), null);
    } catch (LinkageError | RuntimeException e) {
      // UnsatisfiedLinkError from JCuda's static initialiser when libcuda.so.1 (the driver) is absent, then
      // NoClassDefFoundError on later touches: either way the driver is not usable from this JVM.
      return new Probe(List.of(), "the NVIDIA driver library (libcuda.so.1 / nvcuda.dll) or JCuda's native library "
          + "did not load: " + firstLine(e));
    }
  }

  /**
   * The first line of a (JCuda: many-line) message, plus the loader's line that names the missing library
   * ({@code ...: libcuda.so.1: cannot open shared object file ...}) when there is one.
   */
  static String firstLine(Throwable e) {
    String m = e.getMessage() == null ? e.toString() : e.getClass().getSimpleName() + ": " + e.getMessage();
    String first = m.lines().findFirst().orElse(m);
    String why = m.lines().filter(l -> l.contains("cannot open shared object") || l.contains("not found"))
        .findFirst().map(String::strip).orElse(null);
    if (why == null) {
      return first;
    }
    int colon = why.indexOf(": lib");
    return first + " (" + (colon >= 0 ? why.substring(colon + 2) : why) + ")";
  }

  /**
   * Why CUDA cannot run here (no driver, no GPU, cuInit failed), or null when at least one device is present.
   * Opening a present device can still fail (its PTX does not load); {@link #open} then names that reason.
   *
   * @return the reason, or null
   */
  @Override
  public String unavailableReason() {
    return probe().reason();
  }

  /**
   * Opens (or returns the already open backend of) a CUDA device.
   *
   * @throws BackendException when there is no driver or GPU, the ordinal is past the last device, or the device's
   *     context, stream or PTX modules cannot be made (the message says which)
   */
  @Override
  public Backend open(Device device) {
    if (device.kind() != Device.Kind.CUDA) {
      throw new BackendException("cuda: cannot open " + device + ", not a CUDA device");
    }
    CudaBackend b = OPEN.get(device.index());
    if (b != null) {
      return b;
    }
    Probe p = probe();
    if (p.reason() != null) {
      throw new BackendException("cuda: " + device + " unavailable: " + p.reason());
    }
    return OPEN.computeIfAbsent(device.index(), i -> {
      if (i >= p.names().size()) {
        throw new BackendException("cuda: no device " + i + "; there " + (p.names().size() == 1 ? "is 1 device" :
            "are " + p.names().size() + " devices") + ": " + p.names());
      }
      try {
        return new CudaBackend(device, i, p.names().get(i));
      } catch (LinkageError e) {
        throw new BackendException("cuda: native library failure opening " + device + ": " + firstLine(e), e);
      } catch (BackendException e) {
        throw new BackendException("cuda: " + device + " unavailable: " + e.getMessage(), e);
      }
    });
  }

  /** Drops a closed backend, so that the next {@link #open} of its device makes a new one. */
  static void forget(int index, CudaBackend closed) {
    OPEN.remove(index, closed);
  }

  /** Every CUDA device as {@code name (sm_XY, memory, driver)}, in ordinal order; empty when unavailable. */
  @Override
  public List<String> deviceNames() {
    return probe().names();
  }
}
