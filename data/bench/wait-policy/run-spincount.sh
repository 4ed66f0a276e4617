#!/bin/bash
cd /work/main
R="dotnet lib/Research/bin/Release/net10.0/research.dll"
t() { local name=$1; shift; local s=$(date +%s.%N); env "$@" $R bench --quick --out /tmp/omp/$name.json $EXTRA > /tmp/omp/$name.log 2>&1; echo "$name $(echo "$(date +%s.%N) - $s" | bc) s (load $(cut -d' ' -f1 /proc/loadavg))" >> /tmp/omp/times.txt; }
t idle-spin10k GOMP_SPINCOUNT=10000
t idle-spin100k GOMP_SPINCOUNT=100000
yes > /dev/null & Y=$!
t busy-spin10k GOMP_SPINCOUNT=10000
t busy-spin100k GOMP_SPINCOUNT=100000
kill $Y
echo done2 >> /tmp/omp/times.txt
