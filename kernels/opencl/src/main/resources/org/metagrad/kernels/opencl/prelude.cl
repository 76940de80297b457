/*
 * OpenCL prelude for the shared Metagrad kernel sources in org/metagrad/kernels/common.
 * The kernel bodies are written against these macros only, so that a CUDA prelude defining the same
 * names (KERNEL as extern "C" __global__, LOCAL as __shared__, GID(d) from blockIdx/threadIdx, ...)
 * can compile the very same text. The host passes -DREAL=float|double, -DACC=float|double and,
 * for the cast copy, -DSRC=float|double; -DMG_FP64 enables double precision.
 */
#ifdef MG_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#define KERNEL __kernel
#define GLOBAL __global
#define LOCAL __local
/* Device helper functions: static so that an uninlined copy never becomes an external symbol. */
#define FN static inline
#define GID(d) ((int) get_global_id(d))
#define LID(d) ((int) get_local_id(d))
#define GROUP(d) ((int) get_group_id(d))
#define LSIZE(d) ((int) get_local_size(d))
#define BARRIER barrier(CLK_LOCAL_MEM_FENCE)

#ifndef REAL
#define REAL float
#endif
#ifndef ACC
#define ACC REAL
#endif
#ifndef SRC
#define SRC REAL
#endif
