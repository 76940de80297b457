#!/bin/bash
cd .
for r in 1 2; do
for J in 17 25; do
  if [ $J = 17 ]; then JAVA=java; else JAVA=JDK:temurin-25-jdk-amd64; fi
  for v in ov nm; do
    $JAVA -jar bench-$v.jar 'WorkloadBench.(mamlMetaStep|conv4ForwardBackward)' -p variant=second-1 -p schedule=tasks -f 1 -wi 3 -i 4 -rf json -rff results/$r-$J-2-$v.json -jvmArgsAppend "--add-modules jdk.incubator.vector -Xms8g -Xmx8g -XX:+AlwaysPreTouch -Dmetagrad.threads=2 -XX:UseAVX=2" > results/$r-$J-2-$v.txt 2>&1
  done
done; done
