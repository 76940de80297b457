package org.metagrad;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.lang.ref.WeakReference;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.metagrad.spi.Buffer;

/**
 * A recorded node keeps only the values its backward rule reads (Node.saved): intermediates nobody needs
 * for a gradient are collected while the graph lives, and the gradients of every order stay the same.
 */
class SavedTensorsTest {

  /** True once the referent is collected (a few collections; the JVM may need more than one). */
  private static boolean collected(WeakReference<?> ref) throws InterruptedException {
    for (int i = 0; i < 40 && ref.get() != null; i++) {
      System.gc();
      Thread.sleep(10);
    }
    return ref.get() == null;
  }

  private static double[] ramp(int n, double scale) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = scale * (i % 17 - 8);
    }
    return v;
  }

  @Test
  void anIntermediateTheNextRuleDoesNotReadIsCollectedWhileTheGraphLives() throws InterruptedException {
    Tensor x = Tensor.of(ramp(4096, 0.25), 4096).requiresGrad(true);
    Tensor c = Tensor.of(ramp(4096, 0.5), 4096);
    Tensor a = x.mul(c);  // MUL reads c for x's gradient, never its own output
    WeakReference<Buffer> ra = new WeakReference<>(a.buffer());
    Tensor loss = a.add(1.0).neg().sum();  // ADD, NEG and SUM read shapes only
    a = null;
    assertThat(collected(ra)).as("a's values, needed by no rule, are not kept by the graph").isTrue();
    assertThat(Autograd.grad(loss, List.of(x)).get(0).toDoubleArray())
        .containsExactly(Tensor.of(ramp(4096, -0.5), 4096).toDoubleArray());
  }

  @Test
  void aValueTheRuleReadsIsKept() throws InterruptedException {
    Tensor x = Tensor.of(ramp(4096, 0.25), 4096).requiresGrad(true);
    Tensor a = x.mul(3.0);
    WeakReference<Buffer> ra = new WeakReference<>(a.buffer());
    Tensor loss = a.mul(a).sum();  // d(a*a)/da reads a
    double[] av = a.toDoubleArray();
    a = null;
    assertThat(collected(ra)).isFalse();
    double[] g = Autograd.grad(loss, List.of(x)).get(0).toDoubleArray();
    for (int i = 0; i < g.length; i++) {
      assertThat(g[i]).isEqualTo(2 * av[i] * 3.0);
    }
  }

  @Test
  void aRecordedTensorAndTheReferencesItsConsumersHoldAreOneVertex() {
    Tensor p = Tensor.of(new double[] {1, -2, 3}, 3).requiresGrad(true);
    Tensor f = p.mul(2.0);  // a non-leaf asked about directly, as MAML's fast weights are
    // ADD holds f without its values, MUL holds f itself: both gradients must reach the one f
    Tensor loss = f.add(1.0).mul(f).sum();
    double[] g = Autograd.grad(loss, List.of(f)).get(0).toDoubleArray();
    assertThat(g).containsExactly(2 * 2 + 1, 2 * -4 + 1, 2 * 6 + 1);
    double[] gp = Autograd.grad(f.add(1.0).mul(f).sum(), List.of(p)).get(0).toDoubleArray();
    assertThat(gp).containsExactly(2 * (2 * 2 + 1), 2 * (2 * -4 + 1), 2 * (2 * 6 + 1));
  }

  @Test
  void secondAndThirdOrderGradientsThroughReleasedIntermediates() throws InterruptedException {
    // y = sum(exp(-(x / 2 + 1)) * x): every node kind on the way keeps only what its rule reads
    Tensor x = Tensor.of(new double[] {0.5, -1.0, 2.0}, 3).requiresGrad(true);
    Tensor u = x.div(2.0).add(1.0).neg();
    WeakReference<Buffer> ru = new WeakReference<>(u.buffer());
    Tensor y = u.exp().mul(x).sum();  // EXP reads its output, not u
    u = null;
    assertThat(collected(ru)).isTrue();
    Tensor g1 = Autograd.grad(y, List.of(x), GradOptions.createGraph(true)).get(0);
    Tensor g2 = Autograd.grad(g1.sum(), List.of(x), GradOptions.createGraph(true)).get(0);
    Tensor g3 = Autograd.grad(g2.sum(), List.of(x)).get(0);
    double[] xs = {0.5, -1.0, 2.0};
    for (int i = 0; i < 3; i++) {
      double e = Math.exp(-(xs[i] / 2 + 1));
      // d/dx [e x] = e (1 - x/2); d2 = e (x/4 - 1); d3 = e (3/4 - x/8)
      assertThat(g1.toDoubleArray()[i]).isCloseTo(e * (1 - xs[i] / 2), within(1e-12));
      assertThat(g2.toDoubleArray()[i]).isCloseTo(e * (xs[i] / 4 - 1), within(1e-12));
      assertThat(g3.toDoubleArray()[i]).isCloseTo(e * (0.75 - xs[i] / 8), within(1e-12));
    }
  }

  @Test
  void readingAReleasedValueIsAClearError() {
    Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
    Tensor a = x.mul(2.0);
    Tensor r = a.graphRef();
    assertThat(r.shape()).containsExactly(2);
    assertThat(r.dtype()).isEqualTo(a.dtype());
    assertThat(r.node).isSameAs(a.node);
    org.assertj.core.api.Assertions.assertThatThrownBy(r::view).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not saved by the graph").hasMessageContaining("[2]");
  }
}
