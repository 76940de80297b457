package org.metagrad.meta.sine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.DType;
import org.metagrad.GradCheck;
import org.metagrad.Rng;
import org.metagrad.meta.cli.Main;
import org.metagrad.meta.task.RegressionTask;
import org.metagrad.meta.task.SineWave;
import org.metagrad.nn.Backbones;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;

class SineDemoTest {

  @Test
  void regressionTaskSineIsTheSingleSineSource() {
    RegressionTask a = RegressionTask.sine(new Rng(4), 3, 2, DType.FLOAT64);
    Rng r = new Rng(4);
    SineWave w = SineWave.sample(r);
    RegressionTask b = w.task(r, 3, 2, DType.FLOAT64);
    assertThat(a.supportX().toDoubleArray()).containsExactly(b.supportX().toDoubleArray());
    assertThat(a.queryY().toDoubleArray()).containsExactly(b.queryY().toDoubleArray());
    assertThat(w.amplitude()).isBetween(SineWave.A_MIN, SineWave.A_MAX);
    assertThat(w.phase()).isBetween(0.0, Math.PI);
    double x = b.supportX().toDoubleArray()[0];
    assertThat(b.supportY().toDoubleArray()[0]).isEqualTo(w.amplitude() * Math.sin(x - w.phase()));
  }

  @Test
  void mamlLowersTheSineLossAndItsMetaGradientMatchesFiniteDifferences() {
    Network net = Backbones.sineMlp();
    SineMaml m = new SineMaml(net, new SineMaml.Config(150, 4, 10, 10, 1, 0.01, 3e-3, 1));
    Params init = net.init(new Rng(1), DType.FLOAT32);
    Params learned = m.train(init, null);
    Rng rng = new Rng(77);
    double before = 0;
    double after = 0;
    for (int i = 0; i < 20; i++) {
      RegressionTask t = RegressionTask.sine(rng, 10, 50, DType.FLOAT32);
      before += m.adaptedQueryLoss(init, t, 1).item();
      after += m.adaptedQueryLoss(learned, t, 1).item();
    }
    assertThat(after).isLessThan(before);
    GradCheck.Report rep = m.checkMetaGradient(learned, RegressionTask.sine(new Rng(5), 10, 10, DType.FLOAT32));
    assertThat(rep.passed()).as(rep.toString()).isTrue();
    // Deterministic: the same config trains the same bits.
    assertThat(m.train(init, null).get("head.weight").toFloatArray())
        .containsExactly(learned.get("head.weight").toFloatArray());
  }

  @Test
  void demoWritesItsPlotsAndMetrics(@TempDir Path tmp) throws Exception {
    PrintStream old = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int status;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      status = Main.run("sine", "--iterations", "40", "--eval-tasks", "5", "--out", tmp.toString());
    } finally {
      System.setOut(old);
    }
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(status).as(text).isZero();
    assertThat(text).contains("before adaptation").contains("after 1 step").contains("after 10 steps")
        .contains("worst relative error").contains("-> OK");
    assertThat(tmp.resolve("sine-fit.png")).exists();
    assertThat(tmp.resolve("learning-curve.png")).exists();
    assertThat(Files.readString(tmp.resolve("metrics.json"))).contains("\"mse_before\"").contains("\"mse_after_10\"")
        .contains("\"gradcheck_passed\": true");
  }
}
