package org.metagrad.meta.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.Maml;
import org.metagrad.meta.algo.MetaLearner;
import org.metagrad.meta.algo.Order;
import org.metagrad.meta.algo.ProtoNet;
import org.metagrad.meta.eval.Evaluator;
import org.metagrad.meta.task.RegressionTask;
import org.metagrad.nn.Backbones;
import org.metagrad.nn.BnMode;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;
import org.metagrad.nn.io.Checkpoints;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.LrSchedule;

class MetaTrainerTest {

  @Test
  void trainingTimeAddsUpTheSessionsOfAResumedLog() {
    // seconds restart at each resume: sessions of 3.0 s (rows 1-2), 2.5 s (3-4) and 1.0 s (5)
    List<MetaTrainer.Row> h = List.of(new MetaTrainer.Row(1, 1, 0.5, 1e-3, Double.NaN, 1.0),
        new MetaTrainer.Row(2, 1, 0.5, 1e-3, 0.6, 3.0), new MetaTrainer.Row(3, 1, 0.5, 1e-3, Double.NaN, 0.5),
        new MetaTrainer.Row(4, 1, 0.5, 1e-3, 0.7, 2.5), new MetaTrainer.Row(5, 1, 0.5, 1e-3, Double.NaN, 1.0));
    assertThat(Experiment.secondsOverSessions(h)).isEqualTo(6.5);
    assertThat(Experiment.secondsOverSessions(h.subList(0, 2))).isEqualTo(3.0);
    assertThat(Experiment.secondsOverSessions(List.of())).isZero();
  }

  /** A small conv ProtoNet (BatchNorm with batch statistics) on synthetic 3-way tasks. */
  private static final Network CONV = Backbones.conv4(1, 4, 16, 0, BnMode.BATCH_STATS);
  private static final MetaLearner PROTO = ProtoNet.euclidean(CONV);
  private static final TaskSource PROTO_TASKS = new SyntheticTasks(3, 2, 2, 16, 5);

  /** Second-order MAML on sine regression. */
  private static final Network SINE = Backbones.sineMlp();
  private static final MetaLearner MAML = new Maml(SINE, 1, 0.01, Order.SECOND);
  private static final TaskSource SINE_TASKS = i -> RegressionTask.sine(new Rng(1000 + i), 5, 5, DType.FLOAT32);

  private static Params protoInit() {
    return CONV.init(new Rng(3), DType.FLOAT32);
  }

  private static MetaTrainer trainer(MetaLearner l, TaskSource tasks, MetaTrainer.Options o) {
    // A cosine schedule makes the step count part of what must be restored exactly.
    return new MetaTrainer(l, tasks, Adam.of(3e-3), LrSchedule.cosine(3e-3, 1e-4, o.iterations(), 2), o);
  }

  private static MetaTrainer.Validator protoValidator() {
    return p -> Evaluator.evaluate(PROTO, p, new SyntheticTasks(3, 1, 3, 16, 99), 3, 1, null).mean();
  }

  private static void assertSameBits(Params a, Params b) {
    assertThat(a.names()).isEqualTo(b.names());
    for (String n : a.names()) {
      assertThat(a.get(n).toFloatArray()).as(n).containsExactly(b.get(n).toFloatArray());
    }
  }

