#!/usr/bin/env bash
# The GPU proof run (issue 25): on a machine with an NVIDIA GPU, Python with PyTorch, and NO Java or Maven,
# from the repository root, with bench/gpu/dist (made by bench/gpu/package.sh) carried along:
#
#   bash bench/gpu/run.sh            # everything on cuda:0
#   bash bench/gpu/run.sh --dry-run  # the plumbing on a CPU machine: opencl:0 (PoCL) / cpu, tiny sizes
#
# Parts, each under its own `timeout` (a part that fails or runs out of time does not stop the others; the
# whole run keeps to MG_BUDGET_S seconds, default 480, by shortening the later parts' limits):
#   env   nvidia-smi (device, driver, CUDA version), the OpenCL ICDs, the libraries found
#   blas  makes JCublas loadable if it can: a folder holding libcublas.so.12 (PyTorch's nvidia/cublas/lib, any
#         site-packages, the system) goes on LD_LIBRARY_PATH; `metagrad devices` says what opened; without one,
#         blas-compat tries JCublas on PyTorch's libcublas.so.13 behind a libcublas.so.12 link (an experiment)
#   a     JUnit console launcher: the CUDA conformance suites (kernels/cuda's *Conformance* classes) on cuda:0
#         with the backend's GEMM choice, again with the own kernel when cuBLAS could load, then kernels/cuda's
#         other tests, then the OpenCL conformance suites when an OpenCL platform is found (NVIDIA's ICD
#         is added from the driver's libnvidia-opencl.so.1 if /etc/OpenCL/vendors lacks it)
#   gemm  JMH DeviceGemmBench: float32 n=4096 on cuda:0, GEMM paths cublas (when libcublas.so.12 was found)
#         and own (-Dmetagrad.cuda.gemm)
#   work  JMH DeviceWorkloadBench on cuda:0: conv4 forward+backward, second-order MAML meta-step, ProtoNet
#         episode (short settings)
#   torch bench/python/torch_workloads.py --device cuda: SGEMM n=4096 (torch.matmul, cuBLAS) and the same
#         three workloads, synchronized before each clock read
#   train `metagrad train --algorithm protonet` for a short run on cuda:0 and on the CPU (Omniglot subset
#         from dist/omniglot-mini.tar.xz, split `background`)
#   summary  bench/gpu/summary.py: median times, ratios Metagrad/PyTorch, GFLOP/s against the issue's targets,
#         written to $OUT/summary.md after every part (so a run cut short still has one)
#
# Output, under $OUT (default bench/gpu/out): summary.md, run.log (this script's output), logs.tar.gz (every
# part's log, JMH JSON, JUnit XML, torch JSON lines, train metrics), at most 8 files as the device tool returns.
# Environment: MG_BUDGET_S, MG_DEVICE (default cuda:0; dry run: cpu for the workloads, opencl:0 for GEMM and
# conformance when PoCL is there), MG_WORK (scratch, default /tmp/mg-gpu-work), MG_PYTHON (default python3),
# MG_GEMM_N (default 4096; dry run 256), MG_TRAIN_ITERS (default 100; dry run 20), MG_SKIP (comma-separated parts to skip, by
# name or first word: e.g. MG_SKIP=conformance,train for a rerun of the timings alone).
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
dist=$root/bench/gpu/dist
OUT=${OUT:-$root/bench/gpu/out}
W=${MG_WORK:-/tmp/mg-gpu-work}
PY=${MG_PYTHON:-python3}
BUDGET=${MG_BUDGET_S:-480}
mkdir -p "$OUT"
rm -rf "$W"
mkdir -p "$W/logs"
exec > >(tee "$OUT/run.log") 2>&1
T0=$(date +%s)
el() { echo $(( $(date +%s) - T0 )); }
say() { echo "[gpu-run +$(el)s] $*"; }
printf 'part\tstatus\tseconds\tnote\n' > "$W/logs/parts.tsv"

if [ $DRY = 1 ]; then
  if ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1; then dev_k=opencl:0; else dev_k=cpu; fi
  DEV_GEMM=${MG_DEVICE:-$dev_k}
  DEV_WORK=${MG_DEVICE:-cpu}
  GEMM_N=${MG_GEMM_N:-256}
  TRAIN_ITERS=${MG_TRAIN_ITERS:-20}
  TEST_EPISODES=20
  JMH_SHORT=(-f 1 -wi 1 -i 2 -w 500ms -r 500ms)
  TORCH_DEV=cpu
  TORCH_ONLY=sgemm,conv4_fwd_bwd
  TORCH_OPTS=(--repeat-scale 0.2 --budget-s 2)
  # A shared host: other JMH runs may hold JMH's /tmp lock; a dry run's numbers are not measurements anyway.
  JMH_LOCK=-Djmh.ignoreLock=true
