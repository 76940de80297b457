/*
 * Strided copy with conversion from SRC to REAL, and fill. The output side is strided too: pad and
 * concat are this copy scattering into a window of a larger contiguous buffer.
 */

KERNEL void mg_copy(GLOBAL REAL* out, GLOBAL const SRC* in, const mg_strided g, const int n) {
  int i = GID(0);
  if (i >= n) return;
  out[mg_at(g, 0, i)] = (REAL) in[mg_at(g, 1, i)];
}

KERNEL void mg_fill(GLOBAL REAL* out, const int n, const REAL value) {
  int i = GID(0);
  if (i >= n) return;
  out[i] = value;
}
