package org.metagrad.meta.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.MetaStep;
import org.metagrad.nn.Params;
import org.metagrad.nn.io.Checkpoints;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.LrSchedule;
import org.metagrad.nn.optim.OptimizerState;

/** Issue 28: the trainer stops on non-finite values, and resumes only from the complete state it saved. */
class TrainerRobustnessTest {

  private static MetaTrainer trainer(MetaTrainer.Objective objective, double lr, int iterations, Path dir) {
    MetaTrainer.Options o = MetaTrainer.Options.of(iterations, 2).validateEvery(1).checkpointEvery(2).outDir(dir);
    return new MetaTrainer(objective, Adam.of(lr), LrSchedule.constant(lr), o);
  }

  /** The fixture's objective, replaced from item 8 (iteration 5 of meta-batches of 2) by {@code bad}. */
  private static MetaTrainer.Objective badFromIteration5(MetaTrainer.Objective bad) {
    MetaTrainer.Objective good = LinearTasks.objective();
    return (p, i) -> i >= 8 ? bad.loss(p, i) : good.loss(p, i);
  }

  /** Every floating-point value of a checkpoint is finite and it holds the given iteration. */
  private static void assertFiniteCheckpointAt(Path file, long iteration) throws Exception {
    Checkpoints.Loaded c = Checkpoints.load(file, Checkpoints.LoadOptions.allowingNonFinite());
    assertThat(c.metadata()).containsEntry("iteration", Long.toString(iteration));
    for (Tensor t : c.params().values()) {
      for (double v : t.toDoubleArray()) {
        assertThat(Double.isFinite(v)).as("parameter value in " + file).isTrue();
      }
    }
    for (Tensor t : c.optimizer() == null ? List.<Tensor>of() : c.optimizer().buffers().values()) {
      for (double v : t.toDoubleArray()) {
        assertThat(Double.isFinite(v)).as("optimizer value in " + file).isTrue();
      }
    }
  }

  private static void assertDivergedAtIteration5(Path dir, Throwable e, String what) throws Exception {
    assertThat(e).isInstanceOf(TrainingDivergedException.class);
    assertThat(e.getMessage()).contains("diverged at iteration 5").contains(what)
        .contains(dir.resolve(MetaTrainer.LAST).toString()).contains("iteration 4");
    assertThat(((TrainingDivergedException) e).lastGoodIteration()).isEqualTo(4);
    assertFiniteCheckpointAt(dir.resolve(MetaTrainer.LAST), 4);
    assertFiniteCheckpointAt(dir.resolve(MetaTrainer.BEST), 4);
    // The log is exactly the checkpoint's rows.
    assertThat(MetricsFiles.readCsv(dir.resolve(MetaTrainer.METRICS_CSV), Long.MAX_VALUE))
        .extracting(MetaTrainer.Row::iteration).containsExactly(1L, 2L, 3L, 4L);
  }

  @Test
  void anInfiniteLossStopsTrainingNamingTheIteration(@TempDir Path tmp) throws Exception {
    // (1e30 w)^2 overflows float32: the loss is +Infinity.
    MetaTrainer.Objective inf = (p, i) -> new MetaStep(p.get("w").mul(1e30).square().sum(), Double.NaN);
    Path dir = tmp.resolve("loss");
    Throwable e = org.assertj.core.api.Assertions.catchThrowable(
        () -> trainer(badFromIteration5(inf), 0.05, 10, dir).train(LinearTasks.init(), LinearTasks.validator(), null,
            null));
    assertDivergedAtIteration5(dir, e, "the meta-loss is Infinity");
  }

  @Test
  void aNonFiniteGradientStopsTrainingEvenWhenTheLossIsFinite(@TempDir Path tmp) throws Exception {
    // sqrt(w - w) is 0 with a finite loss, but its derivative at 0 is infinite.
    MetaTrainer.Objective inf = (p, i) -> new MetaStep(LinearTasks.loss(p, i).add(p.get("w").sub(p.get("w")).sqrt()
        .sum()), Double.NaN);
    Path dir = tmp.resolve("grad");
    Throwable e = org.assertj.core.api.Assertions.catchThrowable(
        () -> trainer(badFromIteration5(inf), 0.05, 10, dir).train(LinearTasks.init(), LinearTasks.validator(), null,
            null));
    assertDivergedAtIteration5(dir, e, "the meta-gradient of 'w'");
  }

