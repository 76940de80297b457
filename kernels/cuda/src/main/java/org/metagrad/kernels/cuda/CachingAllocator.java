package org.metagrad.kernels.cuda;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.TreeMap;
import org.metagrad.spi.BackendException;

/**
 * A caching device-memory allocator: a freed block goes back to a pool of its size class and the next
 * request of that class takes it from there, so a training loop that allocates the same shapes step after step
 * stops calling the driver after its first step (cuMemAlloc and cuMemFree are slow, and cuMemFree synchronizes).
 *
 * <p>The bookkeeping is pure Java over an opaque handle type {@code H}; the device side is a {@link Memory}
 * (the CUDA backend passes one over {@code cuMemAlloc}/{@code cuMemFree}; tests pass a simulated one).
 * Reuse is safe with one stream: a block given back while kernels that use it are still queued can only be
 * handed to work queued after them on the same stream.
 *
 * <p>Size classes: requests round up to a multiple of {@value #SMALL_QUANTUM} bytes up to
 * {@value #SMALL_LIMIT} bytes; above, to a multiple of a quarter of the largest power of two not above the
 * request (at most 25% slack, and few distinct classes for large tensors).
 *
 * <p>When the device refuses an allocation, the allocator waits for the device, frees every cached block and
 * tries once more; a second refusal is a {@link BackendException} naming the bytes asked for, the bytes in use
 * and the bytes that were cached. Thread-safe.
 *
 * @param <H> the device memory handle
 */
public final class CachingAllocator<H> {
  /** Granularity of small size classes, in bytes. */
  public static final long SMALL_QUANTUM = 512;
  /** Largest request rounded to {@link #SMALL_QUANTUM}. */
  public static final long SMALL_LIMIT = 1 << 20;

  /** The device side of the allocator. */
  public interface Memory<H> {
    /** Allocates {@code bytes} bytes; returns null when the device is out of memory (other errors throw). */
    H allocate(long bytes);

    /** Frees a block that {@link #allocate} returned. */
    void free(H handle);

    /** Waits until every queued use of device memory has finished (before cached blocks are freed). */
    void synchronize();
  }

  /**
   * A block handed out: its handle, the bytes asked for and the size class it belongs to.
   *
   * @param <H> the device memory handle
   * @param handle the device memory
   * @param requested the bytes the caller asked for
   * @param classBytes the bytes actually held (the size class)
   */
  public record Block<H>(H handle, long requested, long classBytes) {}

  private final Memory<H> memory;
  private final String label;
  private final TreeMap<Long, ArrayDeque<H>> pools = new TreeMap<>();
  private final Set<H> live = Collections.newSetFromMap(new IdentityHashMap<>());
  private long inUseBytes;
  private long cachedBytes;
  private long deviceAllocations;
  private long reuses;
  private boolean closed;

  /**
   * An allocator over {@code memory}; {@code label} names the device in exception messages.
   *
   * @param memory the device side
   * @param label the device, e.g. {@code cuda:0 (NVIDIA H100)}
   */
  public CachingAllocator(Memory<H> memory, String label) {
    this.memory = memory;
    this.label = label;
  }

  /**
   * The size class of a request of {@code bytes} bytes (at least {@link #SMALL_QUANTUM}).
   *
   * @param bytes the bytes asked for, positive
   * @return the bytes a block of that class holds
   */
  public static long sizeClass(long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("sizeClass: bytes must be positive, got " + bytes);
    }
    if (bytes <= SMALL_LIMIT) {
      return (bytes + SMALL_QUANTUM - 1) / SMALL_QUANTUM * SMALL_QUANTUM;
    }
    long step = Long.highestOneBit(bytes) / 4;
    return (bytes + step - 1) / step * step;
  }

  /**
   * A block of at least {@code bytes} bytes: a cached one of the same size class, or a new one from the device.
   *
   * @param bytes the bytes needed, positive
   * @return the block; give it back with {@link #release}
   * @throws BackendException when the device cannot hold it even after the cache is emptied
   */
  public synchronized Block<H> acquire(long bytes) {
    if (closed) {
      throw new BackendException("cuda: allocation of " + bytes + " bytes on " + label + " after close");
    }
    long cls = sizeClass(bytes);
    ArrayDeque<H> pool = pools.get(cls);
    if (pool != null && !pool.isEmpty()) {
      H h = pool.pop();
      cachedBytes -= cls;
      inUseBytes += cls;
      reuses++;
      live.add(h);
      return new Block<>(h, bytes, cls);
    }
    H h = memory.allocate(cls);
    long cachedBefore = cachedBytes;
    if (h == null && cachedBytes > 0) {
      memory.synchronize();
      freeCached();
      h = memory.allocate(cls);
    }
    if (h == null) {
      throw new BackendException("cuda: out of device memory on " + label + ": asked for " + bytes + " bytes (size class "
          + cls + "), " + inUseBytes + " bytes in use by live buffers" + (cachedBefore > 0 ? ", " + cachedBefore
          + " cached bytes freed before retrying" : "") + "; release tensors (TensorScope) or use smaller batches");
    }
    deviceAllocations++;
    inUseBytes += cls;
    live.add(h);
    return new Block<>(h, bytes, cls);
  }

  /**
   * Gives a block back to its size class's pool. A block released twice, or after {@link #close} (which freed
   * it), is ignored.
   *
   * @param block a block {@link #acquire} returned
   */
  public synchronized void release(Block<H> block) {
    if (!live.remove(block.handle())) {
      return;
    }
    inUseBytes -= block.classBytes();
    pools.computeIfAbsent(block.classBytes(), k -> new ArrayDeque<>()).push(block.handle());
    cachedBytes += block.classBytes();
  }

  /** Frees every cached (unused) block on the device; the caller has synchronized the device. */
  public synchronized void trim() {
    freeCached();
  }

  private void freeCached() {
    List<H> all = new ArrayList<>();
    for (Map.Entry<Long, ArrayDeque<H>> e : pools.entrySet()) {
      all.addAll(e.getValue());
    }
    pools.clear();
    cachedBytes = 0;
    for (H h : all) {
      memory.free(h);
    }
  }

  /**
   * Frees every block, cached or still in use (the owner is closing its device; the caller has synchronized it).
   * Releasing a block afterwards does nothing. Closing twice does nothing.
   */
  public synchronized void close() {
    if (!closed) {
      closed = true;
      freeCached();
      List<H> inUse = new ArrayList<>(live);
      live.clear();
      inUseBytes = 0;
      for (H h : inUse) {
        memory.free(h);
      }
    }
  }

  /** Number of blocks handed out and not yet released. */
  public synchronized int liveBlocks() {
    return live.size();
  }

  /** Bytes held by blocks handed out and not yet released (size classes, not requests). */
  public synchronized long inUseBytes() {
    return inUseBytes;
  }

  /** Bytes held in the pools, ready for reuse. */
  public synchronized long cachedBytes() {
    return cachedBytes;
  }

  /** How many blocks came from the device. */
  public synchronized long deviceAllocations() {
    return deviceAllocations;
  }

  /** How many requests a cached block served. */
  public synchronized long reuses() {
    return reuses;
  }
}