  @Test
  void interruptedAndResumedRunEndsWithTheSameBitsAsAnUninterruptedOne(@TempDir Path tmp) throws Exception {
    MetaTrainer.Options base = MetaTrainer.Options.of(8, 2).validateEvery(2).checkpointEvery(4);
    MetaTrainer.Result full = trainer(PROTO, PROTO_TASKS, base.outDir(tmp.resolve("full")))
        .train(protoInit(), protoValidator(), null, null);

    Path dir = tmp.resolve("interrupted");
    MetaTrainer t = trainer(PROTO, PROTO_TASKS, base.outDir(dir));
    assertThatThrownBy(() -> t.train(protoInit(), protoValidator(), null, new MetaTrainer.Listener() {
      @Override
      public void iteration(MetaTrainer.Row row, MetaTrainer.Options options) {
        if (row.iteration() == 6) {
          throw new IllegalStateException("simulated crash at iteration 6");
        }
      }
    })).hasMessageContaining("simulated crash");
    Checkpoints.Loaded mid = Checkpoints.load(dir.resolve(MetaTrainer.LAST));
    assertThat(mid.metadata()).containsEntry("iteration", "4");
    assertThat(mid.optimizer().step()).isEqualTo(4);

    MetaTrainer.Result resumed = trainer(PROTO, PROTO_TASKS, base.outDir(dir))
        .train(protoInit(), protoValidator(), dir.resolve(MetaTrainer.LAST), null);

    assertSameBits(resumed.last(), full.last());
    assertSameBits(resumed.best(), full.best());
    assertThat(resumed.bestScore()).isEqualTo(full.bestScore());
    assertThat(resumed.bestIteration()).isEqualTo(full.bestIteration());
    assertThat(resumed.optimizerState().step()).isEqualTo(8);
    for (Map.Entry<String, Tensor> e : full.optimizerState().buffers().entrySet()) {
      assertThat(resumed.optimizerState().get(e.getKey()).toFloatArray()).as(e.getKey())
          .containsExactly(e.getValue().toFloatArray());
    }
    // The log holds every iteration exactly once, with the same losses.
    assertThat(resumed.history()).extracting(MetaTrainer.Row::iteration).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
    assertThat(resumed.history()).extracting(MetaTrainer.Row::loss)
        .containsExactlyElementsOf(full.history().stream().map(MetaTrainer.Row::loss).toList());
    assertThat(MetricsFiles.readCsv(dir.resolve(MetaTrainer.METRICS_CSV), Long.MAX_VALUE)).hasSize(8);
    // The checkpoint on disk holds the final parameters bit for bit.
    assertSameBits(Checkpoints.load(dir.resolve(MetaTrainer.LAST)).paramsLike(protoInit()), full.last());
    assertSameBits(Checkpoints.load(dir.resolve(MetaTrainer.BEST)).paramsLike(protoInit()), full.best());
  }

  @Test
  void distortedEpisodesResumeExactlyToo(@TempDir Path tmp) {
    // Training images warped by random affine maps (seeded per episode): a resumed run must redraw the same maps.
    java.util.List<org.metagrad.meta.data.CharacterId> ids = new java.util.ArrayList<>();
    java.util.List<float[]> px = new java.util.ArrayList<>();
    Rng rng = new Rng(8);
    for (int c = 0; c < 6; c++) {
      ids.add(new org.metagrad.meta.data.CharacterId(org.metagrad.meta.data.OmniglotSet.BACKGROUND, "A",
          String.format("character%02d", c + 1)));
      float[] a = new float[4 * 16 * 16];
      for (int i = 0; i < a.length; i++) {
        a[i] = rng.nextDouble() < 0.3 ? 1f : 0f;
      }
      px.add(a);
    }
    TaskSource tasks = TaskSource.of(new org.metagrad.meta.data.EpisodeSampler(
        org.metagrad.meta.data.ImageClasses.of(16, ids, px), org.metagrad.meta.data.TaskSpec.of(3, 1, 2),
        org.metagrad.meta.data.RotationMode.NONE, 5).withDistortion(org.metagrad.meta.data.Distortion.AFFINE));
    MetaTrainer.Options o = MetaTrainer.Options.of(6, 2).checkpointEvery(3);
    MetaTrainer.Result full = trainer(PROTO, tasks, o.outDir(tmp.resolve("a"))).train(protoInit(), null, null, null);
    Path dir = tmp.resolve("b");
    assertThatThrownBy(() -> trainer(PROTO, tasks, o.outDir(dir)).train(protoInit(), null, null, (row, opt) -> {
      if (row.iteration() == 5) {
        throw new IllegalStateException("simulated crash at iteration 5");
      }
    })).hasMessageContaining("simulated crash");
    MetaTrainer.Result resumed = trainer(PROTO, tasks, o.outDir(dir))
        .train(protoInit(), null, dir.resolve(MetaTrainer.LAST), null);
    assertSameBits(resumed.last(), full.last());
    // ... and the distortion is not a no-op: undistorted episodes train to other bits.
    TaskSource plain = TaskSource.of(new org.metagrad.meta.data.EpisodeSampler(
        org.metagrad.meta.data.ImageClasses.of(16, ids, px), org.metagrad.meta.data.TaskSpec.of(3, 1, 2),
        org.metagrad.meta.data.RotationMode.NONE, 5));
    MetaTrainer.Result other = trainer(PROTO, plain, o.outDir(tmp.resolve("c"))).train(protoInit(), null, null, null);
    assertThat(other.last().get(other.last().names().get(0)).toFloatArray())
        .isNotEqualTo(full.last().get(full.last().names().get(0)).toFloatArray());
  }

