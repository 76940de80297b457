#!/usr/bin/env bash
# Compiles the shared kernel sources (kernels/common/src/main/resources/org/metagrad/kernels/common) to PTX
# ahead of time, one file per variant, into kernels/cuda/src/main/resources/org/metagrad/kernels/cuda/ptx.
# The PTX is committed: a user's build and the backend at run time need no CUDA toolkit, only the driver,
# which JIT-compiles PTX for the GPU it runs on (cuModuleLoadData).
#
# Architecture: PTX for the virtual architecture compute_75 (Turing), the oldest CUDA 13's nvcc accepts.
# PTX for a virtual architecture runs on that architecture and every newer one (the driver JIT-compiles it
# for sm_80, sm_86, sm_89, sm_90, sm_100, ...), so one PTX per variant covers the whole range; the kernels use
# nothing newer than compute_75 offers (shared memory, __syncthreads, double precision).
#
# PTX ISA version: CUDA 13's nvcc declares ISA 9.0, which only a CUDA 13 driver (R580 or newer) JIT-compiles.
# The text it emits for these kernels is also valid ISA $PTX_ISA (CUDA 12.0, driver R525 or newer, the generation
# JCuda/JCublas 12 need anyway), so the declaration is lowered to that: ptxas checks every instruction against the
# declared version (.ci/run assembles each file for sm_80 and sm_90), so PTX needing a newer ISA fails there, and
# the instructions' meaning does not depend on the declared version. The backend reports a driver that is too old
# as CUDA_ERROR_UNSUPPORTED_PTX_VERSION.
#
# Variants (must match org.metagrad.kernels.cuda.PtxVariants, which CudaPtxResourcesTest checks against the
# manifest written here): every family for REAL = float and double; the cast copy also for each SRC; gemm with
# the tile of mg_gemm_tiled the backend launches (64 x 64, 16 deep, 4 x 4 per thread: PtxVariants). ACC is double
# everywhere (reductions and fold accumulate in double, as the reference does) and MG_FP64 is defined (every target has double precision).
#
# Output is deterministic: no paths, no timestamps (nvcc writes its version in the header; no -lineinfo/-G).
# Usage: kernels/cuda/gen/build-ptx.sh [--if-available]   (the build's call: one line and exit 0 when nvcc is absent
# or is not the release that made the committed PTX)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
COMMON="$ROOT/kernels/common/src/main/resources/org/metagrad/kernels/common"
PRELUDE_DIR="$ROOT/kernels/cuda/src/main/cuda"
OUT="$ROOT/kernels/cuda/src/main/resources/org/metagrad/kernels/cuda/ptx"
ARCH=compute_75
PTX_ISA=8.0
NVCC="${NVCC:-nvcc}"

if ! command -v "$NVCC" >/dev/null 2>&1; then
  if [ "${1:-}" = "--if-available" ]; then
    echo "build-ptx: nvcc not found, keeping the committed PTX in $(basename "$OUT")/"
    exit 0
  fi
  echo "build-ptx: nvcc not found (install the CUDA toolkit or set NVCC)" >&2
  exit 1
fi

# From the build (--if-available), regenerate only with the compiler release that made the committed PTX: another
# nvcc writes other text (its version in the header, maybe other code), which would show as a change in git after
# every build. Without the flag, regenerate with whatever nvcc is installed (then commit the result).
release="$("$NVCC" --version | sed -n 's/^Cuda compilation tools, //p')"
made_by="$(sed -n 's/^# nvcc: //p' "$OUT/variants.txt" 2>/dev/null || true)"
if [ "${1:-}" = "--if-available" ] && [ -n "$made_by" ] && [ "$release" != "$made_by" ]; then
  echo "build-ptx: nvcc here is '$release', the committed PTX was made by '$made_by': keeping it (run kernels/cuda/gen/build-ptx.sh to regenerate)"
  exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"

# name family real src extra-defines
variants() {
  for real in float double; do
    r=$([ $real = float ] && echo f32 || echo f64)
    for fam in elementwise reduce window; do
      echo "$fam-$r $fam $real $real"
    done
    echo "gemm-$r gemm $real $real -DMG_TM=64 -DMG_TN=64 -DMG_TK=16 -DMG_WM=4 -DMG_WN=4"
    for src in float double; do
      s=$([ $src = float ] && echo f32 || echo f64)
      echo "copy-$r-from-$s copy $real $src"
    done
  done
}

manifest="$TMP/variants.txt"
: > "$manifest"
while read -r name fam real src extra; do
  # One translation unit per variant, the same order as the OpenCL host assembles: prelude, strided.h, family.
  # The sources are copied next to it so that no absolute path can reach the output.
  cp "$PRELUDE_DIR/prelude.cuh" "$COMMON/strided.h" "$COMMON/$fam.c" "$TMP/"
  printf '#include "prelude.cuh"\n#include "strided.h"\n#include "%s.c"\n' "$fam" > "$TMP/$name.cu"
  defines="-DREAL=$real -DSRC=$src -DACC=double -DMG_FP64 ${extra:-}"
  # shellcheck disable=SC2086
  (cd "$TMP" && "$NVCC" -ptx -arch=$ARCH -std=c++17 $defines -o "$name.ptx" "$name.cu")
  grep -q '^\.version [0-9.]*$' "$TMP/$name.ptx" || { echo "build-ptx: no .version line in $name.ptx" >&2; exit 1; }
  sed "s/^\.version [0-9.]*\$/.version $PTX_ISA/" "$TMP/$name.ptx" > "$OUT/$name.ptx"
  printf '%s.ptx\t%s\t%s\t%s\t%s\n' "$name" "$fam" "$real" "$src" "${extra:-}" >> "$manifest"
done < <(variants)

{
  echo "# Generated by kernels/cuda/gen/build-ptx.sh: file, family, REAL, SRC, extra defines (arch $ARCH, PTX ISA $PTX_ISA)."
  echo "# nvcc: $release"
  sort "$manifest"
} > "$OUT/variants.txt"
# PTX of a variant that no longer exists would be dead weight: remove it.
for f in "$OUT"/*.ptx; do
  grep -q "^$(basename "$f")	" "$OUT/variants.txt" || rm -f "$f"
done
echo "build-ptx: $(grep -c '\.ptx' "$OUT/variants.txt") PTX variants ($ARCH) in ${OUT#"$ROOT"/}"
