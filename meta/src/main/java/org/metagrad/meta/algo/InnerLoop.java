package org.metagrad.meta.algo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.metagrad.Autograd;
import org.metagrad.GradOptions;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Params;

/** The gradient-descent inner loop shared by MAML, Meta-SGD, ANIL, Proto-MAML and Reptile. */
final class InnerLoop {
  private InnerLoop() {}

  /** Outputs of a (possibly composite) network for inputs x with parameters p. */
  @FunctionalInterface
  interface Forward {
    Tensor apply(Params p, Tensor x, Mode mode);
  }

  /** Step size per parameter: the tensor to multiply the gradient of {@code name} with. */
  @FunctionalInterface
  interface StepSize {
    Tensor scale(String name, Tensor grad);
  }

  /** How the loop records its graph. */
  enum Graph {
    /** Meta-training, second order: inner gradients recorded. */
    SECOND,
    /** Meta-training, first order: inner gradients detached, identity path to the initial weights kept. */
    FIRST,
    /** Test time or Reptile: detached leaves throughout, no graph back to the initial weights. */
    NONE
  }

  static Graph graph(Order order) {
    return order == Order.SECOND ? Graph.SECOND : Graph.FIRST;
  }

  /**
   * Runs {@code steps} steps of {@code p <- p - step(name, dL_support/dp)} on the parameters named in
   * {@code adapted}; the other entries of {@code params} are used as they are. Step s runs the forward pass
   * with {@code mode.withStep(s)} (per-step BatchNorm of MAML++).
   */
  static Params run(String who, Forward f, Params params, List<String> adapted, StepSize lr, int steps,
                    Graph graph, FewShotTask task, Mode mode) {
    if (adapted.isEmpty()) {
      throw new IllegalArgumentException(who + ": no parameters to adapt in the inner loop");
    }
    Params fast = params;
    if (graph == Graph.NONE) {
      // Fresh leaves: nothing recorded reaches the caller's tensors, and each step starts a new graph.
      fast = params.detach().map(t -> t.requiresGrad(true));
    } else {
      for (String n : adapted) {
        if (!params.get(n).requiresGrad()) {
          throw new IllegalArgumentException(who + ": parameter '" + n + "' does not require grad; pass "
              + "params.requiresGrad(true) to get meta-gradients");
        }
      }
    }
    for (int s = 0; s < steps; s++) {
      Tensor loss = task.supportLoss(f.apply(fast, task.supportX(), mode.withStep(s)));
      List<Tensor> inputs = new ArrayList<>(adapted.size());
      for (String n : adapted) {
        inputs.add(fast.get(n));
      }
      List<Tensor> g = Autograd.grad(loss, inputs,
          GradOptions.createGraph(graph == Graph.SECOND).allowUnused(true));
      Map<String, Tensor> upd = new LinkedHashMap<>();
      for (int i = 0; i < adapted.size(); i++) {
        String n = adapted.get(i);
        Tensor gi = graph == Graph.SECOND ? g.get(i) : g.get(i).detach();
        Tensor next = inputs.get(i).sub(lr.scale(n, gi));
        if (graph == Graph.NONE) {
          next = next.detach().requiresGrad(true);
        }
        upd.put(n, next);
      }
      fast = fast.merge(Params.of(upd));
    }
    return fast;
  }

  /** The inner-step index of the forward pass that follows {@code steps} inner steps (MAML++ convention). */
  static int lastStep(int steps) {
    return Math.max(steps - 1, 0);
  }

  static void checkSteps(String who, int steps, double lr) {
    if (steps < 0) {
      throw new IllegalArgumentException(who + ": inner steps must be >= 0, got " + steps);
    }
    if (!(lr >= 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException(who + ": inner learning rate must be finite and >= 0, got " + lr);
    }
  }
}