  @Test
  void secondOrderMamlResumesExactlyToo(@TempDir Path tmp) {
    Params init = SINE.init(new Rng(1), DType.FLOAT32);
    MetaTrainer.Options o = MetaTrainer.Options.of(6, 3).checkpointEvery(3);
    MetaTrainer.Result full = trainer(MAML, SINE_TASKS, o.outDir(tmp.resolve("a"))).train(init, null, null, null);
    Path dir = tmp.resolve("b");
    assertThatThrownBy(() -> trainer(MAML, SINE_TASKS, o.outDir(dir)).train(init, null, null, (row, opt) -> {
      if (row.iteration() == 5) {
        throw new IllegalStateException("simulated crash at iteration 5");
      }
    })).hasMessageContaining("simulated crash");
    MetaTrainer.Result resumed = trainer(MAML, SINE_TASKS, o.outDir(dir))
        .train(init, null, dir.resolve(MetaTrainer.LAST), null);
    assertSameBits(resumed.last(), full.last());
    assertThat(resumed.history()).hasSize(6);
    assertThat(Double.isNaN(resumed.bestScore())).isTrue();
  }

  @Test
  void oneAndTwoWorkerThreadsGiveTheSameBits() {
    MetaTrainer.Options o = MetaTrainer.Options.of(4, 4);
    MetaTrainer.Result one = trainer(PROTO, PROTO_TASKS, o.threads(1)).train(protoInit(), null, null, null);
    MetaTrainer.Result two = trainer(PROTO, PROTO_TASKS, o.threads(2)).train(protoInit(), null, null, null);
    assertSameBits(two.last(), one.last());
    assertThat(two.history()).extracting(MetaTrainer.Row::loss)
        .containsExactlyElementsOf(one.history().stream().map(MetaTrainer.Row::loss).toList());
    Params init = SINE.init(new Rng(2), DType.FLOAT32);
    MetaTrainer.Result s1 = trainer(MAML, SINE_TASKS, MetaTrainer.Options.of(3, 4).threads(1)).train(init, null, null,
        null);
    MetaTrainer.Result s2 = trainer(MAML, SINE_TASKS, MetaTrainer.Options.of(3, 4).threads(2)).train(init, null, null,
        null);
    assertSameBits(s2.last(), s1.last());
  }

