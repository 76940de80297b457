package org.metagrad.kernels.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasStatus;
import jcuda.runtime.cudaStream_t;
import org.metagrad.DType;
import org.metagrad.spi.BackendException;

/**
 * cuBLAS through JCublas2, isolated in its own class so that JCublas's native library (which links
 * {@code libcublas.so.12}) is touched only by {@link #open}, inside the caller's try: a machine without that
 * library still runs the CUDA backend on its own GEMM kernel.
 */
final class Cublas {
  private final cublasHandle handle;
  private final String version;

  private Cublas(cublasHandle handle, String version) {
    this.handle = handle;
    this.version = version;
  }

  /**
   * Creates a handle bound to {@code stream} in the calling thread's current context.
   *
   * @throws BackendException when cuBLAS reports an error
   * @throws LinkageError when JCublas's native library or libcublas does not load
   */
  static Cublas open(CUstream stream) {
    cublasHandle h = new cublasHandle();
    int st = JCublas2.cublasCreate(h);
    if (st != cublasStatus.CUBLAS_STATUS_SUCCESS) {
      throw new BackendException("cublasCreate: " + cublasStatus.stringFor(st));
    }
    st = JCublas2.cublasSetStream(h, new cudaStream_t(stream));
    if (st != cublasStatus.CUBLAS_STATUS_SUCCESS) {
      JCublas2.cublasDestroy(h);
      throw new BackendException("cublasSetStream: " + cublasStatus.stringFor(st));
    }
    int[] v = new int[1];
    String version = JCublas2.cublasGetVersion(h, v) == cublasStatus.CUBLAS_STATUS_SUCCESS
        ? (v[0] / 10000) + "." + (v[0] / 100 % 100) + "." + (v[0] % 100) : "unknown version";
    return new Cublas(h, version);
  }

  /** The cuBLAS library version, e.g. {@code 12.8.4}. */
  String version() {
    return version;
  }

  /**
   * Runs {@code plan} (see {@link GemmPlan}) with alpha 1 and beta 0: C gets our {@code A B}.
   *
   * @param a our A's buffer (cuBLAS's second operand)
   * @param b our B's buffer (cuBLAS's first operand)
   * @param c the contiguous output
   */
  void gemm(DType dt, GemmPlan p, CUdeviceptr a, CUdeviceptr b, CUdeviceptr c) {
    long es = dt.byteSize();
    Pointer first = b.withByteOffset(p.offsetA() * es);
    Pointer second = a.withByteOffset(p.offsetB() * es);
    int ta = p.transA() ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    int tb = p.transB() ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    int st;
    if (dt == DType.FLOAT64) {
      Pointer one = Pointer.to(new double[] {1});
      Pointer zero = Pointer.to(new double[] {0});
      st = JCublas2.cublasDgemmStridedBatched(handle, ta, tb, p.m(), p.n(), p.k(), one, first, p.lda(), p.strideA(),
          second, p.ldb(), p.strideB(), zero, c, p.ldc(), p.strideC(), p.batch());
    } else {
      Pointer one = Pointer.to(new float[] {1});
      Pointer zero = Pointer.to(new float[] {0});
      st = JCublas2.cublasSgemmStridedBatched(handle, ta, tb, p.m(), p.n(), p.k(), one, first, p.lda(), p.strideA(),
          second, p.ldb(), p.strideB(), zero, c, p.ldc(), p.strideC(), p.batch());
    }
    if (st != cublasStatus.CUBLAS_STATUS_SUCCESS) {
      throw new BackendException("cublas" + (dt == DType.FLOAT64 ? "D" : "S") + "gemmStridedBatched " + p + ": "
          + cublasStatus.stringFor(st));
    }
  }

  /** Destroys the handle (the owning backend is closing). */
  void close() {
    JCublas2.cublasDestroy(handle);
  }
}
