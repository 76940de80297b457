/*
 * Elementwise unary, binary and ternary (where) maps over strided views. One kernel per op, generated
 * by macros, so that each compiled kernel is branch-free in its inner loop. Semantics follow
 * ReferenceBackend.apply exactly where IEEE allows: SIGN keeps NaN and the sign of zero (like
 * Math.signum), comparisons give 1 or 0 in REAL (NaN compares false except !=), POW short-cuts the
 * exponents 0, 1 and 2 exactly as the reference does.
 */

FN REAL mg_sign(REAL x) {
  return x > (REAL) 0 ? (REAL) 1 : (x < (REAL) 0 ? (REAL) -1 : x);
}

FN REAL mg_pow(REAL x, REAL p) {
  if (p == (REAL) 2) return x * x;
  if (p == (REAL) 1) return x;
  if (p == (REAL) 0) return (REAL) 1;
  return pow(x, p);
}

#define MG_UNARY(name, expr)                                                            \
  KERNEL void mg_unary_##name(GLOBAL REAL* out, GLOBAL const REAL* in, const mg_strided g, \
                              const int n, const REAL p) {                              \
    int i = GID(0);                                                                     \
    if (i >= n) return;                                                                 \
    REAL x = in[mg_at(g, 1, i)];                                                        \
    out[mg_at(g, 0, i)] = (expr);                                                       \
  }                                                                                     \
  KERNEL void mg_unary_##name##_c(GLOBAL REAL* out, GLOBAL const REAL* in, const int in_off, \
                                  const int n, const REAL p) {                          \
    int i = GID(0);                                                                     \
    if (i >= n) return;                                                                 \
    REAL x = in[in_off + i];                                                            \
    out[i] = (expr);                                                                    \
  }

MG_UNARY(neg, -x)
MG_UNARY(exp, exp(x))
MG_UNARY(log, log(x))
MG_UNARY(sqrt, sqrt(x))
MG_UNARY(tanh, tanh(x))
MG_UNARY(pow, mg_pow(x, p))
MG_UNARY(sign, mg_sign(x))

#define MG_BINARY(name, expr)                                                             \
  KERNEL void mg_binary_##name(GLOBAL REAL* out, GLOBAL const REAL* a_, GLOBAL const REAL* b_, \
                               const mg_strided g, const int n) {                         \
    int i = GID(0);                                                                       \
    if (i >= n) return;                                                                   \
    REAL a = a_[mg_at(g, 1, i)];                                                          \
    REAL b = b_[mg_at(g, 2, i)];                                                          \
    out[mg_at(g, 0, i)] = (expr);                                                         \
  }                                                                                       \
  KERNEL void mg_binary_##name##_c(GLOBAL REAL* out, GLOBAL const REAL* a_, GLOBAL const REAL* b_, \
                                   const int a_off, const int b_off, const int n) {       \
    int i = GID(0);                                                                       \
    if (i >= n) return;                                                                   \
    REAL a = a_[a_off + i];                                                               \
    REAL b = b_[b_off + i];                                                               \
    out[i] = (expr);                                                                      \
  }

MG_BINARY(add, a + b)
MG_BINARY(sub, a - b)
MG_BINARY(mul, a * b)
MG_BINARY(div, a / b)
MG_BINARY(gt, a > b ? (REAL) 1 : (REAL) 0)
MG_BINARY(ge, a >= b ? (REAL) 1 : (REAL) 0)
MG_BINARY(lt, a < b ? (REAL) 1 : (REAL) 0)
MG_BINARY(le, a <= b ? (REAL) 1 : (REAL) 0)
MG_BINARY(eq, a == b ? (REAL) 1 : (REAL) 0)
MG_BINARY(ne, a != b ? (REAL) 1 : (REAL) 0)

/* cond != 0 picks a (a NaN condition is != 0, as in the reference). */
KERNEL void mg_where(GLOBAL REAL* out, GLOBAL const REAL* cond, GLOBAL const REAL* a,
                     GLOBAL const REAL* b, const mg_strided g, const int n) {
  int i = GID(0);
  if (i >= n) return;
  out[mg_at(g, 0, i)] = cond[mg_at(g, 1, i)] != (REAL) 0 ? a[mg_at(g, 2, i)] : b[mg_at(g, 3, i)];
}
