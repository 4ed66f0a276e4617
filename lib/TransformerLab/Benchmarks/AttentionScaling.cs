using TorchSharp;
using TransformerLab.Attention;
using TransformerLab.Evaluation;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Benchmarks;

/// <summary>What one attention computation cost at one sequence length: median time, and the peak memory it added.</summary>
public sealed record AttentionCost(string Kernel, long Length, double Milliseconds, double PeakMegabytes);

/// <summary>One decoding step at a context of <see cref="Context"/> tokens: full attention over a key/value cache against linear attention's recurrent state.</summary>
public sealed record DecodingStepCost(long Context, double CachedMilliseconds, double RecurrentMilliseconds);

/// <summary>
/// How attention's cost grows with the sequence length n, measured: the attention core alone (queries, keys and values
/// given; one sequence, <c>[1, heads, n, d_head]</c>) for the paper's attention — LibTorch's fused kernel, and the
/// explicit softmax(QKᵀ/√d)V that materialises the n × n scores — and for each efficient kernel. Time is the median of
/// repeats; peak memory is the resident-set high-water mark the call added (Linux: /proc/self/status VmHWM, reset
/// through /proc/self/clear_refs; NaN elsewhere).
/// </summary>
public static class AttentionScaling
{
    /// <summary>The kernels measured, by name: the two ways of computing full attention, then the efficient ones.</summary>
    public static IReadOnlyList<(string Name, Func<Tensor, Tensor, Tensor, Tensor> Attend)> Kernels(long window, LinformerAttention? linformer = null) =>
    [
        ("full, fused kernel", (q, k, v) => nn.functional.scaled_dot_product_attention(q, k, v)),
        ("full, explicit scores", (q, k, v) => ScaledDotProductAttention.Explicit(q, k, v).Output),
        ($"local, r = {window}", (q, k, v) => LocalAttention.Forward(q, k, v, window)),
        ($"strided, stride {window}", (q, k, v) => StridedSparseAttention.Forward(q, k, v, window, causal: false)),
        ("linear (elu + 1)", (q, k, v) => LinearAttention.Forward(q, k, v)),
        .. linformer is null ? Array.Empty<(string, Func<Tensor, Tensor, Tensor, Tensor>)>() : [($"Linformer, k = {linformer.Rank}", (q, k, v) => linformer.forward(q, k, v))],
    ];

    /// <summary>
    /// Times every kernel at every length (no gradients), one kernel and one length at a time. The two kernels that
    /// materialise n × n (explicit scores, and the strided pattern's mask) stop after <paramref name="quadraticUpTo"/>:
    /// beyond it they cost seconds and gigabytes per call.
    /// </summary>
    public static IReadOnlyList<AttentionCost> Measure(IReadOnlyList<long> lengths, long heads = 4, long headDim = 32, long window = 64, int repeats = 3,
        long quadraticUpTo = 4096, Action<string>? progress = null)
    {
        using var inference = torch.inference_mode();
        TorchRuntime.Seed(1);
        using var linformer = new LinformerAttention(window, lengths.Max());
        var costs = new List<AttentionCost>();
        foreach (var n in lengths)
        {
            using var scope = NewDisposeScope();
            var (q, k, v) = (torch.randn(1, heads, n, headDim), torch.randn(1, heads, n, headDim), torch.randn(1, heads, n, headDim));
            foreach (var (name, attend) in Kernels(window, linformer))
            {
                if (n > quadraticUpTo && (name.StartsWith("full, explicit", StringComparison.Ordinal) || name.StartsWith("strided", StringComparison.Ordinal))) continue;
                var (milliseconds, peak) = TimeAndPeak(() => attend(q, k, v), repeats);
                costs.Add(new AttentionCost(name, n, milliseconds, peak));
                progress?.Invoke($"{name}, n = {n}: {milliseconds:F2} ms");
            }
        }
        return costs;
    }

    /// <summary>
    /// One autoregressive step at each context length: full attention of one new query over <c>context</c> cached keys
    /// and values (the KV cache: time grows with the context), against linear attention's recurrent step (a fixed-size
    /// state: time does not).
    /// </summary>
    public static IReadOnlyList<DecodingStepCost> DecodingStep(IReadOnlyList<long> contexts, long heads = 4, long headDim = 32, int repeats = 20)
    {
        using var inference = torch.inference_mode();
        TorchRuntime.Seed(2);
        var rows = new List<DecodingStepCost>();
        foreach (var t in contexts)
        {
            using var scope = NewDisposeScope();
            var (q, k, v) = (torch.randn(1, heads, 1, headDim), torch.randn(1, heads, t, headDim), torch.randn(1, heads, t, headDim));
            using var state = new LinearAttention.State();
            LinearAttention.Step(q, k[.., .., ..1], v[.., .., ..1], state); // a state that has seen tokens: its size is fixed from here on
            var cached = Latency.Measure(() => { using var s = NewDisposeScope(); nn.functional.scaled_dot_product_attention(q, k, v); }, warmup: 3, repeats: repeats).Median;
            var recurrent = Latency.Measure(() => { using var s = NewDisposeScope(); LinearAttention.Step(q, q, q, state); }, warmup: 3, repeats: repeats).Median;
            rows.Add(new DecodingStepCost(t, cached * 1e3, recurrent * 1e3));
        }
        return rows;
    }

