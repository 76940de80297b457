/*
 * Strided addressing shared by the elementwise, copy and reduction kernels. The host collapses
 * adjacent dimensions that are contiguous for every operand, so most calls arrive with rank 1 or 2;
 * at most MG_MAX_RANK dimensions remain (the host splits higher ranks into several launches).
 * Operand 0 is the output, operands 1..3 the inputs. The struct is passed by value as a kernel
 * argument: only ints, so its layout is the same on the host, in OpenCL C and in CUDA.
 */
#define MG_MAX_RANK 8
#define MG_OPERANDS 4

typedef struct {
  int rank;
  int shape[MG_MAX_RANK];
  int stride[MG_OPERANDS][MG_MAX_RANK];
  int offset[MG_OPERANDS];
} mg_strided;

/* Element offset of operand k at row-major linear index i. The outermost coordinate needs no
 * division, so a fully collapsed (rank-1) view costs one multiply-add. */
FN int mg_at(const mg_strided g, int k, int i) {
  int o = g.offset[k];
  for (int d = g.rank - 1; d > 0; d--) {
    int s = g.shape[d];
    o += (i % s) * g.stride[k][d];
    i /= s;
  }
  return o + i * g.stride[k][0];
}
