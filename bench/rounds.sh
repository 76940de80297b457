#!/usr/bin/env bash
# Interleaved side-by-side rounds of the issue's target rows, for a noisy host: a virtual machine whose
# speed drifts by tens of percent over minutes makes one long run.sh pass (Metagrad for 15 minutes, then
# the peers) compare two different machines. Here each round runs the target rows only, Metagrad's JMH
# benchmarks and the peers' scripts back to back (odd rounds Metagrad first, even rounds the peers first),
# so the two sides of a ratio are minutes apart; the table gives every round's ratio and their median.
#
#   bench/rounds.sh [OUT_DIR] [ROUNDS]      (defaults bench/results/rounds-<date>, 4)
#
# Rows: sgemm n=1024 at 1 and 2 threads (numpy/OpenBLAS), workloads (a) conv4, (b) MAML second order 1 and
# 5 steps and first order 1 step with the tasks side by side, (c) ProtoNet, (d) per-op overhead (PyTorch).
# One JMH fork per benchmark and round (the rounds are the repeats). Knobs: as run.sh (JAVA, THREADS,
# SKIP_BUILD=1, HEAP), TORCH_ARGS (default "--budget-s 8").
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/results/rounds-$(date +%Y%m%d-%H%M%S)}"
rounds="${2:-4}"
case "$rounds" in ''|*[!0-9]*|0) echo "rounds.sh: ROUNDS must be a positive whole number, got '$rounds'" >&2; exit 2;; esac
mkdir -p "$out"
if [ -z "${SKIP_BUILD:-}" ]; then
  (cd "$(dirname "$here")" && mvn -q -o install -DskipTests)
fi
only="conv4_fwd_bwd,maml2_1step,maml2_1step_tasks,maml1_1step_tasks,maml2_5step_tasks,protonet_60w5s,add_chain"
for r in $(seq 1 "$rounds"); do
  first=""
  [ $((r % 2)) -eq 0 ] && first=1
  echo "# $(date +%H:%M:%S) round $r of $rounds ($([ -n "$first" ] && echo peers || echo Metagrad) first)" >&2
  SKIP_BUILD=1 KERNELS=0 FORKS=1 SKIP_MEMORY=1 PEERS_FIRST="$first" \
    GEMM_ARGS="-p n=1024" MAML_ARGS="-p schedule=tasks" GEMM_SIZES=1024 \
    TORCH_ARGS="--only $only ${TORCH_ARGS:---budget-s 8}" \
    "$here/run.sh" "$out/round-$r" > /dev/null
done
python3 "$here/report.py" --rounds "$out" | tee "$out/table.md"
