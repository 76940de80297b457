package org.metagrad.meta.l2l;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.Order;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.data.ImageClasses;
import org.metagrad.meta.data.OmniglotReader;
import org.metagrad.meta.data.OmniglotSet;
import org.metagrad.nn.Params;
import org.metagrad.nn.optim.Adam;

/**
 * The Omniglot MLP problems of the learned-optimizer experiment on real images (12 characters at 14x14). Needs
 * METAGRAD_DATA; fails (does not skip) without it.
 */
class MlpClassificationTest {

  private static ImageClasses pool() {
    OmniglotReader reader = new OmniglotReader(DataPaths.omniglot(), 14, 2);
    return reader.load(reader.characters(OmniglotSet.BACKGROUND).subList(0, 12));
  }

  @Test
  void problemsAreIndependentReproducibleAndTrainable() {
    ImageClasses pool = pool();
    MlpClassification f = MlpClassification.sample(pool, new Rng(1), 3, 10, 20, 32, DType.FLOAT64);
    assertThat(f.paramsPerProblem()).isEqualTo(196 * 20 + 20 + 10 * 20 + 10);
    Tensor th = f.initialParams();
    assertThat(th.shape()).containsExactly(3 * f.paramsPerProblem());
    double[] l0 = f.losses(th, 0).toDoubleArray();
    assertThat(l0).hasSize(3);
    // Near log(10) at initialisation; the same minibatch for the same step, another one for the next.
    for (double v : l0) {
      assertThat(v).isBetween(1.5, 3.5);
    }
    assertThat(f.losses(th, 0).toDoubleArray()).isEqualTo(l0);
    assertThat(f.losses(th, 1).toDoubleArray()).isNotEqualTo(l0);
    // The gradient of problem 0's loss does not reach problem 1's coordinates.
    Tensor leaf = th.detach().requiresGrad(true);
    double[] g = Autograd.grad(f.losses(leaf, 0).slice(0, 0, 1).sum(), List.of(leaf)).get(0).toDoubleArray();
    for (int i = f.paramsPerProblem(); i < g.length; i++) {
      assertThat(g[i]).isZero();
    }
    // Adam lowers the full-data loss of every problem in 30 steps (from about 2.3 to about 1.95 at lr 0.01).
    double[][] tr = HandOptimizer.ADAM.trajectory(f, 0.01, 30);
    for (int b = 0; b < 3; b++) {
      assertThat(tr[30][b]).isLessThan(tr[0][b] - 0.2);
    }
    assertThat(f.accuracy(th)).hasSize(3);
    // One meta-training iteration of the learned optimizer on these problems, both orders: finite.
    LstmOptimizer opt = new LstmOptimizer(4, 0.1);
    Params phi = opt.init(new Rng(2), DType.FLOAT64);
    Adam adam = Adam.of(1e-3);
    for (Order o : Order.values()) {
      LstmOptimizer.IterationResult r = opt.trainIteration(phi, adam, adam.init(phi), f, 4, 2, o, 0);
      assertThat(r.meanLoss()).isFinite();
      assertThat(r.gradNorm()).isFinite().isPositive();
    }
    assertThatThrownBy(() -> MlpClassification.sample(pool, new Rng(1), 1, 13, 20, 32, DType.FLOAT64))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("13 characters");
  }
}
