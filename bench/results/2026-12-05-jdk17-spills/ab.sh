#!/bin/bash
# A/B: old (3f20ad4) vs v2 jars, conv4 and MAML 2nd order 1 step, JDK 17/25 x AVX2/AVX-512
cd .
for r in 1 2; do
for J in 17 25; do
  if [ $J = 17 ]; then JAVA=java; else JAVA=JDK:temurin-25-jdk-amd64; fi
  for avx in 2 3; do
  for v in old v2; do
    $JAVA -jar bench-$v.jar 'WorkloadBench.(mamlMetaStep|conv4ForwardBackward)' -p variant=second-1 -p schedule=tasks -f 1 -wi 3 -i 5 -rf json -rff $r-$J-$avx-$v.json -jvmArgsAppend "--add-modules jdk.incubator.vector -Xms8g -Xmx8g -XX:+AlwaysPreTouch -Dmetagrad.threads=2 -XX:UseAVX=$avx" > $r-$J-$avx-$v.txt 2>&1
    python3 - $r-$J-$avx-$v.json <<'PY'
import json,sys
for x in json.load(open(sys.argv[1])):
    print(sys.argv[1], x['benchmark'].split('.')[-1], 'p50=%.1f'%x['primaryMetric']['scorePercentiles']['50.0'])
PY
  done; done
done; done
