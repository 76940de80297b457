package org.metagrad.kernels.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Device;
import org.metagrad.spi.BinaryOp;
import org.metagrad.spi.Buffer;
import org.metagrad.spi.ConvGeometry;
import org.metagrad.spi.ReduceOp;
import org.metagrad.spi.UnaryOp;
import org.metagrad.spi.View;

/**
 * The launches {@link DeviceBackend} asks of its device, recorded by a backend that runs nothing: kernel names,
 * group counts and sizes, argument lists, and the failure paths (an output released when a launch fails, inputs
 * resolved before the output exists). The OpenCL suite runs the same code on a device; this pins what the CUDA
 * backend, which cannot run here, is asked to launch.
 */
class DeviceBackendLaunchTest {
  /** One recorded launch. */
  record Launch(String op, String kernel, long groups, int groupSize, Object[] args) {}

  static final class FakeBuffer extends DeviceBuffer<String> {
    static final Live LIVE = new Live();

    FakeBuffer(Recording backend, DType dtype, int size, String handle) {
      super(backend, dtype, size, handle, handle == null ? null : () -> backend.freed.add(handle), LIVE);
    }
  }

  /** Records every device call; {@code failLaunches} makes each launch and device copy throw. */
  static final class Recording extends DeviceBackend<FakeBuffer, String> {
    final List<Launch> launches = new ArrayList<>();
    final List<String> runs = new ArrayList<>();
    final List<String> copies = new ArrayList<>();
    /** Handles whose memory was given back (by release or by the cleaner). */
    final Set<String> freed = ConcurrentHashMap.newKeySet();
    int allocations;
    boolean failLaunches;
    int depth;

    Recording() {
      super(Device.cuda(7), "fake:7 (recorder)", "Fake");
    }

    @Override
    protected <T> T run(String op, Supplier<T> body) {
      ensureOpen(op);
      runs.add(op);
      depth++;
      try {
        return body.get();
      } finally {
        depth--;
      }
    }

    @Override
    protected FakeBuffer allocateDevice(String op, DType dtype, int n, long bytes) {
      assertThat(depth).as("allocation inside run").isPositive();
      allocations++;
      return new FakeBuffer(this, dtype, n, "buf" + allocations);
    }

    @Override
    protected FakeBuffer emptyBuffer(DType dtype) {
      return new FakeBuffer(this, dtype, 0, null);
    }

    @Override
    protected String kernel(String family, String name, DType real, DType src) {
      return family + "/" + name + "/" + real + "/" + src;
    }

    @Override
    protected void launch(String op, String kernel, long groups, int groupSize, Object... args) {
      assertThat(depth).as("launch inside run").isPositive();
      launches.add(new Launch(op, kernel, groups, groupSize, args));
      if (failLaunches) {
        throw new IllegalStateException(op + ": launch failed (test)");
      }
    }

    @Override
    protected void copyDevice(String op, FakeBuffer out, Object src, long srcByteOffset, int n) {
      copies.add(op + " " + src + "+" + srcByteOffset + " -> " + out.handle(op) + " x" + n);
      if (failLaunches) {
        throw new IllegalStateException(op + ": copy failed (test)");
      }
    }

    @Override
    public String name() {
      return "fake";
    }

    @Override
    public boolean supports(DType dtype) {
      return dtype == DType.FLOAT32;
    }

    @Override
    protected String unsupportedDetail() {
      return " (test)";
    }

    @Override
    public Buffer upload(double[] data, DType dtype) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Buffer upload(float[] data) {
      throw new UnsupportedOperationException();
    }

    @Override
    public double[] downloadDouble(View v) {
      throw new UnsupportedOperationException();
    }

    @Override
    public float[] downloadFloat(View v) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Buffer matmul(View a, View b) {
      return run("matmul", () -> {
        checkMatmul(a, b);
        return alloc("matmul", a.dtype(), a.shape()[0] * a.shape()[1] * b.shape()[2]);
      });
    }

    @Override
    public void close() {
      markClosed();
    }
  }

  private final Recording dev = new Recording();

  private FakeBuffer buf(int n) {
    return dev.allocate(DType.FLOAT32, n);
  }

  /** A view of {@code shape} whose strides run backwards (a full transpose): no two dimensions merge. */
  private static View reversed(Buffer b, int... shape) {
    int[] st = new int[shape.length];
    int s = 1;
    for (int d = 0; d < shape.length; d++) {
      st[d] = s;
      s *= shape[d];
    }
    return new View(b, 0, shape, st);
  }

