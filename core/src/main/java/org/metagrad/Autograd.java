package org.metagrad;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reverse-mode differentiation, the counterpart of PyTorch's {@code torch.autograd.grad}. With
 * {@link GradOptions#createGraph()} the backward pass is recorded, so gradients can be differentiated
 * again to any order. The graph walk is iterative (no recursion), pruned to the paths that reach the
 * inputs, and fan-out gradients are summed.
 *
 * <pre>{@code
 * Tensor x = Tensor.scalar(3).requiresGrad(true);
 * Tensor y = x.pow(3);
 * Tensor dy = Autograd.grad(y, List.of(x), GradOptions.createGraph(true)).get(0);  // 27
 * Tensor d2y = Autograd.grad(dy, List.of(x)).get(0);                               // 18
 * }</pre>
 */
public final class Autograd {
  private static final ThreadLocal<int[]> NO_GRAD = ThreadLocal.withInitial(() -> new int[1]);

  private Autograd() {}

  /** Whether ops on this thread record the graph. */
  public static boolean isEnabled() {
    return NO_GRAD.get()[0] == 0;
  }

  /** How many {@link #noGrad} scopes are open on this thread ({@link TaskParallel} restores it per task). */
  static int noGradDepth() {
    return NO_GRAD.get()[0];
  }

  /** Sets this thread's open {@link #noGrad} count back to {@code depth} (a task left scopes open). */
  static void restoreNoGradDepth(int depth) {
    NO_GRAD.get()[0] = depth;
  }

  /** A scope in which nothing is recorded: {@code try (var s = Autograd.noGrad()) { ... }}. */
  public static NoGrad noGrad() {
    NO_GRAD.get()[0]++;
    return new NoGrad();
  }

  /** Closing the scope restores recording. */
  public static final class NoGrad implements AutoCloseable {
    private boolean closed;

    private NoGrad() {}

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        NO_GRAD.get()[0]--;
      }
    }
  }

  /** Gradient of a scalar output with respect to inputs, default options. */
  public static List<Tensor> grad(Tensor output, List<Tensor> inputs) {
    return grad(List.of(output), inputs, GradOptions.defaults());
  }

  /** Gradient of a scalar output with respect to inputs. */
  public static List<Tensor> grad(Tensor output, List<Tensor> inputs, GradOptions options) {
    return grad(List.of(output), inputs, options);
  }

  /**
   * Gradients of {@code sum_i <outputGrads_i, outputs_i>} with respect to each input (same shapes as the
   * inputs). Scalar outputs may omit output gradients (they default to 1).
   *
   * @throws IllegalArgumentException for a non-scalar output without an output gradient, a mismatched
   *     output gradient, or an input not on the graph (unless {@code allowUnused}, which gives zeros)
   */
  public static List<Tensor> grad(List<Tensor> outputs, List<Tensor> inputs, GradOptions options) {
    if (outputs.isEmpty()) {
      throw new IllegalArgumentException("grad: no outputs given");
    }
    List<Tensor> og = options.outputGrads();
    if (og != null && og.size() != outputs.size()) {
      throw new IllegalArgumentException("grad: " + outputs.size() + " outputs but " + og.size()
          + " output gradients");
    }
    // Keyed by vertex (see key): a recorded tensor and the graph references its consumers hold are one vertex.
    Map<Object, Tensor> grads = new IdentityHashMap<>();
    for (int i = 0; i < outputs.size(); i++) {
      Tensor out = outputs.get(i);
      Tensor g;
      if (og != null && og.get(i) != null) {
        g = og.get(i);
        if (!Arrays.equals(g.shapeRef(), out.shapeRef())) {
          throw new IllegalArgumentException("grad: output gradient " + i + " has shape " + Shapes.str(g.shapeRef())
              + " but output has shape " + Shapes.str(out.shapeRef()));
        }
        if (g.dtype() != out.dtype()) {
          throw new IllegalArgumentException("grad: output gradient " + i + " is " + g.dtype() + " but output is "
              + out.dtype() + "; cast it with .to(DType." + out.dtype() + ")");
        }
      } else {
        if (out.numel() != 1) {
          throw new IllegalArgumentException("grad: output " + i + " of shape " + Shapes.str(out.shapeRef())
              + " is not a scalar; pass output gradients (GradOptions.outputGrads)");
        }
        g = out.fullLike(1.0, out.shapeRef());
      }
      accumulate(grads, out, g);
    }
    for (int i = 0; i < inputs.size(); i++) {
      if (inputs.get(i) == null) {
        throw new IllegalArgumentException("grad: input " + i + " is null");
      }
    }

    // Nodes (by output tensor) that lie on a path from an output to an input.
    Map<Object, Boolean> relevant = new IdentityHashMap<>();
    Map<Object, Boolean> isInput = new IdentityHashMap<>();
    for (Tensor t : inputs) {
      isInput.put(key(t), Boolean.TRUE);
    }
    List<Tensor> order = topoOrder(outputs, isInput, relevant);

    try (NoGrad ignored = options.createGraph() ? null : noGrad()) {
      // order is post-order (inputs before users); walk it backwards.
      for (int i = order.size() - 1; i >= 0; i--) {
        Tensor t = order.get(i);
        Tensor g = grads.get(key(t));
        if (g == null || t.node == null) {
          continue;
        }
        Node n = t.node;
        List<Tensor> gin = Derivatives.backward(n, g);
        for (int k = 0; k < n.inputs.length; k++) {
          Tensor in = n.inputs[k];
          Tensor gk = gin.get(k);
          if (gk != null && in.requiresGrad() && Boolean.TRUE.equals(relevant.get(key(in)))) {
            accumulate(grads, in, gk);
          }
        }
        if (!isInput.containsKey(key(t))) {
          grads.remove(key(t)); // free memory of intermediate gradients as soon as they are consumed
        }
      }
    }

    List<Tensor> result = new ArrayList<>(inputs.size());
    for (int i = 0; i < inputs.size(); i++) {
      Tensor in = inputs.get(i);
      Tensor g = grads.get(key(in));
      if (g == null) {
        if (!options.allowUnused()) {
          throw new IllegalArgumentException("grad: input " + i + " of shape " + Shapes.str(in.shapeRef())
              + " is not on the graph of the outputs (it does not require grad, or no output depends on it);"
              + " pass GradOptions.allowUnused(true) to get zeros");
        }
        g = in.fullLike(0.0, in.shapeRef());
      }
      result.add(g);
    }
    return result;
  }

  private static void accumulate(Map<Object, Tensor> grads, Tensor t, Tensor g) {
    Object k = key(t);
    Tensor prev = grads.get(k);
    grads.put(k, prev == null ? g : prev.add(g));
  }

  /**
   * The graph vertex a tensor stands for: its node when recorded (the tensor itself and the
   * {@link Tensor#graphRef() graph references} its consumers hold share it), the tensor itself for a leaf.
   */
  private static Object key(Tensor t) {
    return t.node != null ? t.node : t;
  }

  /**
   * Iterative post-order DFS from the outputs; marks in {@code relevant} every tensor from which an
   * input is reachable going towards the leaves (including the inputs themselves).
   */
  private static List<Tensor> topoOrder(List<Tensor> outputs, Map<Object, Boolean> isInput,
                                        Map<Object, Boolean> relevant) {
    List<Tensor> order = new ArrayList<>();
    Map<Object, Boolean> visited = new IdentityHashMap<>();
    ArrayDeque<Object[]> stack = new ArrayDeque<>();
    for (Tensor o : outputs) {
      if (visited.containsKey(key(o))) {
        continue;
      }
      visited.put(key(o), Boolean.TRUE);
      stack.push(new Object[] {o, 0});
      while (!stack.isEmpty()) {
        Object[] top = stack.peek();
        Tensor t = (Tensor) top[0];
        int next = (Integer) top[1];
        Tensor[] ins = t.node == null ? new Tensor[0] : t.node.inputs;
        if (next < ins.length) {
          top[1] = next + 1;
          Tensor c = ins[next];
          if (c.requiresGrad() && !visited.containsKey(key(c))) {
            visited.put(key(c), Boolean.TRUE);
            stack.push(new Object[] {c, 0});
          }
        } else {
          stack.pop();
          boolean rel = isInput.containsKey(key(t));
          for (Tensor c : ins) {
            if (Boolean.TRUE.equals(relevant.get(key(c)))) {
              rel = true;
              break;
            }
          }
          if (rel) {
            relevant.put(key(t), Boolean.TRUE);
          }
          order.add(t);
        }
      }
    }
    return order;
  }
}
