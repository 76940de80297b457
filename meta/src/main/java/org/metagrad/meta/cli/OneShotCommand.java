package org.metagrad.meta.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.metagrad.meta.algo.FewShotLearner;
import org.metagrad.meta.data.OneShotReader;
import org.metagrad.meta.data.OneShotRun;
import org.metagrad.meta.oneshot.OneShotChallenge;
import org.metagrad.meta.train.Json;
import org.metagrad.meta.train.TrainConfig;
import org.metagrad.nn.Params;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code metagrad oneshot}: Lake et al.'s 20-way one-shot challenge with a trained run's model.
 *
 * <pre>{@code metagrad oneshot --run runs/protonet-background}</pre>
 */
@Command(name = "oneshot", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Lake et al.'s 20-way within-alphabet one-shot challenge: match each test drawing to one of 20 "
        + "training drawings (nearest prototype in the model's embedding), per run and overall. For a fair "
        + "result the model must be trained on images_background only (train --split background or background-all). "
        + "Published: people 95.5%%, convolutional Siamese nets 92.0%%, BPL 96.7%%.")
public final class OneShotCommand implements Callable<Integer> {
  @Option(names = {"-r", "--run"}, required = true, paramLabel = "DIR", description = "Trained run folder (config.json"
      + " and checkpoints), or a model folder written by 'metagrad export'.")
  Path run;

  @Option(names = "--checkpoint", paramLabel = "WHICH", description = "best, last or a checkpoint file"
      + " (default ${DEFAULT-VALUE}; in a model folder written by 'metagrad export', best loads its"
      + " model.safetensors).")
  String checkpoint = "best";

  @Option(names = "--allow-non-finite", description = CliSupport.ALLOW_NON_FINITE_HELP)
  boolean allowNonFinite;

  @Option(names = "--runs", paramLabel = "DIR", description = "Folder of runNN/ challenge runs"
      + " (default: $METAGRAD_DATA/omniglot-oneshot).")
  Path runs;

  @Option(names = "--data", paramLabel = "DIR", description = "Data root (default: $METAGRAD_DATA); used when --runs"
      + " is not given.")
  Path data;

  @Option(names = "--allow-evaluation-trained", description = "Run even if the model was trained on a split that"
      + " contains images_evaluation characters (the result is then not comparable with the published ones).")
  boolean allowEvaluationTrained;

  @Option(names = "--shift-ensemble", paramLabel = "R", description = CliSupport.SHIFT_ENSEMBLE_HELP)
  int shiftEnsemble = 0;

  @Option(names = "--affine-ensemble", paramLabel = "DEG,SCALE", description = CliSupport.AFFINE_ENSEMBLE_HELP)
  String affineEnsemble;

  @Option(names = "--ensemble-with", paramLabel = "DIR", description = CliSupport.ENSEMBLE_WITH_HELP)
  List<Path> ensembleWith = new ArrayList<>();

  @Option(names = "--center-sets", description = CliSupport.CENTER_SETS_HELP)
  boolean centerSets;

  @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "Also write the report as JSON to this file.")
  Path out;

  @Override
  public Integer call() {
    // every option before the first expensive step (decoding the runs, loading checkpoints)
    CliSupport.atLeast("--shift-ensemble", shiftEnsemble, 0);
    CliSupport.checkAffineEnsemble(affineEnsemble);
    CliSupport.checkOutputFile("--out", out);
    if (runs != null && !Files.isDirectory(runs)) {
      throw new IllegalArgumentException("--runs " + runs + ": one-shot runs folder not found");
    }
    RunFolder rf = RunFolder.open(run, checkpoint);
    TrainConfig c = rf.config();
    CliSupport.centerSetsApplies(c, centerSets);
    if (!c.backgroundOnly() && !allowEvaluationTrained) {
      throw new IllegalArgumentException("the run in " + run + " was trained on the '" + c.split() + "' split, which"
          + " includes images_evaluation characters the challenge draws from; train with --split background (or"
          + " background-all), or"
          + " pass --allow-evaluation-trained to run anyway");
    }
    Path folder = runs != null ? runs : CliSupport.dataRoot(data).resolve("omniglot-oneshot");
    CliSupport.openMembers(rf, checkpoint, ensembleWith);
    List<OneShotRun> all = OneShotReader.readAll(folder, c.side(), c.framing());
    // Every --ensemble-with run must have the first run's split (CliSupport.load), so the check above covers them.
    CliSupport.Loaded loaded = CliSupport.load(rf, c, checkpoint, ensembleWith, t -> t,
        CliSupport.loadOptions(allowNonFinite));
    Params params = loaded.params();
    FewShotLearner learner = CliSupport.shiftEnsemble(CliSupport.affineEnsemble(
        CliSupport.centerSets(loaded.learner(), centerSets), affineEnsemble), shiftEnsemble);
    OneShotChallenge.Report r = OneShotChallenge.run(learner, params, all);
    System.out.println("one-shot challenge with " + c.algorithm().cliName() + (ensembleWith.isEmpty() ? ""
        : " (ensemble of " + loaded.checkpoints().size() + " runs)") + (shiftEnsemble > 0 ? " (shift ensemble,"
        + " radius " + shiftEnsemble + ")" : "") + (affineEnsemble != null ? " (affine ensemble, " + affineEnsemble
        + ")" : "") + (centerSets ? " (sets centred)" : "") + " from " + String.join(", ",
        loaded.checkpoints().stream().map(Path::toString).toList()) + ":");
    System.out.println(r);
    if (out != null) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("run", run.toString());
      m.put("algorithm", c.algorithm().cliName());
      m.put("split", c.split());
      m.put("shift_ensemble_radius", shiftEnsemble);
      if (affineEnsemble != null) {
        m.put("affine_ensemble", affineEnsemble);
      }
      m.put("center_sets", centerSets);
      m.put("checkpoints", loaded.checkpoints().stream().map(Path::toString).toList());
      m.put("accuracy", r.accuracy());
      m.put("error_rate_percent", r.errorRatePercent());
      m.put("trials", r.trials());
      m.put("correct", r.correct());
      List<Object> per = new ArrayList<>();
      for (OneShotChallenge.RunResult rr : r.runs()) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("name", rr.name());
        e.put("trials", rr.trials());
        e.put("correct", rr.correct());
        e.put("accuracy", rr.accuracy());
        per.add(e);
      }
      m.put("runs", per);
      try {
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Files.writeString(out, Json.object(m));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
      }
    }
    return 0;
  }
}
