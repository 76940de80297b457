#!/usr/bin/env bash
# A/B of the workload benchmarks: the jar of a945781 (before this session) against HEAD, alternating.
set -u
out=.; # bench-old.jar: a945781 built with mvn -q -o package -DskipTests -pl bench -am; bench-new.jar: this commit
for r in 1 2; do
  for side in old new; do
    java -jar bench-$side.jar 'WorkloadBench\.(conv4ForwardBackward|mamlMetaStep|protoNetEpisode)$' \
      -p variant=second-1 -p schedule=tasks -f 1 -wi 3 -i 5 -rf json -rff $out/$side-$r.json > $out/$side-$r.txt 2>&1
    echo "round $r $side done $(date +%T)"
  done
done
