#!/usr/bin/env bash
# Runs the numpy and PyTorch peer benchmarks and writes their JSON lines to one file, for the
# table that Metagrad's JMH runner prints beside its own results.
#
#   bench/python/run_peers.sh [OUT.jsonl]        (default: bench/python/results/peers-<date>.jsonl)
#
# Environment knobs: THREADS (torch threads, default 2), GEMM_THREADS (default "1 2"),
# GEMM_SIZES (default "64,128,256,512,1024,2048"), PYTHON (numpy's python, default python3), TORCH_PYTHON (default /usr/bin/python3, Debian's
# python3-torch), OMP_WAIT_POLICY_FOR_TORCH (default PASSIVE: see torch_workloads.py),
# TORCH_ARGS (more torch_workloads.py options, e.g. "--budget-s 20 --repeat-scale 0.5").
#
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, if set in this shell (for experiments with the Java
# kernels), would force numpy's OpenBLAS onto another kernel or cache size: they are unset for the
# numpy command only. gemm_numpy.py prints the kernel OpenBLAS picked (threadpoolctl's
# "architecture") in its first line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/results/peers-$(date +%Y%m%d-%H%M%S).jsonl}"
mkdir -p "$(dirname "$out")"
: > "$out"
PYTHON="${PYTHON:-python3}"
TORCH_PYTHON="${TORCH_PYTHON:-/usr/bin/python3}"
THREADS="${THREADS:-2}"
GEMM_THREADS="${GEMM_THREADS:-1 2}"

echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for t in $GEMM_THREADS; do
  # One process per thread count, so the count holds with or without threadpoolctl.
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" \
    "$PYTHON" "$here/gemm_numpy.py" --threads "$t" --sizes "${GEMM_SIZES:-64,128,256,512,1024,2048}" | tee -a "$out"
done
if "$TORCH_PYTHON" -c 'import torch' 2>/dev/null; then
  "$TORCH_PYTHON" "$here/torch_workloads.py" --threads "$THREADS" \
    --omp-wait-policy "${OMP_WAIT_POLICY_FOR_TORCH:-PASSIVE}" ${TORCH_ARGS:-} | tee -a "$out"
else
  echo "# $TORCH_PYTHON has no torch (apt-get install python3-torch); PyTorch workloads skipped" >&2
fi
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg); results in $out" >&2
