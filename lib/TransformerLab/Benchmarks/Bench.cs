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

    public static double Now()
    {
        try { return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return double.NaN; }
    }
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
/// The benchmarks of <c>research bench</c>, each in one process with its candidates interleaved, warm-up excluded and
/// the median of repeats taken (<see cref="Latency.MeasureInterleaved"/>): the machine's matmul rate; our attention
/// against TorchSharp's <c>MultiheadAttention</c> and the fused SDPA kernel; our training step against one built from
/// <c>nn.TransformerEncoderLayer</c>/<c>DecoderLayer</c>; model FLOP utilisation; the KV cache; NAT against AT
/// latency; native memory over a long training run.
/// </summary>
public sealed class Bench(Device device, bool quick, Action<string>? log = null, WorkloadHost? host = null, IReadOnlySet<string>? sections = null)
{
    /// <summary>The sections by name, in the order a full run takes them (<c>research bench --section NAME</c> runs some).</summary>
    public static readonly string[] Sections = ["matmul", "attention", "training-step", "mixed-precision", "kv-cache", "nat-vs-at", "call-overhead", "layers", "memory", "contention"];

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
        if (Runs("nat-vs-at")) using (torch.no_grad()) NatAgainstAt();
        if (Runs("call-overhead")) CallOverhead();
        if (Runs("layers")) LayersAgainstLength();
        if (Runs("memory")) Memory();
        if (Runs("contention") && host is not null && device.type == DeviceType.CPU) UnderContention(host);
        return new BenchReport($"{Environment.ProcessorCount} cores, {Environment.OSVersion}, {CpuModel()}; {MatmulLibraries()}", device.ToString(), quick, torch.get_num_threads(),
            started, clock.Elapsed.TotalSeconds, figures, ratios, new MachineLoad(loadAtStart, MachineLoad.Now(), Environment.ProcessorCount), decoding,
            contention.Count > 0 ? contention : null, MachineProfile.Read().VectorExtensions, OpenMpWaitPolicy.Description);
    }

    /// <summary>The CPU's model name (/proc/cpuinfo), or "CPU" where there is none.</summary>
    static string CpuModel() => File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "CPU"
        : "CPU";

    /// <summary>
    /// Which libraries do the products: LibTorch 2.10's float32 GEMM is oneMKL's, bfloat16's oneDNN's. oneMKL dispatches by
    /// vendor — AVX-512 kernels only on Intel, AVX2 elsewhere — unless its vendor check is overridden (the opt-in
    /// lib/NativeFix/MklOnAmd shim, preloaded), which the figures must say.
    /// </summary>
    public static string MatmulLibraries() =>
        "fp32 GEMM oneMKL" + (Environment.GetEnvironmentVariable("LD_PRELOAD")?.Contains("mkl_intel_cpu_true", StringComparison.Ordinal) == true
            ? " with its vendor check overridden (LD_PRELOAD lib/NativeFix/MklOnAmd)" : " as shipped") + ", bf16 oneDNN";

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

    /// <summary>1. Dense matmul rate, the practical ceiling every other figure is compared with.</summary>
    void Matmul()
    {
        foreach (var n in quick ? new[] { 512, 1024 } : [512, 1024, 2048])
        {
            using var scope = NewDisposeScope();
            var a = torch.randn(n, n, device: device);
            var b = torch.randn(n, n, device: device);
            var t = Latency.Measure(() => { using var c = a.mm(b); Sync(); }, warmup: 2, repeats: Repeats).Median;
            var gflops = 2.0 * n * n * n / t / 1e9;
            peakGflops = Math.Max(peakGflops, gflops);
            Add("matmul", $"{n}×{n}", gflops, "GFLOP/s");
        }
    }

    /// <summary>2. Multi-head self-attention, d_model 256, 4 heads, batch 8: ours, TorchSharp's module, the fused kernel alone.</summary>
    void Attention()
    {
        const long d = 256, heads = 4, batch = 8;
        foreach (var time in quick ? new long[] { 64, 256 } : [64, 256, 1024])
        {
            using var scope = NewDisposeScope();
            var ours = new MultiHeadAttention(d, heads).to(device);
            var theirs = nn.MultiheadAttention(d, heads, dropout: 0.0).to(device);
            ours.eval();
            theirs.eval();
            var x = torch.randn(batch, time, d, device: device);
            var xt = x.transpose(0, 1).contiguous();
            var q = torch.randn(batch, heads, time, d / heads, device: device);
            foreach (var backward in new[] { false, true })
            {
                x.requires_grad_(backward);
                xt.requires_grad_(backward);
                q.requires_grad_(backward);
                void Step(Func<Tensor> f)
                {
                    using var inner = NewDisposeScope();
                    using var _ = torch.set_grad_enabled(backward);
                    var y = f();
                    if (backward) y.sum().backward();
                    Sync();
                }
                var (wq, wk, wv, wo) = ours.Projections;
                var times = Latency.MeasureInterleaved(
                [
                    () => Step(() => ours.forward(x, x, x)),
                    () => Step(() => theirs.forward(xt, xt, xt, key_padding_mask: null, need_weights: false, attn_mask: null).Item1),
                    () => Step(() => MinimalAttention(x, wq, wk, wv, wo, heads)),
                    () => Step(() => nn.functional.scaled_dot_product_attention(q, q, q)),
                ], warmup: 2, repeats: Repeats);
                var pass = backward ? "forward+backward" : "forward";
                Add("attention", $"ours, T={time}, {pass}", times[0].Median * 1e3, "ms");
                Add("attention", $"nn.MultiheadAttention, T={time}, {pass}", times[1].Median * 1e3, "ms");
                Add("attention", $"same projections + SDPA kernel, T={time}, {pass}", times[2].Median * 1e3, "ms");
                Add("attention", $"SDPA kernel alone, T={time}, {pass}", times[3].Median * 1e3, "ms");
                if (!backward)
                {
                    Ratio($"our MHA forward / (same projections + SDPA kernel), T={time}", times[0], times[2], "≤ 1.1", r => r <= 1.1);
                    Ratio($"our MHA forward / SDPA kernel alone (no projections), T={time}", times[0], times[3], "", null);
                }
                Ratio($"our MHA / nn.MultiheadAttention, T={time}, {pass}", times[0], times[1], "", null);
            }
        }
    }

    /// <summary>
    /// Multi-head attention in the fewest operations: the four projections with <paramref name="wq"/>… and the fused kernel,
    /// no masks, no dispose scopes — what our module would cost with no overhead of its own.
    /// </summary>
    public static Tensor MinimalAttention(Tensor x, TorchSharp.Modules.Linear wq, TorchSharp.Modules.Linear wk, TorchSharp.Modules.Linear wv, TorchSharp.Modules.Linear wo, long heads)
    {
        long b = x.shape[0], t = x.shape[1], d = x.shape[2];
        Tensor Split(Tensor y) => y.view(b, t, heads, d / heads).transpose(1, 2);
        var o = nn.functional.scaled_dot_product_attention(Split(wq.forward(x)), Split(wk.forward(x)), Split(wv.forward(x)));
        return wo.forward(o.transpose(1, 2).reshape(b, t, d));
    }

    static TransformerConfig StepConfig(bool large) => large
        ? new() { SourceVocabulary = 64, TargetVocabulary = 64, DModel = 512, Heads = 8, DFF = 2048, EncoderLayers = 3, DecoderLayers = 3, Dropout = 0.1, Norm = NormPlacement.Post }
        : new() { SourceVocabulary = 64, TargetVocabulary = 64, DModel = 256, Heads = 4, DFF = 1024, EncoderLayers = 3, DecoderLayers = 3, Dropout = 0.1, Norm = NormPlacement.Post };

    /// <summary>
    /// 3. One training step (forward, backward, AdamW) of our encoder–decoder against the same configuration built from
    /// TorchSharp's layers (Post-LN, as they are), batch 32 × 32 tokens without padding. 4. Model FLOP utilisation of
    /// the larger configuration: 6 · parameters · tokens per step (Kaplan et al.'s estimate) over the step time, against (1).
    /// </summary>
    void TrainingStep()
    {
        const long batch = 32, time = 32;
        foreach (var large in quick ? new[] { false } : [false, true])
        {
            using var scope = NewDisposeScope();
            var config = StepConfig(large);
            TorchRuntime.Seed(1);
            var ours = new EncoderDecoder(config).to(device);
            var theirs = new BuiltinEncoderDecoder(config).to(device);
            var (source, input, output) = StepBatch(config);
            var optimisers = new[] { ours, (nn.Module)theirs }.Select(m => torch.optim.AdamW(m.parameters(), lr: 1e-4)).ToArray();
            var times = Latency.MeasureInterleaved(
            [
                () => TrainStep(() => ours.forward(source, input), output, optimisers[0]),
                () => TrainStep(() => theirs.forward(source, input), output, optimisers[1]),
            ], warmup: 2, repeats: quick ? 3 : 5);
            var tokens = batch * time;
            var name = $"d_model {config.DModel}, {config.EncoderLayers}+{config.DecoderLayers} layers";
            Add("training step", $"ours, {name}", tokens / times[0].Median, "target tokens/s");
            Add("training step", $"built-in layers, {name}", tokens / times[1].Median, "target tokens/s");
            if (!large) Ratio($"our training step / built-in ({name})", times[1], times[0], "≥ 1.0 (throughput)", r => r >= 1.0);
            if (large || quick)
            {
                var parameters = ours.parameters().Sum(p => p.numel());
                // encoder parameters see the source tokens, decoder parameters the target tokens: ≈ 6·N·tokens at equal lengths
                var flops = 6.0 * parameters * tokens / times[0].Median;
                Add("model FLOP utilisation", $"ours, {name}", flops / 1e9, "GFLOP/s", $"{parameters:N0} parameters");
                Ratio($"model FLOP utilisation ({name})", flops / 1e9 / peakGflops, "reported", null);
            }
            foreach (var o in optimisers) o.Dispose();
            ours.Dispose();
            theirs.Dispose();
        }
    }

    /// <summary>The training-step benchmarks' batch: 32 sources and targets of 32 random tokens, no padding; the decoder input is the target shifted right.</summary>
    (Tensor Source, Tensor Input, Tensor Output) StepBatch(TransformerConfig config)
    {
        const long batch = 32, time = 32;
        var source = torch.randint(4, config.SourceVocabulary, [batch, time], device: device);
        var target = torch.randint(4, config.TargetVocabulary, [batch, time + 1], device: device);
        return (source, target[.., ..^1], target[.., 1..]);
    }

    /// <summary>One optimiser step on <paramref name="logits"/>' cross-entropy against <paramref name="output"/>, finished on the device before it returns.</summary>
    void TrainStep(Func<Tensor> logits, Tensor output, optim.Optimizer optimiser)
    {
        using var inner = NewDisposeScope();
        optimiser.zero_grad();
        var scores = logits();
        nn.functional.cross_entropy(scores.reshape(-1, scores.shape[^1]), output.reshape(-1)).backward();
        optimiser.step();
        Sync();
    }

    /// <summary>
    /// 3b. Mixed precision (<see cref="MixedPrecision"/>): the bfloat16 matmul rate beside (1); our training step in fp32
    /// and bf16, interleaved, with the model FLOP utilisation of each against its own matmul rate; greedy and beam-4
    /// decoding of 16 tokens both ways, batch 1 and 64.
    /// </summary>
    void MixedPrecisionSection()
    {
        if (MixedPrecision.Unsupported(Precision.Bf16, device) is { } why)
        {
            log?.Invoke($"mixed precision: skipped — {why}");
            return;
        }
        double peakBf16 = 0;
        using (torch.no_grad())
            foreach (var n in quick ? new[] { 512, 1024 } : [512, 1024, 2048])
            {
                using var scope = NewDisposeScope();
                var a = torch.randn(n, n, device: device).to(ScalarType.BFloat16);
                var b = torch.randn(n, n, device: device).to(ScalarType.BFloat16);
                var t = Latency.Measure(() => { using var c = a.mm(b); Sync(); }, warmup: 2, repeats: Repeats).Median;
                var gflops = 2.0 * n * n * n / t / 1e9;
                peakBf16 = Math.Max(peakBf16, gflops);
                Add("mixed precision", $"matmul bf16 {n}×{n}", gflops, "GFLOP/s");
            }
        Ratio("bf16 / fp32 matmul rate (best sizes)", peakBf16 / peakGflops, "reported", null);

        const long batch = 32, time = 32;
        foreach (var large in quick ? new[] { false } : [false, true])
        {
            using var scope = NewDisposeScope();
            var config = StepConfig(large);
            TorchRuntime.Seed(1);
            var model = new EncoderDecoder(config).to(device);
            var (source, input, output) = StepBatch(config);
            using var optimiser = torch.optim.AdamW(model.parameters(), lr: 1e-4);
            void Step(Precision precision)
            {
                using var products = MixedPrecision.Use(precision);
                TrainStep(() => model.forward(source, input), output, optimiser);
            }
            var times = Latency.MeasureInterleaved([() => Step(Precision.Fp32), () => Step(Precision.Bf16)], warmup: 2, repeats: quick ? 3 : 5);
            var tokens = batch * time;
            var name = $"d_model {config.DModel}, {config.EncoderLayers}+{config.DecoderLayers} layers";
            Add("mixed precision", $"training step fp32, {name}", tokens / times[0].Median, "target tokens/s");
            Add("mixed precision", $"training step bf16, {name}", tokens / times[1].Median, "target tokens/s");
            Ratio($"bf16 / fp32 training throughput ({name})", times[0], times[1], large ? "≥ 1.5" : "", large ? r => r >= 1.5 : null);
            var flops = 6.0 * model.parameters().Sum(p => p.numel()) * tokens;
            Ratio($"model FLOP utilisation fp32, of the fp32 matmul rate ({name})", flops / times[0].Median / 1e9 / peakGflops, "reported", null);
            Ratio($"model FLOP utilisation bf16, of the bf16 matmul rate ({name})", flops / times[1].Median / 1e9 / peakBf16, "reported", null);
            model.Dispose();
        }

        using (torch.no_grad())
        {
            using var scope = NewDisposeScope();
            TorchRuntime.Seed(5);
            var model = new EncoderDecoder(StepConfig(false)).to(device);
            model.eval();
            foreach (var batch1 in new[] { 1, 64 })
            {
                var source = torch.randint(4, 64, [batch1, 16], device: device);
                foreach (var beam in new[] { 1, 4 })
                {
                    void Decode(Precision precision)
                    {
                        using var inner = NewDisposeScope();
                        using var products = MixedPrecision.Use(precision);
                        if (beam == 1) DecodeSteps(model, model.Encode(source), 16, useCache: true);
                        else BeamSearch.Decode(model, source, new BeamOptions(beam), maxLength: 16);
                        Sync();
                    }
                    var times = Latency.MeasureInterleaved([() => Decode(Precision.Fp32), () => Decode(Precision.Bf16)], warmup: 1, repeats: quick ? 3 : 5);
                    var what = beam == 1 ? $"greedy, batch {batch1}, 16 tokens" : $"beam {beam}, batch {batch1}, up to 16 tokens";
                    Add("mixed precision", $"decoding fp32, {what}", times[0].Median * 1e3, "ms");
                    Add("mixed precision", $"decoding bf16, {what}", times[1].Median * 1e3, "ms");
                    Ratio($"bf16 / fp32 decoding speed-up, {what}", times[0], times[1], "", null);
                }
            }
            model.Dispose();
        }
    }

    /// <summary>5. Greedy-style decoding of exactly L tokens with and without the key/value cache (batch 8, untrained small model).</summary>
    void KeyValueCache()
    {
        using var scope = NewDisposeScope();
        TorchRuntime.Seed(2);
        var model = new EncoderDecoder(StepConfig(false)).to(device);
        model.eval();
        var source = torch.randint(4, 64, [8, 32], device: device);
        var encoded = model.Encode(source);
        foreach (var length in quick ? new[] { 16, 64 } : [16, 64, 256])
        {
            var times = Latency.MeasureInterleaved(
                [() => DecodeSteps(model, encoded, length, useCache: true), () => DecodeSteps(model, encoded, length, useCache: false)],
                warmup: 1, repeats: quick ? 2 : 3);
            Add("KV cache", $"with cache, L={length}", times[0].Median * 1e3, "ms");
            Add("KV cache", $"without cache, L={length}", times[1].Median * 1e3, "ms");
            Ratio($"KV cache speed-up, L={length}", times[1], times[0], length == 64 ? "≥ 3" : "", length == 64 ? r => r >= 3 : null);
        }
        model.Dispose();
    }

    /// <summary>Feeds the argmax token for exactly <paramref name="length"/> steps (no early stop), as decoding a length-L output costs.</summary>
    void DecodeSteps(EncoderDecoder model, EncodedSource source, int length, bool useCache)
    {
        using var scope = NewDisposeScope();
        using var steps = DecoderSteps.Create(model, source, useCache);
        var tokens = torch.full(source.Batch, Vocabulary.Bos, dtype: ScalarType.Int64, device: device);
        for (int t = 0; t < length; t++)
        {
            using var inner = NewDisposeScope();
            tokens = steps.Next(tokens).argmax(-1).MoveToOuterDisposeScope();
        }
        Sync();
    }

    /// <summary>
    /// 6. NAT against AT greedy by output length (8 … 64 tokens), batch 1 and 64, at the small G2P model's sizes: the two
    /// decoders as an evaluation calls them (<see cref="Greedy.Decode"/>, <see cref="NonAutoregressiveDecoding.Decode"/>
    /// with its length prediction: inference mode, host transfers and all). The models are untrained and pinned to the
    /// length asked for (<see cref="PinLengths"/>). Gu et al.'s shape is a NAT time nearly flat in L and an AT time linear in
    /// it. Timed in steady state (turns of ≥ 50 ms, 20 ms quick). At batch 1 also on one intra-op thread: at these shapes
    /// every LibTorch kernel is microseconds, and a second thread's fork, join and cache traffic cost more than it computes.
    /// </summary>
    void NatAgainstAt()
    {
        using var scope = NewDisposeScope();
        var transformer = new TransformerConfig { SourceVocabulary = 32, TargetVocabulary = 44, DModel = 128, Heads = 4, DFF = 256, EncoderLayers = 2, DecoderLayers = 2 };
        TorchRuntime.Seed(3);
        var at = new EncoderDecoder(transformer).to(device);
        var nat = new NonAutoregressiveTransformer(new NonAutoregressiveConfig
            { Transformer = transformer with { CausalMask = false }, Length = LengthPrediction.Absolute, MaxTargetLength = 64 }).to(device);
        at.eval(); // as an evaluation after training leaves them: each decoding call then skips the mode switch
        nat.eval();
        var threads = torch.get_num_threads();
        foreach (var batch in new[] { 1, 64 })
            foreach (var length in quick ? new[] { 16, 64 } : [8, 16, 32, 64])
                foreach (var threadCount in batch == 1 && threads > 1 ? new[] { threads, 1 } : [threads])
                {
                    PinLengths(at, nat, length);
                    var source = torch.randint(4, 32, [batch, 8], device: device);
                    var times = OnThreads(threadCount, () => Latency.MeasureInterleaved(
                    [
                        () => Greedy.Decode(at, source, length),
                        () => NonAutoregressiveDecoding.Decode(nat, source),
                    ], warmup: 3, repeats: Repeats, minimumSeconds: quick ? 0.02 : 0.05));
                    var setting = $"batch {batch}, {length} tokens, {threadCount} thread{(threadCount == 1 ? "" : "s")}";
                    Add("NAT vs AT", $"AT greedy decoding, {setting}", times[0].Median * 1e3, "ms");
                    Add("NAT vs AT", $"NAT decoding (one pass), {setting}", times[1].Median * 1e3, "ms");
                    decoding.Add(new DecodingLatency(DecodingLatency.AtGreedy, batch, length, threadCount, times[0].Median * 1e3));
                    decoding.Add(new DecodingLatency(DecodingLatency.NatOnePass, batch, length, threadCount, times[1].Median * 1e3));
                    var goal = batch == 1 && length == 16;
                    Ratio($"NAT speed-up over AT greedy, {setting}", times[0], times[1], goal ? "≥ 5" : "", goal ? r => r >= 5 : null);
                }
        if (!quick) FixedCosts(at, nat); // a breakdown to read, not a smoke check
        at.Dispose();
        nat.Dispose();
    }

    /// <summary>
    /// Where one NAT decoding's time goes at batch 1, 16 tokens, one thread — the encoder, the decoder's one pass, and the
    /// rest (length prediction, masks, the host transfers: <see cref="NonAutoregressiveDecoding"/>'s own work) — each in
    /// units of one AT greedy step (greedy decoding minus its encoder, over 16). Parts are differences of nested
    /// prefixes (encoder; encoder + pass; the whole decoding), not parts timed alone: alone, a part's weights stay in
    /// the cache and it looks cheaper than it is inside the whole.
    /// </summary>
    void FixedCosts(EncoderDecoder at, NonAutoregressiveTransformer nat)
    {
        const int length = 16;
        using var scope = NewDisposeScope();
        PinLengths(at, nat, length);
        var source = torch.randint(4, 32, [1, 8], device: device);
        var placeholders = torch.full([1, length], NonAutoregressiveTransformer.Placeholder, dtype: ScalarType.Int64, device: device);
        IReadOnlyList<LatencyMeasurement> times;
        using (torch.inference_mode())
            times = OnThreads(1, () => Latency.MeasureInterleaved(
            [
                () => { using var s = NewDisposeScope(); nat.Encode(source); },
                () => { using var s = NewDisposeScope(); var (m, k) = nat.Encode(source); nat.Decode(placeholders, source, m, k).argmax(-1); },
                () => NonAutoregressiveDecoding.Decode(nat, source),
                () => { using var s = NewDisposeScope(); at.Encode(source); },
                () => Greedy.Decode(at, source, length),
            ], warmup: 3, repeats: Repeats, minimumSeconds: quick ? 0.02 : 0.05));
        double encoder = times[0].Median, pass = times[1].Median - encoder, own = times[2].Median - times[1].Median;
        var step = (times[4].Median - times[3].Median) / length;
        string Steps(double seconds) => $"≈ {seconds / step:F1} AT steps";
        Add("NAT vs AT", "AT greedy, one step (decoding minus encoder, / 16), batch 1, 1 thread", step * 1e3, "ms");
        Add("NAT vs AT", "NAT encoder, batch 1, 8 source tokens, 1 thread", encoder * 1e3, "ms", Steps(encoder));
        Add("NAT vs AT", "NAT decoder pass and argmax, 16 positions, batch 1, 1 thread", pass * 1e3, "ms", Steps(pass));
        Add("NAT vs AT", "NAT decoding's own work (length prediction, masks, transfers), batch 1, 1 thread", own * 1e3, "ms", Steps(own));
    }

    /// <summary>
    /// Makes untrained models decode exactly <paramref name="length"/> tokens, so both sides of a comparison do the work
    /// its label says: the AT's output bias for EOS is −10⁴ (greedy never stops early), and the NAT's length classifier has
    /// bias +10⁴ on the class of <paramref name="length"/> and 0 elsewhere. Names are the checkpoint's parameter names.
    /// </summary>
    public static void PinLengths(EncoderDecoder at, NonAutoregressiveTransformer nat, int length)
    {
        using var _ = torch.no_grad();
        at.state_dict()["output.projection.bias"][Vocabulary.Eos] = -1e4f;
        var lengthBias = nat.state_dict()["length_classifier.bias"];
        lengthBias.zero_();
        lengthBias[length] = 1e4f; // absolute length prediction: class L is length L
    }

    /// <summary>
    /// 6b. Host time per LibTorch call at decoding's shapes, where the arithmetic is tiny: one element-wise add on
    /// <c>[1, 4, 8, 32]</c> (the cost of crossing into LibTorch and back), the fused attention kernel at T 8 with and without
    /// an all-true mask, a 128 → 128 linear layer over one row and over sixteen (an AT step's product against the NAT pass's,
    /// on one thread), our multi-head attention against the same operations written with no module or dispose scope around
    /// them (<see cref="MinimalAttention"/>), and one cached decoding step of the small G2P model — in units of the add.
    /// </summary>
    void CallOverhead()
    {
        using var inference = torch.inference_mode();
        using var scope = NewDisposeScope();
        const int calls = 200;
        var x = torch.randn(1, 4, 8, 32, device: device);
        var mask = torch.ones(1, 1, 1, 8, dtype: ScalarType.Bool, device: device);
        var times = Latency.MeasureInterleaved(
        [
            () => { for (int i = 0; i < calls; i++) { using var y = x + 1; } },
            () => { for (int i = 0; i < calls; i++) { using var y = nn.functional.scaled_dot_product_attention(x, x, x); } },
            () => { for (int i = 0; i < calls; i++) { using var y = nn.functional.scaled_dot_product_attention(x, x, x, mask); } },
        ], warmup: 2, repeats: Repeats);
        var add = times[0].Median / calls * 1e6;
        Add("call overhead", "element-wise add, [1, 4, 8, 32]", add, "µs per call");
        Add("call overhead", "SDPA kernel, T=8, no mask", times[1].Median / calls * 1e6, "µs per call");
        Add("call overhead", "SDPA kernel, T=8, all-true mask", times[2].Median / calls * 1e6, "µs per call");

        TorchRuntime.Seed(6);
        var mha = new MultiHeadAttention(128, 4).to(device);
        mha.eval();
        var h = torch.randn(1, 8, 128, device: device);
        var (wq, wk, wv, wo) = mha.Projections;
        var attention = Latency.MeasureInterleaved(
        [
            () => { for (int i = 0; i < calls; i++) { using var s = NewDisposeScope(); mha.forward(h, h, h); } },
            () => { for (int i = 0; i < calls; i++) { using var s = NewDisposeScope(); MinimalAttention(h, wq, wk, wv, wo, 4); } },
        ], warmup: 2, repeats: Repeats);
        var w = torch.randn(128, 128, device: device);
        var rows = new[] { 1, 16 }.Select(n => torch.randn(1, n, 128, device: device)).ToArray();
        var linear = OnThreads(1, () => Latency.MeasureInterleaved(rows.Select(r => (Action)(() => { for (int i = 0; i < calls; i++) { using var y = nn.functional.linear(r, w); } })).ToList(), warmup: 2, repeats: Repeats));
        Add("call overhead", "linear layer 128 → 128, 1 row (an AT step's product), 1 thread", linear[0].Median / calls * 1e6, "µs per call");
        Add("call overhead", "linear layer 128 → 128, 16 rows (the NAT pass's product at 16 tokens), 1 thread", linear[1].Median / calls * 1e6, "µs per call",
            $"{2.0 * 16 * 128 * 128 / (linear[1].Median / calls) / 1e9:F0} GFLOP/s");
        Add("call overhead", "our MultiHeadAttention, batch 1, T=8, d 128", attention[0].Median / calls * 1e6, "µs per call");
        Add("call overhead", "the same operations, no module or scopes", attention[1].Median / calls * 1e6, "µs per call");
        Ratio("our MHA / the same operations bare, batch 1, T=8", attention[0], attention[1], "", null);

        var transformer = new TransformerConfig { SourceVocabulary = 32, TargetVocabulary = 44, DModel = 128, Heads = 4, DFF = 256, EncoderLayers = 2, DecoderLayers = 2 };
        TorchRuntime.Seed(3);
        var model = new EncoderDecoder(transformer).to(device);
        model.eval();
        using var steps = DecoderSteps.Create(model, model.Encode(torch.randint(4, 32, [1, 8], device: device)), useCache: true);
        var token = torch.full(1, Vocabulary.Bos, dtype: ScalarType.Int64, device: device);
        for (int i = 0; i < 15; i++) { using var s = NewDisposeScope(); token = steps.Next(token).argmax(-1).MoveToOuterDisposeScope(); } // a context of 15
        var step = Latency.Measure(() => { using var s = NewDisposeScope(); steps.Next(token); }, warmup: 2, repeats: 20).Median * 1e6;
        Add("call overhead", "one cached decoding step, small G2P model (2 layers, d 128), context 16–38 (the cache grows with each repeat)", step, "µs", $"≈ {step / add:F0} element-wise adds");
        model.Dispose();
        mha.Dispose();
    }

    /// <summary>7. Resident memory (managed + native) over a training run of the small config: growth after warm-up.</summary>
    void Memory()
    {
        var steps = quick ? 150 : 2000; // quick: a smoke check of the same loop, inside the minute --quick promises
        var warm = steps / 10;
        var config = StepConfig(false) with { DModel = 128, Heads = 4, DFF = 512, EncoderLayers = 2, DecoderLayers = 2 };
        TorchRuntime.Seed(4);
        using var model = new EncoderDecoder(config).to(device);
        using var optimiser = torch.optim.AdamW(model.parameters(), lr: 1e-4);
        var random = new Random(4);
        var samples = new List<(int Step, double Mb)>();
        for (int step = 1; step <= steps; step++)
        {
            using (var scope = NewDisposeScope())
            {
                var time = 16 + random.Next(16); // varying shapes, as real batches have
                var source = torch.randint(4, 64, [32, time], device: device);
                var target = torch.randint(4, 64, [32, time + 1], device: device);
                optimiser.zero_grad();
                var logits = model.forward(source, target[.., ..^1]);
                nn.functional.cross_entropy(logits.reshape(-1, 64), target[.., 1..].reshape(-1)).backward();
                optimiser.step();
            }
            if (step == warm || step % (steps / 10) == 0)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                using var process = Process.GetCurrentProcess();
                samples.Add((step, process.WorkingSet64 / 1048576.0));
            }
        }
        var atWarm = samples.First(s => s.Step == warm).Mb;
        var atEnd = samples[^1].Mb;
        Add("memory", $"resident after {warm} steps", atWarm, "MiB");
        Add("memory", $"resident after {steps} steps", atEnd, "MiB");
        var growth = (atEnd - atWarm) / atWarm;
        Ratio($"memory growth from step {warm} to {steps}", growth, "< 5 %", growth < 0.05);
    }

    /// <summary>
    /// 8. Vaswani et al.'s Table 1 per layer (<see cref="LayerScaling"/>, notebook 09): one layer of each kind over one
    /// sequence, d_model 128, against n; and what the recurrence's n dependent steps cost against LibTorch's fused LSTM.
    /// </summary>
    public const string LayersSection = "one layer against n (Table 1)";

    void LayersAgainstLength()
    {
        var costs = LayerScaling.Measure(quick ? [128, 512] : [128, 512, 2048], repeats: Repeats, device: device);
        foreach (var c in costs) Add(LayersSection, $"{c.Layer}, n = {c.Length}", c.Milliseconds, "ms");
        var longest = costs.Max(c => c.Length);
        double At(string prefix) => costs.Single(c => c.Length == longest && c.Layer.StartsWith(prefix, StringComparison.Ordinal)).Milliseconds;
        // medians of separate measurements (not interleaved), so these ratios carry no spread
        Ratio($"time: LSTM as {longest} dependent steps / fused LSTM (n = {longest})", At("recurrent (LSTM, one call") / At("recurrent (LSTM, fused)"), "reported", null);
        Ratio($"time: self-attention layer / fused LSTM layer (n = {longest})", At("self-attention") / At("recurrent (LSTM, fused)"), "reported", null);
    }

    /// <summary>
    /// 10. Under contention (issue 35): the training step and batch-1 greedy decoding, each in its own process, alone,
    /// beside a busy core and beside a second copy of itself (<see cref="ContentionBench"/>), per OpenMP wait policy and
    /// thread count. Targets, for the policy this workspace runs with and the default threads: a busy core costs at most
    /// 1.5× the time alone, a second copy at most 2.5×, and batch-1 decoding beside a busy core is no slower than on one thread.
    /// </summary>
    void UnderContention(WorkloadHost workloads)
    {
        const string section = "under contention";
        var points = new ContentionBench(workloads, quick, log).Run();
        foreach (var p in points)
            figures.Add(new BenchFigure(section, $"{ContentionBench.Describe(p.Workload)}, {p.Policy}, {ContentionBench.DescribeThreads(p.Threads)}, {p.Condition}", p.MillisecondsPerCall, "ms per call"));
        contention.AddRange(points);
        var policy = ContentionBench.CurrentPolicy;
        double At(ContentionWorkload w, string condition, int t) =>
            points.FirstOrDefault(x => x.Workload == w && x.Policy == policy && x.Threads == t && x.Condition == condition)?.MillisecondsPerCall ?? double.NaN;
        foreach (var w in Enum.GetValues<ContentionWorkload>())
        {
            var chosen = ContentionBench.Chosen(w, Environment.ProcessorCount);
            var label = $"{policy}, {ContentionBench.DescribeThreads(chosen)}";
            var alone = At(w, ContentionPoint.Alone, chosen);
            var busy = At(w, ContentionPoint.BusyCore, chosen) / alone;
            Ratio($"{ContentionBench.Describe(w)}: beside a busy core / alone ({label})", busy, "≤ 1.5", busy <= 1.5);
            var pair = At(w, ContentionPoint.SecondCopy, chosen) / alone;
            if (!double.IsNaN(pair)) Ratio($"{ContentionBench.Describe(w)}: beside a second copy / alone ({label})", pair, "≤ 2.5", pair <= 2.5);
        }
        var oneThread = At(ContentionWorkload.GreedyBatch1, ContentionPoint.BusyCore, 1);
        if (!double.IsNaN(oneThread))
        {
            // the same code path when the choice is one thread: the target allows run-to-run noise, not a real difference
            var ratio = At(ContentionWorkload.GreedyBatch1, ContentionPoint.BusyCore, 0) / oneThread;
            Ratio($"greedy decoding (batch 1) beside a busy core: threads chosen for the work / 1 thread ({policy})", ratio, "≤ 1.1 (never slower than one thread, within noise)", ratio <= 1.1);
        }
    }

    readonly List<ContentionPoint> contention = [];

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
