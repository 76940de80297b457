package org.metagrad.nn.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.metagrad.Autograd;
import org.metagrad.DType;
import org.metagrad.F;
import org.metagrad.Rng;
import org.metagrad.Tensor;
import org.metagrad.nn.Backbones;
import org.metagrad.nn.BnMode;
import org.metagrad.nn.Mode;
import org.metagrad.nn.Network;
import org.metagrad.nn.Params;
import org.metagrad.nn.State;
import org.metagrad.nn.optim.Adam;
import org.metagrad.nn.optim.OptimizerState;
import org.metagrad.nn.optim.Step;

/** Params, BatchNorm state and Adam state through a safetensors file and back, bit for bit. */
class CheckpointsTest {

  @Test
  void modelStateAndOptimizerRoundTripBitExact(@TempDir Path dir) throws Exception {
    Network net = Backbones.conv4(1, 8, 28, 5, BnMode.RUNNING_STATS);
    Rng rng = new Rng(3);
    Params params = net.init(rng).requiresGrad(true);
    State state = net.newState(DType.FLOAT32);
    Tensor x = Tensor.rand(rng, DType.FLOAT32, 4, 1, 28, 28);
    Tensor loss = F.crossEntropy(net.apply(params, x, Mode.train().withState(state)), new int[] {0, 1, 2, 3});
    Adam adam = Adam.of(1e-3);
    Step step = adam.step(params, Autograd.grad(loss, params.values()), adam.init(params));

    Path file = dir.resolve("ckpt.safetensors");
    Checkpoints.save(file, step.params(), state, step.state(), Map.of("iteration", "1"));
    Checkpoints.Loaded c = Checkpoints.load(file);

    Params restored = c.paramsLike(net.init(new Rng(99)));
    for (String n : step.params().names()) {
      assertThat(restored.get(n).toFloatArray()).as(n).containsExactly(step.params().get(n).toFloatArray());
    }
    assertThat(c.state().keySet()).containsExactlyInAnyOrderElementsOf(state.snapshot().keySet());
    assertThat(c.state().get("features.1.num_batches_tracked").item()).isEqualTo(1.0);
    assertThat(c.optimizer().step()).isEqualTo(step.state().step());
    for (Map.Entry<String, Tensor> e : step.state().buffers().entrySet()) {
      assertThat(c.optimizer().get(e.getKey()).toFloatArray()).containsExactly(e.getValue().toFloatArray());
    }
    assertThat(c.metadata()).containsEntry("iteration", "1");
    // Counters are int64 in the file, as PyTorch writes them.
    assertThat(SafeTensors.read(file).get("features.1.num_batches_tracked").dtype()).isEqualTo(SafeDType.I64);
    assertThat(SafeTensors.read(file).get("optimizer.step").dtype()).isEqualTo(SafeDType.I64);
  }

  @Test
  void mismatchedModelsAreRejectedWithTheTensorName(@TempDir Path dir) throws Exception {
    Network small = Backbones.conv4(1, 8, 28, 5, BnMode.BATCH_STATS);
    Network wide = Backbones.conv4(1, 16, 28, 5, BnMode.BATCH_STATS);
    Path file = dir.resolve("m.safetensors");
    Checkpoints.save(file, small.init(new Rng(1)), null, null, null);
    assertThatThrownBy(() -> Checkpoints.load(file).paramsLike(wide.init(new Rng(1))))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("parameter 'features.0.weight' has shape [8, 1, 3, 3] in the checkpoint but [16, 1, 3, 3]");
    Network headless = Backbones.conv4(1, 8, 28, 0, BnMode.BATCH_STATS);
    assertThatThrownBy(() -> Checkpoints.load(file).paramsLike(headless.init(new Rng(1))))
        .hasMessageContaining("checkpoint has parameters the model lacks");
    Files.write(file, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> Checkpoints.load(file)).isInstanceOf(CheckpointException.class);
  }

  @Test
  void float64ParamsStayFloat64() throws Exception {
    Path file = Files.createTempFile("p64", ".safetensors");
    try {
      Params p = Params.of("w", Tensor.of(new double[] {Math.PI, -0.0, Double.MIN_VALUE}, 3));
      Checkpoints.save(file, p, null, OptimizerState.empty(), null);
      Tensor w = Checkpoints.load(file).params().get("w");
      assertThat(w.dtype()).isEqualTo(DType.FLOAT64);
      assertThat(w.toDoubleArray()).containsExactly(Math.PI, -0.0, Double.MIN_VALUE);
      assertThat(List.of(Checkpoints.load(file).params().names().toArray())).containsExactly("w");
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
