package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

class MetaGradCheckTest {
  private final Fixtures.Mlp mlp = new Fixtures.Mlp(3, 4, 2);

  private static Task task(DType d) {
    return Fixtures.clusterTask(new Rng(1), 2, 2, 2, new int[] {3}, d, 0.5);
  }

  @Test
  void rejectsFloat32() {
    Maml maml = new Maml(mlp, 1, 0.5, Order.SECOND);
    assertThatThrownBy(() -> MetaGradCheck.verify(maml, mlp.init(new Rng(1), DType.FLOAT32), task(DType.FLOAT64),
        MetaGradCheck.Options.defaults())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FLOAT64");
    assertThatThrownBy(() -> MetaGradCheck.verify(maml, mlp.init(new Rng(1), DType.FLOAT64), task(DType.FLOAT32),
        MetaGradCheck.Options.defaults())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FLOAT64");
  }

  @Test
  void catchesAWrongMetaGradientAndReportsReadably() {
    // A learner whose loss has the right value but twice the right gradient: 2L + (L - 2L).detach().
    Maml maml = new Maml(mlp, 1, 0.5, Order.SECOND);
    MetaLearner broken = new MetaLearner() {
      @Override
      public MetaStep metaLoss(Params params, FewShotTask t) {
        Tensor l = maml.metaLoss(params, t).loss();
        Tensor twice = l.mul(2.0);
        return new MetaStep(twice.add(l.sub(twice).detach()), Double.NaN);
      }

      @Override
      public Params adapt(Params params, FewShotTask t) {
        return maml.adapt(params, t);
      }

      @Override
      public Tensor predict(Params adapted, Tensor x) {
        return maml.predict(adapted, x);
      }
    };
    Params p = mlp.init(new Rng(2), DType.FLOAT64);
    MetaGradCheck.Report bad = MetaGradCheck.verify(broken, p, task(DType.FLOAT64),
        MetaGradCheck.Options.defaults().maxElementsPerTensor(2));
    assertThat(bad.passed()).isFalse();
    assertThat(bad.worstRelError()).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-3));
    assertThat(bad.toString()).startsWith("FAILED");
    MetaGradCheck.Report ok = MetaGradCheck.verify(maml, p, task(DType.FLOAT64),
        MetaGradCheck.Options.defaults().maxElementsPerTensor(2));
    assertThat(ok.passed()).isTrue();
    assertThat(ok.entries()).allMatch(e -> e.checked() == Math.min(2, p.get(e.name()).numel()));
    assertThat(ok.toString()).startsWith("passed").contains("head.weight").contains("worst rel");
  }

  @Test
  void metaStepMeanAveragesLossAndAccuracy() {
    MetaStep a = new MetaStep(Tensor.scalar(1.0), 0.5);
    MetaStep b = new MetaStep(Tensor.scalar(3.0), 1.0);
    MetaStep m = MetaStep.mean(List.of(a, b));
    assertThat(m.lossValue()).isEqualTo(2.0);
    assertThat(m.accuracy()).isEqualTo(0.75);
    assertThatThrownBy(() -> MetaStep.mean(List.of())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new MetaStep(Tensor.zeros(DType.FLOAT64, 2), 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