  @Test
  void anOverflowingUpdateStopsTrainingAndIsNeverSaved(@TempDir Path tmp) throws Exception {
    // Adam moves each weight by about lr / (1 - beta1) = 1e39 at the first step: past float32's range.
    Path dir = tmp.resolve("update");
    Throwable e = org.assertj.core.api.Assertions.catchThrowable(
        () -> trainer(LinearTasks.objective(), 1e38, 10, dir).train(LinearTasks.init(), LinearTasks.validator(), null,
            null));
    assertThat(e).isInstanceOf(TrainingDivergedException.class);
    assertThat(e.getMessage()).contains("diverged at iteration 1").contains("updated parameter")
        .contains("no checkpoint was written");
    assertThat(dir.resolve(MetaTrainer.LAST)).doesNotExist();
    assertThat(dir.resolve(MetaTrainer.BEST)).doesNotExist();
  }

  @Test
  void divergenceBetweenCheckpointsSavesTheLastFiniteIteration(@TempDir Path tmp) throws Exception {
    // Checkpoints every 4: iteration 5 diverges, so the state of iteration 4 is already on disk; with
    // divergence at 7 the trainer writes iteration 6's state (not yet checkpointed) before stopping.
    MetaTrainer.Objective inf = (p, i) -> new MetaStep(p.get("w").mul(1e30).square().sum(), Double.NaN);
    MetaTrainer.Objective good = LinearTasks.objective();
    MetaTrainer.Options o = MetaTrainer.Options.of(10, 2).validateEvery(1).checkpointEvery(4)
        .outDir(tmp.resolve("d"));
    Throwable e = org.assertj.core.api.Assertions.catchThrowable(() -> new MetaTrainer(
        (p, i) -> i >= 12 ? inf.loss(p, i) : good.loss(p, i), Adam.of(0.05), LrSchedule.constant(0.05), o)
        .train(LinearTasks.init(), LinearTasks.validator(), null, null));
    assertThat(e).hasMessageContaining("diverged at iteration 7").hasMessageContaining("iteration 6");
    assertFiniteCheckpointAt(tmp.resolve("d").resolve(MetaTrainer.LAST), 6);
    assertThat(MetricsFiles.readCsv(tmp.resolve("d").resolve(MetaTrainer.METRICS_CSV), Long.MAX_VALUE)).hasSize(6);
    // And it resumes from there exactly like a run that never stopped (with the good objective).
    MetaTrainer.Result resumed = LinearTasks.trainer(10, tmp.resolve("d")).train(LinearTasks.init(),
        LinearTasks.validator(), tmp.resolve("d").resolve(MetaTrainer.LAST), null);
    assertThat(resumed.history()).hasSize(10);
  }

  /** A finished 4-of-8-iteration run of the fixture in {@code dir}; returns its last checkpoint. */
  private static Checkpoints.Loaded halfRun(Path dir) throws Exception {
    LinearTasks.trainer(4, dir).train(LinearTasks.init(), LinearTasks.validator(), null, null);
    return Checkpoints.load(dir.resolve(MetaTrainer.LAST));
  }

  private static void resave(Path dir, Checkpoints.Loaded c, OptimizerState state) throws Exception {
    Checkpoints.save(dir.resolve(MetaTrainer.LAST), c.params(), null, state, c.metadata());
  }

  private static void assertResumeRefused(Path dir, String... message) {
    assertThatThrownBy(() -> LinearTasks.trainer(8, dir).train(LinearTasks.init(), LinearTasks.validator(),
        dir.resolve(MetaTrainer.LAST), null)).hasMessageContainingAll(message)
        .hasMessageContaining(dir.resolve(MetaTrainer.LAST).toString());
  }

  @Test
  void resumeRefusesACheckpointWithoutOptimizerState(@TempDir Path tmp) throws Exception {
    Checkpoints.Loaded c = halfRun(tmp);
    resave(tmp, c, null);
    assertResumeRefused(tmp, "no optimizer state");
  }

  @Test
  void resumeRefusesAMissingMoment(@TempDir Path tmp) throws Exception {
    Checkpoints.Loaded c = halfRun(tmp);
    Map<String, Tensor> b = new LinkedHashMap<>(c.optimizer().buffers());
    b.remove("exp_avg_sq.w");
    resave(tmp, c, new OptimizerState(c.optimizer().step(), b));
    assertResumeRefused(tmp, "optimizer.exp_avg_sq.w");
  }

