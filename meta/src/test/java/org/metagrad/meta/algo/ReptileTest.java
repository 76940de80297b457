package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Params;

class ReptileTest {
  private static final DType D = DType.FLOAT64;
  private final Fixtures.Mlp mlp = new Fixtures.Mlp(3, 4, 2);

  private Task task(long seed) {
    return Fixtures.clusterTask(new Rng(seed), 2, 3, 2, new int[] {3}, D, 0.5);
  }

  @Test
  void oneStepDeltaIsMinusLrTimesSupportGradient() {
    Reptile r = new Reptile(mlp, 1, 0.1);
    Params theta = mlp.init(new Rng(1), D).requiresGrad(true);
    Task t = task(2);
    Params delta = r.reptileDelta(theta, t);
    List<Tensor> g = Autograd.grad(t.supportLoss(mlp.apply(theta, t.supportX(), Mode.train())), theta.values());
    for (int i = 0; i < g.size(); i++) {
      assertThat(Fixtures.maxAbsDiff(delta.values().get(i), g.get(i).mul(-0.1))).isLessThan(1e-14);
    }
    assertThat(delta.values()).allMatch(x -> !x.requiresGrad());
  }

  @Test
  void outerStepAveragesDeltas() {
    Params theta = Params.of("w", Tensor.of(new double[] {1, 2}, 2));
    Params d1 = Params.of("w", Tensor.of(new double[] {1, 0}, 2));
    Params d2 = Params.of("w", Tensor.of(new double[] {3, 2}, 2));
    Params next = Reptile.outerStep(theta, List.of(d1, d2), 0.5);
    assertThat(next.get("w").toDoubleArray()).containsExactly(2, 2.5);
    assertThatThrownBy(() -> Reptile.outerStep(theta, List.of(), 1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void postAdaptationQueryLossDecreasesOverOuterSteps() {
    Reptile r = new Reptile(mlp, 3, 0.2);
    List<Task> tasks = List.of(task(3), task(4));
    Params theta = mlp.init(new Rng(5), D);
    double before = meanLoss(r, theta, tasks);
    for (int s = 0; s < 15; s++) {
      Params current = theta;
      theta = Reptile.outerStep(theta, tasks.stream().map(t -> r.reptileDelta(current, t)).toList(), 1.0);
    }
    double after = meanLoss(r, theta, tasks);
    assertThat(after).isFinite().isLessThan(before);
  }

  @Test
  void surrogateHasTheAdaptedQueryLossAsValueAndThetaMinusPhiAsGradient() {
    Reptile r = new Reptile(mlp, 3, 0.2);
    Params theta = mlp.init(new Rng(6), D).requiresGrad(true);
    Task t = task(7);
    MetaStep s = r.surrogateStep(theta, t);
    Params delta = r.reptileDelta(theta, t);
    List<Tensor> g = Autograd.grad(s.loss(), theta.values());
    for (int i = 0; i < g.size(); i++) {
      // d(surrogate)/d(theta) = theta - phi = -delta, exactly: the two cancelling terms differ only in sg.
      assertThat(Fixtures.maxAbsDiff(g.get(i), delta.values().get(i).neg())).isLessThan(1e-14);
    }
    Params phi = theta.detach().zip(delta, Tensor::add);
    Tensor out = mlp.apply(phi, t.queryX(), Mode.train().withStep(InnerLoop.lastStep(3)));
    assertThat(s.lossValue()).isCloseTo(t.queryLoss(out).item(), org.assertj.core.data.Offset.offset(1e-12));
    assertThat(s.accuracy()).isEqualTo(t.queryAccuracy(out));
    // A plain SGD step of size epsilon on the surrogate is the serial Reptile update.
    Params sgd = theta.detach().zip(g.stream().map(x -> x.mul(0.5)).toList(), Tensor::sub);
    Params reptile = Reptile.outerStep(theta, List.of(delta), 0.5);
    for (String n : theta.names()) {
      assertThat(Fixtures.maxAbsDiff(sgd.get(n), reptile.get(n))).as(n).isLessThan(1e-14);
    }
  }

  private static double meanLoss(Reptile r, Params theta, List<Task> tasks) {
    double s = 0;
    for (Task t : tasks) {
      s += r.evaluateLoss(theta, t);
    }
    return s / tasks.size();
  }
}
