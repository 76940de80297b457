package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.nn.Params;

/**
 * A user's own task type, defined outside the library: few-shot regression under the Huber loss (smooth near
 * 0, linear in the tails: {@code 0.5 d^2} for {@code |d| <= 1}, {@code |d| - 0.5} beyond). It feeds the
 * gradient-based learners like the library's tasks, with second-order meta-gradients that match finite
 * differences; metric learners, which need class labels, refuse it by name.
 */
class UserTaskTest {
  private static final DType D = DType.FLOAT64;

  /** Not a library type: FewShotTask is open to applications. */
  record HuberTask(Tensor supportX, Tensor supportY, Tensor queryX, Tensor queryY) implements FewShotTask {
    static Tensor huber(Tensor out, Tensor y) {
      Tensor d = out.sub(y).abs();
      Tensor quad = d.mul(d).mul(0.5);
      return Tensor.where(d.le(1.0), quad, d.sub(0.5)).mean();
    }

    @Override
    public Tensor supportLoss(Tensor outputs) {
      return huber(outputs, supportY);
    }

    @Override
    public Tensor queryLoss(Tensor outputs) {
      return huber(outputs, queryY);
    }

    @Override
    public double queryAccuracy(Tensor outputs) {
      return Double.NaN;
    }

    @Override
    public FewShotTask to(DType dtype) {
      return new HuberTask(supportX.to(dtype), supportY.to(dtype), queryX.to(dtype), queryY.to(dtype));
    }

    /** y = a x + b + noise on x in [-2, 2]^3 (a per-task linear map), 5 support and 5 query points. */
    static HuberTask sample(Rng rng) {
      Tensor w = Tensor.randn(rng, D, 3, 2);
      Tensor b = Tensor.randn(rng, D, 2);
      Tensor xs = Tensor.rand(rng, D, 5, 3).mul(4).sub(2);
      Tensor xq = Tensor.rand(rng, D, 5, 3).mul(4).sub(2);
      return new HuberTask(xs, xs.matmul(w).add(b), xq, xq.matmul(w).add(b));
    }
  }

  private final Fixtures.Mlp mlp = new Fixtures.Mlp(3, 6, 2);

  @Test
  void secondOrderMamlMetaGradientOfAUserTaskMatchesFiniteDifferences() {
    for (MetaLearner learner : List.<MetaLearner>of(new Maml(mlp, 2, 0.3, Order.SECOND),
        new MetaSgd(mlp, 1, 0.3, Order.SECOND), new Anil(mlp, 2, 0.3, Order.SECOND))) {
      Params p = learner.initMetaParams(mlp.init(new Rng(1), D), new Rng(2));
      MetaGradCheck.Report r = MetaGradCheck.verify(learner, p, HuberTask.sample(new Rng(3)),
          MetaGradCheck.Options.defaults());
      assertThat(r.passed()).as(learner + ": " + r).isTrue();
    }
  }

  @Test
  void mamlMetaTrainingOnUserTasksLowersTheirQueryLoss() {
    List<HuberTask> tasks = new ArrayList<>();
    Rng rng = new Rng(11);
    for (int i = 0; i < 6; i++) {
      tasks.add(HuberTask.sample(rng));
    }
    Maml maml = new Maml(mlp, 1, 0.2, Order.SECOND);
    double[] loss = Fixtures.trainLoss(maml, mlp.init(new Rng(12), D), tasks, 60, 0.3);
    assertThat(loss[1]).as("meta-loss before %s, after %s", loss[0], loss[1]).isLessThan(0.8 * loss[0]);
  }

  @Test
  void metricLearnersNeedClassLabelsAndSaySo() {
    ProtoNet proto = ProtoNet.euclidean(mlp);
    assertThatThrownBy(() -> proto.metaLoss(proto.initMetaParams(mlp.init(new Rng(1), D), new Rng(2)),
        HuberTask.sample(new Rng(3))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("HuberTask");
  }
}
