package org.metagrad.meta.train;

import org.metagrad.meta.data.EpisodeSampler;
import org.metagrad.meta.task.FewShotTask;
import org.metagrad.meta.task.Task;

/**
 * An indexed, deterministic sequence of tasks: {@code task(i)} must be a pure function of {@code i} (and of
 * the source's own seed), so that any worker thread can build any task and an interrupted run can resume
 * at the exact task where it stopped.
 *
 * <pre>{@code
 * TaskSource train = TaskSource.of(new EpisodeSampler(pool, TaskSpec.of(20, 5, 5), rotation, seed));
 * FewShotTask t = train.task(42);   // the same task every time
 * }</pre>
 */
@FunctionalInterface
public interface TaskSource {

  /**
   * Task number {@code index} of the sequence.
   *
   * @param index any index >= 0
   * @return the task; equal content for equal indices
   */
  FewShotTask task(long index);

  /** The classification tasks of an episode sampler: {@code Task.fromEpisode(sampler.episode(i))}. */
  static TaskSource of(EpisodeSampler sampler) {
    return i -> Task.fromEpisode(sampler.episode(i));
  }
}