  @Test
  void gradientsComputedElsewhereInAnyOrderGiveTheSameBitsAndAreChecked() {
    // A stand-in for a cluster: each item's taskGradient of the same objective, computed last item first.
    MetaTrainer.Options o = MetaTrainer.Options.of(3, 4);
    MetaTrainer local = trainer(PROTO, PROTO_TASKS, o);
    MetaTrainer.Objective objective = MetaTrainer.Objective.of(PROTO, PROTO_TASKS);
    MetaTrainer.Result ref = local.train(protoInit(), null, null, null);
    MetaTrainer.Result remote = local.withGradients((p, indices) -> {
      MetaTrainer.TaskGradient[] out = new MetaTrainer.TaskGradient[indices.length];
      for (int k = indices.length - 1; k >= 0; k--) {
        out[k] = MetaTrainer.taskGradient(objective, p, indices[k]);
      }
      return List.of(out);
    }).train(protoInit(), null, null, null);
    assertSameBits(remote.last(), ref.last());
    assertThat(MetaTrainer.batchIndices(3, 4)).containsExactly(8, 9, 10, 11);
    // A computation returning the wrong items is an error naming the iteration, not a silent other trajectory.
    assertThatThrownBy(() -> local.withGradients((p, indices) -> List.of(MetaTrainer.taskGradient(objective, p, 0)))
        .train(protoInit(), null, null, null)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("1 results for 4 items of iteration 1");
    assertThatThrownBy(() -> local.withGradients((p, indices) -> {
      List<MetaTrainer.TaskGradient> l = new java.util.ArrayList<>();
      for (long i : indices) {
        l.add(MetaTrainer.taskGradient(objective, p, i + 1));
      }
      return l;
    }).train(protoInit(), null, null, null)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("expected item 0");
  }

  @Test
  void trainingLowersTheLossAndTracksTheBestValidation() {
    Params init = SINE.init(new Rng(1), DType.FLOAT32);
    TaskSource valTasks = i -> RegressionTask.sine(new Rng(5000 + i), 5, 20, DType.FLOAT32);
    MetaTrainer.Validator negLoss = p -> {
      double s = 0;
      for (int i = 0; i < 8; i++) {
        s += MAML.evaluateLoss(p, valTasks.task(i));
      }
      return -s / 8;
    };
    MetaTrainer.Result r = new MetaTrainer(MAML, SINE_TASKS, Adam.of(1e-2), LrSchedule.constant(1e-2),
        MetaTrainer.Options.of(60, 4).validateEvery(20)).train(init, negLoss, null, null);
    List<MetaTrainer.Row> h = r.history();
    double first = h.subList(0, 10).stream().mapToDouble(MetaTrainer.Row::loss).average().orElseThrow();
    double last = h.subList(50, 60).stream().mapToDouble(MetaTrainer.Row::loss).average().orElseThrow();
    assertThat(last).isLessThan(first);
    assertThat(h.stream().filter(row -> !Double.isNaN(row.valAccuracy()))).hasSize(3);
    double bestSeen = h.stream().mapToDouble(MetaTrainer.Row::valAccuracy).filter(v -> !Double.isNaN(v)).max()
        .orElseThrow();
    assertThat(r.bestScore()).isEqualTo(bestSeen);
    assertThat(r.bestIteration()).isIn(20L, 40L, 60L);
    assertThat(negLoss.score(r.best())).isEqualTo(r.bestScore());
  }

  @Test
  void rejectsBadOptionsAndForeignCheckpoints(@TempDir Path tmp) throws Exception {
    assertThatThrownBy(() -> MetaTrainer.Options.of(0, 1)).hasMessageContaining("iterations must be >= 1");
    assertThatThrownBy(() -> MetaTrainer.Options.of(5, 0)).hasMessageContaining("meta-batch must be >= 1");
    assertThatThrownBy(() -> MetaTrainer.Options.of(5, 1).threads(0)).hasMessageContaining("threads");
    Path dir = tmp.resolve("r");
    trainer(PROTO, PROTO_TASKS, MetaTrainer.Options.of(4, 1).outDir(dir)).train(protoInit(), null, null, null);
    assertThatThrownBy(() -> trainer(PROTO, PROTO_TASKS, MetaTrainer.Options.of(3, 1))
        .train(protoInit(), null, dir.resolve(MetaTrainer.LAST), null)).hasMessageContaining("past the requested");
    Path foreign = tmp.resolve("foreign.safetensors");
    Checkpoints.save(foreign, protoInit(), null, null, Map.of());
    assertThatThrownBy(() -> trainer(PROTO, PROTO_TASKS, MetaTrainer.Options.of(3, 1))
        .train(protoInit(), null, foreign, null)).hasMessageContaining("not written by MetaTrainer");
    Params other = Backbones.conv4(1, 8, 16, 0, BnMode.BATCH_STATS).init(new Rng(1), DType.FLOAT32);
    assertThatThrownBy(() -> trainer(PROTO, PROTO_TASKS, MetaTrainer.Options.of(8, 1))
        .train(other, null, dir.resolve(MetaTrainer.LAST), null)).hasMessageContaining("shape");
    assertThat(Files.exists(dir.resolve(MetaTrainer.METRICS_CSV))).isTrue();
  }
}
