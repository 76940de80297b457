/*
 * CUDA prelude for the shared Metagrad kernel sources in org/metagrad/kernels/common (module
 * kernels/common): the same macro names the OpenCL prelude (kernels/opencl/.../opencl/prelude.cl)
 * defines, mapped to CUDA C++, so that nvcc compiles the very same kernel bodies. The generator
 * (kernels/cuda/gen/build-ptx.sh) passes -DREAL=float|double, -DACC=double, -DSRC=float|double and
 * -DMG_FP64 (every CUDA device the PTX targets has double precision), plus a family's extra defines.
 *
 * Work-item functions: the host launches a grid whose block is OpenCL's work-group (local size) and whose
 * grid is OpenCL's global size divided by it, dimension by dimension, so GID/LID/GROUP/LSIZE keep their
 * OpenCL meaning.
 */
#ifndef MG_CUDA_PRELUDE
#define MG_CUDA_PRELUDE

/* Unmangled names: the host looks kernels up by their C name (cuModuleGetFunction). */
#define KERNEL extern "C" __global__
/* CUDA kernel pointers are global by default. */
#define GLOBAL
#define LOCAL __shared__
/* Device helper functions: internal linkage, so an uninlined copy never becomes an external symbol. */
#define FN static __device__ __forceinline__

static __device__ __forceinline__ int mg_dim3_at(const uint3 v, const int d) {
  return d == 0 ? (int) v.x : (d == 1 ? (int) v.y : (int) v.z);
}
static __device__ __forceinline__ int mg_dim3_at(const dim3 v, const int d) {
  return d == 0 ? (int) v.x : (d == 1 ? (int) v.y : (int) v.z);
}

#define LID(d) mg_dim3_at(threadIdx, (d))
#define GROUP(d) mg_dim3_at(blockIdx, (d))
#define LSIZE(d) mg_dim3_at(blockDim, (d))
#define GID(d) (GROUP(d) * LSIZE(d) + LID(d))
/* OpenCL's barrier(CLK_LOCAL_MEM_FENCE): every thread of the block, shared memory visible after it. */
#define BARRIER __syncthreads()

/* Math: CUDA C++ overloads exp, log, sqrt, tanh, pow and isnan for float and double, as OpenCL C does,
 * so the kernels' calls need no renaming. INFINITY comes from math.h (cuda_runtime.h includes it); it is
 * defined here only if a host toolchain leaves it out. */
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif

#ifndef REAL
#define REAL float
#endif
#ifndef ACC
#define ACC REAL
#endif
#ifndef SRC
#define SRC REAL
#endif

#endif /* MG_CUDA_PRELUDE */