  @Test
  void resumeRefusesABroadcastableButWrongMomentShape(@TempDir Path tmp) throws Exception {
    Checkpoints.Loaded c = halfRun(tmp);
    Map<String, Tensor> b = new LinkedHashMap<>(c.optimizer().buffers());
    b.put("exp_avg.w", Tensor.of(new float[] {0.1f}, 1, 1));   // broadcasts over [4, 1]
    resave(tmp, c, new OptimizerState(c.optimizer().step(), b));
    assertResumeRefused(tmp, "optimizer.exp_avg.w", "[1, 1]", "[4, 1]");
  }

  @Test
  void resumeRefusesAStepThatIsNotTheIteration(@TempDir Path tmp) throws Exception {
    Checkpoints.Loaded c = halfRun(tmp);
    resave(tmp, c, new OptimizerState(1L << 62, c.optimizer().buffers()));
    assertResumeRefused(tmp, "step count " + (1L << 62), "iteration 4");
  }

  @Test
  void resumeRefusesNonFiniteMoments(@TempDir Path tmp) throws Exception {
    Checkpoints.Loaded c = halfRun(tmp);
    Map<String, Tensor> b = new LinkedHashMap<>(c.optimizer().buffers());
    b.put("exp_avg.b", Tensor.of(new float[] {Float.NaN}, 1));
    resave(tmp, c, new OptimizerState(c.optimizer().step(), b));
    assertResumeRefused(tmp, "optimizer.exp_avg.b", "NaN", "index 0");
  }

  @Test
  void resumeRefusesALogThatLostTheCheckpointsRows(@TempDir Path tmp) throws Exception {
    // What a kill between renaming last.safetensors and writing metrics.csv left before the fix: the
    // checkpoint at iteration 4, the log at iteration 2. Resuming then lost rows 3 and 4 for good.
    halfRun(tmp);
    List<MetaTrainer.Row> rows = MetricsFiles.readCsv(tmp.resolve(MetaTrainer.METRICS_CSV), 2);
    MetricsFiles.writeCsv(tmp.resolve(MetaTrainer.METRICS_CSV), rows);
    assertThatThrownBy(() -> LinearTasks.trainer(8, tmp).train(LinearTasks.init(), LinearTasks.validator(),
        tmp.resolve(MetaTrainer.LAST), null)).hasMessageContaining(tmp.resolve(MetaTrainer.METRICS_CSV).toString())
        .hasMessageContaining("lost rows");
  }

  @Test
  void resumeWithBestDeletedNeverReportsAMissingBest(@TempDir Path tmp) throws Exception {
    // An objective that drives w away from the validator's optimum: the best validation is iteration 1.
    MetaTrainer.Objective away = (p, i) -> new MetaStep(p.get("w").sum().neg(), Double.NaN);
    MetaTrainer.Validator val = p -> -p.get("w").square().sum().item();
    MetaTrainer.Options o = MetaTrainer.Options.of(6, 1).validateEvery(1).checkpointEvery(2).outDir(tmp);
    MetaTrainer first = new MetaTrainer(away, Adam.of(0.1), LrSchedule.constant(0.1),
        MetaTrainer.Options.of(4, 1).validateEvery(1).checkpointEvery(2).outDir(tmp));
    Params init = Params.of("w", Tensor.of(new float[] {0.05f, -0.05f}, 2));
    MetaTrainer.Result r4 = first.train(init, val, null, null);
    assertThat(r4.bestIteration()).isEqualTo(1);
    Files.delete(tmp.resolve(MetaTrainer.BEST));

    List<String> notices = new java.util.ArrayList<>();
    MetaTrainer.Result r = new MetaTrainer(away, Adam.of(0.1), LrSchedule.constant(0.1), o).train(init, val,
        tmp.resolve(MetaTrainer.LAST), new MetaTrainer.Listener() {
          @Override
          public void iteration(MetaTrainer.Row row, MetaTrainer.Options options) {}

          @Override
          public void notice(String message) {
            notices.add(message);
          }
        });
    // Iteration 1's parameters are gone: the best is chosen again among iterations 5 and 6, and is on disk.
    assertThat(notices).singleElement().asString().contains("best.safetensors is missing")
        .contains("after iteration 4");
    assertThat(r.bestIteration()).isEqualTo(5);
    Checkpoints.Loaded best = Checkpoints.load(tmp.resolve(MetaTrainer.BEST));
    assertThat(best.metadata()).containsEntry("iteration", "5");
    assertThat(best.params().get("w").toFloatArray()).containsExactly(r.best().get("w").toFloatArray());
    assertThat(Checkpoints.load(tmp.resolve(MetaTrainer.LAST)).metadata()).containsEntry("best_iteration", "5");
  }
}
