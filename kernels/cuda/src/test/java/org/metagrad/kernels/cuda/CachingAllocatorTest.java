package org.metagrad.kernels.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.metagrad.spi.BackendException;

/**
 * The caching allocator's bookkeeping without a GPU: a simulated device memory with a capacity stands in for
 * cuMemAlloc/cuMemFree, and records every call, so reuse, the out-of-memory retry and close are observable.
 */
class CachingAllocatorTest {

  /** A device of {@code capacity} bytes; handles are fresh objects, never reused by the "driver". */
  static final class FakeMemory implements CachingAllocator.Memory<Object> {
    final long capacity;
    long used;
    int allocations;
    int frees;
    int synchronizations;
    final Set<Object> live = new HashSet<>();
    final java.util.Map<Object, Long> sizes = new java.util.IdentityHashMap<>();

    FakeMemory(long capacity) {
      this.capacity = capacity;
    }

    @Override
    public Object allocate(long bytes) {
      if (used + bytes > capacity) {
        return null;
      }
      Object h = new Object();
      used += bytes;
      allocations++;
      live.add(h);
      sizes.put(h, bytes);
      return h;
    }

    @Override
    public void free(Object handle) {
      assertThat(live.remove(handle)).as("freeing a live handle once").isTrue();
      used -= sizes.remove(handle);
      frees++;
    }

    @Override
    public void synchronize() {
      synchronizations++;
    }
  }