    /// <summary>
    /// What a run of <see cref="Measure"/> shows, in sentences computed from it (a page states these, not a reading
    /// written down once on another machine): each kernel's fitted time slope, lowest first; the fastest kernel at the
    /// longest length; and, at the longest length both full-attention ways were measured, the peak memory of explicit
    /// scores against the fused kernel.
    /// </summary>
    public static IReadOnlyList<string> Findings(IReadOnlyList<AttentionCost> costs)
    {
        var findings = new List<string>();
        if (SlopeFinding(costs.Select(c => (c.Kernel, c.Length, c.Milliseconds))) is { } slopes) findings.Add(slopes);
        var longest = costs.Max(c => c.Length);
        var atLongest = costs.Where(c => c.Length == longest).OrderBy(c => c.Milliseconds).ToList();
        findings.Add($"Fastest at the longest length measured (n = {longest:N0}): {atLongest[0].Kernel}, {atLongest[0].Milliseconds:F2} ms"
            + (atLongest.Count > 1 ? $"; slowest there: {atLongest[^1].Kernel}, {atLongest[^1].Milliseconds:F2} ms." : "."));
        var both = costs.Where(c => c.Kernel == "full, explicit scores").Select(c => c.Length)
            .Intersect(costs.Where(c => c.Kernel == "full, fused kernel").Select(c => c.Length)).DefaultIfEmpty(0).Max();
        if (both > 0)
        {
            double Peak(string kernel) => costs.Single(c => c.Kernel == kernel && c.Length == both).PeakMegabytes;
            findings.Add($"Peak memory added at n = {both:N0}: {Megabytes(Peak("full, explicit scores"))} with explicit n × n scores, {Megabytes(Peak("full, fused kernel"))} with the fused kernel.");
        }
        return findings;
    }

    /// <summary>
    /// Each candidate's fitted time slope over the lengths measured (log–log: 1 linear, 2 quadratic), lowest first, and what
    /// a slope below 0.9 means at these lengths: a fixed cost per call still outweighs the part that grows with n. Null
    /// when no candidate has two lengths.
    /// </summary>
    public static string? SlopeFinding(IEnumerable<(string Name, long Length, double Milliseconds)> points)
    {
        var list = points.ToList();
        var slopes = list.Select(p => p.Name).Distinct()
            .Select(name => (Name: name, Slope: LogLogFit(list.Where(p => p.Name == name).Select(p => ((double)p.Length, p.Milliseconds))).Slope))
            .Where(x => !double.IsNaN(x.Slope)).OrderBy(x => x.Slope).ToList();
        if (slopes.Count == 0) return null;
        var flat = slopes.Where(x => x.Slope < 0.9).Select(x => x.Name).ToList();
        return "Fitted time slopes (log–log; 1 is linear, 2 quadratic), lowest first: " + string.Join(", ", slopes.Select(x => $"{x.Name} {x.Slope:F2}")) + "." +
               (flat.Count > 0 ? $" Below 0.9 ({string.Join(", ", flat)}), a fixed cost per call still outweighs what grows with n at these lengths." : "");
    }

    /// <summary>What a run of <see cref="DecodingStep"/> shows: how much each step's time changed from the shortest context to the longest.</summary>
    public static string Findings(IReadOnlyList<DecodingStepCost> steps)
    {
        var (first, last) = (steps.MinBy(s => s.Context)!, steps.MaxBy(s => s.Context)!);
        return $"From a context of {first.Context:N0} to {last.Context:N0} tokens, the step over the KV cache went from {first.CachedMilliseconds:F3} to " +
               $"{last.CachedMilliseconds:F3} ms ({last.CachedMilliseconds / first.CachedMilliseconds:F1}×), linear attention's recurrent step from " +
               $"{first.RecurrentMilliseconds:F3} to {last.RecurrentMilliseconds:F3} ms ({last.RecurrentMilliseconds / first.RecurrentMilliseconds:F1}×).";
    }

    /// <summary>A peak in MiB as a page shows it: never "−0.0" (a high-water mark below the start is nothing added), "not reported" where the OS gives none.</summary>
    public static string Megabytes(double peak) => double.IsNaN(peak) ? "not reported" : $"{Math.Max(0, peak):F1} MB";

    /// <summary>Least-squares fit of log y = slope · log n + c: the exponent of the growth (1 linear, 2 quadratic).</summary>
    public static (double Slope, double Intercept) LogLogFit(IEnumerable<(double N, double Y)> points)
    {
        var p = points.Where(x => x.N > 0 && x.Y > 0).Select(x => (X: Math.Log(x.N), Y: Math.Log(x.Y))).ToList();
        if (p.Count < 2) return (double.NaN, double.NaN);
        double mx = p.Average(x => x.X), my = p.Average(x => x.Y);
        var slope = p.Sum(x => (x.X - mx) * (x.Y - my)) / p.Sum(x => (x.X - mx) * (x.X - mx));
        return (slope, my - slope * mx);
    }

    /// <summary>One call's peak added memory (a first, separate call), then its median time over <paramref name="repeats"/> after one warm-up; each call in its own dispose scope.</summary>
    public static (double Milliseconds, double PeakMegabytes) TimeAndPeak(Action call, int repeats)
    {
        var peak = PeakMegabytes(() => { using var s = NewDisposeScope(); call(); });
        var time = Latency.Measure(() => { using var s = NewDisposeScope(); call(); }, warmup: 1, repeats: repeats).Median;
        return (time * 1e3, peak);
    }

    /// <summary>The memory <paramref name="action"/> adds at its peak, in MiB (NaN where the OS does not report a high-water mark).</summary>
    public static double PeakMegabytes(Action action)
    {
        if (!File.Exists("/proc/self/clear_refs")) { action(); return double.NaN; }
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } // resets VmHWM to the current resident size
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { action(); return double.NaN; }
        var before = Status("VmRSS");
        action();
        return (Status("VmHWM") - before) / 1024.0;
    }

    static double Status(string field) =>
        double.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal)).Split(':')[1].Trim().Split(' ')[0],
            System.Globalization.CultureInfo.InvariantCulture); // kB
}
