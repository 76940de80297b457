package org.metagrad.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.metagrad.DType;
import org.metagrad.GradCheck;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.junit.jupiter.api.Test;

/**
 * BatchNorm in its three modes: forward values and running-statistics updates against hand computation
 * (momentum 0.1, unbiased variance), state names, errors, and gradchecks of orders 1 and 2.
 */
class BatchNormTest {
  private static final Tensor X1 = Tensor.of(new double[] {1, 2, 3, 4}, DType.FLOAT32, 4, 1);
  private static final Tensor X2 = Tensor.of(new double[] {0, 4, 8, 0}, DType.FLOAT32, 4, 1);
  private static final Params W2B1 = Params.of("weight", Tensor.of(new double[] {2}, DType.FLOAT32, 1))
      .with("bias", Tensor.of(new double[] {1}, DType.FLOAT32, 1));

  @Test
  void trainingUsesBatchStatisticsWithBiasedVariance() {
    // mean 2.5, biased var 1.25: y = (x - 2.5) / sqrt(1.25 + 1e-5) * 2 + 1
    Tensor y = new BatchNorm1d(1, BnMode.RUNNING_STATS).apply(W2B1, X1, Mode.TRAIN);
    assertThat(y.toDoubleArray()).containsExactly(new double[] {-1.68327084, 0.10557639, 1.89442361, 3.68327084},
        within(1e-5));
  }

  @Test
  void batchNorm2dNormalizesPerChannelOverBatchAndSpace() {
    // [2, 2, 1, 2]: channel 0 holds 1, 3, 5, 7 (mean 4, var 5), channel 1 holds 0, 0, 2, 2 (mean 1, var 1).
    Tensor x = Tensor.of(new double[] {1, 3, 0, 0, 5, 7, 2, 2}, DType.FLOAT32, 2, 2, 1, 2);
    BatchNorm2d bn = new BatchNorm2d(2, BnMode.BATCH_STATS);
    Tensor y = bn.apply(bn.init(new Rng(0)), x, Mode.EVAL);
    assertThat(y.toDoubleArray()).containsExactly(new double[] {-1.34163944, -0.44721315, -0.99999500, -0.99999500,
        0.44721315, 1.34163944, 0.99999500, 0.99999500}, within(1e-5));
  }

  @Test
  void runningStatisticsUpdateAsPyTorch() {
    BatchNorm1d bn = new BatchNorm1d(1, BnMode.RUNNING_STATS);
    State s = bn.newState(DType.FLOAT32);
    assertThat(s.snapshot()).containsOnlyKeys("running_mean", "running_var", "num_batches_tracked");
    Mode train = Mode.train().withState(s);
    bn.apply(W2B1, X1, train);
    // mean 2.5, unbiased var 5/3: rm = 0.1 * 2.5 = 0.25, rv = 0.9 * 1 + 0.1 * 5/3 = 1.0666667
    assertThat(s.get("running_mean").item()).isCloseTo(0.25, within(1e-7));
    assertThat(s.get("running_var").item()).isCloseTo(1.0666667, within(1e-6));
    assertThat(s.get("num_batches_tracked").item()).isEqualTo(1.0);
    bn.apply(W2B1, X2, train);
    // mean 3, unbiased var 44/3: rm = 0.9 * 0.25 + 0.3 = 0.525, rv = 0.9 * 1.0666667 + 0.1 * 44/3 = 2.4266667
    assertThat(s.get("running_mean").item()).isCloseTo(0.525, within(1e-6));
    assertThat(s.get("running_var").item()).isCloseTo(2.4266667, within(1e-5));
    assertThat(s.get("num_batches_tracked").item()).isEqualTo(2.0);
    assertThat(s.get("running_mean").dtype()).isEqualTo(DType.FLOAT32);
    // Evaluation normalizes with the running statistics: (x - 0.525) / sqrt(2.4266667 + 1e-5) * 2 + 1.
    Tensor y = bn.apply(W2B1, X1, Mode.eval().withState(s));
    assertThat(y.toDoubleArray()).containsExactly(new double[] {1.60984245, 2.89372128, 4.17760011, 5.46147894},
        within(1e-5));
    // Evaluation does not update.
    assertThat(s.get("num_batches_tracked").item()).isEqualTo(2.0);
  }

