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
import org.metagrad.nn.BnMode;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;

/** Relation Networks: shapes of the paper's Omniglot model, the gradient against finite differences (FLOAT64). */
class RelationNetTest {
  private static final DType D = DType.FLOAT64;

  private static Task task(long seed, int ways, int shots, int queries) {
    return Fixtures.clusterTask(new Rng(seed), ways, shots, queries, new int[] {1, 28, 28}, D, 0.5);
  }

  @Test
  void theOmniglotModelHasThePapersShapes() {
    Network body = RelationNet.embedding(1, 64, 28, BnMode.BATCH_STATS);
    assertThat(RelationNet.mapSide(28)).isEqualTo(5);
    assertThat(body.featureDim()).isEqualTo(64 * 5 * 5);
    RelationNet rn = new RelationNet(body, 64, 5, 8);
    Params p = rn.initMetaParams(body.init(new Rng(1), DType.FLOAT32), new Rng(2));
    // Embedding: 4 convs (1->64, 3 x 64->64) with BN; relation: 2 convs (128->64, 64->64) with BN, FC 64-8-1.
    long embed = (9 * 64 + 64) + 3 * (9 * 64 * 64 + 64) + 4 * 2 * 64;
    long rel = (9 * 128 * 64 + 64) + (9 * 64 * 64 + 64) + 2 * 2 * 64 + (64 * 8 + 8) + (8 + 1);
    assertThat(p.numel()).isEqualTo(embed + rel);
    assertThat(p.names()).anyMatch(n -> n.startsWith("relation."));
    Task t = task(3, 5, 1, 2).to(DType.FLOAT32);
    Tensor scores = rn.predict(rn.adapt(p, t), t.queryX());
    assertThat(scores.shape()).containsExactly(10, 5);
    for (double s : scores.toDoubleArray()) {
      assertThat(s).isStrictlyBetween(0.0, 1.0);
    }
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    Network body = RelationNet.embedding(1, 2, 28, BnMode.BATCH_STATS);
    RelationNet rn = new RelationNet(body, 2, 5, 3);
    Params p = rn.initMetaParams(body.init(new Rng(11), D), new Rng(12));
    MetaGradCheck.Report r = MetaGradCheck.verify(rn, p, task(13, 3, 2, 1),
        MetaGradCheck.Options.defaults().maxElementsPerTensor(12));
    assertThat(r.passed()).as(r.toString()).isTrue();
    assertThat(r.entries()).anyMatch(e -> e.name().startsWith("relation.")).anyMatch(e -> e.name().startsWith("features."));
  }

  @Test
  void classFeaturesAreSumsOfTheSupportMapsAndTheLossIsTheMseOnOneHotScores() {
    Network body = RelationNet.embedding(1, 3, 28, BnMode.BATCH_STATS);
    RelationNet rn = new RelationNet(body, 3, 5, 4);
    Params p = rn.initMetaParams(body.init(new Rng(21), D), new Rng(22));
    Task t = task(23, 2, 3, 2);
    Tensor maps = rn.maps(p, t.supportX());
    Tensor cls = rn.classFeatures(p, t);
    assertThat(cls.shape()).containsExactly(2, 3, 5, 5);
    double[] m = maps.toDoubleArray();
    double[] c = cls.toDoubleArray();
    int per = 3 * 5 * 5;
    int[] y = t.supportY();
    for (int j = 0; j < per; j++) {
      double[] sum = new double[2];
      for (int i = 0; i < y.length; i++) {
        sum[y[i]] += m[i * per + j];
      }
      assertThat(c[j]).isCloseTo(sum[0], org.assertj.core.data.Offset.offset(1e-12));
      assertThat(c[per + j]).isCloseTo(sum[1], org.assertj.core.data.Offset.offset(1e-12));
    }
    MetaStep s = rn.metaLoss(p, t);
    Tensor scores = rn.relationScores(p, cls, rn.maps(p, t.queryX()));
    double[] r = scores.toDoubleArray();
    double mse = 0;
    int[] q = t.queryY();
    for (int i = 0; i < q.length; i++) {
      for (int k = 0; k < 2; k++) {
        double d = r[i * 2 + k] - (q[i] == k ? 1 : 0);
        mse += d * d;
      }
    }
    assertThat(s.lossValue()).isCloseTo(mse / r.length, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(s.accuracy()).isEqualTo(t.queryAccuracy(scores));
  }

  @Test
  void metaTrainingReducesTheLoss() {
    Network body = RelationNet.embedding(1, 4, 28, BnMode.BATCH_STATS);
    RelationNet rn = new RelationNet(body, 4, 5, 4);
    Params p = rn.initMetaParams(body.init(new Rng(31), DType.FLOAT32), new Rng(32));
    List<Task> tasks = List.of(task(33, 3, 1, 2).to(DType.FLOAT32), task(34, 3, 1, 2).to(DType.FLOAT32));
    double[] l = Fixtures.trainLoss(rn, p, tasks, 15, 0.5);
    assertThat(l[1]).isLessThan(0.7 * l[0]);
  }

  @Test
  void badSizesAreRejected() {
    Network body = RelationNet.embedding(1, 2, 28, BnMode.BATCH_STATS);
    assertThatThrownBy(() -> RelationNet.embedding(1, 2, 20, BnMode.BATCH_STATS))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("28x28");
    assertThatThrownBy(() -> new RelationNet(body, 2, 3, 8)).hasMessageContaining("4x4");
    assertThatThrownBy(() -> new RelationNet(body, 0, 5, 8)).hasMessageContaining(">= 1");
    RelationNet wrong = new RelationNet(body, 3, 5, 8);
    Params p = wrong.initMetaParams(body.init(new Rng(1), D), new Rng(2));
    assertThatThrownBy(() -> wrong.metaLoss(p, task(1, 2, 1, 1))).hasMessageContaining("configured 3 maps");
    assertThat(Autograd.isEnabled()).isTrue();
  }
}
