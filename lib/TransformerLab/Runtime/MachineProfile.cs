namespace TransformerLab.Runtime;

/// <summary>
/// What this machine is, as far as speed goes: its CPU, the vector extensions LibTorch's kernels can use, and how busy it
/// is. Machines differ (some have AVX-512 and bfloat16, some only AVX2), so every timing this workspace prints or
/// records says which machine it came from, and no two machines' figures are compared.
/// </summary>
public sealed record MachineProfile(string Cpu, string Vendor, int Cores, IReadOnlySet<string> Flags, double Load1, double Load5, double Load15)
{
    /// <summary>The vector extensions that change which kernels run, in the order of their arrival.</summary>
    public static readonly string[] Extensions = ["avx2", "avx512f", "avx512_bf16", "amx_bf16"];

    public static MachineProfile Read()
    {
        var info = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").Take(64).ToList() : [];
        string Field(string name) => info.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal)) is { } line ? line[(line.IndexOf(':') + 1)..].Trim() : "";
        var (l1, l5, l15) = LoadAverage();
        return new(Field("model name") is { Length: > 0 } model ? model : "CPU", Field("vendor_id"), Environment.ProcessorCount, CpuFlags() ?? [], l1, l5, l15);
    }

    /// <summary>The CPU's feature flags from /proc/cpuinfo (x86 "flags", Arm "Features"), or null where there is none.</summary>
    public static HashSet<string>? CpuFlags()
    {
        if (!File.Exists("/proc/cpuinfo")) return null;
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal) || l.StartsWith("Features", StringComparison.Ordinal));
        return line is null ? null : [.. line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)];
    }

    /// <summary>The 1-, 5- and 15-minute load averages (NaN where the system has none).</summary>
    public static (double One, double Five, double Fifteen) LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            double P(int i) => double.Parse(parts[i], System.Globalization.CultureInfo.InvariantCulture);
            return (P(0), P(1), P(2));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { return (double.NaN, double.NaN, double.NaN); }
    }

    public bool Has(string flag) => Flags.Contains(flag);

    /// <summary>Something else is using the machine: the 1-minute load is above a quarter of the cores.</summary>
    public bool Busy => Load1 > 0.25 * Cores;

    /// <summary>"AVX2, AVX-512 (avx512f), no avx512_bf16, no AMX": what the CPU has of <see cref="Extensions"/>.</summary>
    public string VectorExtensions => string.Join(", ", Extensions.Select(e => (Has(e) ? "" : "no ") + e));

    /// <summary>What the extensions mean here: bf16 runs or is refused; whether the opt-in oneMKL override can help.</summary>
    public IReadOnlyList<string> Consequences()
    {
        var bf16 = Has("avx512_bf16") || Has("amx_bf16") || Has("bf16");
        var amd = Vendor.Contains("AMD", StringComparison.OrdinalIgnoreCase);
        return
        [
            bf16 ? "precision=bf16 runs: the CPU computes bfloat16 natively" : "precision=bf16 is refused: the CPU has no native bfloat16 (it would be emulated and slower than fp32)",
            !Has("avx512f") ? "the oneMKL AVX-512 override (lib/NativeFix/MklOnAmd) does nothing here: the CPU has no AVX-512"
                : amd ? "the oneMKL AVX-512 override (lib/NativeFix/MklOnAmd) can speed up fp32 products: oneMKL runs its AVX2 kernels on AMD CPUs unless it is preloaded"
                : "oneMKL uses AVX-512 by itself on this CPU: no override needed",
        ];
    }

    /// <summary>
    /// Which libraries do the products: LibTorch 2.10's float32 GEMM is oneMKL's, bfloat16's oneDNN's. oneMKL dispatches by
    /// vendor — AVX-512 kernels only on Intel, AVX2 elsewhere — unless its vendor check is overridden (the opt-in
    /// lib/NativeFix/MklOnAmd shim, preloaded), which timings and run logs must say.
    /// </summary>
    public static string MatmulLibraries() =>
        "fp32 GEMM oneMKL" + (Environment.GetEnvironmentVariable("LD_PRELOAD")?.Contains("mkl_intel_cpu_true", StringComparison.Ordinal) == true
            ? " with its vendor check overridden (LD_PRELOAD lib/NativeFix/MklOnAmd)" : " as shipped") + ", bf16 oneDNN";

    /// <summary>One line for reports and logs: CPU, cores, extensions, load.</summary>
    public override string ToString() => $"{Cpu}, {Cores} cores, {VectorExtensions}; load {Load1:F2} / {Load5:F2} / {Load15:F2} (1 / 5 / 15 min)";
}
