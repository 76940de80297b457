package org.metagrad;

/**
 * An explicit, seeded random number generator (SplitMix64 stream). There is no global random state in
 * Metagrad: every random op takes an {@code Rng}, so the same seed gives the same result.
 * {@link #split()} derives an independent child stream, e.g. one per task or per thread.
 *
 * <pre>{@code Rng rng = new Rng(42); Tensor w = Tensor.randn(rng, DType.FLOAT32, 3, 3); }</pre>
 */
public final class Rng {
  private long state;
  private double spareGaussian = Double.NaN;

  /** A generator seeded with {@code seed}. */
  public Rng(long seed) {
    this.state = seed;
  }

  /** The next 64 random bits. */
  public long nextLong() {
    long z = (state += 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Uniform integer in [0, bound). */
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("Rng.nextInt: bound must be positive, got " + bound);
    }
    long r = nextLong() >>> 1;
    return (int) (r % bound);
  }

  /** Standard normal sample (Box-Muller, both values used). */
  public double nextGaussian() {
    if (!Double.isNaN(spareGaussian)) {
      double s = spareGaussian;
      spareGaussian = Double.NaN;
      return s;
    }
    double u1;
    do {
      u1 = nextDouble();
    } while (u1 == 0);
    double u2 = nextDouble();
    // StrictMath: the same samples in every JVM and JIT tier (Math's log, sin and cos may differ by an ulp).
    double r = Math.sqrt(-2 * StrictMath.log(u1));
    spareGaussian = r * StrictMath.sin(2 * Math.PI * u2);
    return r * StrictMath.cos(2 * Math.PI * u2);
  }

  /** An independent child generator; advances this one. */
  public Rng split() {
    return new Rng(nextLong() ^ 0x5DEECE66DL);
  }

  /** Fisher-Yates shuffle of an int array in place. */
  public void shuffle(int[] a) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
