package org.metagrad.kernels.cpu;

/**
 * Batched double GEMM {@code C[b] = A[b] * B[b]} on strided operands: packed panels, cache blocking
 * (kc x mc block of A in L2, kc x NR panel of B in L1) and a register-tiled micro-kernel.
 *
 * <p>Every output element is computed as {@code ((0 + s_0) + s_1) + ...} where {@code s_p} is the
 * kernel's dot product over the p-th kc block, in the same order whatever the thread count: threads
 * split the output into tiles, never the reduction. Tiles cut by the matrix edge run the same
 * micro-kernel on zero-padded panels, so their arithmetic is identical to full tiles.
 */
final class GemmD {
  /** Depth of a packed block: a kc x NR panel of B (16 KiB for kc 256, NR 8) stays in L1. */
  static final int KC = 256;
  /** Below this many multiply-adds per matrix the packing costs more than it saves. */
  static final long DIRECT_LIMIT = 1L << 15;
  /** Below this many multiply-adds in total the call stays on the calling thread. */
  static final long PARALLEL_LIMIT = 1L << 18;

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  /** Per-thread packing buffers, grown on demand and reused across calls to avoid allocation. */
  private static final class Scratch {
    double[] a = new double[0];
    double[] b = new double[0];
    double[] t = new double[0];

    double[] a(int n) {
      if (a.length < n) {
        a = new double[n];
      }
      return a;
    }

    double[] b(int n) {
      if (b.length < n) {
        b = new double[n];
      }
      return b;
    }

    double[] t(int n) {
      if (t.length < n) {
        t = new double[n];
      }
      return t;
    }
  }

  private GemmD() {}

  /**
   * {@code c[p, i, j] = sum_q a[p, i, q] * b[p, q, j]}; c is zero-filled, contiguous {@code [batch, m, n]};
   * a and b are given by offset and (batch, row, column) strides, any of which may be 0.
   */
  static void gemm(ScalarKernels k, int threads, double[] a, int aOff, int aBs, int aRs, int aCs,
      double[] b, int bOff, int bBs, int bRs, int bCs, double[] c, int batch, int m, int n, int kk) {
    if (batch == 0 || m == 0 || n == 0 || kk == 0) {
      return;
    }
    long perMatrix = (long) m * n * kk;
    int th = perMatrix * batch < PARALLEL_LIMIT ? 1 : threads;
    if (perMatrix <= DIRECT_LIMIT || m == 1) {
      Parallel.forRange(th, batch, (int) Math.max(1, PARALLEL_LIMIT / Math.max(1, perMatrix)), (lo, hi) -> {
        for (int p = lo; p < hi; p++) {
          direct(k, a, aOff + p * aBs, aRs, aCs, b, bOff + p * bBs, bRs, bCs, c, p * m * n, m, n, kk);
        }
      });
      return;
    }
    // Many mid-size matrices: one matrix per thread beats splitting each one (fewer handoffs).
    if (th > 1 && batch >= 2 * th && perMatrix < (1L << 22)) {
      Parallel.forRange(th, batch, 1, (lo, hi) -> {
        for (int p = lo; p < hi; p++) {
          packed(k, 1, a, aOff + p * aBs, aRs, aCs, b, bOff + p * bBs, bRs, bCs, c, p * m * n, m, n, kk);
        }
      });
      return;
    }
    for (int p = 0; p < batch; p++) {
      packed(k, th, a, aOff + p * aBs, aRs, aCs, b, bOff + p * bBs, bRs, bCs, c, p * m * n, m, n, kk);
    }
  }

  /** Unpacked path for small products: row i of C accumulates a[i, q] * row q of B. */
  private static void direct(ScalarKernels k, double[] a, int aOff, int aRs, int aCs, double[] b, int bOff,
      int bRs, int bCs, double[] c, int cOff, int m, int n, int kk) {
    for (int i = 0; i < m; i++) {
      int cRow = cOff + i * n;
      int aRow = aOff + i * aRs;
      if (bCs == 1) {
        for (int q = 0; q < kk; q++) {
          k.axpyD(a[aRow + q * aCs], b, bOff + q * bRs, c, cRow, n);
        }
      } else {
        for (int j = 0; j < n; j++) {
          int bCol = bOff + j * bCs;
          double s = 0;
          for (int q = 0; q < kk; q++) {
            s += a[aRow + q * aCs] * b[bCol + q * bRs];
          }
          c[cRow + j] = s;
        }
      }
    }
  }