  @Test
  void aDenseUnaryLaunchesTheContiguousKernelInGroupsOf256WithOffsetsCountAndScalar() {
    FakeBuffer x = buf(1001);
    Buffer out = dev.unary(UnaryOp.EXP, 0.5, new View(x, 1, new int[] {1000}, new int[] {1}));
    assertThat(dev.launches).hasSize(1);
    Launch l = dev.launches.get(0);
    assertThat(l.kernel()).isEqualTo("elementwise/mg_unary_exp_c/FLOAT32/FLOAT32");
    assertThat(l.groups()).isEqualTo(4);
    assertThat(l.groupSize()).isEqualTo(256);
    assertThat(l.args()).containsExactly("buf2", "buf1", 1, 1000, 0.5f);
    assertThat(out.size()).isEqualTo(1000);
    assertThat(dev.runs).containsExactly("allocate", "unary EXP");
  }

  @Test
  void aStridedBinaryPassesTheDescriptorAndSplitsRanksAboveMaxRankIntoChunks() {
    int[] shape = {2, 2, 2, 2, 2, 2, 2, 2, 2};
    FakeBuffer a = buf(512);
    FakeBuffer b = buf(512);
    dev.binary(BinaryOp.ADD, reversed(a, shape), View.contiguous(b, shape));
    assertThat(dev.launches).hasSize(2);
    for (Launch l : dev.launches) {
      assertThat(l.kernel()).isEqualTo("elementwise/mg_binary_add/FLOAT32/FLOAT32");
      assertThat(l.args()).hasSize(5);
      assertThat(l.args()[3]).isInstanceOf(int[].class);
      assertThat(((int[]) l.args()[3])).hasSize(Strided.PACKED_INTS);
      assertThat(l.args()[4]).isEqualTo(256);
      assertThat(l.groups()).isEqualTo(1);
      assertThat(l.groupSize()).isEqualTo(256);
    }
  }

  @Test
  void reductionsChooseOneItemPerOutputOrAGroupOf64PerOutput() {
    FakeBuffer x = buf(4 * 1000);
    dev.reduce(ReduceOp.SUM, View.contiguous(x, 4, 1000), new int[] {4, 1});
    Launch group = dev.launches.get(0);
    assertThat(group.kernel()).isEqualTo("reduce/mg_reduce_sum_group/FLOAT32/FLOAT32");
    assertThat(group.groups()).isEqualTo(4);
    assertThat(group.groupSize()).isEqualTo(64);
    assertThat(group.args()).hasSize(6);
    assertThat(group.args()[4]).isEqualTo(4);
    assertThat(group.args()[5]).isEqualTo(1000);

    FakeBuffer y = buf(5000 * 10);
    dev.reduce(ReduceOp.MAX, View.contiguous(y, 5000, 10), new int[] {5000, 1});
    Launch serial = dev.launches.get(1);
    assertThat(serial.kernel()).isEqualTo("reduce/mg_reduce_max_serial/FLOAT32/FLOAT32");
    assertThat(serial.groups()).isEqualTo(20);
    assertThat(serial.groupSize()).isEqualTo(256);
  }

  @Test
  void aReductionWithTooManyUnmergeableDimensionsGathersFirstAndReleasesTheGatheredCopy() {
    int rank = 18;
    int[] shape = new int[rank];
    int[] outShape = new int[rank];
    for (int d = 0; d < rank; d++) {
      shape[d] = 2;
      outShape[d] = d % 2 == 0 ? 2 : 1;
    }
    FakeBuffer x = buf(1 << rank);
    Buffer out = dev.reduce(ReduceOp.SUM, View.contiguous(x, shape), outShape);
    Launch last = dev.launches.get(dev.launches.size() - 1);
    assertThat(last.kernel()).isEqualTo("reduce/mg_reduce_sum_group/FLOAT32/FLOAT32");
    assertThat(last.groups()).isEqualTo(512);
    assertThat(dev.launches.subList(0, dev.launches.size() - 1))
        .allSatisfy(l -> assertThat(l.kernel()).isEqualTo("copy/mg_copy/FLOAT32/FLOAT32"));
    assertThat(dev.runs).contains("reduce SUM", "copy");
    // buf2 is the output (allocated before the gather), buf3 the gathered copy.
    assertThat(dev.allocations).isEqualTo(3);
    assertThat(dev.freed).contains("buf3");
    assertThat(((FakeBuffer) out).isReleased()).isFalse();
    assertThat(x.isReleased()).isFalse();
  }

