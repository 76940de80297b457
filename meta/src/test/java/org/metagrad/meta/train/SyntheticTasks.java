package org.metagrad.meta.train;

import org.metagrad.Rng;
import org.metagrad.meta.task.Task;

/** Small random classification tasks for trainer tests: class prototypes plus Gaussian noise, images 1 x side x side. */
final class SyntheticTasks implements TaskSource {
  private final int ways;
  private final int shots;
  private final int queries;
  private final int side;
  private final long seed;

  SyntheticTasks(int ways, int shots, int queries, int side, long seed) {
    this.ways = ways;
    this.shots = shots;
    this.queries = queries;
    this.side = side;
    this.seed = seed;
  }

  @Override
  public Task task(long index) {
    Rng rng = new Rng(seed * 31 + index);
    int px = side * side;
    float[][] protos = new float[ways][px];
    for (float[] p : protos) {
      for (int i = 0; i < px; i++) {
        p[i] = (float) rng.nextDouble();
      }
    }
    float[] sx = new float[ways * shots * px];
    int[] sy = new int[ways * shots];
    float[] qx = new float[ways * queries * px];
    int[] qy = new int[ways * queries];
    fill(rng, protos, shots, sx, sy);
    fill(rng, protos, queries, qx, qy);
    return Task.of(sx, new int[] {ways * shots, 1, side, side}, sy, qx, new int[] {ways * queries, 1, side, side},
        qy, ways);
  }

  private static void fill(Rng rng, float[][] protos, int per, float[] x, int[] y) {
    int px = protos[0].length;
    for (int k = 0; k < protos.length; k++) {
      for (int j = 0; j < per; j++) {
        int row = k * per + j;
        y[row] = k;
        for (int i = 0; i < px; i++) {
          x[row * px + i] = (float) (protos[k][i] + 0.3 * rng.nextGaussian());
        }
      }
    }
  }
}