  /** One matrix through the packed, blocked path, split over up to {@code threads} threads. */
  private static void packed(ScalarKernels k, int threads, double[] a, int aOff, int aRs, int aCs,
      double[] b, int bOff, int bRs, int bCs, double[] c, int cOff, int m, int n, int kk) {
    final int mr = k.mrD();
    final int nr = k.nrD();
    final int mPanels = (m + mr - 1) / mr;
    final int nPanels = (n + nr - 1) / nr;
    // mc about 96 rows (A block of 96 KiB in L2), nc about 512 columns per task.
    final int mcPanels = Math.max(1, 96 / mr);
    final int ncPanels = Math.max(1, 512 / nr);
    final int mBlocks = (mPanels + mcPanels - 1) / mcPanels;
    final int nBlocks = (nPanels + ncPanels - 1) / ncPanels;
    final int kcMax = Math.min(KC, kk);
    Scratch s = SCRATCH.get();
    final double[] pa = s.a(mPanels * mr * kcMax);
    final double[] pb = s.b(nPanels * nr * kcMax);
    for (int pc = 0; pc < kk; pc += KC) {
      final int kc = Math.min(KC, kk - pc);
      final int q0 = pc;
      Parallel.forRange(threads, mPanels + nPanels, 8, (lo, hi) -> {
        for (int t = lo; t < hi; t++) {
          if (t < mPanels) {
            packA(a, aOff, aRs, aCs, m, q0, kc, t, mr, pa);
          } else {
            packB(b, bOff, bRs, bCs, n, q0, kc, t - mPanels, nr, pb);
          }
        }
      });
      Parallel.forRange(threads, mBlocks * nBlocks, 1, (lo, hi) -> {
        double[] tile = SCRATCH.get().t(mr * nr);
        for (int t = lo; t < hi; t++) {
          int mb = t / nBlocks;
          int nb = t % nBlocks;
          int ip0 = mb * mcPanels;
          int ip1 = Math.min(mPanels, ip0 + mcPanels);
          int jp0 = nb * ncPanels;
          int jp1 = Math.min(nPanels, jp0 + ncPanels);
          for (int jp = jp0; jp < jp1; jp++) {
            int j0 = jp * nr;
            int nv = Math.min(nr, n - j0);
            int pbo = jp * nr * kc;
            for (int ip = ip0; ip < ip1; ip++) {
              int i0 = ip * mr;
              int mv = Math.min(mr, m - i0);
              int pao = ip * mr * kc;
              int co = cOff + i0 * n + j0;
              if (mv == mr && nv == nr) {
                k.tileD(pa, pao, pb, pbo, kc, c, co, n);
              } else {
                k.tileEdgeD(pa, pao, pb, pbo, kc, tile);
                for (int i = 0; i < mv; i++) {
                  for (int j = 0; j < nv; j++) {
                    c[co + i * n + j] += tile[i * nr + j];
                  }
                }
              }
            }
          }
        }
      });
    }
  }

  /** Packs rows [ip*mr, ip*mr+mr) x depth [q0, q0+kc) of A as kc groups of mr values, zero-padded. */
  private static void packA(double[] a, int aOff, int aRs, int aCs, int m, int q0, int kc, int ip, int mr,
      double[] pa) {
    int i0 = ip * mr;
    int mv = Math.min(mr, m - i0);
    int base = ip * mr * kc;
    int src = aOff + i0 * aRs + q0 * aCs;
    if (aCs == 1) {
      // A row-major (N): each row is contiguous along q.
      for (int i = 0; i < mv; i++) {
        int r = src + i * aRs;
        for (int q = 0; q < kc; q++) {
          pa[base + q * mr + i] = a[r + q];
        }
      }
    } else {
      // A transposed (T) or general strides: walk q outer so rows are read with stride aRs.
      for (int q = 0; q < kc; q++) {
        int r = src + q * aCs;
        int d = base + q * mr;
        for (int i = 0; i < mv; i++) {
          pa[d + i] = a[r + i * aRs];
        }
      }
    }
    if (mv < mr) {
      for (int q = 0; q < kc; q++) {
        for (int i = mv; i < mr; i++) {
          pa[base + q * mr + i] = 0;
        }
      }
    }
  }

  /** Packs depth [q0, q0+kc) x columns [jp*nr, jp*nr+nr) of B as kc rows of nr values, zero-padded. */
  private static void packB(double[] b, int bOff, int bRs, int bCs, int n, int q0, int kc, int jp, int nr,
      double[] pb) {
    int j0 = jp * nr;
    int nv = Math.min(nr, n - j0);
    int base = jp * nr * kc;
    int src = bOff + q0 * bRs + j0 * bCs;
    if (bCs == 1) {
      for (int q = 0; q < kc; q++) {
        System.arraycopy(b, src + q * bRs, pb, base + q * nr, nv);
      }
    } else {
      for (int j = 0; j < nv; j++) {
        int col = src + j * bCs;
        for (int q = 0; q < kc; q++) {
          pb[base + q * nr + j] = b[col + q * bRs];
        }
      }
    }
    if (nv < nr) {
      for (int q = 0; q < kc; q++) {
        for (int j = nv; j < nr; j++) {
          pb[base + q * nr + j] = 0;
        }
      }
    }
  }
}
