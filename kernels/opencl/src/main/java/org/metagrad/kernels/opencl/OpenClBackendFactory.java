package org.metagrad.kernels.opencl;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.metagrad.Device;
import org.metagrad.spi.Backend;
import org.metagrad.spi.BackendException;
import org.metagrad.spi.BackendFactory;

/**
 * Core's entry point to the OpenCL backend, loaded by class name
 * ({@code org.metagrad.kernels.opencl.OpenClBackendFactory}). Devices are numbered over all
 * platforms, platform by platform; {@code Device.openCl(i)} opens the i-th.
 *
 * <p>Each device is opened once per JVM (one context and one queue per device, shared by every
 * caller), so opening the same device twice returns the same backend.
 *
 * <pre>{@code
 * BackendFactory f = new OpenClBackendFactory();
 * f.deviceNames();                    // [Portable Computing Language / pthread-haswell-...]
 * Backend cl = f.open(Device.openCl(0));
 * }</pre>
 */
public final class OpenClBackendFactory implements BackendFactory {
  private static final Map<Integer, OpenClBackend> OPEN = new ConcurrentHashMap<>();

  /** Does no work: no native library is touched until a device is listed or opened. */
  public OpenClBackendFactory() {}

  @Override
  public String name() {
    return "opencl";
  }

  @Override
  public Device.Kind kind() {
    return Device.Kind.OPENCL;
  }

  /**
   * Opens (or returns the already open backend of) an OpenCL device.
   *
   * @throws BackendException when the native library is missing, no platform is installed, or the
   *     index is past the last device
   */
  @Override
  public Backend open(Device device) {
    if (device.kind() != Device.Kind.OPENCL) {
      throw new BackendException("opencl: cannot open " + device + ", not an OpenCL device");
    }
    OpenClBackend b = OPEN.get(device.index());
    if (b != null) {
      return b;
    }
    return OPEN.computeIfAbsent(device.index(), i -> {
      List<OpenClPlatforms.Entry> all = OpenClPlatforms.devices();
      if (all.isEmpty()) {
        throw new BackendException("opencl: no OpenCL platform found, cannot open " + device
            + " (install a driver or PoCL: apt-get install pocl-opencl-icd ocl-icd-libopencl1)");
      }
      if (i >= all.size()) {
        throw new BackendException("opencl: no device " + i + "; there " + (all.size() == 1 ? "is 1 device" :
            "are " + all.size() + " devices") + ": " + all.stream().map(OpenClPlatforms.Entry::label).toList());
      }
      OpenClPlatforms.Entry e = all.get(i);
      try {
        return new OpenClBackend(device, e.platform(), e.device(), e.label());
      } catch (LinkageError err) {
        throw new BackendException("opencl: native library failure opening " + device + ": " + err, err);
      }
    });
  }

  /** Drops a closed backend, so that the next {@link #open} of its device makes a new context. */
  static void forget(int index, OpenClBackend closed) {
    OPEN.remove(index, closed);
  }

  /** Every device of every platform as {@code platform / device}, in index order; empty if none. */
  @Override
  public List<String> deviceNames() {
    return OpenClPlatforms.devices().stream().map(OpenClPlatforms.Entry::label).toList();
  }

  /** True for a device of type {@code CL_DEVICE_TYPE_CPU} (PoCL's pthread device); false when there is none. */
  @Override
  public boolean hostDevice(int index) {
    try {
      List<OpenClPlatforms.Entry> all = OpenClPlatforms.devices();
      return index >= 0 && index < all.size() && all.get(index).cpuDevice();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }
}
