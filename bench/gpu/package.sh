#!/usr/bin/env bash
# Builds everything bench/gpu/run.sh needs on a GPU machine that has no Java and no Maven, into ONE ignored
# folder, bench/gpu/dist/ (carried to that machine by the device tool: see bench/RESULTS.md, "GPU script"):
#
#   jre.tar.xz            a jlinked JRE (the modules the jars need) without lib/server/libjvm.so, and
#   libjvm.so.xz          its libjvm.so (xz's x86 filter); run.sh unpacks both (xz beats jlink's own zip)
#   jars.tar.xz           the jars, stored uncompressed inside so that xz sees the class files:
#     lib/benchmarks.jar  the JMH uber-jar (core, nn, meta with the metagrad CLI, kernels cpu/opencl, JMH; and
#                         kernels/cuda with JCuda once bench depends on it)
#     cuda/               CUDA-BACKEND.txt when the CUDA backend is packed (run.sh's test for it), and
#                         metagrad-kernels-cuda with its runtime dependencies as jars if the benchmarks jar lacks it;
#                         JCuda's libJNvPTXCompiler (24 MB, unused: the PTX is loaded by the driver) is left out
#     test/*.jar          JUnit console launcher (standalone), AssertJ, core's test-jar, the test classes of
#                         kernels/opencl and kernels/cuda (jarred)
#   native.tar.xz         libraries a bare GPU image may lack (OpenCL ICD loader, fontconfig/freetype and
#                         their dependencies, for the AWT text of the learning-curve PNGs) and one TTF font;
#                         run.sh links only those the machine's ldconfig does not know
#   omniglot-mini.tar.xz  a few Omniglot alphabets for the short `metagrad train` runs (the split `background`
#                         works on any subset), if $METAGRAD_DATA (default ../shared/data) holds Omniglot
#   MANIFEST.txt          commit, JDK, modules, sizes
#
# Usage: bench/gpu/package.sh [--check | --check-only]
#   --check       afterwards runs the jars with the jlinked JRE here, on the CPU: `metagrad devices`, one JUnit
#                 test class through the console launcher, and a tiny JMH benchmark.
#   --check-only  only that check, on the dist/ already built.
# Environment: JLINK_JDK (JDK whose jlink makes the JRE; default: the one on PATH; the jars are Java 17 bytecode),
#   MVN_OFFLINE (default -o; set to "" to let Maven download).
# Limit: the device tool carries the working tree plus carried paths, 64 MiB in all; the tracked files are ~24 MiB,
# so dist/ must stay under ~39 MiB. The script prints both and fails when together they pass TOTAL_MAX_MIB (63).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
dist=bench/gpu/dist
MVN_OFFLINE=${MVN_OFFLINE--o}
TOTAL_MAX_MIB=${TOTAL_MAX_MIB:-63}
JUNIT_PLATFORM_VERSION=$(sed -n 's|.*<junit.version>5\.\([0-9.]*\)</junit.version>.*|1.\1|p' pom.xml)
MODULES=java.base,java.desktop,java.logging,java.management,jdk.management,jdk.unsupported,jdk.zipfs,jdk.incubator.vector
# jdk.zipfs: the JUnit console launcher scans test jars (--scan-classpath) through the "jar" file system.
t0=$(date +%s)
# Every temporary folder lives in one, removed however the script ends.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { echo "[package +$(( $(date +%s) - t0 ))s] $*"; }

check() {
  say "check: the jlinked JRE runs the jars here (CPU)"
  local tmp java cp
  tmp=$(mktemp -d -p "$work")
  tar -C "$tmp" -xJf "$dist/jre.tar.xz"
  xz -dc "$dist/libjvm.so.xz" > "$tmp/jre/lib/server/libjvm.so"
  tar -C "$tmp" -xJf "$dist/jars.tar.xz"
  java="$tmp/jre/bin/java"
  "$java" -version 2>&1 | head -1
  cp="$tmp/lib/benchmarks.jar:$tmp/cuda/*"
  "$java" --add-modules jdk.incubator.vector -cp "$cp" org.metagrad.meta.cli.Main devices
  "$java" --add-modules jdk.incubator.vector -jar "$tmp/test/junit-platform-console-standalone.jar" execute \
    -cp "$cp:$tmp/test/metagrad-core-tests.jar:$tmp/test/assertj-core.jar:$tmp/test/opencl-tests.jar" \
    --select-class org.metagrad.kernels.opencl.OpenClLocaleTest --details=summary --disable-banner
  # ignoreLock: other benchmarks on this shared host hold JMH's /tmp lock; this run only checks that JMH works.
  "$java" -Djmh.ignoreLock=true -cp "$cp" org.openjdk.jmh.Main 'org.metagrad.bench.gpu.DeviceGemmBench' \
    -p device=cpu -p n=64 -f 1 -wi 1 -i 1 -w 200ms -r 200ms -foe true
  rm -rf "$tmp"
  say "check passed"
}
if [ "${1:-}" = "--check-only" ]; then
  check
  exit 0
