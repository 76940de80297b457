package org.metagrad.kernels.cpu;

/**
 * Batched float GEMM {@code C[b] = A[b] * B[b]} on strided operands: packed panels, cache blocking
 * (kc x mc block of A in L2, kc x NR panel of B in L1) and a register-tiled micro-kernel.
 *
 * <p>Every output element is computed as {@code ((0 + s_0) + s_1) + ...} where {@code s_p} is the
 * kernel's dot product over the p-th kc block, in the same order whatever the thread count: threads
 * split the output into tiles, never the reduction. Tiles cut by the matrix edge run the same
 * micro-kernel on zero-padded panels, so their arithmetic is identical to full tiles.
 */
final class GemmF {
  /*
   * Depth of a packed block: ScalarKernels.kcF(), one constant per kernel set. 128 with pre-broadcast A
   * (8 copies per value: an mr x kc panel of A is then 24 KiB and stays in L1 next to a kc x NR panel
   * of B, 8 KiB); 256 with the wide AVX-512 kernels, whose plain A panel is 12 KiB, so that C, often far
   * larger than L2, is read and written half as often.
   */
  /** Below this many multiply-adds per matrix the packing costs more than it saves. */
  static final long DIRECT_LIMIT = 1L << 15;
  /** Below this many multiply-adds in total the call stays on the calling thread. */
  static final long PARALLEL_LIMIT = 1L << 20;

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  /** Per-thread packing buffers, grown on demand and reused across calls to avoid allocation. */
  private static final class Scratch {
    float[] a = new float[0];
    float[] b = new float[0];
    float[] t = new float[0];

    float[] a(int n) {
      if (a.length < n) {
        a = new float[n];
      }
      return a;
    }

    float[] b(int n) {
      if (b.length < n) {
        b = new float[n];
      }
      return b;
    }

    float[] t(int n) {
      if (t.length < n) {
        t = new float[n];
      }
      return t;
    }
  }

  private GemmF() {}

