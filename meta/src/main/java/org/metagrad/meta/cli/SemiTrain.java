package org.metagrad.meta.cli;

import java.nio.file.Path;
import java.util.Map;
import org.metagrad.meta.data.OmniglotReader;
import org.metagrad.meta.semi.SemiConfig;
import org.metagrad.meta.semi.SemiMethod;
import org.metagrad.meta.semi.SemiRun;
import org.metagrad.meta.semi.SemiSplit;
import org.metagrad.meta.train.Experiment;

/**
 * {@code metagrad train --algorithm supervised|pimodel|meanteacher|vat|pseudolabel|fixmatch|simclr|byol}: one
 * semi- or self-supervised run on the few-labels split of {@code images_background} into a run folder (see
 * {@link SemiRun}).
 */
final class SemiTrain {
  private SemiTrain() {}

  /** Whether {@code name} is a semi- or self-supervised method rather than a meta-learner. */
  static boolean handles(String name) {
    try {
      SemiMethod.parse(name);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * Runs the method.
   *
   * @param algorithm its name
   * @param data the data root (holding omniglot/)
   * @param out the run folder
   * @param seed the seed
   * @param threads decoding threads
   * @param labels labelled drawings per class, or null for the default (1)
   * @param options further {@link SemiConfig} settings by name
   * @param resume not supported (refused with the reason)
   * @param overwrite replace the run in a non-empty folder
   * @return the exit code
   */
  static int run(String algorithm, Path data, Path out, long seed, int threads, Integer labels,
                 Map<String, String> options, boolean resume, boolean overwrite) {
    if (resume) {
      throw new IllegalArgumentException("--resume is not supported for " + algorithm + ": the runs are short, and"
          + " the Mean Teacher/BYOL averages are not in the checkpoint; start again with --overwrite");
    }
    SemiConfig c = SemiConfig.defaults(SemiMethod.parse(algorithm)).with("seed", Long.toString(seed));
    if (labels != null) {
      c = c.with("labels", Integer.toString(labels));
    }
    for (Map.Entry<String, String> e : options.entrySet()) {
      c = c.with(e.getKey(), e.getValue());
    }
    OmniglotReader reader = Experiment.reader(data, 28, threads);
    SemiSplit split = SemiSplit.of(SemiRun.load(reader, c.classes(), c.splitSeed()), c.labelsPerClass(),
        c.splitSeed());
    System.out.println("training: " + c.describe());
    SemiRun.run(c, split, out, overwrite, System.out);
    System.out.println("wrote " + out.toAbsolutePath() + "/{" + String.join(", ", SemiRun.RUN_FILES) + "}");
    return 0;
  }
}