else
  DEV_GEMM=${MG_DEVICE:-cuda:0}
  DEV_WORK=${MG_DEVICE:-cuda:0}
  GEMM_N=${MG_GEMM_N:-4096}
  TRAIN_ITERS=${MG_TRAIN_ITERS:-100}
  TEST_EPISODES=200
  JMH_SHORT=(-f 1 -wi 2 -i 3 -w 1s -r 2s)
  TORCH_DEV=cuda
  TORCH_ONLY=sgemm,conv4_fwd_bwd,maml2_1step,protonet_60w5s
  TORCH_OPTS=(--budget-s 10)
  JMH_LOCK=
fi

# Seconds a part may take: its own limit, cut to what is left of the budget less a reserve for the parts after it.
limit() {  # limit OWN RESERVE
  local left=$(( BUDGET - $(el) - $2 ))
  [ "$left" -lt "$1" ] && echo $(( left > 5 ? left : 5 )) || echo "$1"
}
pack() {  # logs.tar.gz and summary.md, refreshed after every part
  tar -C "$W" -czf "$OUT/logs.tar.gz.tmp" logs 2>/dev/null && mv "$OUT/logs.tar.gz.tmp" "$OUT/logs.tar.gz"
  if command -v "$PY" >/dev/null; then
    "$PY" "$root/bench/gpu/summary.py" "$W/logs" > "$OUT/summary.md.tmp" 2> "$W/logs/summary.err" \
      && mv "$OUT/summary.md.tmp" "$OUT/summary.md"
  fi
}
part() {  # part NAME SECONDS -- command...: runs it under timeout (functions: exported), logs to $W/logs/NAME.log
  local name=$1 secs=$2; shift 3
  case ",${MG_SKIP:-}," in *",$name,"*|*",${name%%-*},"*) NOTE=""; skip "$name" "MG_SKIP"; return 0 ;; esac
  local s=$(date +%s)
  say "part $name (limit ${secs}s): $*"
  timeout -k 10 "$secs" bash -c '"$@"' _ "$@" > "$W/logs/$name.log" 2>&1
  local rc=$? status=ok
  if [ $rc = 124 ] || [ $rc = 137 ]; then status="timeout"; elif [ $rc != 0 ]; then status="failed (exit $rc)"; fi
  local d=$(( $(date +%s) - s ))
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$d" "${NOTE:-}" >> "$W/logs/parts.tsv"
  say "part $name: $status in ${d}s"
  tail -n "${TAIL:-8}" "$W/logs/$name.log" | sed "s/^/  | /"
  NOTE=""
  pack
  return 0
}
skip() {  # skip NAME REASON
  printf '%s\t%s\t0\t%s\n' "$1" "skipped" "$2" >> "$W/logs/parts.tsv"
  say "part $1 skipped: $2"
  pack
}

# ---------------------------------------------------------------------------------------------- unpack
say "budget ${BUDGET}s; dry run $DRY; devices: GEMM/conformance $DEV_GEMM, workloads $DEV_WORK; out $OUT; work $W"
untar() {  # untar FILE.tar.xz DIR (python's tarfile where xz is missing)
  if command -v xz >/dev/null; then tar -C "$2" -xJf "$1"
  else "$PY" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"; fi
}
if [ ! -f "$dist/jre.tar.xz" ]; then
  say "no $dist/jre.tar.xz: run bench/gpu/package.sh first and carry bench/gpu/dist"
  skip all "bench/gpu/dist missing (run bench/gpu/package.sh and carry bench/gpu/dist)"
  exit 1
fi
PKG=$W/pkg
mkdir -p "$PKG"
untar "$dist/jre.tar.xz" "$PKG"
if command -v xz >/dev/null; then xz -dc "$dist/libjvm.so.xz" > "$PKG/jre/lib/server/libjvm.so"
else "$PY" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
  "$dist/libjvm.so.xz" "$PKG/jre/lib/server/libjvm.so"; fi
