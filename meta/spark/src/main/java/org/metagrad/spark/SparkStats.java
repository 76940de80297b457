package org.metagrad.spark;

import java.util.Locale;

/**
 * Where the time of the distributed meta-iterations went, summed over the iterations run so far: the
 * driver's encoding and broadcast of the parameters, the job (task launch, the executors' work, collecting
 * the gradients), the busiest partition's own gradient computation (the part that is not overhead), and
 * the decoding of the gradients on the driver; and the bytes sent each way.
 */
public final class SparkStats {
  private long iterations;
  private long paramBytes;
  private long gradBytes;
  private long broadcastNanos;
  private long jobNanos;
  private long computeNanos;
  private long decodeNanos;
  private long setupNanos;
  private long poolBytes;
  private long poolNanos;

  synchronized void iteration(long paramBytes, long gradBytes, long broadcast, long job, long compute, long setup,
                              long decode) {
    setupNanos += setup;
    iterations++;
    this.paramBytes += paramBytes;
    this.gradBytes += gradBytes;
    broadcastNanos += broadcast;
    jobNanos += job;
    computeNanos += compute;
    decodeNanos += decode;
  }

  /** Forgets the iterations so far (e.g. a benchmark's warm-up); the pool totals stay. */
  public synchronized void resetIterations() {
    iterations = 0;
    paramBytes = 0;
    gradBytes = 0;
    broadcastNanos = 0;
    jobNanos = 0;
    computeNanos = 0;
    decodeNanos = 0;
    setupNanos = 0;
  }

  synchronized void poolBroadcast(long bytes, long nanos) {
    poolBytes += bytes;
    poolNanos += nanos;
  }

  /** Distributed meta-iterations so far. */
  public synchronized long iterations() {
    return iterations;
  }

  /** Mean seconds per iteration encoding and broadcasting the parameters on the driver. */
  public synchronized double broadcastSeconds() {
    return per(broadcastNanos);
  }

  /** Mean seconds per iteration of the gradient job, from submission to the last gradient collected. */
  public synchronized double jobSeconds() {
    return per(jobNanos);
  }

  /** Mean seconds per iteration the busiest partition spent computing gradients. */
  public synchronized double computeSeconds() {
    return per(computeNanos);
  }

  /** Mean seconds per iteration the slowest partition spent fetching and decoding the broadcasts. */
  public synchronized double setupSeconds() {
    return per(setupNanos);
  }

  /** Mean seconds per iteration decoding the gradients on the driver. */
  public synchronized double decodeSeconds() {
    return per(decodeNanos);
  }

  /** Mean seconds per iteration that Spark adds: broadcast + (job - busiest partition's compute) + decode. */
  public synchronized double overheadSeconds() {
    return per(broadcastNanos + jobNanos - computeNanos + decodeNanos);
  }

  /** Mean bytes per iteration sent to the executors (parameters) and back (gradients). */
  public synchronized long[] bytesPerIteration() {
    return iterations == 0 ? new long[2] : new long[] {paramBytes / iterations, gradBytes / iterations};
  }

  /** Bytes of image pools broadcast, and the seconds it took on the driver. */
  public synchronized String poolSummary() {
    return String.format(Locale.ROOT, "%.1f MB of pools broadcast in %.2f s", poolBytes / 1e6, poolNanos / 1e9);
  }

  private double per(long nanos) {
    return iterations == 0 ? Double.NaN : nanos / 1e9 / iterations;
  }

  @Override
  public synchronized String toString() {
    long[] b = bytesPerIteration();
    return String.format(Locale.ROOT, "%d iterations: per iteration %.4f s broadcast, %.4f s job (busiest"
        + " partition computing %.4f s; slowest broadcast fetch+decode on an executor %.4f s), %.4f s decode;"
        + " overhead %.4f s; %d B parameters out, %d B gradients back; %s", iterations, broadcastSeconds(),
        jobSeconds(), computeSeconds(), setupSeconds(), decodeSeconds(), overheadSeconds(), b[0], b[1],
        poolSummary());
  }
}
