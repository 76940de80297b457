package org.metagrad.bench.gpu;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.metagrad.Device;
import org.metagrad.Tensor;
import org.metagrad.spi.Backend;
import org.metagrad.spi.Backends;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.View;

/**
 * Shared setup of the device benchmarks ({@link DeviceGemmBench}, {@link DeviceWorkloadBench}): the backend
 * is chosen by its device string ({@code cpu}, {@code opencl:N}, {@code cuda:N}) through {@link Backends},
 * so this module compiles without the CUDA module; {@code metagrad-kernels-cuda} and JCuda only need to be
 * on the class path when a {@code cuda:N} device is asked for ({@code bench/gpu/run.sh} puts them there).
 */
public final class DeviceSupport {
  private DeviceSupport() {}

  /** The system property the CUDA backend reads at open time to force its GEMM path. */
  public static final String CUDA_GEMM_PROPERTY = "metagrad.cuda.gemm";

  /**
   * Parses {@code device} and, for a CUDA device with {@code gemm} other than {@code default}, sets
   * {@link #CUDA_GEMM_PROPERTY} before the backend opens (each JMH fork is a fresh JVM, so the property holds
   * for the backend the fork opens).
   *
   * @param device {@code cpu}, {@code opencl:N} or {@code cuda:N}
   * @param gemm {@code default} (the backend's own choice), {@code cublas} or {@code own} (CUDA only)
   * @throws IllegalArgumentException for an unknown device or GEMM path, or a forced path on a non-CUDA device
   */
  public static Device device(String device, String gemm) {
    Device d = Backends.parseDevice(device);
    String g = gemm.trim().toLowerCase(Locale.ROOT);
    switch (g) {
      case "default" -> { }
      case "cublas", "own" -> {
        if (d.kind() != Device.Kind.CUDA) {
          throw new IllegalArgumentException("gemm: '" + gemm + "' forces a CUDA GEMM path, but the device is "
              + device + " (use gemm=default there)");
        }
        System.setProperty(CUDA_GEMM_PROPERTY, g);
      }
      default -> throw new IllegalArgumentException("gemm: expected default, cublas or own, got '" + gemm + "'");
    }
    return d;
  }

  /**
   * Opens the backend of {@code device} (see {@link #device}) and prints one line naming it, so that the
   * JMH log says which backend (and, through the backend's own log line, which GEMM path) was timed.
   */
  public static Backend open(String device, String gemm) {
    Device d = device(device, gemm);
    Backend be = Backends.forDevice(d);
    System.out.println("# device " + d + ": backend " + be.name()
        + (d.kind() == Device.Kind.CUDA ? ", " + CUDA_GEMM_PROPERTY + "=" + System.getProperty(CUDA_GEMM_PROPERTY, "(unset)") : ""));
    return be;
  }

  /**
   * Waits until {@code be} has finished the work that produced {@code b}: reads one element back. On a backend
   * with one in-order queue or stream (OpenCL, CUDA) the read waits for every command enqueued before it, so
   * a timed region that ends here includes the kernels; the copy of one element costs microseconds.
   */
  public static float sync(Backend be, Buffer b) {
    return be.downloadFloat(View.contiguous(b, 1))[0];
  }

  /** Copies each tensor to {@code device} as a new leaf; {@code grad} makes the copies require gradients. */
  public static List<Tensor> to(List<Tensor> ts, Device device, boolean grad) {
    List<Tensor> out = new ArrayList<>(ts.size());
    for (Tensor t : ts) {
      out.add(to(t, device, grad));
    }
    return out;
  }

  /** Copies one tensor to {@code device} as a new leaf ({@code grad}: requiring gradients). */
  public static Tensor to(Tensor t, Device device, boolean grad) {
    return t.detach().to(device).requiresGrad(grad);
  }

  /**
   * Throws unless {@code got} (computed on the device) matches {@code want} (computed on the CPU) within
   * {@code rtol} relative.
   *
   * @throws IllegalStateException naming the workload, the device and both values
   */
  public static void check(String what, Device device, double want, double got, double rtol) {
    if (!(Math.abs(got - want) <= rtol * Math.abs(want))) {
      throw new IllegalStateException(what + ": " + device + " gives " + got + " but the CPU backend gives " + want
          + " (relative tolerance " + rtol + ")");
    }
  }
}
