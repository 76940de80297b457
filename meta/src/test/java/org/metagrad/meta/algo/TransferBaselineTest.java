package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;
import org.metagrad.nn.optim.SGD;
import org.metagrad.nn.train.Batch;

class TransferBaselineTest {
  private static final DType D = DType.FLOAT64;
  private final Fixtures.Embed embed = new Fixtures.Embed(3, 6);

  /** A pre-training batch over all 6 pool classes. */
  private static Batch batch(int step) {
    Task t = Fixtures.clusterTask(new Rng(100 + step), 6, 2, 1, new int[] {3}, D, 0.5);
    return new Batch(t.supportX(), t.supportY());
  }

  private void pretrainsAndFinetunes(TransferBaseline b) {
    Params p = b.initPretrain(embed.init(new Rng(1), D), 6, new Rng(2));
    assertThat(p.names()).contains("classifier.weight");
    Batch probe = batch(999);
    double before = b.pretrainLoss(p, probe.x(), probe.y()).item();
    p = b.pretrain(p, TransferBaselineTest::batch, 30, SGD.of(0.3));
    double after = b.pretrainLoss(p, probe.x(), probe.y()).item();
    assertThat(after).isLessThan(before);

    Task t = Fixtures.clusterTask(new Rng(3), 3, 2, 4, new int[] {3}, D, 0.3);
    Params adapted = b.adapt(p, t);
    assertThat(adapted.names()).doesNotContain("classifier.weight").contains(TransferBaseline.HEAD_WEIGHT);
    assertThat(adapted.get(TransferBaseline.HEAD_WEIGHT).shape()).containsExactly(3, 6);
    // The body is frozen: the same tensors' values as before adaptation.
    assertThat(Fixtures.maxAbsDiff(adapted.get("features.weight"), p.get("features.weight"))).isZero();
    Tensor logits = b.predict(adapted, t.supportX());
    assertThat(t.supportLoss(logits).item()).isLessThan(Math.log(3));
    assertThat(b.evaluate(p, t)).isGreaterThanOrEqualTo(0.75);
  }

  @Test
  void baselinePretrainsAndFinetunesALinearHead() {
    pretrainsAndFinetunes(TransferBaseline.baseline(embed, 6));
  }

  @Test
  void baselinePlusPlusPretrainsAndFinetunesACosineHead() {
    TransferBaseline b = TransferBaseline.baselinePlusPlus(embed, 6).withCosineScale(5);
    pretrainsAndFinetunes(b);
    Params p = b.initPretrain(embed.init(new Rng(1), D), 6, new Rng(2));
    assertThat(p.names()).doesNotContain("classifier.bias");
    // The same network as a Module (for nn's Trainer) gives the same logits.
    Tensor x = batch(5).x();
    Tensor viaModule = b.classifier(6).apply(p, x, org.metagrad.nn.Mode.train());
    assertThat(org.metagrad.F.crossEntropy(viaModule, batch(5).y()).item())
        .isEqualTo(b.pretrainLoss(p, x, batch(5).y()).item());
    assertThat(b.classifier(6).init(new Rng(1), D).names()).isEqualTo(p.names());
  }
}