fi

have_cuda=0
[ -f kernels/cuda/pom.xml ] && have_cuda=1
modules=bench,kernels/opencl
[ $have_cuda = 1 ] && modules="$modules,kernels/cuda"

say "maven: package -DskipTests of $modules (and what they need); test classes are compiled too"
mvn $MVN_OFFLINE -q -B -pl "$modules" -am package -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true
rm -rf "$dist"
mkdir -p "$dist"
pkg=$(mktemp -d -p "$work")
mkdir -p "$pkg/lib" "$pkg/test" "$pkg/cuda"
cp bench/target/benchmarks.jar "$pkg/lib/"

say "JUnit console launcher $JUNIT_PLATFORM_VERSION and AssertJ (from ~/.m2, or Maven Central when MVN_OFFLINE=\"\")"
dep() {  # groupId:artifactId:version[:packaging[:classifier]]
  mvn $MVN_OFFLINE -q -B org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy -Dartifact="$1" \
    -DoutputDirectory="$pkg/test" -Dmdep.stripVersion=true
}
dep "org.junit.platform:junit-platform-console-standalone:$JUNIT_PLATFORM_VERSION" \
  || { echo "package: the console launcher is not in ~/.m2: run once with MVN_OFFLINE=\"\"" >&2; exit 1; }
assertj_version=$(sed -n 's|.*<assertj.version>\([^<]*\)</assertj.version>.*|\1|p' pom.xml | head -1)
dep "org.assertj:assertj-core:${assertj_version:?assertj version not found in pom.xml}"
cp core/target/metagrad-core-*-tests.jar "$pkg/test/metagrad-core-tests.jar"
jar --create --file "$pkg/test/opencl-tests.jar" -C kernels/opencl/target/test-classes .

if [ $have_cuda = 1 ]; then
  # (grep without -q: with pipefail, -q's early exit would fail unzip with SIGPIPE)
  if unzip -l "$pkg/lib/benchmarks.jar" | grep 'org/metagrad/kernels/cuda/CudaBackendFactory.class' >/dev/null; then
    say "kernels/cuda: in the benchmarks jar (bench depends on it); its test classes"
    echo "the CUDA backend and JCuda are in lib/benchmarks.jar" > "$pkg/cuda/CUDA-BACKEND.txt"
  else
    say "kernels/cuda: module jar, runtime dependencies (JCuda), test classes"
    cp "$(ls kernels/cuda/target/metagrad-kernels-cuda-*.jar | grep -v -e sources -e javadoc -e tests | head -1)" "$pkg/cuda/"
    tmp=$(mktemp -d -p "$work")
    # In the reactor (kernels/common and core are this checkout's, not ~/.m2's).
    mvn $MVN_OFFLINE -q -B -pl kernels/cuda -am package -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true \
      org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
      -DincludeScope=runtime -DexcludeGroupIds=org.metagrad -DoutputDirectory="$tmp"
    cp "$tmp"/*.jar "$pkg/cuda/" 2>/dev/null || true
    rm -rf "$tmp"
    echo "the CUDA backend and JCuda are in cuda/*.jar" > "$pkg/cuda/CUDA-BACKEND.txt"
  fi
  jar --create --file "$pkg/test/cuda-tests.jar" -C kernels/cuda/target/test-classes .
else
  say "kernels/cuda: no such module in this checkout; run.sh will report 'cuda backend jar missing'"
fi

jlink_bin=jlink
[ -n "${JLINK_JDK:-}" ] && jlink_bin="$JLINK_JDK/bin/jlink"
say "jlink ($("$jlink_bin" --version)) of $MODULES"
tmp=$(mktemp -d -p "$work")
"$jlink_bin" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages --compress=0 \
  --output "$tmp/jre" 2>&1 | grep -v 'Using incubator modules' || true
# Debian's libjvm.so keeps its symbol table (4 MiB); the JVM does not need it.
command -v strip >/dev/null && strip --strip-unneeded "$tmp/jre/lib/server/libjvm.so" || true
say "compressing the JRE and the jars with xz (a few minutes on a busy machine)"
xz --x86 --lzma2=preset=9e -T1 -c "$tmp/jre/lib/server/libjvm.so" > "$dist/libjvm.so.xz"
rm "$tmp/jre/lib/server/libjvm.so"
tar -C "$tmp" -cf - jre | xz -9 -T1 > "$dist/jre.tar.xz"
rm -rf "$tmp"
# Jars are deflated zips; stored (uncompressed) inside one xz stream they take about half the space.
# JCuda's natives jar also holds libJNvPTXCompiler (24 MB, JCuda's binding of NVIDIA's PTX compiler library):
# the backend loads its PTX through the driver (cuModuleLoadData) and never uses it, so it stays behind.
python3 - "$pkg" <<'EOF'
import os, sys, zipfile
for d, _, files in os.walk(sys.argv[1]):
    for f in files:
        if f.endswith(".jar"):
            p = os.path.join(d, f)
            with zipfile.ZipFile(p) as src, zipfile.ZipFile(p + ".tmp", "w", zipfile.ZIP_STORED) as dst:
                for info in src.infolist():
                    if os.path.basename(info.filename).startswith("libJNvPTXCompiler"):
                        print(f"left out of {f}: {info.filename} ({info.file_size} bytes)")
                        continue
                    data = src.read(info.filename)
                    info.compress_type = zipfile.ZIP_STORED
                    dst.writestr(info, data)
            os.replace(p + ".tmp", p)
EOF
tar -C "$pkg" -cf - lib test cuda | xz -9 -T1 > "$dist/jars.tar.xz"
(cd "$pkg" && find . -name '*.jar' -printf '%s\t(in jars.tar.xz) %p\n' | sort -k2) > "$work/jars.list"
rm -rf "$pkg"

say "native libraries and a font"
tmp=$(mktemp -d -p "$work")
mkdir -p "$tmp/native/lib" "$tmp/native/fonts"
libs="libOpenCL.so.1 libfontconfig.so.1 libfreetype.so.6 libharfbuzz.so.0 libgraphite2.so.3 libglib-2.0.so.0
  libpcre2-8.so.0 libpng16.so.16 libbrotlidec.so.1 libbrotlicommon.so.1 libexpat.so.1 libuuid.so.1 libz.so.1"
for l in $libs; do
  p=$(ldconfig -p | awk -v l="$l" '$1 == l && /x86-64/ {print $NF; exit}')
  if [ -n "$p" ]; then cp -L "$p" "$tmp/native/lib/$l"; else say "  (not on this machine: $l)"; fi
done
font=$(ls /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /usr/share/fonts/truetype/*/*.ttf 2>/dev/null | head -1 || true)
[ -n "$font" ] && cp "$font" "$tmp/native/fonts/"
tar -C "$tmp" -cf - native | xz -9 -T1 > "$dist/native.tar.xz"
rm -rf "$tmp"