  @Test
  void aFailedLaunchReleasesTheOutputAndAReleasedInputFailsBeforeAnyAllocation() {
    FakeBuffer x = buf(10);
    dev.failLaunches = true;
    assertThatThrownBy(() -> dev.unary(UnaryOp.NEG, 0, View.contiguous(x, 10)))
        .hasMessageContaining("launch failed");
    assertThatThrownBy(() -> dev.copy(View.contiguous(x, 10), DType.FLOAT32)).hasMessageContaining("copy failed");
    assertThatThrownBy(() -> dev.pad(View.contiguous(x, 10), new int[] {1}, new int[] {1}))
        .hasMessageContaining("launch failed");
    assertThat(dev.allocations).isEqualTo(4);
    assertThat(dev.freed).contains("buf2", "buf3", "buf4");
    assertThat(x.isReleased()).isFalse();
    dev.failLaunches = false;

    FakeBuffer y = buf(10);
    y.release();
    int allocations = dev.allocations;
    assertThatThrownBy(() -> dev.binary(BinaryOp.MUL, View.contiguous(x, 10), View.contiguous(y, 10)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("already released");
    assertThatThrownBy(() -> dev.copy(View.contiguous(y, 10), DType.FLOAT32))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("already released");
    assertThat(dev.allocations).isEqualTo(allocations);
  }

  @Test
  void aContiguousSameTypeCopyIsADeviceCopyAtTheViewsByteOffset() {
    FakeBuffer x = buf(12);
    dev.copy(new View(x, 2, new int[] {10}, new int[] {1}), DType.FLOAT32);
    assertThat(dev.copies).containsExactly("copy buf1+8 -> buf2 x10");
    assertThat(dev.launches).isEmpty();
  }

  @Test
  void padFillsThenCopiesAtTheBaseAndWindowsPassTheGeometry() {
    FakeBuffer x = buf(6);
    dev.pad(View.contiguous(x, 2, 3), new int[] {1, 0}, new int[] {0, 2});
    assertThat(dev.launches).extracting(Launch::kernel)
        .containsExactly("copy/mg_fill/FLOAT32/FLOAT32", "copy/mg_copy/FLOAT32/FLOAT32");
    assertThat(dev.launches.get(0).args()).containsExactly("buf2", 15, 0.0f);
    Strided s = Strided.of(new int[] {2, 3}, new int[][] {{5, 1}, {3, 1}}, new int[] {5, 0});
    assertThat((int[]) dev.launches.get(1).args()[2]).containsExactly(s.pack());

    dev.launches.clear();
    ConvGeometry g = new ConvGeometry(1, 2, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1);
    FakeBuffer img = buf(50);
    Buffer cols = dev.unfold(View.contiguous(img, 1, 2, 5, 5), g);
    Launch w = dev.launches.get(0);
    assertThat(w.kernel()).isEqualTo("window/mg_unfold/FLOAT32/FLOAT32");
    assertThat(w.groups()).isEqualTo((cols.size() + 255) / 256);
    assertThat((int[]) w.args()[2]).hasSize(19);
    assertThat(w.args()[3]).isEqualTo(cols.size());
  }

  @Test
  void checksNameTheProblemAndTheDevice() {
    FakeBuffer x = buf(4);
    Recording other = new Recording();
    assertThatThrownBy(() -> other.unary(UnaryOp.EXP, 0, View.contiguous(x, 4)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unary EXP: buffer on cuda:7 given to the Fake backend of fake:7 (recorder); move it first");
    assertThatThrownBy(() -> dev.full(DType.FLOAT64, 3, 1))
        .hasMessage("full: dtype FLOAT64 is not supported on fake:7 (recorder) (test)");
    assertThatThrownBy(() -> dev.allocate(DType.FLOAT32, -1))
        .hasMessage("allocate: negative size -1 on fake:7 (recorder)");
    assertThatThrownBy(() -> dev.matmul(View.contiguous(x, 1, 2, 2), View.contiguous(x, 1, 3, 1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("matmul: cannot contract [1, 2, 2]");
    assertThat(dev.allocate(DType.FLOAT32, 0).size()).isZero();
    dev.close();
    assertThat(dev.isClosed()).isTrue();
    assertThatThrownBy(() -> dev.full(DType.FLOAT32, 3, 1)).hasMessageStartingWith("full: fake:7 (recorder) is closed");
  }
}
