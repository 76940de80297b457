package org.metagrad.meta.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinePlotTest {
  @Test
  void ticksAreRoundValuesInsideTheRange() {
    assertThat(LinePlot.ticks(1, 1000)).containsExactly(200, 200, 400, 600, 800, 1000);
    double[] acc = LinePlot.ticks(0.27, 0.97);
    assertThat(acc[0]).isEqualTo(0.1, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(acc).hasSize(8);
    assertThat(acc[1]).isEqualTo(0.3, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(acc[7]).isEqualTo(0.9, org.assertj.core.data.Offset.offset(1e-12));
    double[] sym = LinePlot.ticks(-5, 5);
    assertThat(sym).contains(0.0);
  }

  @Test
  void labelsUseTheDecimalsTheStepNeeds() {
    assertThat(LinePlot.fmt(400, 200)).isEqualTo("400");
    assertThat(LinePlot.fmt(0.3, 0.1)).isEqualTo("0.3");
    assertThat(LinePlot.fmt(0.25, 0.05)).isEqualTo("0.25");
    assertThat(LinePlot.fmt(2e-5, 1e-5)).isEqualTo("2.0e-05");
  }

  @Test
  void writesAPngAndRejectsMismatchedSeries(@TempDir Path dir) throws Exception {
    double[] x = new double[1000];
    double[] y = new double[1000];
    for (int i = 0; i < x.length; i++) {
      x[i] = i + 1;
      y[i] = 0.97 - 0.7 * Math.exp(-i / 150.0);
    }
    Path png = dir.resolve("curve.png");
    new LinePlot("accuracy", "iteration", "accuracy").line("train", x, y)
        .points("validation", new double[] {250, 500, 750, 1000}, new double[] {0.86, 0.9, 0.91, 0.91}).write(png);
    BufferedImage img = ImageIO.read(png.toFile());
    assertThat(img.getWidth()).isEqualTo(800);
    assertThat(img.getHeight()).isEqualTo(500);
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("curve.png");
    }
    assertThatThrownBy(() -> new LinePlot("t", "x", "y").line("bad", new double[2], new double[3]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'bad' has 2 x and 3 y values");
  }
}