  @Test
  void momentumIsConfigurable() {
    BatchNorm bn = new BatchNorm1d(1, BnMode.RUNNING_STATS).momentum(0.5);
    State s = new State();
    bn.apply(W2B1, X1, Mode.train().withState(s));
    // Created on first use from mean 0, var 1: rm = 0.5 * 2.5, rv = 0.5 + 0.5 * 5/3.
    assertThat(s.get("running_mean").item()).isCloseTo(1.25, within(1e-6));
    assertThat(s.get("running_var").item()).isCloseTo(4 / 3.0, within(1e-6));
  }

  @Test
  void perStepKeepsOneSetOfStatisticsPerInnerStep() {
    BatchNorm bn = new BatchNorm1d(1, BnMode.PER_STEP).steps(2);
    State s = bn.newState(DType.FLOAT32);
    assertThat(s.snapshot()).containsOnlyKeys("running_mean.step0", "running_var.step0", "num_batches_tracked.step0",
        "running_mean.step1", "running_var.step1", "num_batches_tracked.step1");
    bn.apply(W2B1, X1, Mode.train().withState(s).withStep(0));
    bn.apply(W2B1, X2, Mode.train().withState(s).withStep(1));
    assertThat(s.get("running_mean.step0").item()).isCloseTo(0.25, within(1e-7));
    assertThat(s.get("running_var.step0").item()).isCloseTo(1.0666667, within(1e-6));
    assertThat(s.get("running_mean.step1").item()).isCloseTo(0.3, within(1e-7));
    assertThat(s.get("running_var.step1").item()).isCloseTo(0.9 + 4.4 / 3, within(1e-6));
    // Step 1 in evaluation: (x - 0.3) / sqrt(2.3666667 + 1e-5) * 2 + 1 at x = 1.
    Tensor y = bn.apply(W2B1, X1, Mode.eval().withState(s).withStep(1));
    assertThat(y.toDoubleArray()[0]).isCloseTo(0.7 / Math.sqrt(0.9 + 4.4 / 3 + 1e-5) * 2 + 1, within(1e-5));
    // A step never seen creates its statistics on first use.
    bn.apply(W2B1, X1, Mode.train().withState(s).withStep(4));
    assertThat(s.get("num_batches_tracked.step4").item()).isEqualTo(1.0);
  }

