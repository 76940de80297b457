/*
 * im2col (unfold) and its adjoint col2im (fold) for 2-d windows, the layout of ConvGeometry:
 * columns [n, c*kh*kw, oh*ow] with row (ci*kh + ki)*kw + kj. Both are gathers (one item per output
 * element), so fold needs no atomics: each input pixel sums the window positions that cover it, in
 * (ki, kj) order like the reference, accumulating in ACC.
 */

typedef struct {
  int n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
  int off, s0, s1, s2, s3; /* offset and strides of the strided input */
} mg_window;

KERNEL void mg_unfold(GLOBAL REAL* out, GLOBAL const REAL* x, const mg_window g, const int total) {
  int i = GID(0);
  if (i >= total) return;
  int cols = g.oh * g.ow;
  int rows = g.c * g.kh * g.kw;
  int col = i % cols;
  int t = i / cols;
  int row = t % rows;
  int b = t / rows;
  int kj = row % g.kw;
  int ki = (row / g.kw) % g.kh;
  int ci = row / (g.kw * g.kh);
  int ii = (col / g.ow) * g.sh - g.ph + ki * g.dh;
  int jj = (col % g.ow) * g.sw - g.pw + kj * g.dw;
  REAL v = (REAL) 0;
  if (ii >= 0 && ii < g.h && jj >= 0 && jj < g.w) {
    v = x[g.off + b * g.s0 + ci * g.s1 + ii * g.s2 + jj * g.s3];
  }
  out[i] = v;
}

/* Here the strided input is the column tensor [n, rows, cols]: s0..s2 are its strides. */
KERNEL void mg_fold(GLOBAL REAL* out, GLOBAL const REAL* colsv, const mg_window g, const int total) {
  int i = GID(0);
  if (i >= total) return;
  int jj = i % g.w;
  int t = i / g.w;
  int ii = t % g.h;
  t /= g.h;
  int ci = t % g.c;
  int b = t / g.c;
  ACC acc = (ACC) 0;
  for (int ki = 0; ki < g.kh; ki++) {
    int ni = ii + g.ph - ki * g.dh;
    if (ni < 0) break; /* ni only decreases with ki */
    if (ni % g.sh != 0) continue;
    int oi = ni / g.sh;
    if (oi >= g.oh) continue;
    for (int kj = 0; kj < g.kw; kj++) {
      int nj = jj + g.pw - kj * g.dw;
      if (nj < 0) break;
      if (nj % g.sw != 0) continue;
      int oj = nj / g.sw;
      if (oj >= g.ow) continue;
      int row = (ci * g.kh + ki) * g.kw + kj;
      acc += (ACC) colsv[g.off + b * g.s0 + row * g.s1 + (oi * g.ow + oj) * g.s2];
    }
  }
  out[i] = (REAL) acc;
}
