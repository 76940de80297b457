package org.example;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.GradCheck;
import org.metagrad.GradOptions;
import org.metagrad.Metagrad;
import org.metagrad.Rng;
import org.metagrad.Tensor;

/**
 * Second-order MAML on sine-wave regression (Finn et al. 2017, section 5.1), written against metagrad-core only:
 * a 1-40-40-1 tanh network as four tensors, one inner SGD step recorded with {@code createGraph}, the
 * meta-gradient through it, plain SGD on the meta-parameters. At the end the meta-gradient is checked against
 * central finite differences in FLOAT64. Exit status 0 when adaptation lowered the query loss and the check passed.
 */
public final class SecondOrderMaml {
  private static final int HIDDEN = 40;
  private static final int SHOTS = 10;
  private static final double INNER_LR = 0.01;
  private static final double OUTER_LR = 0.02;

  private SecondOrderMaml() {}

  /** A sine task: y = a sin(x - phase), a in [0.1, 5], phase in [0, pi], x in [-5, 5]. */
  private record Task(Tensor xs, Tensor ys, Tensor xq, Tensor yq) {
    static Task sample(Rng rng) {
      double a = 0.1 + 4.9 * rng.nextDouble();
      double phase = Math.PI * rng.nextDouble();
      double[][] s = points(rng, a, phase);
      double[][] q = points(rng, a, phase);
      return new Task(Tensor.of(s[0], SHOTS, 1), Tensor.of(s[1], SHOTS, 1), Tensor.of(q[0], SHOTS, 1),
          Tensor.of(q[1], SHOTS, 1));
    }

    private static double[][] points(Rng rng, double a, double phase) {
      double[] x = new double[SHOTS];
      double[] y = new double[SHOTS];
      for (int i = 0; i < SHOTS; i++) {
        x[i] = 10 * rng.nextDouble() - 5;
        y[i] = a * StrictMath.sin(x[i] - phase);
      }
      return new double[][] {x, y};
    }
  }

  /** The network: tanh(x W1 + b1) W2 + b2 ... with the weights as a list {W1, b1, W2, b2, W3, b3}. */
  private static Tensor net(List<Tensor> w, Tensor x) {
    Tensor h = x.matmul(w.get(0)).add(w.get(1)).tanh();
    h = h.matmul(w.get(2)).add(w.get(3)).tanh();
    return h.matmul(w.get(4)).add(w.get(5));
  }

  /** One inner step on the support set, recorded so the meta-gradient can flow through it. */
  private static List<Tensor> adapt(List<Tensor> w, Task t) {
    Tensor inner = F.mse(net(w, t.xs()), t.ys());
    List<Tensor> g = Autograd.grad(inner, w, GradOptions.createGraph(true));
    return F.zip(w, g, (p, gi) -> p.sub(gi.mul(INNER_LR)));
  }

  private static Tensor metaLoss(List<Tensor> w, List<Task> tasks) {
    Tensor sum = null;
    for (Task t : tasks) {
      Tensor q = F.mse(net(adapt(w, t), t.xq()), t.yq());
      sum = sum == null ? q : sum.add(q);
    }
    return sum.div(tasks.size());
  }

  private static List<Tensor> init(Rng rng) {
    int[][] shapes = {{1, HIDDEN}, {HIDDEN}, {HIDDEN, HIDDEN}, {HIDDEN}, {HIDDEN, 1}, {1}};
    List<Tensor> w = new ArrayList<>();
    for (int[] s : shapes) {
      Tensor t = s.length == 2
          ? Tensor.randn(rng, DType.FLOAT64, s).mul(Math.sqrt(1.0 / s[0]))
          : Tensor.zeros(DType.FLOAT64, s);
      w.add(t.requiresGrad(true));
    }
    return w;
  }

  /** Runs the example; see the class comment for the exit status. */
  public static void main(String[] args) {
    // The application says which backend it wants and requires it: no silent fallback to the scalar path.
    String backend = Metagrad.configure().cpuBackend("cpu-vector").required(true).threads(2).apply().name();
    System.out.println("backend: " + backend);
    Rng rng = new Rng(42);
    List<Tensor> w = init(rng);
    List<Task> heldOut = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      heldOut.add(Task.sample(rng.split()));
    }
    double before = evaluate(w, heldOut);
    for (int it = 1; it <= 500; it++) {
      List<Task> batch = List.of(Task.sample(rng), Task.sample(rng), Task.sample(rng), Task.sample(rng));
      List<Tensor> g = Autograd.grad(metaLoss(w, batch), w);
      w = F.zip(w, g, (p, gi) -> p.detach().sub(gi.mul(OUTER_LR)).requiresGrad(true));
    }
    double after = evaluate(w, heldOut);
    System.out.printf(Locale.ROOT, "held-out query MSE after one inner step: %.4f before meta-training, %.4f after%n",
        before, after);

    // The meta-gradient against central finite differences: it flows through the inner gradient, so this checks
    // the second derivatives (Hessian-vector products) the engine computed as well.
    List<Task> two = List.of(Task.sample(rng), Task.sample(rng));
    List<Tensor> small = new ArrayList<>();
    for (Tensor t : w) {
      small.add(t.detach());
    }
    GradCheck.Report r1 = GradCheck.check(ws -> metaLoss(ws, two), small, 1);
    System.out.println("meta-gradient check: " + r1);
    boolean ok = after < before && r1.passed();
    System.out.println(ok ? "OK" : "FAILED");
    Metagrad.close();
    System.exit(ok ? 0 : 1);
  }

  private static double evaluate(List<Tensor> w, List<Task> tasks) {
    double sum = 0;
    for (Task t : tasks) {
      sum += F.mse(net(adapt(w, t), t.xq()), t.yq()).item();
    }
    return sum / tasks.size();
  }
}