  @Test
  void parallelTasksSharingOneStateLoseNoUpdate() throws Exception {
    BatchNorm1d bn = new BatchNorm1d(1, BnMode.RUNNING_STATS);
    State s = bn.newState(DType.FLOAT32);
    Thread[] threads = new Thread[4];
    for (int t = 0; t < threads.length; t++) {
      threads[t] = new Thread(() -> {
        for (int i = 0; i < 5; i++) {
          bn.apply(W2B1, X1, Mode.train().withState(s));
        }
      });
      threads[t].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(s.get("num_batches_tracked").item()).isEqualTo(20.0);
    // Twenty updates towards 2.5 from 0: 2.5 (1 - 0.9^20).
    assertThat(s.get("running_mean").item()).isCloseTo(2.5 * (1 - Math.pow(0.9, 20)), within(1e-5));
  }

  @Test
  void batchStatsModeIgnoresStateAndIsTransductiveInEvaluation() {
    BatchNorm1d bn = new BatchNorm1d(1, BnMode.BATCH_STATS);
    State s = bn.newState(DType.FLOAT32);
    assertThat(s.snapshot()).isEmpty();
    Tensor train = bn.apply(W2B1, X1, Mode.train().withState(s));
    Tensor eval = bn.apply(W2B1, X1, Mode.eval().withState(s));
    assertThat(eval.toDoubleArray()).containsExactly(train.toDoubleArray());
    assertThat(s.snapshot()).isEmpty();
  }

  @Test
  void stateNamesFollowTheModuleTree() {
    Sequential net = Sequential.builder().add("features", Sequential.of(new Linear(3, 2),
        new BatchNorm1d(2, BnMode.RUNNING_STATS))).build();
    State s = net.newState(DType.FLOAT32);
    assertThat(s.snapshot()).containsOnlyKeys("features.1.running_mean", "features.1.running_var",
        "features.1.num_batches_tracked");
    Params p = net.init(new Rng(0));
    assertThat(p.names()).containsExactly("features.0.weight", "features.0.bias", "features.1.weight",
        "features.1.bias");
    net.apply(p, Tensor.randn(new Rng(1), DType.FLOAT32, 5, 3), Mode.train().withState(s));
    assertThat(s.get("features.1.num_batches_tracked").item()).isEqualTo(1.0);
  }

  @Test
  void withoutAffineThereAreNoParameters() {
    BatchNorm bn = new BatchNorm2d(3, BnMode.BATCH_STATS).affine(false);
    assertThat(bn.init(new Rng(0)).size()).isZero();
    Tensor y = bn.apply(Params.empty(), Tensor.randn(new Rng(2), DType.FLOAT32, 4, 3, 2, 2), Mode.TRAIN);
    assertThat(y.mean(new int[] {0, 2, 3}, false).toDoubleArray()).containsExactly(new double[] {0, 0, 0},
        within(1e-6));
    BatchNorm bnA = new BatchNorm2d(3, BnMode.BATCH_STATS);
    Params p = bnA.init(new Rng(0));
    assertThat(p.get("weight").toDoubleArray()).containsExactly(1, 1, 1);
    assertThat(p.get("bias").toDoubleArray()).containsExactly(0, 0, 0);
  }

  @Test
  void errors() {
    BatchNorm2d bn = new BatchNorm2d(64, BnMode.RUNNING_STATS);
    Params p = bn.init(new Rng(0));
    assertThatThrownBy(() -> bn.apply(p, Tensor.zeros(5, 32, 4, 4), Mode.TRAIN))
        .hasMessage("BatchNorm2d(64, RUNNING_STATS): expected input [N, 64, H, W], got [5, 32, 4, 4]");
    assertThatThrownBy(() -> bn.apply(p, Tensor.zeros(5, 64), Mode.TRAIN))
        .hasMessage("BatchNorm2d(64, RUNNING_STATS): expected input [N, 64, H, W], got [5, 64]");
    assertThatThrownBy(() -> bn.apply(p, Tensor.zeros(5, 64, 4, 4), Mode.EVAL))
        .hasMessageContaining("needs a State").hasMessageContaining("BATCH_STATS");
    BatchNorm1d bn1 = new BatchNorm1d(2, BnMode.BATCH_STATS);
    assertThatThrownBy(() -> bn1.apply(bn1.init(new Rng(0)), Tensor.zeros(1, 2), Mode.TRAIN))
        .hasMessageContaining("more than 1 value per channel").hasMessageContaining("[1, 2]");
    assertThatThrownBy(() -> bn1.apply(Params.empty(), Tensor.zeros(3, 2), Mode.TRAIN))
        .hasMessageContaining("missing parameter 'weight'");
    assertThatThrownBy(() -> new BatchNorm1d(2, null)).hasMessageContaining("BnMode is null");
  }

  // ------------------------------------------------------------------ gradchecks (FLOAT64)

  private static void gradcheck(BatchNorm bn, int[] xShape, Mode mode) {
    Rng rng = new Rng(5);
    Tensor x = Tensor.randn(rng, DType.FLOAT64, xShape);
    int c = xShape[1];
    Tensor w = Tensor.uniform(rng, 0.5, 1.5, DType.FLOAT64, c);
    Tensor b = Tensor.randn(rng, DType.FLOAT64, c);
    GradCheck.assertOrders12(in -> bn.apply(Params.of("weight", in.get(1)).with("bias", in.get(2)), in.get(0), mode),
        List.of(x, w, b));
  }

  private static State statsFor(BatchNorm bn, String suffix) {
    State s = new State();
    int c = bn.channels();
    Rng rng = new Rng(9);
    s.put("running_mean" + suffix, Tensor.randn(rng, DType.FLOAT64, c));
    s.put("running_var" + suffix, Tensor.uniform(rng, 0.5, 2, DType.FLOAT64, c));
    return s;
  }

  @Test
  void gradcheckBatchNorm2dInEveryModeTrainAndEval() {
    int[] shape = {3, 2, 2, 2};
    for (BnMode m : BnMode.values()) {
      BatchNorm bn = new BatchNorm2d(2, m);
      State s = statsFor(bn, m == BnMode.PER_STEP ? ".step1" : "");
      gradcheck(bn, shape, Mode.train().withState(s).withStep(1));
      gradcheck(bn, shape, Mode.eval().withState(s).withStep(1));
    }
  }

  @Test
  void gradcheckBatchNorm1d() {
    BatchNorm bn = new BatchNorm1d(3, BnMode.RUNNING_STATS);
    State s = statsFor(bn, "");
    gradcheck(bn, new int[] {4, 3}, Mode.train().withState(s));
    gradcheck(bn, new int[] {4, 3}, Mode.eval().withState(s));
    gradcheck(new BatchNorm1d(2, BnMode.BATCH_STATS), new int[] {2, 2, 3}, Mode.TRAIN);
  }

  @Test
  void sequentialRunsBatchNormThenReluAsOneFusedOpWithTheSameResults() {
    // conv4's block: BatchNorm2d, ReLU and MaxPool2d run as one fused op; values and gradients equal the layers applied
    // one by one, parameter names are unchanged, and running-statistics evaluation still applies the ReLU.
    for (BnMode bn : BnMode.values()) {
      Sequential seq = Sequential.builder().add(new Conv2d(2, 3, 3, org.metagrad.ConvSpec.defaults().padding(1)))
          .add(new BatchNorm2d(3, bn)).add(new ReLU()).add(new MaxPool2d(2)).build();
      Params p = seq.init(new Rng(3), DType.FLOAT64);
      assertThat(p.names()).containsExactly("0.weight", "0.bias", "1.weight", "1.bias");
      Tensor x = Tensor.randn(new Rng(4), DType.FLOAT64, 4, 2, 6, 6);
      State s1 = new State();
      State s2 = new State();
      seq.initState(s1, DType.FLOAT64);
      seq.initState(s2, DType.FLOAT64);
      Params leaves = p.map(t -> t.requiresGrad(true));
      Tensor fused = seq.apply(leaves, x, Mode.train().withState(s1));
      Tensor h = x;
      for (int i = 0; i < 4; i++) {
        Module m = seq.get(i);
        h = m.apply(leaves.sub(String.valueOf(i)), h, Mode.train().withState(s2.scoped(String.valueOf(i))));
      }
      assertThat(fused.toDoubleArray()).containsExactly(h.toDoubleArray());
      List<Tensor> gf = org.metagrad.Autograd.grad(fused.pow(2).sum(), leaves.values());
      List<Tensor> gl = org.metagrad.Autograd.grad(h.pow(2).sum(), leaves.values());
      for (int i = 0; i < gf.size(); i++) {
        assertThat(gf.get(i).toDoubleArray()).as("%s gradient %d", bn, i).containsExactly(gl.get(i).toDoubleArray());
      }
      Tensor ev = seq.apply(p, x, Mode.eval().withState(s1));
      assertThat(java.util.Arrays.stream(ev.toDoubleArray()).min().orElseThrow()).as("%s eval min (ReLU applied)", bn)
          .isGreaterThanOrEqualTo(0.0);
    }
  }

  /**
   * Tasks of a meta-batch update shared running statistics from parallel threads. The moving average depends on
   * the order of the updates, so they must land in task order: item i waits longer the smaller i is, so that
   * with several workers the later items finish first.
   */
  @Test
  void runningStatisticsUpdatedFromParallelTasksHaveTheSameBitsForAnyWorkerCount() {
    for (BnMode mode : new BnMode[] {BnMode.RUNNING_STATS, BnMode.PER_STEP}) {
      BatchNorm2d bn = new BatchNorm2d(3, mode);
      Params p = bn.init(new Rng(1), DType.FLOAT32);
      int tasks = 6;
      List<Tensor> xs = new java.util.ArrayList<>();
      for (int i = 0; i < tasks; i++) {
        xs.add(Tensor.randn(new Rng(100 + i), DType.FLOAT32, 4, 3, 5, 5).mul(1 + i).add(i));
      }
      java.util.Map<String, Tensor> first = null;
      for (int workers : new int[] {1, 2, 3, 6}) {
        State st = bn.newState(DType.FLOAT32);
        org.metagrad.TaskParallel.map(workers, java.util.stream.IntStream.range(0, tasks).boxed().toList(), i -> {
          try {
            Thread.sleep(15L * (tasks - i));
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
          for (int step = 0; step < 2; step++) {
            bn.apply(p, xs.get(i), Mode.train().withState(st).withStep(step));
          }
          return i;
        });
        java.util.Map<String, Tensor> snap = st.snapshot();
        if (first == null) {
          first = snap;
          assertThat(snap.get(mode == BnMode.PER_STEP ? "num_batches_tracked.step1" : "num_batches_tracked").item())
              .isEqualTo(mode == BnMode.PER_STEP ? tasks : 2.0 * tasks);
          continue;
        }
        assertThat(snap.keySet()).isEqualTo(first.keySet());
        for (String k : first.keySet()) {
          assertThat(snap.get(k).toDoubleArray()).as("%s %s with %d workers", mode, k, workers)
              .containsExactly(first.get(k).toDoubleArray());
        }
      }
    }
  }
}
