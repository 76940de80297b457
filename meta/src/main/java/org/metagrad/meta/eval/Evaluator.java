package org.metagrad.meta.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;
import org.metagrad.TaskParallel;
import org.metagrad.meta.algo.FewShotLearner;
import org.metagrad.meta.task.Task;
import org.metagrad.meta.train.TaskSource;
import org.metagrad.nn.Params;

/**
 * Few-shot evaluation: the query accuracy of a learner after test-time adaptation
 * ({@link FewShotLearner#evaluate}) on episodes {@code 0..n-1} of a {@link TaskSource}, computed in
 * parallel threads and stored by episode index, so the result does not depend on the thread count.
 * Test-time inner steps are the learner's (e.g. {@code maml.withTestInnerSteps(10)}).
 *
 * <pre>{@code
 * EvalResult r = Evaluator.evaluate(protoNet, params, TaskSource.of(testSampler), 600, 2, null);
 * System.out.println(r);   // 98.41% ± 0.23% (600 episodes)
 * }</pre>
 */
public final class Evaluator {
  private Evaluator() {}

  /**
   * Mean accuracy with a 95% confidence interval over {@code episodes} classification tasks.
   *
   * @param learner the algorithm
   * @param params its (meta-)parameters
   * @param tasks the test tasks (must be classification {@link Task}s)
   * @param episodes the number of episodes, >= 1 (600 or more for a reportable number)
   * @param threads worker threads, >= 1
   * @param progress receives the number of finished episodes, or null
   * @throws IllegalArgumentException for bad counts or a task that is not a classification task
   */
  public static EvalResult evaluate(FewShotLearner learner, Params params, TaskSource tasks, int episodes,
                                    int threads, LongConsumer progress) {
    if (episodes < 1) {
      throw new IllegalArgumentException("Evaluator: episodes must be >= 1, got " + episodes);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("Evaluator: threads must be >= 1, got " + threads);
    }
    Params p = params.detach();
    double[] acc = new double[episodes];
    if (threads == 1) {
      for (int i = 0; i < episodes; i++) {
        acc[i] = episode(learner, p, tasks, i);
        if (progress != null) {
          progress.accept(i + 1);
        }
      }
      return EvalResult.of(acc);
    }
    // Episodes side by side, each one's kernels on its own thread (TaskParallel), in chunks so that
    // progress is reported while the run goes on.
    int chunk = 8 * threads;
    for (int lo = 0; lo < episodes; lo += chunk) {
      List<Long> indices = new ArrayList<>(chunk);
      for (long i = lo; i < Math.min(episodes, lo + chunk); i++) {
        indices.add(i);
      }
      List<Double> r = TaskParallel.map(threads, indices, index -> episode(learner, p, tasks, index));
      for (int i = 0; i < r.size(); i++) {
        acc[lo + i] = r.get(i);
      }
      if (progress != null) {
        progress.accept(lo + r.size());
      }
    }
    return EvalResult.of(acc);
  }

  /**
   * The query accuracy of one episode: {@code learner.evaluate(params, tasks.task(index))}. The evaluation
   * above and a distributed one (each episode on some executor) both call this.
   *
   * @param learner the algorithm
   * @param p its (meta-)parameters, detached
   * @param tasks the test tasks
   * @param index the episode
   * @return its query accuracy
   * @throws IllegalArgumentException when the task is not a classification task
   */
  public static double episode(FewShotLearner learner, Params p, TaskSource tasks, long index) {
    if (!(tasks.task(index) instanceof Task t)) {
      throw new IllegalArgumentException("Evaluator: episode " + index + " is not a classification task");
    }
    return learner.evaluate(p, t);
  }
}
