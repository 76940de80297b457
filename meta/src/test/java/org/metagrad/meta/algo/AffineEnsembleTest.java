package org.metagrad.meta.algo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.metagrad.DType;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.meta.task.RegressionTask;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

class AffineEnsembleTest {
  private static final DType D = DType.FLOAT64;
  private static final int S = 9;
  private final Fixtures.Embed embed = new Fixtures.Embed(S * S, 3);

  /** 3-way 2-shot 2-query task of 1 x 9 x 9 images. */
  private Task task(long seed) {
    return Fixtures.clusterTask(new Rng(seed), 3, 2, 2, new int[] {1, S, S}, D, 0.5);
  }

  /** A 1 x 1 x side x side image: a filled disc of the given radius (pixels) around the centre. */
  private static Tensor disc(int side, double radius) {
    double[] px = new double[side * side];
    double c = side / 2.0;
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        double dx = x + 0.5 - c;
        double dy = y + 0.5 - c;
        px[y * side + x] = dx * dx + dy * dy <= radius * radius ? 1 : 0;
      }
    }
    return Tensor.of(px, D, 1, 1, side, side);
  }

  private static double sum(Tensor t) {
    double s = 0;
    for (double v : t.toDoubleArray()) {
      s += v;
    }
    return s;
  }

  @Test
  void viewsAreRotationsOuterAndScalingsInnerWithTheIdentityAsIs() {
    assertThat(AffineEnsemble.maps(0, 0)).hasSize(1).containsOnlyNulls();
    assertThat(AffineEnsemble.maps(5, 0)).hasSize(3);
    assertThat(AffineEnsemble.maps(0, 0.1)).hasSize(3);
    List<double[]> maps = AffineEnsemble.maps(5, 0.1);
    assertThat(maps).hasSize(9);
    assertThat(maps.get(4)).isNull();
    double c = Math.cos(Math.toRadians(-5));
    double s = Math.sin(Math.toRadians(-5));
    assertThat(maps.get(0)).containsExactly(0.9 * c, -0.9 * s, 0.9 * s, 0.9 * c, 0, 0);
    assertThat(maps.get(5)).containsExactly(1.1, -0.0, 0.0, 1.1, 0, 0);
    Tensor x = Tensor.randn(new Rng(1), D, 2, 1, S, S);
    List<Tensor> views = AffineEnsemble.of(ProtoNet.euclidean(embed), 5, 0.1).viewsOf("input", x);
    assertThat(views.get(4)).isSameAs(x);
    for (int v = 0; v < 9; v++) {
      if (v == 4) {
        continue;
      }
      double[] want = new double[2 * S * S];
      org.metagrad.meta.data.Distortion.warp(x.toDoubleArray(), 0, S, maps.get(v), want, 0);
      org.metagrad.meta.data.Distortion.warp(x.toDoubleArray(), S * S, S, maps.get(v), want, S * S);
      assertThat(views.get(v).shape()).containsExactly(2, 1, S, S);
      assertThat(views.get(v).dtype()).isEqualTo(D);
      assertThat(views.get(v).toDoubleArray()).as("view %d", v).containsExactly(want);
    }
  }

  @Test
  void scalingGrowsAndShrinksTheDrawingAboutItsCentreAndRotationKeepsItsInk() {
    Tensor disc = disc(41, 10);
    List<Tensor> views = AffineEnsemble.of(ProtoNet.euclidean(new Fixtures.Embed(41 * 41, 3)), 20, 0.2)
        .viewsOf("input", disc);
    double ink = sum(disc);
    // scale 1 - s, 1, 1 + s at rotation -20 degrees: the disc's area goes with the scale squared
    assertThat(sum(views.get(0)) / ink).isCloseTo(0.64, Offset.offset(0.05));
    assertThat(sum(views.get(2)) / ink).isCloseTo(1.44, Offset.offset(0.05));
    // rotations of a centred disc leave it (nearly) as it is; the centre pixel stays ink, the corner background
    assertThat(sum(views.get(1)) / ink).isCloseTo(1.0, Offset.offset(0.02));
    assertThat(sum(views.get(7)) / ink).isCloseTo(1.0, Offset.offset(0.02));
    for (Tensor v : views) {
      double[] px = v.toDoubleArray();
      assertThat(px[20 * 41 + 20]).isEqualTo(1.0);
      assertThat(px[0]).isEqualTo(0.0);
    }
  }

  @Test
  void theRotationTurnsAnOffCentreDotAboutTheCentre() {
    // a dot 10 pixels right of the centre of a 41-pixel image, rotated by +30 degrees
    double[] px = new double[41 * 41];
    px[20 * 41 + 30] = 1;
    Tensor dot = Tensor.of(px, D, 1, 1, 41, 41);
    Tensor turned = AffineEnsemble.of(ProtoNet.euclidean(new Fixtures.Embed(41 * 41, 3)), 30, 0)
        .viewsOf("input", dot).get(2);
    double[] t = turned.toDoubleArray();
    double mx = 0;
    double my = 0;
    double m = 0;
    for (int y = 0; y < 41; y++) {
      for (int x = 0; x < 41; x++) {
        mx += t[y * 41 + x] * (x - 20);
        my += t[y * 41 + x] * (y - 20);
        m += t[y * 41 + x];
      }
    }
    // x' = cos x - sin y, y' = sin x + cos y (image rows grow downwards): (10, 0) -> (8.66, 5)
    assertThat(mx / m).isCloseTo(10 * Math.cos(Math.toRadians(30)), Offset.offset(0.3));
    assertThat(my / m).isCloseTo(10 * Math.sin(Math.toRadians(30)), Offset.offset(0.3));
  }

  @Test
  void noComponentIsTheWrappedLearnerExactly() {
    ProtoNet pn = ProtoNet.euclidean(embed);
    AffineEnsemble same = AffineEnsemble.of(pn, 0, 0);
    assertThat(same.views()).isEqualTo(1);
    Params p = embed.init(new Rng(2), D);
    Task t = task(3);
    assertThat(same.predict(same.adapt(p, t), t.queryX()).toDoubleArray())
        .containsExactly(pn.predict(pn.adapt(p, t), t.queryX()).toDoubleArray());
  }

  @Test
  void protoNetPrototypesAreMeansOverTheViewsAndLogitsMeansOverTheQuerysViews() {
    ProtoNet pn = ProtoNet.euclidean(embed);
    AffineEnsemble tta = AffineEnsemble.of(pn, 10, 0.15);
    Params p = embed.init(new Rng(4), D);
    Task t = task(5);
    Params adapted = tta.adapt(p, t);
    int n = t.supportY().length;
    double[][] protos = new double[3][3];
    int[] count = new int[3];
    for (double[] m : AffineEnsemble.maps(10, 0.15)) {
      double[] v = warpAll(t.supportX().toDoubleArray(), n, m);
      double[] z = embed.apply(p, Tensor.of(v, D, n, 1, S, S), null).toDoubleArray();
      for (int i = 0; i < n; i++) {
        int k = t.supportY()[i];
        count[k]++;
        for (int d = 0; d < 3; d++) {
          protos[k][d] += z[i * 3 + d];
        }
      }
    }
    double[] got = adapted.get(ProtoNet.PROTOTYPES).toDoubleArray();
    for (int k = 0; k < 3; k++) {
      assertThat(count[k]).isEqualTo(2 * 9);
      for (int d = 0; d < 3; d++) {
        assertThat(got[k * 3 + d]).isCloseTo(protos[k][d] / count[k], Offset.offset(1e-12));
      }
    }
    int q = t.queryY().length;
    double[] mean = new double[q * 3];
    for (double[] m : AffineEnsemble.maps(10, 0.15)) {
      double[] l = pn.predict(adapted, Tensor.of(warpAll(t.queryX().toDoubleArray(), q, m), D, q, 1, S, S))
          .toDoubleArray();
      for (int i = 0; i < l.length; i++) {
        mean[i] += l[i] / 9;
      }
    }
    double[] logits = tta.predict(adapted, t.queryX()).toDoubleArray();
    for (int i = 0; i < logits.length; i++) {
      assertThat(logits[i]).isCloseTo(mean[i], Offset.offset(1e-12));
    }
    assertThat(logits).isNotEqualTo(pn.predict(pn.adapt(p, t), t.queryX()).toDoubleArray());
  }

  /** n images of S x S warped by m (null: unchanged). */
  private static double[] warpAll(double[] x, int n, double[] m) {
    if (m == null) {
      return x.clone();
    }
    double[] out = new double[x.length];
    for (int i = 0; i < n; i++) {
      org.metagrad.meta.data.Distortion.warp(x, i * S * S, S, m, out, i * S * S);
    }
    return out;
  }

  @Test
  void float32ImagesStayFloat32() {
    Tensor x = Tensor.randn(new Rng(6), DType.FLOAT32, 3, 1, S, S);
    for (Tensor v : AffineEnsemble.of(ProtoNet.euclidean(embed), 5, 0.1).viewsOf("input", x)) {
      assertThat(v.dtype()).isEqualTo(DType.FLOAT32);
      assertThat(v.shape()).containsExactly(3, 1, S, S);
    }
  }

  @Test
  void badInputIsNamed() {
    ProtoNet pn = ProtoNet.euclidean(embed);
    assertThatThrownBy(() -> AffineEnsemble.of(pn, -1, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("rotation must be in [0, 90) degrees, got -1");
    assertThatThrownBy(() -> AffineEnsemble.of(pn, 0, 1)).hasMessageContaining("scaling must be in [0, 1), got 1");
    assertThatThrownBy(() -> AffineEnsemble.of(pn, Double.NaN, 0)).hasMessageContaining("got NaN");
    assertThatThrownBy(() -> AffineEnsemble.of(null, 1, 0)).hasMessageContaining("learner must not be null");
    assertThatThrownBy(() -> AffineEnsemble.parse("5")).hasMessageContaining("DEGREES,SCALE")
        .hasMessageContaining("'5'");
    assertThatThrownBy(() -> AffineEnsemble.parse("5,x")).hasMessageContaining("'5,x'");
    assertThatThrownBy(() -> AffineEnsemble.parse(null)).hasMessageContaining("DEGREES,SCALE");
    assertThat(AffineEnsemble.parse(" 5 , 0.1")).containsExactly(5, 0.1);
    Params p = embed.init(new Rng(6), D);
    assertThatThrownBy(() -> AffineEnsemble.of(pn, 5, 0).adapt(p, RegressionTask.sine(new Rng(1), 3, 3, D)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("image classification task")
        .hasMessageContaining("RegressionTask");
    Task flat = Fixtures.clusterTask(new Rng(7), 3, 2, 2, new int[] {S * S}, D, 0.5);
    assertThatThrownBy(() -> AffineEnsemble.of(pn, 5, 0).adapt(p, flat))
        .hasMessageContaining("support must be square images").hasMessageContaining("[6, 81]");
    Params adapted = pn.adapt(p, task(9));
    assertThatThrownBy(() -> AffineEnsemble.of(pn, 5, 0).predict(adapted, Tensor.zeros(D, 2, 1, 3, 4)))
        .hasMessageContaining("input must be square images").hasMessageContaining("[2, 1, 3, 4]");
  }
}
