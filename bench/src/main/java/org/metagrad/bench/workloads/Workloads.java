package org.metagrad.bench.workloads;

import java.util.ArrayList;
import java.util.List;
import org.metagrad.Autograd;
import org.metagrad.ConvSpec;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.GradOptions;
import org.metagrad.Rng;
import org.metagrad.TaskParallel;
import org.metagrad.Tensor;

/**
 * The end-to-end workloads of the benchmark suite, built from core ops only so that the same code runs
 * on every backend and mirrors {@code bench/python/torch_workloads.py} line for line:
 * (a) conv4 forward+backward, (b) a MAML meta-step, (c) a ProtoNet episode, (d) a chain of small adds.
 * Each returns a scalar summary (loss plus gradient norms) used to check backends against the reference.
 */
public final class Workloads {
  private Workloads() {}

  /** conv4 parameters: 4 x (conv 3x3 weight, bias, BN gamma, BN beta) then a linear head. */
  public static List<Tensor> conv4Params(Rng rng, int inChannels, int hidden, int classes) {
    List<Tensor> p = new ArrayList<>();
    int cin = inChannels;
    for (int i = 0; i < 4; i++) {
      double bound = 1 / Math.sqrt(cin * 9);
      p.add(Tensor.uniform(rng, -bound, bound, DType.FLOAT32, hidden, cin, 3, 3).requiresGrad(true));
      p.add(Tensor.uniform(rng, -bound, bound, DType.FLOAT32, hidden).requiresGrad(true));
      p.add(Tensor.ones(DType.FLOAT32, hidden).requiresGrad(true));
      p.add(Tensor.zeros(DType.FLOAT32, hidden).requiresGrad(true));
      cin = hidden;
    }
    if (classes > 0) {
      double bound = 1 / Math.sqrt(hidden);
      p.add(Tensor.uniform(rng, -bound, bound, DType.FLOAT32, classes, hidden).requiresGrad(true));
      p.add(Tensor.uniform(rng, -bound, bound, DType.FLOAT32, classes).requiresGrad(true));
    }
    return p;
  }

  /** conv4 features: 4 x [conv3x3 pad 1, batchNorm (batch statistics), ReLU, maxpool 2], flattened. */
  public static Tensor conv4Features(List<Tensor> p, Tensor x) {
    Tensor h = x;
    for (int i = 0; i < 4; i++) {
      h = F.conv2d(h, p.get(4 * i), p.get(4 * i + 1), ConvSpec.defaults().padding(1));
      h = F.batchNormReluMaxPool(h, p.get(4 * i + 2), p.get(4 * i + 3), F.BN_EPS, 2);
    }
    return h.flatten(1, -1);
  }

  /** conv4 logits (features then the linear head at params 16 and 17). */
  public static Tensor conv4Logits(List<Tensor> p, Tensor x) {
    return F.linear(conv4Features(p, x), p.get(16), p.get(17));
  }

  /** Random images and labels for a batch. */
  public static Tensor images(Rng rng, int n) {
    return Tensor.rand(rng, DType.FLOAT32, n, 1, 28, 28);
  }

  /** Labels 0..ways-1 repeated per shot (class-major order). */
  public static int[] labels(int ways, int perClass) {
    int[] y = new int[ways * perClass];
    for (int i = 0; i < y.length; i++) {
      y[i] = i / perClass;
    }
    return y;
  }

  /** (a) conv4 forward and backward over a batch; returns loss + sum of gradient squares. */
  public static double conv4ForwardBackward(List<Tensor> params, Tensor x, int[] y) {
    Tensor loss = F.crossEntropy(conv4Logits(params, x), y);
    List<Tensor> g = Autograd.grad(loss, params);
    return loss.item() + sumSquares(g);
  }

  /** One few-shot task: support and query images with labels. */
  public record Task(Tensor xs, int[] ys, Tensor xq, int[] yq) {}

