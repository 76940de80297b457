package org.metagrad.meta.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.metagrad.meta.data.DataPaths;

/** Helpers shared by the subcommands. */
final class CliSupport {
  private CliSupport() {}

  /**
   * Refuses a transfer-only option given to another algorithm.
   *
   * @throws IllegalArgumentException when {@code value} is not null
   */
  /** Description of the {@code --shift-ensemble} option of eval and oneshot. */
  static final String SHIFT_ENSEMBLE_HELP = "Test-time shift ensemble: every support and query image also enters"
      + " shifted by each whole-pixel offset up to R per axis ((2R+1)^2 views, e.g. 1 = 9), the query's logits"
      + " averaged over its views; 0 = off (default ${DEFAULT-VALUE}). Costs (2R+1)^2 times the test-time work.";

  /** The learner wrapped in a {@link org.metagrad.meta.algo.ShiftEnsemble} of radius r, or as it is for 0. */
  static org.metagrad.meta.algo.FewShotLearner shiftEnsemble(org.metagrad.meta.algo.FewShotLearner learner, int r) {
    if (r < 0) {
      throw new IllegalArgumentException("--shift-ensemble must be >= 0, got " + r);
    }
    return r == 0 ? learner : org.metagrad.meta.algo.ShiftEnsemble.of(learner, r);
  }

  static void transferOnly(org.metagrad.meta.train.Algorithm a, String option, Object value) {
    if (value != null) {
      throw new IllegalArgumentException(option + " applies only to --algorithm transfer, not " + a.cliName());
    }
  }

  /**
   * The data root: {@code --data} if given, else {@code $METAGRAD_DATA}.
   *
   * @throws IllegalArgumentException when neither is set or the folder does not exist
   */
  static Path dataRoot(Path option) {
    Path root;
    if (option != null) {
      root = option;
    } else {
      String env = System.getenv(DataPaths.ENV);
      if (env == null || env.isBlank()) {
        throw new IllegalArgumentException("no data folder: set " + DataPaths.ENV
            + " to the folder holding omniglot/ and omniglot-oneshot/, or pass --data DIR");
      }
      root = Path.of(env);
    }
    if (!Files.isDirectory(root)) {
      throw new IllegalArgumentException("data folder not found: " + root.toAbsolutePath()
          + (option != null ? " (from --data)" : " (from " + DataPaths.ENV + ")"));
    }
    return root;
  }
}
