package org.metagrad.kernels.cuda;

/**
 * How a row-major batched product {@code C[p] = A[p] B[p]} ({@code A [M, K]}, {@code B [K, N]} with any element
 * strides, a contiguous {@code C [batch, M, N]}) maps onto column-major cuBLAS ({@code cublas?gemmStridedBatched}):
 * the transpose trick. A row-major {@code M x N} matrix is, in column-major terms, its transpose, so
 * {@code C = A B} is computed as {@code C^T = B^T A^T}: cuBLAS's first operand is our B, its second our A, its
 * {@code m} is our N and its {@code n} our M, and C comes out row-major with {@code ldc = N}.
 *
 * <p>Each operand's strides decide its cuBLAS transpose flag and leading dimension ({@link Operand#of}); an operand
 * whose layout no flag and leading dimension describe (a stepped view, a broadcast row) makes {@link #of} return
 * null, and the backend copies that operand to contiguous memory first.
 *
 * @param transA cuBLAS {@code transa}: whether its first operand (our B) is read transposed
 * @param transB cuBLAS {@code transb}: whether its second operand (our A) is read transposed
 * @param m cuBLAS {@code m} (our N)
 * @param n cuBLAS {@code n} (our M)
 * @param k the contracted size (our K)
 * @param lda leading dimension of cuBLAS's first operand (our B)
 * @param ldb leading dimension of cuBLAS's second operand (our A)
 * @param ldc leading dimension of C ({@code N})
 * @param offsetA element offset of cuBLAS's first operand (our B's view offset)
 * @param offsetB element offset of cuBLAS's second operand (our A's view offset)
 * @param strideA batch stride of cuBLAS's first operand (our B's; 0 broadcasts it)
 * @param strideB batch stride of cuBLAS's second operand (our A's; 0 broadcasts it)
 * @param strideC batch stride of C ({@code M * N})
 * @param batch the batch count
 */
public record GemmPlan(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc, int offsetA,
                       int offsetB, long strideA, long strideB, long strideC, int batch) {

  /**
   * One operand in cuBLAS terms.
   *
   * @param transposed cuBLAS's {@code CUBLAS_OP_T} (else {@code CUBLAS_OP_N})
   * @param ld its leading dimension
   */
  public record Operand(boolean transposed, int ld) {
    /**
     * The flag and leading dimension under which a column-major cuBLAS operand {@code Y} gives
     * {@code op(Y) = X^T}, where X is the row-major-indexed {@code rows x cols} matrix with element
     * {@code (r, c)} at {@code r * rowStride + c * colStride}; null when no flag and leading dimension do
     * (cuBLAS needs unit stride along one dimension and a leading dimension of at least the other's extent).
     * The stride of a size-1 dimension is free and chosen to fit.
     *
     * @param rows X's rows
     * @param cols X's columns
     * @param rowStride X's row stride, in elements
     * @param colStride X's column stride, in elements
     * @return the operand, or null when the layout needs a copy first
     */
    public static Operand of(int rows, int cols, int rowStride, int colStride) {
      // CUBLAS_OP_N: Y = X^T stored column-major (cols x rows): (c, r) at c + r * ld.
      int cs = cols == 1 ? 1 : colStride;
      int rs = rows == 1 ? Math.max(1, cols) : rowStride;
      if (cs == 1 && rs >= Math.max(1, cols)) {
        return new Operand(false, rs);
      }
      // CUBLAS_OP_T: Y = X stored column-major (rows x cols): (r, c) at r + c * ld.
      rs = rows == 1 ? 1 : rowStride;
      cs = cols == 1 ? Math.max(1, rows) : colStride;
      if (rs == 1 && cs >= Math.max(1, rows)) {
        return new Operand(true, cs);
      }
      return null;
    }
  }

  /**
   * The cuBLAS call for {@code C[p] = A[p] B[p]}, or null when A or B needs a contiguous copy first (see
   * {@link #needsCopy}).
   *
   * @param batch the batch count
   * @param m A's rows
   * @param n B's columns
   * @param k A's columns and B's rows
   * @param a A's offset, batch stride, row stride and column stride, in elements
   * @param b B's offset, batch stride, row stride and column stride, in elements
   * @return the plan, or null
   */
  public static GemmPlan of(int batch, int m, int n, int k, int[] a, int[] b) {
    Operand first = Operand.of(k, n, b[2], b[3]); // B [K, N]: op(first) = B^T
    Operand second = Operand.of(m, k, a[2], a[3]); // A [M, K]: op(second) = A^T
    if (first == null || second == null) {
      return null;
    }
    return new GemmPlan(first.transposed(), second.transposed(), n, m, k, first.ld(), second.ld(), Math.max(1, n),
        b[0], a[0], batch == 1 ? 0 : b[1], batch == 1 ? 0 : a[1], (long) m * n, batch);
  }

  /**
   * Whether an operand of {@code rows x cols} with these strides must be copied before cuBLAS can read it.
   *
   * @param rows the operand's rows
   * @param cols the operand's columns
   * @param rowStride its row stride
   * @param colStride its column stride
   * @return true when {@link Operand#of} has no description of it
   */
  public static boolean needsCopy(int rows, int cols, int rowStride, int colStride) {
    return Operand.of(rows, cols, rowStride, colStride) == null;
  }
}
