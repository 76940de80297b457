#!/usr/bin/env python3
"""SGEMM peer benchmark: numpy's float32 matmul (OpenBLAS) beside Metagrad's JMH GEMM benchmark.

For each n and thread count: C = A @ B with A, B n x n float32 (seeded), C preallocated
(np.matmul(..., out=C)). Each sample times enough back-to-back calls to last about --sample-s
seconds; the reported time is the median per call over --samples samples, after a warm-up.
GFLOP/s = 2 n^3 / time. The result is checked once per n against a float64 product. cpu_median_s
is the process CPU time per call (all threads, spinning included): on a machine shared with other
jobs, wall time also counts waiting for a core; compare loadavg in the first line.

Thread count: with threadpoolctl installed the BLAS pool is limited in-process
(threadpool_limits); without it the count comes from OPENBLAS_NUM_THREADS, which the runner
(run_peers.sh) sets per process, and --threads must then name just that count.

The first line describes the environment (numpy and OpenBLAS version, the OpenBLAS kernel
("architecture") that threadpoolctl reports, and OPENBLAS_* variables); then one JSON line per
(n, threads). OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE force a kernel or cache size and must not be set
for a fair peer measurement: run_peers.sh unsets them for this command only.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 bench/python/gemm_numpy.py --threads 1,2
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

try:
    import threadpoolctl
except ImportError:  # the runner then sets OPENBLAS_NUM_THREADS per process
    threadpoolctl = None


def openblas_corename():
    """The kernel OpenBLAS picked at run time, asked of numpy's bundled library (no threadpoolctl)."""
    import ctypes
    import glob
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "*openblas*"))
    for lib in libs:
        try:
            dll = ctypes.CDLL(lib)
        except OSError:
            continue
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_",
                     "openblas_get_corename"):
            if hasattr(dll, name):
                fn = getattr(dll, name)
                fn.restype = ctypes.c_char_p
                return fn().decode(), os.path.basename(lib)
    return None, None


def blas_info():
    if threadpoolctl is None:
        core, lib = openblas_corename()
        return [{"note": "threadpoolctl not installed; kernel asked of the library", "architecture": core,
                 "filepath": lib, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")}]
    return [
        {k: d.get(k) for k in ("internal_api", "version", "architecture", "threading_layer", "num_threads", "filepath")}
        for d in threadpoolctl.threadpool_info()
        if d.get("user_api") == "blas"
    ]


def time_gemm(n, samples, sample_s, rng):
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=c)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    err = float(np.max(np.abs(c - ref)) / max(1.0, float(np.max(np.abs(ref)))))
    if not err < 1e-4:
        raise SystemExit(f"sgemm n={n}: relative error {err} too large")
    # Calibrate calls per sample so one sample lasts about sample_s (timer resolution, noise).
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            np.matmul(a, b, out=c)
        dt = time.perf_counter() - t0
        if dt >= sample_s / 4 or calls >= 1 << 20:
            break
        calls *= 2
    calls = max(1, int(calls * sample_s / max(dt, 1e-9)))
    per_call, cpu_per_call = [], []
    for _ in range(samples):
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(calls):
            np.matmul(a, b, out=c)
        per_call.append((time.perf_counter() - t0) / calls)
        cpu_per_call.append((time.process_time() - c0) / calls)
    return per_call, cpu_per_call, calls, err


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="64,128,256,512,1024,2048")
    p.add_argument("--threads", default="1,2", help="comma-separated BLAS thread counts")
    p.add_argument("--samples", type=int, default=7)
    p.add_argument("--sample-s", type=float, default=0.2, help="target seconds per sample")
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    if threadpoolctl is None and len(threads) > 1:
        raise SystemExit("without threadpoolctl, run one process per thread count with OPENBLAS_NUM_THREADS set")

    print(json.dumps({
        "bench": "env", "impl": "numpy", "numpy": np.__version__, "python": sys.version.split()[0],
        "machine": platform.machine(), "cpus": os.cpu_count(), "loadavg": os.getloadavg(), "blas": blas_info(),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS")},
    }), flush=True)
    for t in threads:
        limiter = threadpoolctl.threadpool_limits(limits=t, user_api="blas") if threadpoolctl else None
        try:
            for n in sizes:
                rng = np.random.default_rng(n)
                per_call, cpu_per_call, calls, err = time_gemm(n, args.samples, args.sample_s, rng)
                med = statistics.median(per_call)
                print(json.dumps({
                    "bench": "sgemm", "impl": "numpy-openblas", "n": n, "threads": t,
                    "median_s": med, "gflops": 2.0 * n ** 3 / med / 1e9,
                    "min_s": min(per_call), "max_s": max(per_call),
                    "cpu_median_s": statistics.median(cpu_per_call),
                    # Per CPU-second of all threads together: robust to waiting for a core.
                    "gflops_per_cpu_s": 2.0 * n ** 3 / statistics.median(cpu_per_call) / 1e9,
                    "samples": len(per_call), "calls_per_sample": calls, "rel_err": err,
                }), flush=True)
        finally:
            if limiter is not None:
                limiter.restore_original_limits()


if __name__ == "__main__":
    main()
