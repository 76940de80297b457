package org.metagrad.bench.opencl;

import java.util.concurrent.TimeUnit;
import org.metagrad.Device;
import org.metagrad.kernels.opencl.OpenClBackend;
import org.metagrad.kernels.opencl.OpenClBackendFactory;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.View;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Host-device transfer cost, separately from kernel time: upload (allocate + write), download
 * (blocking read) and the round trip, of {@code elements} float32 values. MB/s is {@code 4 elements / time}
 * for one direction and {@code 8 elements / time} for the round trip.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class OpenClTransferBench {
  /** Number of float32 values moved. */
  @Param({"1000000"})
  public int elements;

  private OpenClBackend cl;
  private float[] host;
  private View onDevice;

  /** Opens the device, uploads one copy and checks it comes back unchanged. */
  @Setup(Level.Trial)
  public void setUp() {
    cl = (OpenClBackend) new OpenClBackendFactory().open(Device.openCl(0));
    host = new float[elements];
    for (int i = 0; i < elements; i++) {
      host[i] = i * 0.25f;
    }
    onDevice = View.contiguous(cl.upload(host), elements);
    if (!java.util.Arrays.equals(cl.downloadFloat(onDevice), host)) {
      throw new IllegalStateException("transfer: download differs from upload");
    }
  }

  /** Frees the device copy. */
  @TearDown(Level.Trial)
  public void tearDown() {
    onDevice.buffer().release();
  }

  /** Host to device: allocate and write the floats. */
  @Benchmark
  public void upload() {
    cl.upload(host).release();
  }

  /** Device to host: read the floats into a new array. */
  @Benchmark
  public float[] download() {
    return cl.downloadFloat(onDevice);
  }

  /** Host to device to host. */
  @Benchmark
  public float[] roundTrip() {
    Buffer b = cl.upload(host);
    float[] back = cl.downloadFloat(View.contiguous(b, elements));
    b.release();
    return back;
  }
}
