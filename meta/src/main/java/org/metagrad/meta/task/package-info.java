/**
 * Few-shot tasks as tensors: {@link org.metagrad.meta.task.Task} (N-way classification with integer
 * labels) and {@link org.metagrad.meta.task.RegressionTask} (tensor targets, e.g. sine regression of
 * Finn et al. 2017), both {@link org.metagrad.meta.task.FewShotTask}s carrying their own loss.
 */
package org.metagrad.meta.task;