data=${METAGRAD_DATA:-$root/../shared/data}
if [ -d "$data/omniglot/images_background" ]; then
  # Training: four background alphabets; validation: Hebrew (a Vinyals validation alphabet); test: two
  # evaluation alphabets. Split `background` uses exactly this layout (Experiment.split).
  say "omniglot-mini from $data"
  (cd "$data" && tar -cf - omniglot/images_background/Latin omniglot/images_background/Greek \
    omniglot/images_background/Cyrillic omniglot/images_background/Futurama omniglot/images_background/Hebrew \
    omniglot/images_evaluation/Atlantean omniglot/images_evaluation/Keble) | xz -9 -T1 > "$dist/omniglot-mini.tar.xz"
else
  say "no Omniglot under $data: run.sh's train part will report it"
fi

{
  echo "commit $(git rev-parse HEAD)$(git diff --quiet HEAD -- . ':!bench/gpu/dist' || echo ' (with uncommitted changes)')"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) by $("$jlink_bin" --version 2>&1 | head -1) jlink; modules $MODULES"
  echo "junit-platform-console-standalone $JUNIT_PLATFORM_VERSION; cuda module: $([ $have_cuda = 1 ] && echo yes || echo no)"
  (cd "$dist" && find . -type f ! -name MANIFEST.txt -printf '%s\t%p\n' | sort -k2)
  cat "$work/jars.list"
} > "$dist/MANIFEST.txt"
size=$(du -sb "$dist" | cut -f1)
say "dist: $dist, $(( size / 1024 )) KiB ($(awk -v s="$size" 'BEGIN {printf "%.1f", s / 1048576}') MiB)"
# What the device tool sends: tracked files and untracked files git does not ignore, plus the carried dist/.
tracked=$( { git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 stat -c %s 2>/dev/null \
  | awk '{s += $1} END {print s + 0}')
total=$((tracked + size))
say "working tree (tracked and untracked-not-ignored): $(awk -v s="$tracked" 'BEGIN {printf "%.1f", s / 1048576}') MiB;" \
  "with dist: $(awk -v s="$total" 'BEGIN {printf "%.1f", s / 1048576}') MiB of the device tool's 64 MiB"
if [ "$total" -gt $(( TOTAL_MAX_MIB * 1048576 )) ]; then
  echo "package: working tree + dist is over $TOTAL_MAX_MIB MiB: the device tool would refuse it" >&2
  exit 1
fi

if [ "${1:-}" = "--check" ]; then
  check
fi