  @Test
  void sizeClassesRoundUpWithBoundedSlack() {
    assertThat(CachingAllocator.sizeClass(1)).isEqualTo(512);
    assertThat(CachingAllocator.sizeClass(512)).isEqualTo(512);
    assertThat(CachingAllocator.sizeClass(513)).isEqualTo(1024);
    assertThat(CachingAllocator.sizeClass(1 << 20)).isEqualTo(1 << 20);
    // Above 1 MiB: quarters of the power of two below, e.g. 1 MiB + 1 -> 1.25 MiB.
    assertThat(CachingAllocator.sizeClass((1 << 20) + 1)).isEqualTo((1 << 20) + (1 << 18));
    assertThat(CachingAllocator.sizeClass(3L << 30)).isEqualTo(3L << 30);
    long prev = 0;
    for (long b = 1; b < (1L << 34); b = b * 3 / 2 + 7) {
      long c = CachingAllocator.sizeClass(b);
      assertThat(c).as("class of %d", b).isGreaterThanOrEqualTo(b).isGreaterThanOrEqualTo(prev);
      assertThat(c).as("slack of %d", b).isLessThanOrEqualTo(Math.max(b + 511, b + b / 4));
      assertThat(CachingAllocator.sizeClass(c)).as("a class is its own class").isEqualTo(c);
      prev = c;
    }
    assertThatThrownBy(() -> CachingAllocator.sizeClass(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("positive");
  }

  @Test
  void releasedBlocksAreReusedBySizeClass() {
    FakeMemory mem = new FakeMemory(1 << 30);
    CachingAllocator<Object> a = new CachingAllocator<>(mem, "fake:0");
    CachingAllocator.Block<Object> b1 = a.acquire(1000);
    assertThat(b1.classBytes()).isEqualTo(1024);
    assertThat(a.inUseBytes()).isEqualTo(1024);
    a.release(b1);
    assertThat(a.inUseBytes()).isZero();
    assertThat(a.cachedBytes()).isEqualTo(1024);
    // Same class (1000 and 1001 bytes both round to 1024): the cached block comes back, no driver call.
    CachingAllocator.Block<Object> b2 = a.acquire(1001);
    assertThat(b2.handle()).isSameAs(b1.handle());
    assertThat(mem.allocations).isEqualTo(1);
    assertThat(a.reuses()).isEqualTo(1);
    // Another class does not take it.
    CachingAllocator.Block<Object> b3 = a.acquire(5000);
    assertThat(b3.handle()).isNotSameAs(b1.handle());
    assertThat(mem.allocations).isEqualTo(2);
    // A loop of the same shapes stops allocating after its first pass.
    for (int step = 0; step < 10; step++) {
      List<CachingAllocator.Block<Object>> held = new ArrayList<>();
      for (int n : new int[] {100, 4096, 70_000, 3 << 20}) {
        held.add(a.acquire(n));
      }
      held.forEach(a::release);
    }
    assertThat(mem.allocations).isEqualTo(2 + 4);
    assertThat(a.deviceAllocations()).isEqualTo(6);
    assertThat(a.liveBlocks()).isEqualTo(2);
  }

  @Test
  void releasingTwiceIsIgnored() {
    FakeMemory mem = new FakeMemory(1 << 20);
    CachingAllocator<Object> a = new CachingAllocator<>(mem, "fake:0");
    CachingAllocator.Block<Object> b = a.acquire(600);
    a.release(b);
    a.release(b);
    assertThat(a.cachedBytes()).isEqualTo(1024);
    assertThat(a.inUseBytes()).isZero();
    // Only one block sits in the pool: two acquisitions need a second device allocation.
    a.acquire(600);
    a.acquire(600);
    assertThat(mem.allocations).isEqualTo(2);
  }

  @Test
  void outOfMemoryEmptiesTheCacheAndRetriesOnce() {
    FakeMemory mem = new FakeMemory(4096);
    CachingAllocator<Object> a = new CachingAllocator<>(mem, "fake:0");
    CachingAllocator.Block<Object> small = a.acquire(1024);
    CachingAllocator.Block<Object> other = a.acquire(2048);
    a.release(small);
    a.release(other);
    assertThat(mem.used).isEqualTo(3072);
    // 3000 bytes (class 3072) do not fit beside the cached 3072: the allocator waits for the device, frees the
    // cache and succeeds on the second try.
    CachingAllocator.Block<Object> big = a.acquire(3000);
    assertThat(big.classBytes()).isEqualTo(3072);
    assertThat(mem.synchronizations).isEqualTo(1);
    assertThat(mem.frees).isEqualTo(2);
    assertThat(a.cachedBytes()).isZero();
    assertThat(a.inUseBytes()).isEqualTo(3072);
  }

  @Test
  void trueOutOfMemoryNamesTheBytesAskedAndInUse() {
    FakeMemory mem = new FakeMemory(8192);
    CachingAllocator<Object> a = new CachingAllocator<>(mem, "fake:0 (test)");
    a.acquire(6000);
    assertThatThrownBy(() -> a.acquire(4000)).isInstanceOf(BackendException.class)
        .hasMessageContaining("out of device memory on fake:0 (test)")
        .hasMessageContaining("asked for 4000 bytes")
        .hasMessageContaining("6144 bytes in use");
    // Nothing leaked and the allocator still works for what fits.
    assertThat(a.inUseBytes()).isEqualTo(6144);
    assertThat(a.acquire(2000).classBytes()).isEqualTo(2048);
  }

  @Test
  void closeFreesCachedAndLiveBlocksOnceAndLaterReleasesDoNothing() {
    FakeMemory mem = new FakeMemory(1 << 20);
    CachingAllocator<Object> a = new CachingAllocator<>(mem, "fake:0");
    CachingAllocator.Block<Object> kept = a.acquire(100);
    CachingAllocator.Block<Object> cached = a.acquire(5000);
    a.release(cached);
    a.close();
    assertThat(mem.live).isEmpty();
    assertThat(mem.frees).isEqualTo(mem.allocations);
    a.release(kept); // after close: ignored, not freed twice (FakeMemory.free would fail)
    a.close();
    assertThat(mem.frees).isEqualTo(2);
    assertThatThrownBy(() -> a.acquire(10)).isInstanceOf(BackendException.class).hasMessageContaining("after close");
  }

  @Test
  void trimFreesOnlyTheCache() {
    FakeMemory mem = new FakeMemory(1 << 20);
    CachingAllocator<Object> a = new CachingAllocator<>(mem, "fake:0");
    CachingAllocator.Block<Object> kept = a.acquire(100);
    a.release(a.acquire(5000));
    a.trim();
    assertThat(mem.live).containsExactly(kept.handle());
    assertThat(a.cachedBytes()).isZero();
    assertThat(a.inUseBytes()).isEqualTo(512);
  }
}
