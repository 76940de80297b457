/*
 * Batched GEMM C[p] = A[p] * B[p] with arbitrary element strides for A and B (transposes arrive as
 * swapped strides, broadcast batches as batch stride 0) and a contiguous C [batch, m, n].
 *
 * Tiling: a work-group computes an MG_TS x MG_TS tile of C. It has MG_TS x (MG_TS / MG_WPT) items;
 * item (col, rowg) owns column col and the MG_WPT rows rowg, rowg + RTS, ... of the tile, so the
 * MG_WPT accumulators stay in registers and each B value read from local memory is reused MG_WPT
 * times. Both operands are staged through local memory one MG_TS-deep slice of K at a time; the
 * staging loads go through the strides, so any layout costs the same after the load, and out-of-range
 * elements are loaded as zero so edges need no special inner loop.
 * Dimension 0 of the range runs along n (consecutive items touch consecutive columns of B and C),
 * dimension 1 along m, dimension 2 over the batch.
 */

#ifndef MG_TS
#define MG_TS 32
#endif
#ifndef MG_WPT
#define MG_WPT 8
#endif
#define MG_RTS (MG_TS / MG_WPT)

typedef struct {
  int m, n, k;
  int a_off, a_batch, a_row, a_col;
  int b_off, b_batch, b_row, b_col;
} mg_gemm_args;

KERNEL void mg_gemm(GLOBAL REAL* c, GLOBAL const REAL* a, GLOBAL const REAL* b, const mg_gemm_args g) {
  LOCAL REAL a_tile[MG_TS][MG_TS + 1]; /* [row][kk]; +1 avoids bank conflicts on GPUs */
  LOCAL REAL b_tile[MG_TS][MG_TS];     /* [kk][col] */
  const int col = LID(0);
  const int rowg = LID(1);
  const int row0 = GROUP(1) * MG_TS;
  const int j = GROUP(0) * MG_TS + col;
  const int p = GROUP(2);
  GLOBAL const REAL* ap = a + g.a_off + p * g.a_batch;
  GLOBAL const REAL* bp = b + g.b_off + p * g.b_batch;

  REAL acc[MG_WPT];
  for (int w = 0; w < MG_WPT; w++) acc[w] = (REAL) 0;

  for (int t = 0; t < g.k; t += MG_TS) {
    for (int w = 0; w < MG_WPT; w++) {
      int r = rowg + w * MG_RTS;
      int ai = row0 + r;
      int ak = t + col;
      a_tile[r][col] = (ai < g.m && ak < g.k) ? ap[ai * g.a_row + ak * g.a_col] : (REAL) 0;
      int bk = t + r;
      b_tile[r][col] = (bk < g.k && j < g.n) ? bp[bk * g.b_row + j * g.b_col] : (REAL) 0;
    }
    BARRIER;
    for (int kk = 0; kk < MG_TS; kk++) {
      REAL bv = b_tile[kk][col];
      for (int w = 0; w < MG_WPT; w++) {
        acc[w] += a_tile[rowg + w * MG_RTS][kk] * bv;
      }
    }
    BARRIER;
  }

  if (j < g.n) {
    for (int w = 0; w < MG_WPT; w++) {
      int i = row0 + rowg + w * MG_RTS;
      if (i < g.m) c[(p * g.m + i) * g.n + j] = acc[w];
    }
  }
}