  /** Random tasks of the given shape (N-way, K-shot, Q-query). */
  public static List<Task> tasks(Rng rng, int count, int ways, int shots, int queries) {
    List<Task> t = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      t.add(new Task(images(rng, ways * shots), labels(ways, shots), images(rng, ways * queries),
          labels(ways, queries)));
    }
    return t;
  }

  /**
   * (b) A MAML meta-step over a meta-batch: {@code steps} inner SGD steps at {@code innerLr} on each
   * support set (recorded when second order), then the mean query loss and its gradient with respect to
   * the initial parameters.
   */
  public static double mamlMetaStep(List<Tensor> params, List<Task> tasks, int steps, double innerLr,
                                    boolean secondOrder) {
    Tensor total = null;
    for (Task t : tasks) {
      Tensor q = queryLoss(adapt(params, t, steps, innerLr, secondOrder), t);
      total = total == null ? q : total.add(q);
    }
    Tensor metaLoss = total.div(tasks.size());
    List<Tensor> g = Autograd.grad(metaLoss, params);
    return metaLoss.item() + sumSquares(g);
  }

  /**
   * (b) as Metagrad's {@code MetaTrainer} runs it: each task's meta-gradient (of its query loss over the
   * number of tasks) computed on its own, {@code workers} tasks at a time ({@link TaskParallel}, kernels on
   * the task's thread), then summed in task order. The same meta-gradient as {@link #mamlMetaStep} up to
   * float rounding (one sum of gradients instead of the gradient of one sum), the same bits for any
   * {@code workers}; each task's graph is freed after its own backward pass instead of all four being
   * held until one backward pass at the end.
   */
  public static double mamlMetaStepTasks(List<Tensor> params, List<Task> tasks, int steps, double innerLr,
                                         boolean secondOrder, int workers) {
    int n = tasks.size();
    record TaskGrad(double loss, List<Tensor> grads) {}
    List<TaskGrad> per = TaskParallel.map(workers, tasks, t -> {
      Tensor q = queryLoss(adapt(params, t, steps, innerLr, secondOrder), t).div(n);
      return new TaskGrad(q.item(), Autograd.grad(q, params));
    });
    double loss = 0;
    List<Tensor> g = new ArrayList<>(per.get(0).grads());
    try (Autograd.NoGrad ng = Autograd.noGrad()) {
      for (int k = 0; k < n; k++) {
        loss += per.get(k).loss();
        for (int i = 0; k > 0 && i < g.size(); i++) {
          g.set(i, g.get(i).add(per.get(k).grads().get(i)));
        }
      }
    }
    return loss + sumSquares(g);
  }

  /** (b)'s inner loop on one task: {@code steps} SGD steps on the support set, recorded when second order. */
  public static List<Tensor> adapt(List<Tensor> params, Task t, int steps, double innerLr, boolean secondOrder) {
    List<Tensor> fast = params;
    for (int s = 0; s < steps; s++) {
      Tensor loss = F.crossEntropy(conv4Logits(fast, t.xs()), t.ys());
      List<Tensor> g = Autograd.grad(loss, fast, GradOptions.createGraph(secondOrder));
      List<Tensor> next = new ArrayList<>(fast.size());
      for (int i = 0; i < fast.size(); i++) {
        Tensor gi = secondOrder ? g.get(i) : g.get(i).detach();
        next.add(fast.get(i).sub(gi.mul(innerLr)));
      }
      fast = next;
    }
    return fast;
  }

  /** (b)'s query loss of one task under adapted parameters. */
  public static Tensor queryLoss(List<Tensor> fast, Task t) {
    return F.crossEntropy(conv4Logits(fast, t.xq()), t.yq());
  }

  /**
   * (c) A Prototypical Networks episode: embed support and query, class means as prototypes, logits the
   * negative squared Euclidean distances, cross-entropy on the queries, gradient for every parameter.
   */
  public static double protoEpisode(List<Tensor> backbone, Tensor support, int ways, int shots, Tensor query,
                                    int[] yq) {
    Tensor all = Tensor.concat(List.of(support, query), 0);
    Tensor z = conv4Features(backbone, all);
    int ns = ways * shots;
    Tensor protos = z.slice(0, 0, ns).reshape(ways, shots, -1).mean(1, false);
    Tensor logits = F.squaredDistances(z.slice(0, ns, z.size(0)), protos).neg();
    Tensor loss = F.crossEntropy(logits, yq);
    List<Tensor> g = Autograd.grad(loss, backbone);
    return loss.item() + sumSquares(g);
  }

  /** (d) A chain of {@code n} recorded adds on a small tensor; returns the result's sum. */
  public static Tensor addChain(Tensor x, Tensor c, int n) {
    Tensor y = x;
    for (int i = 0; i < n; i++) {
      y = y.add(c);
    }
    return y;
  }

  /** (d) The chain followed by its backward pass. */
  public static double addChainBackward(Tensor x, Tensor c, int n) {
    Tensor y = addChain(x, c, n).sum();
    return Autograd.grad(y, List.of(x)).get(0).sum().item();
  }

  /** Workers for {@link #mamlMetaStepTasks}: the CPU backend's thread count ({@code metagrad.threads}, else the cores). */
  public static int threads() {
    String s = System.getProperty("metagrad.threads");
    return s == null || s.isBlank() ? Runtime.getRuntime().availableProcessors() : Math.max(1, Integer.parseInt(s.trim()));
  }

  private static double sumSquares(List<Tensor> g) {
    double s = 0;
    for (Tensor t : g) {
      s += t.mul(t).sum().item();
    }
    return s;
  }
}