untar "$dist/jars.tar.xz" "$PKG"
JAVA="$PKG/jre/bin/java"
"$JAVA" -version > "$W/logs/java-version.txt" 2>&1
[ -f "$dist/MANIFEST.txt" ] && cp "$dist/MANIFEST.txt" "$W/logs/dist-manifest.txt"
[ -f "$dist/native.tar.xz" ] && untar "$dist/native.tar.xz" "$PKG"
# Carried libraries only where the machine lacks them (its own are preferred): a folder of links to those.
mkdir -p "$W/ld"
for f in "$PKG"/native/lib/*; do
  [ -e "$f" ] || continue
  l=$(basename "$f")
  if ! ldconfig -p 2>/dev/null | grep -qE "^[[:space:]]*$l "; then ln -sf "$f" "$W/ld/$l"; echo "carried $l" >> "$W/logs/native.txt"; fi
done
[ -e "$W/ld/libOpenCL.so.1" ] && ln -sf "$W/ld/libOpenCL.so.1" "$W/ld/libOpenCL.so"
export LD_LIBRARY_PATH="$W/ld${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# Fonts for the learning-curve PNGs: fontconfig with the carried font, when the machine has no fonts.
if [ -d "$PKG/native/fonts" ] && ! ls /usr/share/fonts/*/* >/dev/null 2>&1; then
  cat > "$W/fonts.conf" <<EOF
<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>$PKG/native/fonts</dir><cachedir>$W/fontcache</cachedir></fontconfig>
EOF
  export FONTCONFIG_FILE="$W/fonts.conf"
  echo "fonts: none under /usr/share/fonts; FONTCONFIG_FILE=$W/fonts.conf with the carried font" >> "$W/logs/native.txt"
fi

