package org.metagrad.meta.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.metagrad.meta.data.DataPaths;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.MetaTrainer;
import org.metagrad.meta.train.TrainConfig;

/** A trained run's folder: its {@code config.json} and a checkpoint in it. */
record RunFolder(TrainConfig config, Path checkpoint) {

  /**
   * Opens a run folder written by {@code metagrad train}.
   *
   * @param dir the folder
   * @param which {@code best} or {@code last}, or a path to a checkpoint file
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
    Path ckpt = switch (which) {
      case "best" -> dir.resolve(MetaTrainer.BEST);
      case "last" -> dir.resolve(MetaTrainer.LAST);
      default -> Path.of(which);
    };
    if (Files.exists(ckpt)) {
      DataPaths.requireRegularFile(ckpt.toAbsolutePath(), "checkpoint");
    }
    if (!Files.isRegularFile(ckpt)) {
      throw new IllegalArgumentException("checkpoint not found: " + ckpt.toAbsolutePath());
    }
    return new RunFolder(TrainConfig.read(cfg), ckpt);
  }
}
