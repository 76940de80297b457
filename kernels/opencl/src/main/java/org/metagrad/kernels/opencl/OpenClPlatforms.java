package org.metagrad.kernels.opencl;

import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_NOT_FOUND;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_DEVICE_TYPE_ALL;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.CL_SUCCESS;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;
import org.metagrad.spi.BackendException;

/**
 * Enumerates OpenCL devices over all platforms in a stable order (platform order, then device order
 * within the platform), the order {@code Device.openCl(i)} indexes. Every JOCL entry point is
 * wrapped so that a missing native library or ICD loader surfaces as a {@link BackendException}
 * that says what to install, never as an {@link UnsatisfiedLinkError}.
 */
final class OpenClPlatforms {
  /** {@code CL_PLATFORM_NOT_FOUND_KHR}: the ICD loader found no platform. */
  private static final int PLATFORM_NOT_FOUND_KHR = -1001;

  /** One device with the platform it belongs to. */
  record Entry(cl_platform_id platform, cl_device_id device, String platformName, String deviceName,
      boolean cpuDevice) {
    /** {@code platform / device}, the form {@code deviceNames()} lists. */
    String label() {
      return platformName + " / " + deviceName;
    }
  }

  private OpenClPlatforms() {}

  /** Every device of every platform; empty when the loader finds no platform. */
  static List<Entry> devices() {
    try {
      int[] count = new int[1];
      int st = CL.clGetPlatformIDs(0, null, count);
      if (st == PLATFORM_NOT_FOUND_KHR || (st == CL_SUCCESS && count[0] == 0)) {
        return List.of();
      }
      check(st, "list platforms");
      cl_platform_id[] platforms = new cl_platform_id[count[0]];
      check(CL.clGetPlatformIDs(platforms.length, platforms, null), "list platforms");
      List<Entry> out = new ArrayList<>();
      for (cl_platform_id p : platforms) {
        String pname = platformString(p, CL_PLATFORM_NAME);
        int[] n = new int[1];
        st = CL.clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, n);
        if (st == CL_DEVICE_NOT_FOUND || n[0] == 0) {
          continue;
        }
        check(st, "list devices of " + pname);
        cl_device_id[] ds = new cl_device_id[n[0]];
        check(CL.clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, ds.length, ds, null), "list devices of " + pname);
        for (cl_device_id d : ds) {
          boolean cpu = (deviceLong(d, CL_DEVICE_TYPE) & CL_DEVICE_TYPE_CPU) != 0;
          out.add(new Entry(p, d, pname, deviceString(d, CL_DEVICE_NAME), cpu));
        }
      }
      return out;
    } catch (CLException e) {
      if (e.getStatus() == PLATFORM_NOT_FOUND_KHR) {
        return List.of();
      }
      throw new BackendException("opencl: cannot enumerate devices: " + e.getMessage(), e);
    } catch (LinkageError e) {
      throw new BackendException("opencl: the JOCL native library or the OpenCL ICD loader could not be loaded ("
          + e + "); install an OpenCL runtime, e.g. apt-get install ocl-icd-libopencl1 pocl-opencl-icd", e);
    }
  }

  /** A string device property (name, extensions). */
  static String deviceString(cl_device_id d, int param) {
    long[] size = new long[1];
    check(CL.clGetDeviceInfo(d, param, 0, null, size), "query device");
    byte[] bytes = new byte[(int) size[0]];
    check(CL.clGetDeviceInfo(d, param, bytes.length, Pointer.to(bytes), null), "query device");
    return trim(bytes);
  }

  /** A cl_ulong or size_t device property, widened to long. */
  static long deviceLong(cl_device_id d, int param) {
    long[] size = new long[1];
    check(CL.clGetDeviceInfo(d, param, 0, null, size), "query device");
    if (size[0] == Sizeof.cl_int) {
      int[] v = new int[1];
      check(CL.clGetDeviceInfo(d, param, Sizeof.cl_int, Pointer.to(v), null), "query device");
      return v[0] & 0xffffffffL;
    }
    long[] v = new long[1];
    check(CL.clGetDeviceInfo(d, param, Sizeof.cl_long, Pointer.to(v), null), "query device");
    return v[0];
  }

  private static String platformString(cl_platform_id p, int param) {
    long[] size = new long[1];
    check(CL.clGetPlatformInfo(p, param, 0, null, size), "query platform");
    byte[] bytes = new byte[(int) size[0]];
    check(CL.clGetPlatformInfo(p, param, bytes.length, Pointer.to(bytes), null), "query platform");
    return trim(bytes);
  }

  private static String trim(byte[] bytes) {
    int len = bytes.length;
    while (len > 0 && bytes[len - 1] == 0) {
      len--;
    }
    return new String(bytes, 0, len, StandardCharsets.UTF_8).strip();
  }

  private static void check(int status, String what) {
    if (status != CL_SUCCESS) {
      throw new BackendException("opencl: " + what + " failed: " + CL.stringFor_errorCode(status));
    }
  }
}
