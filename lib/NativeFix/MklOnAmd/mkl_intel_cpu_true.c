/*
 * Opt-in, for AMD CPUs with AVX-512 (e.g. Zen 4/5): LibTorch 2.10's float32 matmuls run in oneMKL 2024.0, which picks its
 * AVX-512 kernels only when its own vendor check says "Intel" and otherwise runs its AVX2 kernels. Preloading this
 * definition of that check makes MKL choose its kernels by the CPU's features, as it does on Intel CPUs.
 *
 * Not applied by default: mkl_serv_intel_cpu_true is an internal, undocumented MKL function (Intel supports no way to
 * change the dispatch), so a later LibTorch could rename it — this library then simply has no effect. Measured on this
 * workspace's machine (AMD EPYC): data/bench/bench-quick-mkl-avx512.json against data/bench/bench-quick.json; see
 * experiments.md, "research bench".
 *
 *   bash lib/NativeFix/MklOnAmd/build.sh            # writes lib/NativeFix/MklOnAmd/libmkl_intel_cpu_true.so
 *   LD_PRELOAD=$PWD/lib/NativeFix/MklOnAmd/libmkl_intel_cpu_true.so dotnet run --project lib/Research -- bench --quick
 */
int mkl_serv_intel_cpu_true(void) { return 1; }
