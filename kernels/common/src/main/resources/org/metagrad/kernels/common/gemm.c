/*
 * Batched GEMM C[p] = A[p] * B[p] with element strides for A and B (transposes arrive as swapped
 * strides, broadcast batches as batch stride 0) and a contiguous C [batch, m, n]. Two kernels; the
 * host picks one by device type when the backend opens (OpenClBackend.GemmKernel):
 *
 *   mg_gemm_tiled  GPUs: a work-group computes an MG_TM x MG_TN tile of C from MG_TK-deep slices of A and
 *                  B staged in LOCAL memory; each item keeps an MG_WM x MG_WN block of C in registers
 *                  (register blocking), so every value read from local memory feeds MG_WN (or MG_WM)
 *                  multiply-adds. Any strides.
 *   mg_gemm_cpu    CPU devices (PoCL): one item per work-group computes an MG_CM x MG_CN block of C with
 *                  MG_CN contiguous columns, no local memory and no barrier. The fully unrolled column loop
 *                  is vectorized by the device compiler inside the item, the MG_CM x MG_CN accumulators stay
 *                  in vector registers, and B is read in contiguous runs: requires b_col == 1 (the host
 *                  copies B to row-major first otherwise). Dimension 0 runs over row blocks, so consecutive
 *                  work-groups reuse the same MG_CN-wide panel of B from the cache.
 * The first kernel (32 x 32 tiles, one column and 8 rows per item, 9 local reads per 8 multiply-adds) was removed:
 * on PoCL mg_gemm_cpu beat it at every size measured, 64 to 1024 (bench/RESULTS.md, "OpenCL GEMM kernels"), and
 * mg_gemm_tiled stages the same way with 8 local reads per 16 multiply-adds (not measured on a GPU: none here).
 *
 * Edges: out-of-range elements of A and B are loaded as zero (tiled), rows past m read from a clamped,
 * in-range index (cpu), and only in-range elements of C are stored, so every shape is handled.
 * Only the prelude's macros are used (KERNEL, GLOBAL, LOCAL, LID, GROUP, GID, BARRIER) plus
 * _Pragma("unroll"), which both OpenCL C (clang) and CUDA accept, so a CUDA prelude compiles this text.
 */

typedef struct {
  int m, n, k;
  int a_off, a_batch, a_row, a_col;
  int b_off, b_batch, b_row, b_col;
} mg_gemm_args;

/* ------------------------------------------------------------------------------------ mg_gemm_tiled */

#ifndef MG_TM
#define MG_TM 64
#endif
#ifndef MG_TN
#define MG_TN 64
#endif
#ifndef MG_TK
#define MG_TK 16
#endif
#ifndef MG_WM
#define MG_WM 4
#endif
#ifndef MG_WN
#define MG_WN 4
#endif
#define MG_RM (MG_TM / MG_WM)  /* items along m */
#define MG_RN (MG_TN / MG_WN)  /* items along n */
#define MG_ITEMS (MG_RM * MG_RN)

/* Range: dimension 0 along n (MG_RN items per group), 1 along m (MG_RM items), 2 over the batch. Item (tx, ty)
 * owns rows ty + w * MG_RM and columns tx + v * MG_RN of the tile: neighbouring items touch neighbouring
 * columns (coalesced stores, conflict-free local reads). */
