package org.metagrad.meta.oneshot;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.metagrad.Autograd;
import org.metagrad.Tensor;
import org.metagrad.meta.algo.FewShotLearner;
import org.metagrad.meta.data.OneShotRun;
import org.metagrad.meta.task.Task;
import org.metagrad.nn.Params;

/**
 * Lake et al.'s 20-way within-alphabet one-shot classification challenge (Science 2015): in each run, each
 * of 20 test drawings must be matched to the one of 20 training drawings (one per character) that shows the
 * same character. A run becomes one 20-way 1-shot {@link Task} (support = the training drawings with labels
 * 0..19, query = the test drawings labelled with their answers), and any {@link FewShotLearner} answers it
 * after test-time adaptation: for a ProtoNet, nearest prototype (= nearest training drawing) in embedding
 * space. Published figures: people 95.5%, Bayesian program learning 96.7%, convolutional Siamese nets
 * (Koch et al. 2015) 92.0%.
 *
 * <pre>{@code
 * List<OneShotRun> runs = OneShotReader.readAll(DataPaths.omniglotOneShot(), 28);
 * OneShotChallenge.Report r = OneShotChallenge.run(protoNet, params, runs);
 * System.out.println(r);
 * }</pre>
 */
public final class OneShotChallenge {
  private OneShotChallenge() {}

  /**
   * The outcome of one run.
   *
   * @param name the run's name, e.g. {@code run01}
   * @param trials test drawings (20 in the original runs)
   * @param correct correctly matched drawings
   * @param predicted for each test drawing, the training index chosen
   * @param answers for each test drawing, the right training index
   */
  public record RunResult(String name, int trials, int correct, int[] predicted, int[] answers) {
    /** {@code correct / trials}. */
    public double accuracy() {
      return (double) correct / trials;
    }

    /** E.g. {@code run01  18/20  90.0%}. */
    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%s  %d/%d  %.1f%%", name, correct, trials, 100 * accuracy());
    }
  }

  /**
   * All runs and the overall result.
   *
   * @param runs per-run results, in the order given
   * @param trials total test drawings
   * @param correct total correct
   */
  public record Report(List<RunResult> runs, int trials, int correct) {
    /** Overall accuracy {@code correct / trials} (the mean over runs when all runs have 20 trials). */
    public double accuracy() {
      return (double) correct / trials;
    }

    /** The error rate in percent, as Lake et al. report it. */
    public double errorRatePercent() {
      return 100 * (1 - accuracy());
    }

    /** One line per run, then the overall accuracy and error rate. */
    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder();
      for (RunResult r : runs) {
        sb.append(r).append('\n');
      }
      sb.append(String.format(Locale.ROOT, "overall  %d/%d  %.1f%% accuracy (%.1f%% error) over %d run(s)",
          correct, trials, 100 * accuracy(), errorRatePercent(), runs.size()));
      return sb.toString();
    }
  }

  /** The 20-way 1-shot task of a run: support = training drawings, query = test drawings. */
  public static Task task(OneShotRun run) {
    int s = run.side();
    int n = run.trainingFiles().size();
    int m = run.testFiles().size();
    int[] supportY = new int[n];
    for (int i = 0; i < n; i++) {
      supportY[i] = i;
    }
    return Task.of(run.training(), new int[] {n, 1, s, s}, supportY, run.test(), new int[] {m, 1, s, s},
        run.answers(), n);
  }

  /**
   * Answers every run with the learner.
   *
   * @param learner a trained few-shot learner (e.g. a ProtoNet embedding trained on images_background)
   * @param params its parameters
   * @param runs the runs, at least one
   * @throws IllegalArgumentException when there are no runs
   */
  public static Report run(FewShotLearner learner, Params params, List<OneShotRun> runs) {
    if (runs == null || runs.isEmpty()) {
      throw new IllegalArgumentException("OneShotChallenge: no runs given");
    }
    List<RunResult> out = new ArrayList<>();
    int trials = 0;
    int correct = 0;
    Params p = params.detach();
    for (OneShotRun run : runs) {
      Task t = task(run);
      Params adapted = learner.adapt(p, t);
      int[] pred;
      try (Autograd.NoGrad g = Autograd.noGrad()) {
        pred = argmax(learner.predict(adapted, t.queryX()));
      }
      int[] ans = run.answers();
      int c = 0;
      for (int i = 0; i < ans.length; i++) {
        if (pred[i] == ans[i]) {
          c++;
        }
      }
      out.add(new RunResult(run.name(), ans.length, c, pred, ans.clone()));
      trials += ans.length;
      correct += c;
    }
    return new Report(List.copyOf(out), trials, correct);
  }

  private static int[] argmax(Tensor logits) {
    int n = logits.size(0);
    int k = logits.size(1);
    double[] v = logits.toDoubleArray();
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      int best = 0;
      for (int j = 1; j < k; j++) {
        if (v[i * k + j] > v[i * k + best]) {
          best = j;
        }
      }
      out[i] = best;
    }
    return out;
  }
}
