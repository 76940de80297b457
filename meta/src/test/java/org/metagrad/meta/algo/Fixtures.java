package org.metagrad.meta.algo;

import java.util.List;
import java.util.Map;
import java.util.LinkedHashMap;
import org.metagrad.Autograd;
import org.metagrad.ConvSpec;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Module;
import org.metagrad.nn.Params;

/** Tiny models and synthetic tasks for the algorithm tests (the scalar reference backend runs them). */
final class Fixtures {
  private Fixtures() {}

  /** {@code head(tanh(body(x)))} with x flattened: names body.*, head.*. */
  static final class Mlp implements Module {
    final int in;
    final int hidden;
    final int out;

    Mlp(int in, int hidden, int out) {
      this.in = in;
      this.hidden = hidden;
      this.out = out;
    }

    @Override
    public Params init(Rng rng, DType dtype) {
      Map<String, Tensor> m = new LinkedHashMap<>();
      m.put("body.weight", Tensor.randn(rng, dtype, hidden, in).mul(1 / Math.sqrt(in)));
      m.put("body.bias", Tensor.randn(rng, dtype, hidden).mul(0.1));
      m.put("head.weight", Tensor.randn(rng, dtype, out, hidden).mul(1 / Math.sqrt(hidden)));
      m.put("head.bias", Tensor.randn(rng, dtype, out).mul(0.1));
      return Params.of(m);
    }

    @Override
    public Tensor apply(Params p, Tensor x, Mode mode) {
      Tensor h = F.linear(x.reshape(x.size(0), -1), p.get("body.weight"), p.get("body.bias")).tanh();
      return F.linear(h, p.get("head.weight"), p.get("head.bias"));
    }
  }

  /** An embedding {@code tanh(W x + b)}: names features.*. */
  static final class Embed implements Module {
    final int in;
    final int dim;

    Embed(int in, int dim) {
      this.in = in;
      this.dim = dim;
    }

    @Override
    public Params init(Rng rng, DType dtype) {
      return Params.of("features.weight", Tensor.randn(rng, dtype, dim, in).mul(1 / Math.sqrt(in)))
          .with("features.bias", Tensor.randn(rng, dtype, dim).mul(0.1));
    }

    @Override
    public Tensor apply(Params p, Tensor x, Mode mode) {
      return F.linear(x.reshape(x.size(0), -1), p.get("features.weight"), p.get("features.bias")).tanh();
    }
  }

  /**
   * conv 3x3 (1 to 2 channels, padding 1) - batchNorm (batch statistics) - relu - maxPool 2 - linear head,
   * for [N, 1, 4, 4] images.
   */
  static final class TinyConv implements Module {
    final int ways;

    TinyConv(int ways) {
      this.ways = ways;
    }

    @Override
    public Params init(Rng rng, DType dtype) {
      Map<String, Tensor> m = new LinkedHashMap<>();
      m.put("features.conv.weight", Tensor.randn(rng, dtype, 2, 1, 3, 3).mul(1 / 3.0));
      m.put("features.conv.bias", Tensor.randn(rng, dtype, 2).mul(0.1));
      m.put("features.bn.weight", Tensor.randn(rng, dtype, 2).mul(0.1).add(1));
      m.put("features.bn.bias", Tensor.randn(rng, dtype, 2).mul(0.1));
      m.put("head.weight", Tensor.randn(rng, dtype, ways, 8).mul(1 / Math.sqrt(8)));
      m.put("head.bias", Tensor.randn(rng, dtype, ways).mul(0.1));
      return Params.of(m);
    }

    @Override
    public Tensor apply(Params p, Tensor x, Mode mode) {
      Tensor h = F.conv2d(x, p.get("features.conv.weight"), p.get("features.conv.bias"), ConvSpec.defaults().padding(1));
      h = F.batchNorm(h, p.get("features.bn.weight"), p.get("features.bn.bias"), F.BN_EPS).relu();
      h = F.maxPool2d(h, 2, 2, 0);
      return F.linear(h.reshape(x.size(0), -1), p.get("head.weight"), p.get("head.bias"));
    }
  }

