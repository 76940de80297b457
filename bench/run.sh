#!/usr/bin/env bash
# Side-by-side benchmark run on this machine: Metagrad's JMH suite (GEMM, conv GEMMs, elementwise,
# reductions, fused batch-norm/max-pool/ReLU and conv2d vs their composites, workloads (a)-(d)), fresh-JVM memory
# runs of the workloads, and the same workloads in numpy (GEMM) and PyTorch; then a table of medians and ratios (Metagrad time / peer time).
#
#   bench/run.sh [OUT_DIR]          (default bench/results/<date>)
#
# Knobs (environment): JAVA (default JDK 25 if present), THREADS (2), FORKS (2; JMH forks per GEMM
# and workload benchmark), KFORKS (1; forks of the elementwise/reduce/conv micro-benchmarks and the
# OpenCL ones), HEAP (-Xmx of the workload forks, default 8g as in WorkloadBench), MEM_HEAP (-Xmx of
# the memory runs, default 2g), SKIP_BUILD=1,
# SKIP_PEERS=1, SKIP_JMH=1 (reuse files already in OUT_DIR), TORCH_ARGS (extra torch_workloads.py
# options), KERNELS=0 (skip the kernel micro-benchmarks), GEMM_ARGS / MAML_ARGS (extra JMH args,
# e.g. "-p n=1024"), MEM_WORKLOADS (subset), SKIP_MEMORY=1, PEERS_FIRST=1 (run the peers before the JMH
# suite; bench/rounds.sh alternates the order), QUICK=1 (one iteration each: a smoke test, not results).
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for the numpy/torch commands only (run_peers.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
out="${1:-$here/results/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
JAVA="${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}"
[ -x "$JAVA" ] || JAVA=java
THREADS="${THREADS:-2}"
FORKS="${FORKS:-2}"
KFORKS="${KFORKS:-1}"
HEAP="${HEAP:-8g}"
MEM_HEAP="${MEM_HEAP:-2g}"
jar="$root/bench/target/benchmarks.jar"
jvm="--add-modules jdk.incubator.vector -Dmetagrad.threads=$THREADS"

log() { echo "# $(date +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg): $*" | tee -a "$out/log.txt" >&2; }

{
  echo "date: $(date -Is)"
  echo "kernel: $(uname -srm)"
  lscpu | grep -E 'Model name|^CPU\(s\)|Thread|Core|Socket|MHz|L1d|L2|L3|Hypervisor'
  echo "avx2: $(grep -qw avx2 /proc/cpuinfo && echo yes || echo no), avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no)"
  "$JAVA" -version 2>&1 | head -2
  free -g | head -2
  /usr/bin/python3 -c 'import torch; print("torch", torch.__version__, torch.__config__.parallel_info().splitlines()[:3])' 2>/dev/null || true
  python3 -c 'import numpy, threadpoolctl; print("numpy", numpy.__version__, [(i["internal_api"], i["version"], i["architecture"]) for i in threadpoolctl.threadpool_info()])' 2>/dev/null \
    || python3 -c 'import numpy; c = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]; print("numpy", numpy.__version__, "blas", c.get("name"), c.get("version"), "(build configuration; threadpoolctl not installed)")' 2>/dev/null \
    || true
  dpkg -l 2>/dev/null | awk '/libopenblas0|python3-torch /{print $2, $3}'
} > "$out/machine.txt" 2>&1

if [ -z "${SKIP_BUILD:-}" ]; then
  log "building"
  (cd "$root" && mvn -q -o install -DskipTests)
fi

jmh() {  # name, forks, regex, warmup iterations, warmup seconds, iterations, seconds, extra JMH args...
  local name="$1" forks="$2" regex="$3" wi="$4" w="$5" i="$6" r="$7"
  shift 7
  if [ -n "${QUICK:-}" ]; then wi=1; i=1; fi  # smoke test of the runner only: not for results
  log "jmh $name"
  "$JAVA" -jar "$jar" "$regex" -f "$forks" -bm sample -wi "$wi" -w "$w" -i "$i" -r "$r" \
    -jvmArgsAppend "$jvm $JMH_HEAP" -rf json -rff "$out/jmh-$name.json" "$@" > "$out/jmh-$name.txt" 2>&1 || {
      echo "jmh $name failed; see $out/jmh-$name.txt" >&2; tail -20 "$out/jmh-$name.txt" >&2; return 1; }
  # The forks' warnings name the jar by its absolute path: keep the recorded files relative to the repository.
  # No machine paths in recorded results: the repository root goes, a JVM under /usr/lib/jvm becomes JDK:<name>.
  sed -i -E -e "s#$root/##g" -e 's#/usr/lib/jvm/([A-Za-z0-9._-]+)/bin/java#JDK:\1#g' "$out/jmh-$name.txt" "$out/jmh-$name.json"
}

peers() {
  if [ -z "${SKIP_PEERS:-}" ]; then
    log "peers"
    THREADS="$THREADS" "$here/python/run_peers.sh" "$out/peers.jsonl" 2>>"$out/log.txt"
  fi
}
[ -n "${PEERS_FIRST:-}" ] && peers

if [ -z "${SKIP_JMH:-}" ]; then
  JMH_HEAP=""
  # GEMM 64..2048 at 1 and 2 threads (the benchmark's threads param opens the backend with that many).
  jmh gemm "$FORKS" '^org.metagrad.bench.kernels.GemmBench' 2 1 3 1 ${GEMM_ARGS:-}
  if [ "${KERNELS:-1}" != 0 ]; then
    jmh conv "$KFORKS" '^org.metagrad.bench.kernels.ConvGemmBench' 2 1 3 1 -p threads="$THREADS"
    jmh elementwise "$KFORKS" '^org.metagrad.bench.kernels.ElementwiseBench' 1 1 2 1
    jmh reduce "$KFORKS" '^org.metagrad.bench.kernels.ReduceBench' 1 1 2 1
    jmh fused "$KFORKS" '^org.metagrad.bench.kernels.FusedOpBench' 3 1 5 1
    jmh conv2d "$KFORKS" '^org.metagrad.bench.kernels.Conv2dBench' 3 1 5 1
    # OpenCL through PoCL: on this machine PoCL's device is this same CPU (pthread), not a GPU.
    jmh opencl "$KFORKS" '^org.metagrad.bench.opencl' 1 1 3 1 || true
  fi
  # Same fixed, pre-touched heap as WorkloadBench's @Fork (see there why).
  JMH_HEAP="-Xms$HEAP -Xmx$HEAP -XX:+AlwaysPreTouch"
  jmh overhead "$FORKS" '^org.metagrad.bench.workloads.OpOverheadBench' 3 2 5 2
  jmh conv4 "$FORKS" '^org.metagrad.bench.workloads.WorkloadBench.conv4ForwardBackward' 3 2 5 2
  jmh proto "$FORKS" '^org.metagrad.bench.workloads.WorkloadBench.protoNetEpisode' 2 3 3 3
  jmh maml "$FORKS" '^org.metagrad.bench.workloads.WorkloadBench.mamlMetaStep' 1 3 3 3 ${MAML_ARGS:-}
  # Memory: each workload once more in a fresh JVM, peak RSS growth as torch_workloads.py measures it.
  # A JVM's RSS follows how far the collector lets the heap grow, so the runs use a stated -Xmx, and
  # for second-order MAML (target (b) compares memory) the smallest -Xmx of a few that still completes,
  # then one more run (3 repeats) at that heap: its RSS growth and time are what a user who sizes the
  # heap gets ("at_min_heap" lines).
  : > "$out/memory.jsonl"
  [ -n "${SKIP_MEMORY:-}" ] || for w in ${MEM_WORKLOADS:-conv4 maml2_1step maml2_1step_graph maml1_1step maml2_5step maml2_5step_graph maml1_5step protonet}; do
    log "memory $w"
    "$JAVA" $jvm -Xmx"$MEM_HEAP" -cp "$jar" org.metagrad.bench.workloads.WorkloadMain "$w" 2 2>/dev/null \
      | grep '^{' >> "$out/memory.jsonl" || echo "{\"workload\": \"$w\", \"error\": \"failed at -Xmx$MEM_HEAP\"}" >> "$out/memory.jsonl"
    if [ -z "${QUICK:-}" ] && [ "${w#maml2}" != "$w" ]; then
      for h in 128m 192m 256m 320m 384m 512m 640m 768m 1g 1536m 2g; do
        if "$JAVA" $jvm -Xmx"$h" -cp "$jar" org.metagrad.bench.workloads.WorkloadMain "$w" 1 >/dev/null 2>&1; then
          echo "{\"workload\": \"$w\", \"min_heap\": \"$h\"}" >> "$out/memory.jsonl"
          "$JAVA" $jvm -Xmx"$h" -cp "$jar" org.metagrad.bench.workloads.WorkloadMain "$w" 3 2>/dev/null \
            | grep '^{' | sed 's/^{/{"at_min_heap": "'"$h"'", /' >> "$out/memory.jsonl" || true
          break
        fi
      done
    fi
  done
fi

[ -n "${PEERS_FIRST:-}" ] || peers
log "done"
python3 "$here/report.py" "$out" | tee "$out/table.md"
