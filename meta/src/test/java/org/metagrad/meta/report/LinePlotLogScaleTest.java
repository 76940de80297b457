package org.metagrad.meta.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link LinePlot#logY()}: loss curves over decades, non-positive values left out. */
class LinePlotLogScaleTest {

  @Test
  void logScaleDrawsDecadesAndSkipsNonPositiveValues(@TempDir Path dir) throws Exception {
    double[] x = {0, 1, 2, 3, 4};
    double[] y = {100, 10, 1, 0.01, 0};
    Path lin = dir.resolve("lin.png");
    Path log = dir.resolve("log.png");
    new LinePlot("t", "step", "loss").line("a", x, y).write(lin);
    new LinePlot("t", "step", "loss").line("a", x, y).logY().write(log);
    BufferedImage a = ImageIO.read(lin.toFile());
    BufferedImage b = ImageIO.read(log.toFile());
    assertThat(b.getWidth()).isEqualTo(800);
    // On a linear axis the last three points sit on the bottom; on the log axis the curve is a straight-ish line
    // through the middle of the plot: the two images differ.
    int differing = 0;
    for (int i = 0; i < a.getWidth(); i += 4) {
      for (int j = 0; j < a.getHeight(); j += 4) {
        differing += a.getRGB(i, j) != b.getRGB(i, j) ? 1 : 0;
      }
    }
    assertThat(differing).isGreaterThan(100);
  }
}