  /**
   * {@code c[p, i, j] = sum_q a[p, i, q] * b[p, q, j]}; c is zero-filled, contiguous {@code [batch, m, n]};
   * a and b are given by offset and (batch, row, column) strides, any of which may be 0.
   */
  static void gemm(ScalarKernels k, int threads, float[] a, int aOff, int aBs, int aRs, int aCs,
      float[] b, int bOff, int bBs, int bRs, int bCs, float[] c, int batch, int m, int n, int kk) {
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
    // One A for the whole batch (a conv weight against every image's columns), small enough to stay
    // packed in L2: pack it once and split the batch's column panels over the threads.
    if ((aBs == 0 && batch > 1 && (long) m * kk <= (1L << 20))
        || (batch == 1 && (long) m * Math.min(kk, k.kcF()) <= sharedALimit(k))) {
      sharedA(k, th, a, aOff, aRs, aCs, b, bOff, bBs, bRs, bCs, c, batch, m, n, kk);
      return;
    }
    // Many mid-size matrices: one matrix per thread beats splitting each one (fewer handoffs).
    if (th > 1 && batch >= 2 * th && perMatrix < (1L << 24)) {
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

  /** Largest m x kc block of A (in values, before the lanes copies) that {@link #sharedA} packs whole. */
  static long sharedALimit(ScalarKernels k) {
    return 64L * k.kcF();
  }
  /** Column panels one {@link #sharedA} task packs and runs against each row panel of A. */
  static final int GROUP_PANELS = 8;

  /**
   * Batched product with one A (batch stride 0, or a single matrix) of at most {@link #sharedALimit}
   * values per depth block: A is packed once for every depth block, then groups of column panels of all
   * matrices are split over the threads. A task packs its group's kc x NR panels of B (L2) and runs each
   * row panel of A (L1) against all of them. One fork-join per call instead of one per matrix and block;
   * per output the arithmetic is that of {@link #packed}: kc blocks in order, each added into C.
   */
  private static void sharedA(ScalarKernels k, int threads, float[] a, int aOff, int aRs, int aCs,
      float[] b, int bOff, int bBs, int bRs, int bCs, float[] c, int batch, int m, int n, int kk) {
    sharedA(k, threads, a, aOff, aRs, aCs, stridedGroups(k, b, bOff, bBs, bRs, bCs, n), c, batch, m, n, kk);
  }

  /**
   * Packs the kc x NR panels {@code t0 .. t1-1} of a {@link #sharedA} product (panel t is matrix
   * {@code t / nPanels}, columns from {@code (t % nPanels) * NR}) for depth rows {@code [pc, pc + kc)}:
   * panel t's row q at {@code pb[((t - t0) * kc + q) * NR]}, zero-padded past the last column.
   */
  interface GroupPacker {
    void pack(int t0, int t1, int nPanels, int pc, int kc, float[] pb);
  }

  /** The packer of a B given by offset and (batch, row, column) strides. */
  private static GroupPacker stridedGroups(ScalarKernels k, float[] b, int bOff, int bBs, int bRs, int bCs, int n) {
    final int nr = k.nrF();
    return (t0, t1, nPanels, pc, kc, pb) -> {
      if (bCs == 1) {
        // Row by row across the group: each row of B is read as one sequential run of up to
        // GROUP_PANELS * NR values, which the prefetchers follow (B is often far larger than L3).
        for (int q = 0; q < kc; q++) {
          for (int t = t0; t < t1; t++) {
            int j0 = (t % nPanels) * nr;
            int nv = Math.min(nr, n - j0);
            int src = bOff + (t / nPanels) * bBs + (pc + q) * bRs + j0;
            int dst = ((t - t0) * kc + q) * nr;
            System.arraycopy(b, src, pb, dst, nv);
            for (int j = nv; j < nr; j++) {
              pb[dst + j] = 0;
            }
          }
        }
      } else {
        for (int t = t0; t < t1; t++) {
          int jp = t % nPanels;
          packB(k, b, bOff + (t / nPanels) * bBs, bRs, bCs, n, pc, kc, jp, nr, pb, ((t - t0) - jp) * nr * kc);
        }
      }
    };
  }

  /**
   * {@link #sharedA} with B given by a packer: {@code c[p] += A * B[p]} for contiguous {@code c [batch, m, n]}
   * (zero-filled, or holding values the products add to, such as a bias) and B[p] the {@code kk x n}
   * matrices the packer produces panel by panel.
   */
  static void sharedA(ScalarKernels k, int threads, float[] a, int aOff, int aRs, int aCs, GroupPacker bp,
      float[] c, int batch, int m, int n, int kk) {
    int panels = batch * ((n + k.nrF() - 1) / k.nrF());
    // Pre-broadcast A costs lanes times the packing and pays only when a panel meets several B panels.
    boolean pre = panels >= 4;
    int lanes = pre ? k.aLanesF() : 1;
    int mPanels = (m + k.mrF() - 1) / k.mrF();
    PackedA pa = packShared(k, a, aOff, aRs, aCs, m, kk, pre, SCRATCH.get().a(mPanels * k.mrF() * kk * lanes));
    sharedA(k, threads, pa, bp, c, batch, n);
  }

  /** An m x kk matrix packed by {@link #packShared} for {@link #sharedA(ScalarKernels, int, PackedA, GroupPacker, float[], int, int)}. */
  record PackedA(float[] pa, int m, int kk, boolean pre) {}

  /**
   * Packs A (m x kk, all depth blocks) for shared use: block pc starts at {@code pc * mPanels * MR * lanes}
   * of {@code into} (which must hold {@code mPanels * MR * kk * lanes} values), with {@link ScalarKernels#aLanesF}
   * copies per value when {@code pre}.
   */
  static PackedA packShared(ScalarKernels k, float[] a, int aOff, int aRs, int aCs, int m, int kk, boolean pre,
      float[] into) {
    final int kcb = k.kcF();
    final int mr = k.mrF();
    final int mPanels = (m + mr - 1) / mr;
    final int lanes = pre ? k.aLanesF() : 1;
    for (int pc = 0; pc < kk; pc += kcb) {
      int kc = Math.min(kcb, kk - pc);
      for (int ip = 0; ip < mPanels; ip++) {
        packA(k, a, aOff, aRs, aCs, m, pc, kc, ip, mr, into, pc * mPanels * mr * lanes, lanes);
      }
    }
    return new PackedA(into, m, kk, pre);
  }

  /** {@link #sharedA} on an A packed once by {@link #packShared} (e.g. for many separate calls). */
  static void sharedA(ScalarKernels k, int threads, PackedA packed, GroupPacker bp, float[] c, int batch, int n) {
    final int kcb = k.kcF();
    final int mr = k.mrF();
    final int nr = k.nrF();
    final int m = packed.m();
    final int kk = packed.kk();
    final int mPanels = (m + mr - 1) / mr;
    final int nPanels = (n + nr - 1) / nr;
    final int panels = batch * nPanels;
    final boolean pre = packed.pre();
    final int lanes = pre ? k.aLanesF() : 1;
    final float[] pa = packed.pa();
    final int groups = (panels + GROUP_PANELS - 1) / GROUP_PANELS;
    Parallel.forRange(threads, groups, 1, (lo, hi) -> {
      Scratch s = SCRATCH.get();
      float[] pb = s.b(GROUP_PANELS * nr * Math.min(kcb, kk));
      float[] tile = s.t(mr * nr);
      for (int g = lo; g < hi; g++) {
        int t0 = g * GROUP_PANELS;
        int t1 = Math.min(panels, t0 + GROUP_PANELS);
        for (int pc = 0; pc < kk; pc += kcb) {
          int kc = Math.min(kcb, kk - pc);
          bp.pack(t0, t1, nPanels, pc, kc, pb);
          int paBlock = pc * mPanels * mr * lanes;
          for (int ip = 0; ip < mPanels; ip++) {
            int i0 = ip * mr;
            int mv = Math.min(mr, m - i0);
            int pao = paBlock + ip * mr * kc * lanes;
            for (int t = t0; t < t1; t++) {
              int p = t / nPanels;
              int j0 = (t % nPanels) * nr;
              int nv = Math.min(nr, n - j0);
              int pbo = (t - t0) * nr * kc;
              int co = p * m * n + i0 * n + j0;
              if (mv == mr && nv == nr) {
                if (pre) {
                  k.tilePF(pa, pao, pb, pbo, kc, c, co, n);
                } else {
                  k.tileF(pa, pao, pb, pbo, kc, c, co, n);
                }
              } else {
                edgeTile(k, pre, pa, pao, pb, pbo, kc, tile, nr, c, co, n, mv, nv);
              }
            }
          }
        }
      }
    });
  }

  /**
   * The B matrices of a {@link #sharedARows} product, read in place: matrix p's depth row q, column j is
   * {@code rows(p)[rowOff()[q] + j]}.
   */
  interface RowSource {
    /** Where each depth row starts in the buffer {@link #rows} returns (the same for every matrix). */
    int[] rowOff();

    /**
     * The buffer holding rows {@code [rowLo, rowHi)} of matrix p (others may be stale), with at least NR
     * readable values after the last column of every row (their values only reach the unused columns of edge
     * tiles). Called by the thread that then reads it, once per run of its tasks on the same matrix, so it may
     * fill and return a per-thread buffer.
     */
    float[] rows(int p, int rowLo, int rowHi);
  }

  /**
   * {@link #sharedA} with B read in place by the micro-kernels ({@link ScalarKernels#tilePRowsF}) instead of
   * packed: {@code c[p] += A * B[p]}, c contiguous {@code [batch, m, n]}. A task is a group of at most
   * {@link #GROUP_PANELS} column panels of one matrix; each thread asks the source for a matrix's rows once
   * per run of its tasks on it. A is packed once (pre-broadcast where the kernel set uses it), or, where the
   * kernel set says so ({@link ScalarKernels#inPlaceAF}), read in place as well. Per output, the arithmetic
   * is that of {@link #sharedA}: kc blocks in order, each added into C, the same bits.
   */
  static void sharedARows(ScalarKernels k, int threads, float[] a, int aOff, int aRs, int aCs, RowSource src,
      float[] c, int batch, int m, int n, int kk) {
    final int kcb = k.kcF();
    final int mr = k.mrF();
    final int nr = k.nrF();
    final int lanes = k.aLanesF();
    final int mPanels = (m + mr - 1) / mr;
    final int nPanels = (n + nr - 1) / nr;
    final boolean aInPlace = k.inPlaceAF();
    final float[] pa;
    final int[] aro;
    final int ao;
    if (aInPlace) {
      // A's rows read in place too (contiguous along the depth; copied so where they are not). Rows of the
      // last panel past m keep offset 0: they read row 0 into the unused rows of edge tiles.
      aro = new int[mPanels * mr];
      int rs = aRs;
      if (aCs == 1) {
        pa = a;
        ao = aOff;
      } else {
        pa = new float[m * kk];
        for (int i = 0; i < m; i++) {
          for (int q = 0; q < kk; q++) {
            pa[i * kk + q] = a[aOff + i * aRs + q * aCs];
          }
        }
        rs = kk;
        ao = 0;
      }
      for (int i = 0; i < m; i++) {
        aro[i] = i * rs;
      }
    } else {
      pa = packShared(k, a, aOff, aRs, aCs, m, kk, true, SCRATCH.get().a(mPanels * mr * kk * lanes)).pa();
      aro = null;
      ao = 0;
    }
    final int perMatrix = (nPanels + GROUP_PANELS - 1) / GROUP_PANELS;
    final int groupPanels = (nPanels + perMatrix - 1) / perMatrix;
    final int[] rowOff = src.rowOff();
    Parallel.forRange(threads, batch * perMatrix, 1, (lo, hi) -> {
      Scratch s = SCRATCH.get();
      float[] tile = s.t(mr * nr);
      float[] pb = s.b(nr * Math.min(kcb, kk));
      float[] rows = null;
      int rowsOf = -1;
      for (int u = lo; u < hi; u++) {
        int p = u / perMatrix;
        if (p != rowsOf) {
          rows = src.rows(p, 0, kk);
          rowsOf = p;
        }
        int jp0 = (u % perMatrix) * groupPanels;
        int jp1 = Math.min(nPanels, jp0 + groupPanels);
        for (int pc = 0; pc < kk; pc += kcb) {
          int kc = Math.min(kcb, kk - pc);
          int paBlock = pc * mPanels * mr * lanes;
          for (int ip = 0; ip < mPanels; ip++) {
            int i0 = ip * mr;
            int mv = Math.min(mr, m - i0);
            int pao = paBlock + ip * mr * kc * lanes;
            for (int jp = jp0; jp < jp1; jp++) {
              int j0 = jp * nr;
              int nv = Math.min(nr, n - j0);
              int co = p * m * n + i0 * n + j0;
              if (aInPlace && mv == mr && nv == nr) {
                k.tileARRowsF(pa, aro, i0, ao + pc, rows, rowOff, pc, j0, kc, c, co, n);
              } else if (aInPlace) {
                k.tileEdgeARRowsF(pa, aro, i0, ao + pc, rows, rowOff, pc, j0, kc, tile, mv, nv);
                addCorner(tile, nr, c, co, n, mv, nv);
              } else if (mv == mr && nv == nr) {
                k.tilePRowsF(pa, pao, rows, rowOff, pc, j0, kc, pb, c, co, n);
              } else {
                k.tileEdgePRowsF(pa, pao, rows, rowOff, pc, j0, kc, pb, tile, mv, nv);
                addCorner(tile, nr, c, co, n, mv, nv);
              }
            }
          }
        }
      }
    });
  }

  /**
   * {@code c[i, j] += sum_p sum_q A_p[i, q] * b[p, q, j]} for contiguous {@code c [m, n]}, each A_p read in place
   * by the micro-kernels ({@link ScalarKernels#tileARowsF}): row i, depth q at
   * {@code as.rows(p, ..)[as.rowOff()[i] + q]}. rowOff needs an entry for every row of the last row panel;
   * those past m may point anywhere q stays readable (they only reach unused rows of edge tiles). B by offset
   * and (batch, row, column) strides, packed per matrix and depth block. Threads split the row panels of C,
   * one run per thread, and each task walks the batch in order (the source fills only the task's rows), so
   * every output's arithmetic is the same for any thread count: per matrix, kc blocks in order, each added
   * into C.
   */
  static void gemmSumBatchRowsA(ScalarKernels k, int threads, RowSource as, float[] b, int bOff, int bBs, int bRs,
      int bCs, float[] c, int batch, int m, int n, int kk) {
    if (batch == 0 || m == 0 || n == 0 || kk == 0) {
      return;
    }
    final int kcb = k.kcF();
    final int mr = k.mrF();
    final int nr = k.nrF();
    final int mPanels = (m + mr - 1) / mr;
    final int nPanels = (n + nr - 1) / nr;
    final int[] rowOff = as.rowOff();
    int th = (long) batch * m * n * kk < PARALLEL_LIMIT ? 1 : Math.min(threads, mPanels);
    Parallel.forRange(th, mPanels, (mPanels + th - 1) / th, (lo, hi) -> {
      Scratch s = SCRATCH.get();
      int kcMax = Math.min(kcb, kk);
      float[] pa = s.a(mr * kcMax);
      float[] pb = s.b(nPanels * nr * kcMax);
      float[] tile = s.t(mr * nr);
      for (int p = 0; p < batch; p++) {
        float[] src = as.rows(p, lo * mr, Math.min(m, hi * mr));
        for (int pc = 0; pc < kk; pc += kcb) {
          int kc = Math.min(kcb, kk - pc);
          for (int jp = 0; jp < nPanels; jp++) {
            packB(k, b, bOff + p * bBs, bRs, bCs, n, pc, kc, jp, nr, pb, 0);
          }
          for (int ip = lo; ip < hi; ip++) {
            int i0 = ip * mr;
            int mv = Math.min(mr, m - i0);
            for (int jp = 0; jp < nPanels; jp++) {
              int j0 = jp * nr;
              int nv = Math.min(nr, n - j0);
              int pbo = jp * nr * kc;
              int co = i0 * n + j0;
              if (mv == mr && nv == nr) {
                k.tileARowsF(src, rowOff, i0, pc, pb, pbo, kc, pa, c, co, n);
              } else {
                k.tileEdgeARowsF(src, rowOff, i0, pc, pb, pbo, kc, pa, tile);
                addCorner(tile, nr, c, co, n, mv, nv);
              }
            }
          }
        }
      }
    });
  }

  /**
   * {@code c[i, j] = sum_p sum_q a[p, i, q] * b[p, q, j]}; c is zero-filled, contiguous {@code [m, n]}.
   * Threads split the columns of C, each task owning its columns for the whole batch, so every output
   * accumulates in the same order (matrix p, then depth block) for any thread count. Each task packs
   * A[p] itself (redundant across tasks, but A is m x k against the task's many columns).
   */
  static void gemmSumBatch(ScalarKernels k, int threads, float[] a, int aOff, int aBs, int aRs, int aCs,
      float[] b, int bOff, int bBs, int bRs, int bCs, float[] c, int batch, int m, int n, int kk) {
    if (batch == 0 || m == 0 || n == 0 || kk == 0) {
      return;
    }
    if (aCs == 1 && bRs == 1 && n <= DOT_MAX_N && kk >= DOT_MIN_K) {
      dotSumBatch(k, threads, a, aOff, aBs, aRs, b, bOff, bBs, bCs, c, batch, m, n, kk);
      return;
    }
    final int nr = k.nrF();
    gemmSumBatch(k, threads, a, aOff, aBs, aRs, aCs,
        (p, pc, kc, jp, pb, pbOff) -> packB(k, b, bOff + p * bBs, bRs, bCs, n, pc, kc, jp, nr, pb, pbOff),
        c, batch, m, n, kk);
  }

  /**
   * Packs the kc x NR panel {@code jp} (columns from {@code jp * NR}, zero-padded past n) of matrix p of a
   * {@link #gemmSumBatch} product, depth rows {@code [pc, pc + kc)}, at {@code pbOff + jp * NR * kc}.
   */
  interface PanelPacker {
    void pack(int p, int pc, int kc, int jp, float[] pb, int pbOff);
  }

  /** {@link #gemmSumBatch} with B given by a packer (never the dot-product path). */
  static void gemmSumBatch(ScalarKernels k, int threads, float[] a, int aOff, int aBs, int aRs, int aCs,
      PanelPacker bp, float[] c, int batch, int m, int n, int kk) {
    if (batch == 0 || m == 0 || n == 0 || kk == 0) {
      return;
    }
    final int kcb = k.kcF();
    final int mr = k.mrF();
    final int nr = k.nrF();
    final int mPanels = (m + mr - 1) / mr;
    final int nPanels = (n + nr - 1) / nr;
    int th = (long) batch * m * n * kk < PARALLEL_LIMIT ? 1 : threads;
    int grain = Math.max(4, (nPanels + th - 1) / th);
    Parallel.forRange(th, nPanels, grain, (lo, hi) -> {
      Scratch s = SCRATCH.get();
      boolean pre = hi - lo >= 4;
      int lanes = pre ? k.aLanesF() : 1;
      int kcMax = Math.min(kcb, kk);
      float[] pa = s.a(mPanels * mr * kcMax * lanes);
      float[] pb = s.b((hi - lo) * nr * kcMax);
      float[] tile = s.t(mr * nr);
      for (int p = 0; p < batch; p++) {
        for (int pc = 0; pc < kk; pc += kcb) {
          int kc = Math.min(kcb, kk - pc);
          for (int ip = 0; ip < mPanels; ip++) {
            packA(k, a, aOff + p * aBs, aRs, aCs, m, pc, kc, ip, mr, pa, 0, lanes);
          }
          for (int jp = lo; jp < hi; jp++) {
            bp.pack(p, pc, kc, jp, pb, -lo * nr * kc);
          }
          for (int ip = 0; ip < mPanels; ip++) {
            int i0 = ip * mr;
            int mv = Math.min(mr, m - i0);
            int pao = ip * mr * kc * lanes;
            for (int jp = lo; jp < hi; jp++) {
              int j0 = jp * nr;
              int nv = Math.min(nr, n - j0);
              int pbo = (jp - lo) * nr * kc;
              int co = i0 * n + j0;
              if (mv == mr && nv == nr) {
                if (pre) {
                  k.tilePF(pa, pao, pb, pbo, kc, c, co, n);
                } else {
                  k.tileF(pa, pao, pb, pbo, kc, c, co, n);
                }
              } else {
                edgeTile(k, pre, pa, pao, pb, pbo, kc, tile, nr, c, co, n, mv, nv);
              }
            }
          }
        }
      }
    });
  }

  /** At most this many columns of C: {@link #gemmSumBatch} runs as dot products (a micro-tile would be mostly padding). */
  static final int DOT_MAX_N = 16;
  /** At least this depth for the dot-product path (shorter rows leave the vector lanes idle). */
  static final int DOT_MIN_K = 32;

  /**
   * {@link #gemmSumBatch} for few columns (a first conv layer's weight gradient: n = 9 kernel taps,
   * k = 784 pixels) when the rows of A and the columns of B are both contiguous along the depth:
   * {@code c[i, j] += dot(a[p, i, :], b[p, :, j])} for p in order, 4 x 3 blocks of dot products
   * ({@link ScalarKernels#dotBlockF}) so each loaded vector serves 3 or 4 of them. The packed path
   * padded n = 9 to a 32-wide micro-tile and gathered the transposed B column by column (4.7 GFLOP/s
   * measured on conv4's first layer). Threads split the rows of C and every task walks the whole batch
   * in order, so each output's arithmetic is the same for any thread count.
   */
  private static void dotSumBatch(ScalarKernels k, int threads, float[] a, int aOff, int aBs, int aRs,
      float[] b, int bOff, int bBs, int bCs, float[] c, int batch, int m, int n, int kk) {
    int rowBlocks = (m + 3) / 4;
    int th = (long) batch * m * n * kk < PARALLEL_LIMIT ? 1 : threads;
    Parallel.forRange(th, rowBlocks, 1, (lo, hi) -> {
      for (int p = 0; p < batch; p++) {
        int ap = aOff + p * aBs;
        int bp = bOff + p * bBs;
        for (int rb = lo; rb < hi; rb++) {
          int i0 = rb * 4;
          int rows = Math.min(4, m - i0);
          for (int j0 = 0; j0 < n; j0 += 3) {
            k.dotBlockF(a, ap + i0 * aRs, aRs, b, bp + j0 * bCs, bCs, kk, c, i0 * n + j0, n, rows, Math.min(3, n - j0));
          }
        }
      }
    });
  }

  /** Unpacked path for small products: row i of C accumulates a[i, q] * row q of B. */
  private static void direct(ScalarKernels k, float[] a, int aOff, int aRs, int aCs, float[] b, int bOff,
      int bRs, int bCs, float[] c, int cOff, int m, int n, int kk) {
    for (int i = 0; i < m; i++) {
      int cRow = cOff + i * n;
      int aRow = aOff + i * aRs;
      if (bCs == 1) {
        for (int q = 0; q < kk; q++) {
          k.axpyF(a[aRow + q * aCs], b, bOff + q * bRs, c, cRow, n);
        }
      } else {
        for (int j = 0; j < n; j++) {
          int bCol = bOff + j * bCs;
          float s = 0;
          for (int q = 0; q < kk; q++) {
            s += a[aRow + q * aCs] * b[bCol + q * bRs];
          }
          c[cRow + j] = s;
        }
      }
    }
  }

  /** One matrix through the packed, blocked path, split over up to {@code threads} threads. */
  private static void packed(ScalarKernels k, int threads, float[] a, int aOff, int aRs, int aCs,
      float[] b, int bOff, int bRs, int bCs, float[] c, int cOff, int m, int n, int kk) {
    final int kcb = k.kcF();
    final int mr = k.mrF();
    final int nr = k.nrF();
    final int mPanels = (m + mr - 1) / mr;
    final int nPanels = (n + nr - 1) / nr;
    // Pre-broadcast A costs lanes times the packing and pays only when a panel meets several B panels.
    // Where the kernel set says so (the AVX2 set on JDK 25, ScalarKernels#rowsAGemmF) A is packed row by row
    // instead: a plain copy (no lanes copies), read by tileARowsF as per-row streams. SGEMM n=1024 with
    // 256-bit vectors on a Zen 4 core (JMH GemmBench, -XX:UseAVX=2, two alternations, JDK 25): 1 thread
    // 33.8 / 28.8 ms -> 23.3 / 23.2 ms, 2 threads 20.5 / 15.8 ms -> 12.3 / 12.9 ms against pre-broadcast A.
    final boolean rowsA = k.rowsAGemmF();
    final boolean pre = nPanels >= 4 && !rowsA;
    final int lanes = pre ? k.aLanesF() : 1;
    // A task takes mc of about 48 rows by nc of about 256 columns: with pre-broadcast A one row panel
    // (mr x kc x lanes, 24 KiB) stays in L1 while the task's B panels (128 KiB) stream from L2.
    final int mcPanels = Math.max(1, 48 / mr);
    final int ncPanels = Math.max(1, 256 / nr);
    final int mBlocks = (mPanels + mcPanels - 1) / mcPanels;
    final int nBlocks = (nPanels + ncPanels - 1) / ncPanels;
    final int kcMax = Math.min(kcb, kk);
    Scratch s = SCRATCH.get();
    final float[] pa = s.a(mPanels * mr * kcMax * lanes);
    final float[] pb = s.b(nPanels * nr * kcMax);
    for (int pc = 0; pc < kk; pc += kcb) {
      final int kc = Math.min(kcb, kk - pc);
      final int q0 = pc;
      Parallel.forRange(threads, mPanels + nPanels, 8, (lo, hi) -> {
        for (int t = lo; t < hi; t++) {
          if (t < mPanels && rowsA) {
            packARows(a, aOff, aRs, aCs, m, q0, kc, t, mr, pa);
          } else if (t < mPanels) {
            packA(k, a, aOff, aRs, aCs, m, q0, kc, t, mr, pa, 0, lanes);
          } else {
            packB(k, b, bOff, bRs, bCs, n, q0, kc, t - mPanels, nr, pb, 0);
          }
        }
      });
      final int[] aro = new int[mr];
      for (int i = 0; i < mr; i++) {
        aro[i] = i * kc;
      }
      Parallel.forRange(threads, mBlocks * nBlocks, 1, (lo, hi) -> {
        float[] tile = SCRATCH.get().t(mr * nr);
        for (int t = lo; t < hi; t++) {
          int mb = t / nBlocks;
          int nb = t % nBlocks;
          int ip0 = mb * mcPanels;
          int ip1 = Math.min(mPanels, ip0 + mcPanels);
          int jp0 = nb * ncPanels;
          int jp1 = Math.min(nPanels, jp0 + ncPanels);
          for (int ip = ip0; ip < ip1; ip++) {
            int i0 = ip * mr;
            int mv = Math.min(mr, m - i0);
            int pao = ip * mr * kc * lanes;
            for (int jp = jp0; jp < jp1; jp++) {
              int j0 = jp * nr;
              int nv = Math.min(nr, n - j0);
              int pbo = jp * nr * kc;
              int co = cOff + i0 * n + j0;
              // (Sets with rowsAGemmF read A's rows in place and take no scratch panel: null.)
              if (rowsA && mv == mr && nv == nr) {
                k.tileARowsF(pa, aro, 0, pao, pb, pbo, kc, null, c, co, n);
              } else if (rowsA) {
                k.tileEdgeARowsF(pa, aro, 0, pao, pb, pbo, kc, null, tile);
                addCorner(tile, nr, c, co, n, mv, nv);
              } else if (mv == mr && nv == nr) {
                if (pre) {
                  k.tilePF(pa, pao, pb, pbo, kc, c, co, n);
                } else {
                  k.tileF(pa, pao, pb, pbo, kc, c, co, n);
                }
              } else {
                edgeTile(k, pre, pa, pao, pb, pbo, kc, tile, nr, c, co, n, mv, nv);
              }
            }
          }
        }
      });
    }
  }

  /** Packs rows [ip*mr, ip*mr+mr) x depth [q0, q0+kc) of A row by row ({@code pa[ip*mr*kc + i*kc + q]}), zero rows past m. */
  private static void packARows(float[] a, int aOff, int aRs, int aCs, int m, int q0, int kc, int ip, int mr, float[] pa) {
    int i0 = ip * mr;
    int mv = Math.min(mr, m - i0);
    int base = ip * mr * kc;
    for (int i = 0; i < mr; i++) {
      int d = base + i * kc;
      if (i >= mv) {
        java.util.Arrays.fill(pa, d, d + kc, 0f);
      } else if (aCs == 1) {
        System.arraycopy(a, aOff + (i0 + i) * aRs + q0, pa, d, kc);
      } else {
        int src = aOff + (i0 + i) * aRs + q0 * aCs;
        for (int q = 0; q < kc; q++) {
          pa[d + q] = a[src + q * aCs];
        }
      }
    }
  }

  /** Packs rows [ip*mr, ip*mr+mr) x depth [q0, q0+kc) of A as kc groups of mr values (each repeated lanes times), zero-padded, at paOff + ip*mr*kc*lanes. */
  private static void packA(ScalarKernels k, float[] a, int aOff, int aRs, int aCs, int m, int q0, int kc, int ip, int mr,
      float[] pa, int paOff, int lanes) {
    int i0 = ip * mr;
    int mv = Math.min(mr, m - i0);
    int base = paOff + ip * mr * kc * lanes;
    int src = aOff + i0 * aRs + q0 * aCs;
    if (lanes == 1) {
      if (aCs == 1) {
        // A row-major (N): each row is contiguous along q, so packing transposes (in depth blocks).
        ScalarKernels.transposeBlockedF(a, src, aRs, kc, mv, pa, base, mr);
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
      for (int q = 0; q < kc && mv < mr; q++) {
        for (int i = mv; i < mr; i++) {
          pa[base + q * mr + i] = 0;
        }
      }
      return;
    }
    for (int q = 0; q < kc; q++) {
      k.broadcastRowF(a, src + q * aCs, aRs, mv, mr, lanes, pa, base + q * mr * lanes);
    }
  }

  /** Packs depth [q0, q0+kc) x columns [jp*nr, jp*nr+nr) of B as kc rows of nr values, zero-padded, at pbOff + jp*nr*kc. */
  private static void packB(ScalarKernels k, float[] b, int bOff, int bRs, int bCs, int n, int q0, int kc, int jp,
      int nr, float[] pb, int pbOff) {
    int j0 = jp * nr;
    int nv = Math.min(nr, n - j0);
    int base = pbOff + jp * nr * kc;
    int src = bOff + q0 * bRs + j0 * bCs;
    if (bCs == 1) {
      for (int q = 0; q < kc; q++) {
        System.arraycopy(b, src + q * bRs, pb, base + q * nr, nv);
      }
    } else if (bRs == 1 && nv == nr) {
      // Columns contiguous along the depth (B transposed, e.g. im2col columns in a weight gradient).
      k.packColumnsF(b, src, bCs, kc, pb, base, nr);
    } else if (bRs == 1) {
      ScalarKernels.transposeBlockedF(b, src, bCs, kc, nv, pb, base, nr);
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

  /** {@code c[co + i*n + j] += tile[i*nr + j]} for the used corner {@code i < mv, j < nv} of an edge tile. */
  private static void addCorner(float[] tile, int nr, float[] c, int co, int n, int mv, int nv) {
    for (int i = 0; i < mv; i++) {
      for (int j = 0; j < nv; j++) {
        c[co + i * n + j] += tile[i * nr + j];
      }
    }
  }

  /** {@code c[co + i*n + j] += (A panel * B panel)[i][j]} for the used corner {@code i < mv, j < nv} of an edge tile. */
  private static void edgeTile(ScalarKernels k, boolean pre, float[] pa, int pao, float[] pb, int pbo, int kc,
      float[] tile, int nr, float[] c, int co, int n, int mv, int nv) {
    k.tileEdgeF(pre, pa, pao, pb, pbo, kc, tile, mv, nv);
    addCorner(tile, nr, c, co, n, mv, nv);
  }
}