CP="$PKG/lib/benchmarks.jar"
cuda_jars=$(ls "$PKG"/cuda/*.jar 2>/dev/null | tr '\n' ':')
CP="$CP${cuda_jars:+:${cuda_jars%:}}"
TEST_CP="$CP:$PKG/test/metagrad-core-tests.jar:$PKG/test/assertj-core.jar"
JOPTS="--add-modules jdk.incubator.vector -Djava.awt.headless=true"
# package.sh writes cuda/CUDA-BACKEND.txt when it packed the CUDA backend (in the benchmarks jar or as cuda/*.jar).
HAVE_CUDA=0
[ -f "$PKG/cuda/CUDA-BACKEND.txt" ] && [ -f "$PKG/test/cuda-tests.jar" ] && HAVE_CUDA=1
export W PY dist PKG JAVA CP TEST_CP JOPTS HAVE_CUDA DRY JMH_LOCK
# The metagrad CLI (its classes are in the benchmarks uber-jar); JX: more JVM options.
mg() { "$JAVA" $JOPTS ${JX:-} -cp "$CP" org.metagrad.meta.cli.Main "$@"; }
export -f mg

# ---------------------------------------------------------------------------------------------- env
env_probe() {
  echo "== date: $(date -u +%Y-%m-%dT%H:%M:%SZ); host $(hostname); $(nproc) CPUs; kernel $(uname -r)"
  echo "== nvidia-smi"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv
    nvidia-smi | head -15
  else echo "nvidia-smi: not found"; fi
  echo "== java"; cat "$W/logs/java-version.txt"
  echo "== OpenCL ICDs in /etc/OpenCL/vendors: $(ls /etc/OpenCL/vendors 2>/dev/null | tr '\n' ' ')"
  echo "== libraries (ldconfig): $(ldconfig -p 2>/dev/null | grep -oE 'lib(OpenCL|cuda|cublas|nvidia-opencl|fontconfig|freetype)\.so[.0-9]*' | sort -u | tr '\n' ' ')"
  echo "== carried libraries used: $(tr '\n' ';' < "$W/logs/native.txt" 2>/dev/null)"
  echo "== python: $("$PY" -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1 | tail -1)"
}
export -f env_probe
part env 30 -- env_probe

# NVIDIA's OpenCL: the driver ships libnvidia-opencl.so.1; without an .icd file naming it the loader finds nothing.
ocl_setup() {
  if ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1; then
    echo "ICDs: $(cat /etc/OpenCL/vendors/*.icd | tr '\n' ' ')"; return 0
  fi
  local lib
  lib=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl.so.1 .*x86-64/ {print $NF; exit}')
  [ -z "$lib" ] && lib=$(ls /usr/local/nvidia/lib64/libnvidia-opencl.so.1 /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 2>/dev/null | head -1)
  if [ -n "$lib" ]; then
    mkdir -p "$W/vendors" && echo "$lib" > "$W/vendors/nvidia.icd"
    echo "no /etc/OpenCL/vendors; made $W/vendors/nvidia.icd -> $lib (OCL_ICD_VENDORS)"
    return 0
  fi
  echo "no OpenCL ICD and no libnvidia-opencl.so.1 found"
  return 1
}
if ocl_setup > "$W/logs/opencl-setup.txt" 2>&1; then
  [ -d "$W/vendors" ] && export OCL_ICD_VENDORS="$W/vendors"
  OCL=1
else
  OCL=0
fi
say "opencl: $(head -1 "$W/logs/opencl-setup.txt")"

# ---------------------------------------------------------------------------------------------- blas
# JCublas 12 links libcublas.so.12; a CUDA 13 machine has libcublas.so.13 in its system paths. PyTorch's pip
# wheels bring their own cuBLAS (nvidia/cublas/lib for CUDA 12 builds, nvidia/cu13/lib for CUDA 13 builds).
blas_probe() {
  local dirs d12=""
  dirs=$("$PY" -c '
import glob, os, site, sys
roots = set(site.getsitepackages() + [site.getusersitepackages()] + [p for p in sys.path if p.endswith("-packages")])
seen = []
for r in sorted(roots):
    for f in glob.glob(os.path.join(r, "nvidia", "**", "libcublas.so.*"), recursive=True):
        d = os.path.dirname(f)
        if d not in seen:
            seen.append(d)
print("\n".join(seen))' 2>/dev/null)
  echo "libcublas in site-packages: $(for d in $dirs; do ls "$d"/libcublas.so.* 2>/dev/null; done | tr '\n' ' ')"
  echo "libcublas in ldconfig: $(ldconfig -p 2>/dev/null | grep -o 'libcublas.so[.0-9]*' | sort -u | tr '\n' ' ')"
  for d in $dirs; do [ -e "$d/libcublas.so.12" ] && d12=$d && break; done
  [ -z "$d12" ] && d12=$(timeout 30 find /usr /opt /usr/local -name 'libcublas.so.12' 2>/dev/null | head -1 | xargs -r dirname)
  if [ -n "$d12" ]; then
    echo "libcublas.so.12 found in $d12: added to LD_LIBRARY_PATH"
    echo "$d12" > "$W/blas-dir"
  else
    echo "no libcublas.so.12 on this machine: JCublas 12 cannot load it; the CUDA backend falls back to its own GEMM kernel"
  fi
}
export -f blas_probe
if [ $HAVE_CUDA = 1 ] || [ $DRY = 0 ]; then
  part blas 60 -- blas_probe
  [ -f "$W/blas-dir" ] && export LD_LIBRARY_PATH="$(cat "$W/blas-dir"):$LD_LIBRARY_PATH"
fi
devices_probe() {
  echo "== metagrad devices"; mg devices
  if [ $HAVE_CUDA = 1 ]; then
    for g in cublas own; do
      echo "== -Dmetagrad.cuda.gemm=$g: open cuda:0 and multiply once (n=512)"
      "$JAVA" $JOPTS $JMH_LOCK -cp "$CP" org.openjdk.jmh.Main 'org.metagrad.bench.gpu.DeviceGemmBench' \
        -p device=cuda:0 -p gemm=$g -p n=512 -f 1 -wi 0 -i 1 -r 200ms -foe true 2>&1 \
        | grep -iE 'cublas|gemm|cuda|error|exception|avgt' | grep -v '^# \(JMH\|Benchmark mode\|Warmup\|Measurement\|Timeout\|Threads\)' | head -20
    done
  fi
}
export -f devices_probe
part devices 60 -- devices_probe
# An experiment, recorded either way: does JCublas 12 load a CUDA 13 cuBLAS behind a libcublas.so.12 name? (cuBLAS
# versions its symbols, so the expected answer is no; nothing else in this run uses the link.)
blas_compat() {
  local so13
  so13=$("$PY" -c '
import glob, site, sys
roots = site.getsitepackages() + [p for p in sys.path if p.endswith("-packages")]
print(next((f for r in roots for f in glob.glob(r + "/nvidia/**/libcublas.so.13", recursive=True)), ""))' 2>/dev/null)
  [ -z "$so13" ] && so13=$(ldconfig -p 2>/dev/null | awk '/libcublas.so.13 .*x86-64/ {print $NF; exit}')
  [ -z "$so13" ] && { echo "no libcublas.so.13 either: nothing to try"; return 0; }
  mkdir -p "$W/cublas12-link" && ln -sf "$so13" "$W/cublas12-link/libcublas.so.12"
  echo "libcublas.so.12 -> $so13; one GEMM with -Dmetagrad.cuda.gemm=cublas:"
  LD_LIBRARY_PATH="$W/cublas12-link:$(dirname "$so13"):$LD_LIBRARY_PATH" "$JAVA" $JOPTS $JMH_LOCK -cp "$CP" \
    org.openjdk.jmh.Main 'org.metagrad.bench.gpu.DeviceGemmBench' -p device=cuda:0 -p gemm=cublas -p n=512 \
    -f 1 -wi 0 -i 1 -r 200ms -foe true 2>&1 | grep -iE 'cublas|error|exception|avgt|sample' | grep -v '^# ' | head -8
}
export -f blas_compat
if [ $HAVE_CUDA = 1 ] && [ ! -f "$W/blas-dir" ] && [ $DRY = 0 ]; then
  NOTE="JCublas 12 on a libcublas.so.13 renamed .so.12 (an experiment)" part blas-compat 40 -- blas_compat
