package org.metagrad.spi;

import java.util.List;
import org.metagrad.Device;

/**
 * Entry point a backend module exposes to core's lookup. Core loads implementations by class name
 * (never by a compile-time dependency), so a user who leaves a backend module off the class path simply
 * does not get it. Implementations need a public no-argument constructor that does no heavy work.
 */
public interface BackendFactory {
  /** Short name, e.g. {@code cpu-vector} or {@code opencl}. */
  String name();

  /** The device kind this factory serves. */
  Device.Kind kind();

  /**
   * Opens the backend for a device of this factory's kind.
   *
   * @throws BackendException naming the reason when it cannot run here (no platform, module not readable)
   */
  Backend open(Device device);

  /** Human-readable names of the devices this factory can open, in index order (empty if none). */
  List<String> deviceNames();

  /**
   * Why this factory can open no device here (no driver, no GPU), or null when it can or does not say; what
   * {@code metagrad devices} prints for a kind with no device. Like {@link #deviceNames()}, it may touch native
   * libraries and must not throw for their absence.
   */
  default String unavailableReason() {
    return null;
  }

  /**
   * Whether device {@code index} of this factory runs on the host's own CPU (an OpenCL CPU driver such as PoCL).
   * The {@code auto} device selection passes over such devices: the CPU backend is faster on the same cores (a
   * short ProtoNet training: 272 s on PoCL against 45 s on the CPU backend, {@code meta/RESULTS.md}); naming the
   * device ({@code opencl:N}) still opens it. Like {@link #deviceNames()},
   * it must not throw for a missing native library (answer false).
   *
   * @param index the device index, as in {@link #deviceNames()}
   * @return true for a device that computes on the host CPU; false by default
   */
  default boolean hostDevice(int index) {
    return false;
  }
}