  /** Fixed pool of class centres in dim dimensions (the same for every call with the same size). */
  static double[][] centres(int pool, int dim) {
    Rng r = new Rng(99);
    double[][] c = new double[pool][dim];
    for (int i = 0; i < pool; i++) {
      for (int j = 0; j < dim; j++) {
        c[i][j] = 1.5 * r.nextGaussian();
      }
    }
    return c;
  }

  /**
   * A ways-way task whose classes are random distinct centres of a pool of 6, randomly assigned to labels,
   * with Gaussian noise; inputs {@code [n, shape...]} with {@code prod(shape) = dim}.
   */
  static Task clusterTask(Rng rng, int ways, int shots, int queries, int[] exampleShape, DType dtype, double noise) {
    int dim = 1;
    for (int s : exampleShape) {
      dim *= s;
    }
    double[][] pool = centres(6, dim);
    int[] perm = {0, 1, 2, 3, 4, 5};
    rng.shuffle(perm);
    double[][] xs = new double[2][];
    int[][] ys = new int[2][];
    int[] per = {shots, queries};
    for (int s = 0; s < 2; s++) {
      int n = ways * per[s];
      xs[s] = new double[n * dim];
      ys[s] = new int[n];
      for (int c = 0; c < ways; c++) {
        for (int k = 0; k < per[s]; k++) {
          int i = c * per[s] + k;
          ys[s][i] = c;
          for (int j = 0; j < dim; j++) {
            xs[s][i * dim + j] = pool[perm[c]][j] + noise * rng.nextGaussian();
          }
        }
      }
    }
    return new Task(Tensor.of(xs[0], dtype, shape(ways * shots, exampleShape)), ys[0],
        Tensor.of(xs[1], dtype, shape(ways * queries, exampleShape)), ys[1], ways);
  }

  static int[] shape(int n, int[] example) {
    int[] s = new int[example.length + 1];
    s[0] = n;
    System.arraycopy(example, 0, s, 1, example.length);
    return s;
  }

  /** One plain SGD step on the meta-parameters; returns fresh leaves. */
  static Params sgd(Params p, List<Tensor> grads, double lr) {
    try (Autograd.NoGrad g = Autograd.noGrad()) {
      return p.zip(grads, (t, gi) -> t.sub(gi.mul(lr)).detach().requiresGrad(true));
    }
  }

  /** Mean meta-loss over tasks after {@code steps} outer SGD steps; returns {before, after}. */
  static double[] trainLoss(MetaLearner learner, Params init, List<? extends FewShotTask> tasks, int steps,
                            double lr) {
    Params p = init.detach().requiresGrad(true);
    double before = Double.NaN;
    double after = Double.NaN;
    for (int s = 0; s <= steps; s++) {
      List<MetaStep> batch = new java.util.ArrayList<>();
      for (FewShotTask t : tasks) {
        batch.add(learner.metaLoss(p, t));
      }
      MetaStep m = MetaStep.mean(batch);
      double v = m.lossValue();
      if (!Double.isFinite(v)) {
        throw new AssertionError("meta-loss not finite at step " + s + ": " + v);
      }
      if (s == 0) {
        before = v;
      }
      after = v;
      if (s < steps) {
        p = sgd(p, Autograd.grad(m.loss(), p.values(),
            org.metagrad.GradOptions.defaults().allowUnused(true)), lr);
      }
    }
    return new double[] {before, after};
  }

  /** Maximum absolute difference of two same-shaped tensors. */
  static double maxAbsDiff(Tensor a, Tensor b) {
    double[] x = a.toDoubleArray();
    double[] y = b.toDoubleArray();
    if (x.length != y.length) {
      throw new AssertionError("sizes differ: " + x.length + " vs " + y.length);
    }
    double m = 0;
    for (int i = 0; i < x.length; i++) {
      m = Math.max(m, Math.abs(x[i] - y[i]));
    }
    return m;
  }

  /** Maximum absolute value of a tensor. */
  static double maxAbs(Tensor a) {
    double m = 0;
    for (double v : a.toDoubleArray()) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }
}
