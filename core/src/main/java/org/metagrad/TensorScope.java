package org.metagrad;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.metagrad.spi.Buffer;

/**
 * Releases the device memory of every tensor created inside it when closed, except tensors passed to
 * {@link #keep}. Host (CPU) tensors are left to the garbage collector; device buffers also have a
 * Cleaner backstop in their backend, so a forgotten scope leaks only until the next GC.
 *
 * <pre>{@code
 * try (TensorScope s = TensorScope.open()) {
 *   Tensor loss = model(x.to(gpu));
 *   params = s.keep(updated);   // survives the scope
 * }                             // everything else on the device is freed here
 * }</pre>
 */
public final class TensorScope implements AutoCloseable {
  private static final ThreadLocal<ArrayDeque<TensorScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

  private final Set<Buffer> owned = Collections.newSetFromMap(new IdentityHashMap<>());
  private boolean closed;

  private TensorScope() {}

  /** Opens a scope on this thread; close it with try-with-resources. */
  public static TensorScope open() {
    TensorScope s = new TensorScope();
    STACK.get().push(s);
    return s;
  }

  /** How many scopes are open on this thread. */
  static int depth() {
    return STACK.get().size();
  }

  /**
   * Drops the scopes a task opened on this thread and left open, down to {@code depth} open scopes. They are
   * not closed: their tensors may be in the task's result; their device buffers fall to the Cleaner backstop.
   */
  static void unwindTo(int depth) {
    ArrayDeque<TensorScope> st = STACK.get();
    while (st.size() > depth) {
      st.pop();
    }
  }

  static void track(Buffer b) {
    if (b.device().kind() == Device.Kind.CPU) {
      return;
    }
    ArrayDeque<TensorScope> st = STACK.get();
    if (!st.isEmpty()) {
      st.peek().owned.add(b);
    }
  }

  /** Keeps a tensor's memory alive past this scope (handing it to the enclosing scope, if any). */
  public Tensor keep(Tensor t) {
    Buffer b = t.buffer();
    if (owned.remove(b)) {
      ArrayDeque<TensorScope> st = STACK.get();
      for (TensorScope s : st) {
        if (s != this) {
          s.owned.add(b);
          break;
        }
      }
    }
    return t;
  }

  /** Keeps every tensor of a list. */
  public List<Tensor> keepAll(List<Tensor> ts) {
    for (Tensor t : ts) {
      keep(t);
    }
    return ts;
  }

  /** Number of device buffers this scope will release. */
  public int trackedBuffers() {
    return owned.size();
  }

  /** Releases all device buffers created in this scope and not kept. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    ArrayDeque<TensorScope> st = STACK.get();
    st.remove(this);
    List<Buffer> bs = new ArrayList<>(owned);
    owned.clear();
    for (Buffer b : bs) {
      b.release();
    }
  }
}
