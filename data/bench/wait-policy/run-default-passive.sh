#!/bin/bash
cd /work/main
R="dotnet lib/Research/bin/Release/net10.0/research.dll"
ls lib/Research/bin/Release/net10.0/ | grep -i "^research" | head -3
t() { local name=$1; shift; local s=$(date +%s.%N); env "$@" $R bench --quick --out /tmp/omp/$name.json > /tmp/omp/$name.log 2>&1; echo "$name $(echo "$(date +%s.%N) - $s" | bc) s (load $(cut -d' ' -f1 /proc/loadavg))" >> /tmp/omp/times.txt; }
t idle-default OMP_WAIT_POLICY=
t idle-passive OMP_WAIT_POLICY=PASSIVE
yes > /dev/null & Y=$!
t busy-default OMP_WAIT_POLICY=
t busy-passive OMP_WAIT_POLICY=PASSIVE
kill $Y
echo done >> /tmp/omp/times.txt