fi

# ---------------------------------------------------------------------------------------------- a: conformance
junit() {  # junit REPORTDIR EXTRA_CLASSPATH ARGS... (JX: more JVM options)
  local rep=$1 cp=$2; shift 2
  "$JAVA" $JOPTS ${JX:-} -Xmx8g -jar "$PKG/test/junit-platform-console-standalone.jar" execute --disable-banner \
    --details=summary --details-theme=ascii --reports-dir="$rep" -cp "$TEST_CP:$cp" "$@"
}
export -f junit
if [ $HAVE_CUDA = 1 ]; then
  # default: the backend's own choice, i.e. -Dmetagrad.cuda.gemm unset: cuBLAS when it loads, else the own kernel.
  # With libcublas.so.12 found, the own kernel gets a second run; without, default already is the own kernel.
  gemms=default
  [ -f "$W/blas-dir" ] && [ $DRY = 0 ] && gemms="default own"
  for g in $gemms; do
    jx=""; [ $g != default ] && jx="-Dmetagrad.cuda.gemm=$g"
    JX="$jx" NOTE="gemm=$g$([ $g = default ] && { [ -f "$W/blas-dir" ] && echo ' (cuBLAS if it loads)' || echo ' (own kernel: no libcublas.so.12)'; })" \
      part "conformance-cuda-$g" "$(limit 120 240)" -- \
      junit "$W/logs/junit-cuda-$g" "$PKG/test/cuda-tests.jar" --scan-classpath "$PKG/test/cuda-tests.jar" \
      --include-classname '.*Conformance.*' --fail-if-no-tests
  done
  NOTE="the other kernels/cuda tests" part tests-cuda-rest "$(limit 60 240)" -- \
    junit "$W/logs/junit-cuda-rest" "$PKG/test/cuda-tests.jar" --scan-classpath "$PKG/test/cuda-tests.jar" \
    --exclude-classname '.*Conformance.*'
else
  skip conformance-cuda "cuda backend jar missing (no kernels/cuda module when bench/gpu/package.sh ran)"
fi
if [ $OCL = 1 ]; then
  NOTE="$(head -1 "$W/logs/opencl-setup.txt" | cut -c1-100)" part conformance-opencl "$(limit 150 200)" -- \
    junit "$W/logs/junit-opencl" "$PKG/test/opencl-tests.jar" \
    --select-class org.metagrad.kernels.opencl.OpenClConformanceTest \
    --select-class org.metagrad.kernels.opencl.OpenClTensorConformanceTest --fail-if-no-tests
else
  skip conformance-opencl "$(head -1 "$W/logs/opencl-setup.txt")"
fi

