package org.metagrad.meta.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.metagrad.meta.train.Experiment;
import org.metagrad.meta.train.MetaTrainer;
import org.metagrad.meta.train.MetricsFiles;
import org.metagrad.meta.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Draws a run folder's {@code learning-curve.png} and {@code loss-curve.png} from its {@code metrics.csv}, the
 * same plots {@code metagrad train} draws when a run ends: for a run stopped between checkpoints (a session's time
 * ran out, the machine went away), whose curve up to its last checkpoint is then visible without resuming it.
 */
@Command(name = "plot", mixinStandardHelpOptions = true,
    description = "Draw learning-curve.png and loss-curve.png of a run folder from its metrics.csv (a finished run"
        + " has them already; this is for a run stopped before its end).")
public final class PlotCommand implements Callable<Integer> {
  @Option(names = {"-r", "--run"}, required = true, paramLabel = "RUN_DIR",
      description = "Run folder written by 'metagrad train' (config.json and metrics.csv).")
  Path run;

  @Override
  public Integer call() {
    Path cfg = run.resolve(Experiment.CONFIG);
    Path csv = run.resolve(MetaTrainer.METRICS_CSV);
    if (!Files.isRegularFile(cfg) || !Files.isRegularFile(csv)) {
      throw new IllegalArgumentException("plot: " + run.toAbsolutePath() + " is not a run folder with "
          + Experiment.CONFIG + " and " + MetaTrainer.METRICS_CSV);
    }
    TrainConfig config = TrainConfig.read(cfg);
    List<MetaTrainer.Row> rows = MetricsFiles.readCsv(csv, Long.MAX_VALUE);
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("plot: " + csv.toAbsolutePath() + " has no rows yet");
    }
    Experiment.writeCurves(run, rows, config.algorithm().cliName(),
        config.algorithm() == org.metagrad.meta.train.Algorithm.TRANSFER ? 1 : config.metaBatch());
    System.out.println("wrote " + run.resolve("learning-curve.png") + " and " + run.resolve("loss-curve.png")
        + " from " + rows.size() + " rows (up to iteration " + rows.get(rows.size() - 1).iteration() + ")");
    return 0;
  }
}
