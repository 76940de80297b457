package org.metagrad.meta.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.MetaTrainer;
import org.metagrad.meta.train.TrainConfig;

/**
 * A trained run's folder: its {@code config.json} and a checkpoint in it. Either a training run's folder
 * ({@code best.safetensors}, {@code last.safetensors}) or a model folder written by {@code metagrad export}
 * ({@code model.safetensors}, which {@code best} then names). A training run without validation (split
 * {@code background-all}) has no {@code best.safetensors}: its {@code best} is its {@code last.safetensors}.
 */
record RunFolder(TrainConfig config, Path checkpoint) {

  /**
   * Opens a run folder written by {@code metagrad train} or a model folder written by {@code metagrad export}.
   *
   * @param dir the folder
   * @param which {@code best}, {@code last} or {@code model}, or a path to a checkpoint file; in a model folder
   *     {@code best} names {@code model.safetensors}, in a run without validation {@code last.safetensors}
   * @throws IllegalArgumentException when the folder, its config or the checkpoint is missing
   */
  static RunFolder open(Path dir, String which) {
    Path cfg = dir.resolve(Experiment.CONFIG);
    if (Files.exists(cfg) && !Files.isRegularFile(cfg)) {
      DataPaths.requireRegularFile(cfg, "run configuration");
    }
    if (!Files.isRegularFile(cfg)) {
      throw new IllegalArgumentException("not a training run folder: " + dir.toAbsolutePath() + " has no "
          + Experiment.CONFIG + " (train one with 'metagrad train --out DIR')");
    }
    // A model folder (metagrad export) holds one set of weights, model.safetensors, and no training checkpoints.
    boolean modelFolder = Files.exists(dir.resolve(ExportCommand.MODEL))
        && !Files.exists(dir.resolve(MetaTrainer.BEST)) && !Files.exists(dir.resolve(MetaTrainer.LAST));
    if (modelFolder && which.equals("last")) {
      throw new IllegalArgumentException(dir + " is a model folder ('metagrad export'): it holds one set of weights, "
          + ExportCommand.MODEL + ", which the default --checkpoint best loads; it has no last checkpoint");
    }
    TrainConfig config = TrainConfig.read(cfg);
    Path ckpt = switch (which) {
      case "best" -> dir.resolve(modelFolder ? ExportCommand.MODEL
          : config.validated() ? MetaTrainer.BEST : MetaTrainer.LAST);
      case "last" -> dir.resolve(MetaTrainer.LAST);
      case "model" -> dir.resolve(ExportCommand.MODEL);
      default -> Path.of(which);
    };
    if (Files.exists(ckpt)) {
      DataPaths.requireRegularFile(ckpt.toAbsolutePath(), "checkpoint");
    }
    if (!Files.isRegularFile(ckpt)) {
      throw new IllegalArgumentException("checkpoint not found: " + ckpt.toAbsolutePath());
    }
    return new RunFolder(config, ckpt);
  }
}
