#!/usr/bin/env bash
# Builds the opt-in MKL vendor-check shim (see mkl_intel_cpu_true.c): needs a C compiler (cc/gcc).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cc -shared -fPIC -O2 -o "$here/libmkl_intel_cpu_true.so" "$here/mkl_intel_cpu_true.c"
echo "$here/libmkl_intel_cpu_true.so — use it with LD_PRELOAD=$here/libmkl_intel_cpu_true.so"
