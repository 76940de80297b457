/**
 * The CUDA backend ({@code cuda:N}) on JCuda's driver API: the shared kernel sources of
 * {@code org/metagrad/kernels/common} compiled ahead of time to PTX, a caching device-memory allocator, and cuBLAS
 * GEMM through JCublas when it loads. Entry point: {@link org.metagrad.kernels.cuda.CudaBackendFactory}.
 */
package org.metagrad.kernels.cuda;
