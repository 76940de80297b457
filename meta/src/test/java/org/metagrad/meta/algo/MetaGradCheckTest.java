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
    MetaStep a = new MetaStep(Tensor.scalar(1.0, DType.FLOAT64), 0.5);
    MetaStep b = new MetaStep(Tensor.scalar(3.0, DType.FLOAT64), 1.0);
    MetaStep m = MetaStep.mean(List.of(a, b));
    assertThat(m.lossValue()).isEqualTo(2.0);
    assertThat(m.accuracy()).isEqualTo(0.75);
    assertThatThrownBy(() -> MetaStep.mean(List.of())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new MetaStep(Tensor.zeros(DType.FLOAT64, 2), 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void zeroElementsIsAnErrorNotAPass() {
    Maml maml = new Maml(mlp, 1, 0.5, Order.SECOND);
    Params empty = Params.of(java.util.Map.of("w", Tensor.zeros(DType.FLOAT64, 0, 3)));
    assertThatThrownBy(() -> MetaGradCheck.verify(maml, empty, task(DType.FLOAT64), MetaGradCheck.Options.defaults()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nothing to check").hasMessageContaining("[w]");
  }

  @Test
  void aNonFiniteParameterOrMetaLossFailsNamingIt() {
    Maml maml = new Maml(mlp, 1, 0.5, Order.SECOND);
    Params p = mlp.init(new Rng(2), DType.FLOAT64);
    String name = p.names().get(0);
    double[] v = p.get(name).toDoubleArray();
    v[1] = Double.NaN;
    java.util.Map<String, Tensor> m = new java.util.LinkedHashMap<>(p.asMap());
    m.put(name, Tensor.of(v, DType.FLOAT64, p.get(name).shape()));
    MetaGradCheck.Report r = MetaGradCheck.verify(maml, Params.of(m), task(DType.FLOAT64),
        MetaGradCheck.Options.defaults().maxElementsPerTensor(2));
    assertThat(r.passed()).isFalse();
    assertThat(r.problem()).isEqualTo("parameter '" + name + "' element 1 of "
        + java.util.Arrays.toString(p.get(name).shape()) + " is NaN (finite differences need a finite point)");
    assertThat(r.toString()).startsWith("FAILED meta-gradient check: parameter '" + name + "' element 1");
    // A meta-gradient NaN outside the checked subset (one element per tensor): the where trap, whose discarded
    // branch sqrt(p) is NaN at the negative elements of p and so is its gradient, 0 / NaN. Every element counts.
    MetaLearner trap = new MetaLearner() {
      @Override
      public MetaStep metaLoss(Params params, FewShotTask t) {
        Tensor w = params.get(name);
        Tensor hidden = Tensor.where(w.lt(1000.0), w.mul(0.0), w.sqrt()).sum();
        return new MetaStep(maml.metaLoss(params, t).loss().add(hidden), Double.NaN);
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
    double[] w = p.get(name).toDoubleArray();
    int firstNegative = 0;
    while (w[firstNegative] >= 0) {
      firstNegative++;
    }
    MetaGradCheck.Report d = MetaGradCheck.verify(trap, p, task(DType.FLOAT64),
        MetaGradCheck.Options.defaults().maxElementsPerTensor(1));
    assertThat(d.passed()).as(d.toString()).isFalse();
    assertThat(d.problem()).isEqualTo("meta-gradient of '" + name + "' element " + firstNegative + " of "
        + java.util.Arrays.toString(p.get(name).shape()) + " is NaN");
  }
}