KERNEL void mg_gemm_tiled(GLOBAL REAL* c, GLOBAL const REAL* a, GLOBAL const REAL* b, const mg_gemm_args g) {
  LOCAL REAL a_tile[MG_TK][MG_TM + 1]; /* [kk][row]; +1: a k-fast staging store hits distinct banks */
  LOCAL REAL b_tile[MG_TK][MG_TN + 1]; /* [kk][col] */
  const int tx = LID(0);
  const int ty = LID(1);
  const int tid = ty * MG_RN + tx;
  const int row0 = GROUP(1) * MG_TM;
  const int col0 = GROUP(0) * MG_TN;
  const int p = GROUP(2);
  GLOBAL const REAL* ap = a + g.a_off + p * g.a_batch;
  GLOBAL const REAL* bp = b + g.b_off + p * g.b_batch;
  /* Staging order: consecutive items read consecutive addresses of the operand's unit-stride dimension. */
  const int a_kfast = g.a_col == 1;
  const int b_kfast = g.b_row == 1 && g.b_col != 1;

  REAL acc[MG_WM][MG_WN];
  _Pragma("unroll") for (int w = 0; w < MG_WM; w++) {
    _Pragma("unroll") for (int v = 0; v < MG_WN; v++) acc[w][v] = (REAL) 0;
  }

  for (int t = 0; t < g.k; t += MG_TK) {
    _Pragma("unroll") for (int e0 = 0; e0 < MG_TK * MG_TM; e0 += MG_ITEMS) {
      const int e = e0 + tid;
      if (MG_TK * MG_TM % MG_ITEMS == 0 || e < MG_TK * MG_TM) {
        const int kk = a_kfast ? e % MG_TK : e / MG_TM;
        const int r = a_kfast ? e / MG_TK : e % MG_TM;
        const int ai = row0 + r;
        const int ak = t + kk;
        a_tile[kk][r] = (ai < g.m && ak < g.k) ? ap[ai * g.a_row + ak * g.a_col] : (REAL) 0;
      }
    }
    _Pragma("unroll") for (int e0 = 0; e0 < MG_TK * MG_TN; e0 += MG_ITEMS) {
      const int e = e0 + tid;
      if (MG_TK * MG_TN % MG_ITEMS == 0 || e < MG_TK * MG_TN) {
        const int kk = b_kfast ? e % MG_TK : e / MG_TN;
        const int cc = b_kfast ? e / MG_TK : e % MG_TN;
        const int bk = t + kk;
        const int bj = col0 + cc;
        b_tile[kk][cc] = (bk < g.k && bj < g.n) ? bp[bk * g.b_row + bj * g.b_col] : (REAL) 0;
      }
    }
    BARRIER;
    _Pragma("unroll") for (int kk = 0; kk < MG_TK; kk++) {
      REAL ar[MG_WM];
      REAL br[MG_WN];
      _Pragma("unroll") for (int w = 0; w < MG_WM; w++) ar[w] = a_tile[kk][ty + w * MG_RM];
      _Pragma("unroll") for (int v = 0; v < MG_WN; v++) br[v] = b_tile[kk][tx + v * MG_RN];
      _Pragma("unroll") for (int w = 0; w < MG_WM; w++) {
        _Pragma("unroll") for (int v = 0; v < MG_WN; v++) acc[w][v] += ar[w] * br[v];
      }
    }
    BARRIER;
  }

  _Pragma("unroll") for (int w = 0; w < MG_WM; w++) {
    const int i = row0 + ty + w * MG_RM;
    if (i < g.m) {
      _Pragma("unroll") for (int v = 0; v < MG_WN; v++) {
        const int j = col0 + tx + v * MG_RN;
        if (j < g.n) c[(p * g.m + i) * g.n + j] = acc[w][v];
      }
    }
  }
}

/* -------------------------------------------------------------------------------------- mg_gemm_cpu */

#ifndef MG_CM
#define MG_CM 6
#endif
#ifndef MG_CN
#define MG_CN 32
#endif

/* Range: dimension 0 over row blocks of MG_CM, 1 over column blocks of MG_CN, 2 over the batch; one item per
 * work-group. Requires g.b_col == 1. Rows past m read row m - 1 (in range) and are not stored. A block cut by
 * the right edge of C takes a separate column-at-a-time loop (a loop of different shape, so the compiler cannot
 * merge it with the unrolled full-block loop into one that serves both and vectorizes neither). */
KERNEL void mg_gemm_cpu(GLOBAL REAL* c, GLOBAL const REAL* a, GLOBAL const REAL* b, const mg_gemm_args g) {
  const int i0 = GID(0) * MG_CM;
  const int j0 = GID(1) * MG_CN;
  const int p = GID(2);
  GLOBAL const REAL* ap = a + g.a_off + p * g.a_batch;
  GLOBAL const REAL* bp = b + g.b_off + p * g.b_batch + j0;
  int arow[MG_CM];
  _Pragma("unroll") for (int r = 0; r < MG_CM; r++) arow[r] = (i0 + r < g.m ? i0 + r : g.m - 1) * g.a_row;
  if (j0 + MG_CN <= g.n) {
    REAL acc[MG_CM][MG_CN];
    _Pragma("unroll") for (int r = 0; r < MG_CM; r++) {
      _Pragma("unroll") for (int q = 0; q < MG_CN; q++) acc[r][q] = (REAL) 0;
    }
    for (int kk = 0; kk < g.k; kk++) {
      REAL bv[MG_CN];
      _Pragma("unroll") for (int q = 0; q < MG_CN; q++) bv[q] = bp[kk * g.b_row + q];
      _Pragma("unroll") for (int r = 0; r < MG_CM; r++) {
        const REAL av = ap[arow[r] + kk * g.a_col];
        _Pragma("unroll") for (int q = 0; q < MG_CN; q++) acc[r][q] += av * bv[q];
      }
    }
    _Pragma("unroll") for (int r = 0; r < MG_CM; r++) {
      if (i0 + r < g.m) {
        GLOBAL REAL* crow = c + (p * g.m + i0 + r) * g.n + j0;
        _Pragma("unroll") for (int q = 0; q < MG_CN; q++) crow[q] = acc[r][q];
      }
    }
  } else {
    for (int q = 0; q < g.n - j0; q++) {
      REAL s[MG_CM];
      _Pragma("unroll") for (int r = 0; r < MG_CM; r++) s[r] = (REAL) 0;
      for (int kk = 0; kk < g.k; kk++) {
        const REAL bv = bp[kk * g.b_row + q];
        _Pragma("unroll") for (int r = 0; r < MG_CM; r++) s[r] += ap[arow[r] + kk * g.a_col] * bv;
      }
      _Pragma("unroll") for (int r = 0; r < MG_CM; r++) {
        if (i0 + r < g.m) c[(p * g.m + i0 + r) * g.n + j0 + q] = s[r];
      }
    }
  }
}
