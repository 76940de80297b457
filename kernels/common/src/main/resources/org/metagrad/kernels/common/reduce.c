/*
 * Sum and max over the reduced dimensions. The host splits x's dimensions into "outer" (kept; the
 * output is contiguous over them) and "inner" (reduced), each collapsed separately, and passes both
 * as strided descriptors over x (operand 0 of each). Accumulation is in ACC (double when the device
 * has fp64), as the reference accumulates in double. MAX propagates NaN like the reference:
 * once a NaN is seen the result is NaN.
 */

#define MG_REDUCE_WG 64

FN ACC mg_max2(ACC a, ACC b) {
  return (isnan(a) || a > b) ? a : b;
}

/* One work-item per output element: best when there are many outputs or few reduced elements. */
#define MG_REDUCE_SERIAL(name, init, combine)                                               \
  KERNEL void mg_reduce_##name##_serial(GLOBAL REAL* out, GLOBAL const REAL* x,               \
                                        const mg_strided outer, const mg_strided inner,     \
                                        const int out_n, const int inner_n) {               \
    int o = GID(0);                                                                         \
    if (o >= out_n) return;                                                                 \
    int base = mg_at(outer, 0, o);                                                          \
    ACC acc = (init);                                                                       \
    for (int r = 0; r < inner_n; r++) {                                                     \
      ACC v = (ACC) x[base + mg_at(inner, 0, r)];                                           \
      acc = combine(acc, v);                                                                \
    }                                                                                       \
    out[o] = (REAL) acc;                                                                    \
  }

/* One work-group of MG_REDUCE_WG items per output element, tree-combined in local memory: best when
 * a few outputs each reduce many elements. */
#define MG_REDUCE_GROUP(name, init, combine)                                                \
  KERNEL void mg_reduce_##name##_group(GLOBAL REAL* out, GLOBAL const REAL* x,                \
                                       const mg_strided outer, const mg_strided inner,      \
                                       const int out_n, const int inner_n) {                \
    LOCAL ACC scratch[MG_REDUCE_WG];                                                        \
    int o = GROUP(0);                                                                       \
    int l = LID(0);                                                                         \
    int base = mg_at(outer, 0, o);                                                          \
    ACC acc = (init);                                                                       \
    for (int r = l; r < inner_n; r += MG_REDUCE_WG) {                                       \
      ACC v = (ACC) x[base + mg_at(inner, 0, r)];                                           \
      acc = combine(acc, v);                                                                \
    }                                                                                       \
    scratch[l] = acc;                                                                       \
    BARRIER;                                                                                \
    for (int s = MG_REDUCE_WG / 2; s > 0; s >>= 1) {                                        \
      if (l < s) scratch[l] = combine(scratch[l], scratch[l + s]);                          \
      BARRIER;                                                                              \
    }                                                                                       \
    if (l == 0) out[o] = (REAL) scratch[0];                                                 \
  }

#define MG_ADD2(a, b) ((a) + (b))

MG_REDUCE_SERIAL(sum, (ACC) 0, MG_ADD2)
MG_REDUCE_SERIAL(max, (ACC) -INFINITY, mg_max2)
MG_REDUCE_GROUP(sum, (ACC) 0, MG_ADD2)
MG_REDUCE_GROUP(max, (ACC) -INFINITY, mg_max2)