# ---------------------------------------------------------------------------------------------- gemm + workloads
jmh() {  # jmh NAME ARGS...: without -foe, so that one failing benchmark leaves the others' results; fails if any did
  local name=$1; shift
  "$JAVA" $JOPTS $JMH_LOCK -cp "$CP" org.openjdk.jmh.Main "$@" -rf json -rff "$W/logs/jmh-$name.json" 2>&1 \
    | tee "$W/jmh-$name.out"
  ! grep -q '<failure>' "$W/jmh-$name.out"
}
export -f jmh
if [ "${DEV_GEMM%%:*}" = cuda ] && [ $HAVE_CUDA = 0 ]; then
  skip gemm "cuda backend jar missing"
else
  paths=default
  if [ "${DEV_GEMM%%:*}" = cuda ]; then
    if [ -f "$W/blas-dir" ]; then paths=cublas,own; else paths=own; fi
  fi
  NOTE="$DEV_GEMM n=$GEMM_N gemm=$paths" part gemm "$(limit 90 170)" -- jmh gemm 'org.metagrad.bench.gpu.DeviceGemmBench' \
    -p device="$DEV_GEMM" -p gemm="$paths" -p n="$GEMM_N" "${JMH_SHORT[@]}" -jvmArgsAppend "$JOPTS"
fi
if [ "${DEV_WORK%%:*}" = cuda ] && [ $HAVE_CUDA = 0 ]; then
  skip workloads "cuda backend jar missing"
else
  NOTE="$DEV_WORK" part workloads "$(limit 150 120)" -- jmh workloads 'org.metagrad.bench.gpu.DeviceWorkloadBench' \
    -p device="$DEV_WORK" -p variant=second-1 "${JMH_SHORT[@]}" -jvmArgsAppend "$JOPTS -Xms4g -Xmx4g"
fi

# ---------------------------------------------------------------------------------------------- torch
if "$PY" -c 'import torch' >/dev/null 2>&1; then
  NOTE="$TORCH_DEV" part torch "$(limit 100 80)" -- "$PY" "$root/bench/python/torch_workloads.py" \
    --device "$TORCH_DEV" --threads "$(nproc)" --gemm-n "$GEMM_N" "${TORCH_OPTS[@]}" --only "$TORCH_ONLY"
else
  skip torch "$PY has no torch ($("$PY" -c 'import torch' 2>&1 | tail -1))"
fi

# ---------------------------------------------------------------------------------------------- train
if [ -f "$dist/omniglot-mini.tar.xz" ]; then
  mkdir -p "$W/data" && untar "$dist/omniglot-mini.tar.xz" "$W/data"
  # `--device` is a train option once the OpenCL work lands; before that the system property does the same.
  if mg train --help 2>/dev/null | grep -q -- '--device'; then DEV_OPT=opt; else DEV_OPT=prop; fi
  export DEV_OPT TRAIN_ITERS TEST_EPISODES
  train() {  # train DEVICE
    local d=$1 out="$W/logs/train-${1%%:*}"
    local args=(train --algorithm protonet --data "$W/data" --split background --ways 5 --shots 1 --queries 5
      --test-ways 5 --test-shots 1 --iterations "$TRAIN_ITERS" --val-every "$TRAIN_ITERS" --val-episodes 20
      --test-episodes "$TEST_EPISODES" --hidden 32 --seed 1 --out "$out")
    if [ "$d" = cpu ]; then mg "${args[@]}"
    elif [ "$DEV_OPT" = opt ]; then mg "${args[@]}" --device "$d"
    else JX="-Dmetagrad.device=$d" mg "${args[@]}"; fi
  }
  export -f train
  tdev=$DEV_WORK
  [ $DRY = 1 ] && [ "$DEV_GEMM" != cpu ] && tdev=$DEV_GEMM
  if [ "${tdev%%:*}" = cuda ] && [ $HAVE_CUDA = 0 ]; then
    skip train-cuda "cuda backend jar missing"
  elif [ "$tdev" != cpu ]; then
    NOTE="$tdev ($([ $DEV_OPT = opt ] && echo --device || echo -Dmetagrad.device)), $TRAIN_ITERS iterations" \
      part "train-${tdev%%:*}" "$(limit 120 40)" -- train "$tdev"
  fi
  NOTE="cpu, $TRAIN_ITERS iterations" part train-cpu "$(limit 90 5)" -- train cpu
else
  skip train "no dist/omniglot-mini.tar.xz (package.sh found no Omniglot data)"
fi

say "done in $(el)s"
pack
cat "$OUT/summary.md" 2>/dev/null || cat "$W/logs/summary.err"
