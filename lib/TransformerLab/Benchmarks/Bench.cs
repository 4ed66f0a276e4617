using System.Diagnostics;
using TorchSharp;
using TransformerLab.Attention;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Training;
using static TorchSharp.torch;

namespace TransformerLab.Benchmarks;

/// <summary>One measured figure: what, its value and unit, and the settings it was measured at.</summary>
public sealed record BenchFigure(string Section, string Name, double Value, string Unit, string Detail = "");

/// <summary>
/// A ratio with the target it is held to (null: reported, not judged), and its spread: the lowest and highest value of the
/// ratio taken repeat by repeat (the candidates run interleaved, so repeat r of each saw the same moment of the machine).
/// </summary>
public sealed record BenchRatio(string Name, double Value, string Target, bool? Met, double Low = double.NaN, double High = double.NaN)
{
    /// <summary>Repeats disagree by more than half the value: a figure the machine's state, not the code, decided.</summary>
    public bool Unsteady => !double.IsNaN(Low) && High - Low > 0.5 * Value;
}

/// <summary>The 1-minute load average at the start and at the end of a run (Linux; NaN elsewhere), and the machine's cores.</summary>
public sealed record MachineLoad(double AtStart, double AtEnd, int Cores)
{
    /// <summary>Something else was running when the bench started: more than a quarter of a core busy on average.</summary>
    public bool Busy => AtStart > 0.25 * Cores;

    public static double Now() => MachineProfile.LoadAverage().One;
}

/// <summary>One decoder's time per call at one output length, batch size and intra-op thread count (the NAT-vs-AT curve).</summary>
/// <param name="Decoder">"AT greedy" or "NAT one pass".</param>
public sealed record DecodingLatency(string Decoder, int Batch, int Tokens, int Threads, double Milliseconds)
{
    public const string AtGreedy = "AT greedy", NatOnePass = "NAT one pass";
}

/// <summary>Everything one <c>research bench</c> run measured.</summary>
/// <param name="Decoding">the NAT-vs-AT section's measurements as typed points (null in reports written before it existed).</param>
/// <param name="Contention">the section "under contention": each workload per wait policy, thread count and condition (null in reports written before it existed).</param>
/// <param name="CpuExtensions">the CPU's vector extensions (AVX2, AVX-512, bf16, AMX) the figures were measured with.</param>
/// <param name="WaitPolicy">the OpenMP wait policy the bench ran with.</param>
public sealed record BenchReport(string Machine, string Device, bool Quick, int Threads, DateTime StartedUtc, double Seconds,
    IReadOnlyList<BenchFigure> Figures, IReadOnlyList<BenchRatio> Ratios, MachineLoad? LoadAverage = null, IReadOnlyList<DecodingLatency>? Decoding = null,
    IReadOnlyList<ContentionPoint>? Contention = null, string? CpuExtensions = null, string? WaitPolicy = null)
{
    public static readonly System.Text.Json.JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>A report written by <c>research bench</c>, or null if <paramref name="path"/> does not exist.</summary>
    public static BenchReport? Load(string path) =>
        File.Exists(path) ? System.Text.Json.JsonSerializer.Deserialize<BenchReport>(File.ReadAllText(path), Json) : null;

    /// <summary>The figures of one section, in the order measured.</summary>
    public IReadOnlyList<BenchFigure> Section(string section) => Figures.Where(f => f.Section == section).ToList();
}

/// <summary>
/// The benchmarks of <c>research bench</c>, one file a section (Bench.Matmul.cs, Bench.Attention.cs, … Bench.Contention.cs), each in one process with its candidates interleaved, warm-up excluded and
/// the median of repeats taken (<see cref="Latency.MeasureInterleaved"/>): the machine's matmul rate; our attention
/// against TorchSharp's <c>MultiheadAttention</c> and the fused SDPA kernel; our training step against one built from
/// <c>nn.TransformerEncoderLayer</c>/<c>DecoderLayer</c>; model FLOP utilisation; the KV cache; NAT against AT
/// latency; native memory over a long training run.
/// </summary>
public sealed partial class Bench(Device device, bool quick, Action<string>? log = null, WorkloadHost? host = null, IReadOnlySet<string>? sections = null)
{
    /// <summary>The sections by name, in the order a full run takes them (<c>research bench --section NAME</c> runs some).</summary>
    public static readonly string[] Sections = ["matmul", "attention", "training-step", "mixed-precision", "kv-cache", "decoding-threads", "nat-vs-at", "call-overhead", "layers", "memory", "contention", "pytorch"];

    bool Runs(string section) => sections is null || sections.Contains(section);

    readonly List<BenchFigure> figures = [];
    readonly List<BenchRatio> ratios = [];
    readonly List<DecodingLatency> decoding = [];
    int Repeats => quick ? 3 : 7;

    public BenchReport Run()
    {
        var loadAtStart = MachineLoad.Now();
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        if (Runs("matmul")) using (torch.no_grad()) Matmul();
        if (Runs("attention")) Attention();
        if (Runs("training-step")) TrainingStep();
        if (Runs("mixed-precision")) MixedPrecisionSection();
        if (Runs("kv-cache")) using (torch.no_grad()) KeyValueCache();
        if (Runs("decoding-threads")) using (torch.no_grad()) DecodingThreads();
        if (Runs("nat-vs-at")) using (torch.no_grad()) NatAgainstAt();
        if (Runs("call-overhead")) CallOverhead();
        if (Runs("layers")) LayersAgainstLength();
        if (Runs("memory")) Memory();
        if (Runs("contention") && host is not null && device.type == DeviceType.CPU) UnderContention(host);
        if (Runs("pytorch") && device.type == DeviceType.CPU) BesidePyTorch();
        return new BenchReport($"{Environment.ProcessorCount} cores, {Environment.OSVersion}, {MachineProfile.Read().Cpu}; {MachineProfile.MatmulLibraries()}", device.ToString(), quick, torch.get_num_threads(),
            started, clock.Elapsed.TotalSeconds, figures, ratios, new MachineLoad(loadAtStart, MachineLoad.Now(), Environment.ProcessorCount), decoding,
            contention.Count > 0 ? contention : null, MachineProfile.Read().VectorExtensions, OpenMpWaitPolicy.Description);
    }

    void Add(string section, string name, double value, string unit, string detail = "")
    {
        figures.Add(new BenchFigure(section, name, value, unit, detail));
        log?.Invoke($"{section}: {name} = {value:G4} {unit} {detail}");
    }

    void Ratio(string name, double value, string target, bool? met) => ratios.Add(new BenchRatio(name, value, target, met));

    /// <summary>numerator / denominator of medians, with the spread of the repeat-by-repeat ratios.</summary>
    void Ratio(string name, LatencyMeasurement numerator, LatencyMeasurement denominator, string target, Func<double, bool>? met)
    {
        var value = numerator.Median / denominator.Median;
        var perRepeat = numerator.Seconds.Zip(denominator.Seconds, (n, d) => n / d).ToList();
        ratios.Add(new BenchRatio(name, value, target, met?.Invoke(value), perRepeat.Min(), perRepeat.Max()));
    }

    double peakGflops;

    /// <summary>Runs <paramref name="body"/> on <paramref name="threads"/> intra-op threads, then restores the count it found.</summary>
    static T OnThreads<T>(int threads, Func<T> body)
    {
        using var _ = IntraOpThreads.Use(threads); // pinned: decoding's automatic one-thread choice stands aside while it is measured
        return body();
    }

    void Sync()
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
    }
}
