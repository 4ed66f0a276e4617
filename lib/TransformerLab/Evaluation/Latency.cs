using System.Diagnostics;

namespace TransformerLab.Evaluation;

/// <summary>Wall-clock times of repeated calls, in seconds, after warm-up calls that are not counted.</summary>
public sealed record LatencyMeasurement(IReadOnlyList<double> Seconds)
{
    /// <summary>The median: robust to the odd slow call (a garbage collection, another process).</summary>
    public double Median => Seconds.Order().ElementAt(Seconds.Count / 2);
    public double Min => Seconds.Min();
    public TimeSpan MedianTime => TimeSpan.FromSeconds(Median);
}

/// <summary>
/// Latency of a callable. The first calls pay for one-off work (LibTorch's kernel selection and allocator growth, the
/// JIT), so <c>warmup</c> calls run untimed before <c>repeats</c> timed ones.
/// </summary>
public static class Latency
{
    public static LatencyMeasurement Measure(Action action, int warmup = 2, int repeats = 5)
    {
        if (warmup < 0) throw new ArgumentException($"warm-up calls must be ≥ 0 (got {warmup}).");
        if (repeats < 1) throw new ArgumentException($"repeats must be at least 1 (got {repeats}).");
        for (int i = 0; i < warmup; i++) action();
        var seconds = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            seconds[i] = clock.Elapsed.TotalSeconds;
        }
        return new LatencyMeasurement(seconds);
    }

    /// <summary>
    /// Several callables timed in turns — A B C, A B C, … — so that a slow phase of the machine (another process, thermal
    /// throttling) falls on all of them alike; <c>warmup</c> untimed turns first. One measurement per callable, in order.
    /// </summary>
    /// <param name="minimumSeconds">0: each turn is one call. Above 0, each turn calls a callable as many times as its last
    /// warm-up call says fill this long, and records the time per call: a call of a millisecond timed once is mostly the
    /// machine's noise (a timer tick, a descheduled thread), and a server decoding request after request is in this steady
    /// state, not the cold one. Warm-up turns then last as long as timed ones.</param>
    public static IReadOnlyList<LatencyMeasurement> MeasureInterleaved(IReadOnlyList<Action> actions, int warmup = 2, int repeats = 5, double minimumSeconds = 0)
    {
        if (warmup < 0) throw new ArgumentException($"warm-up calls must be ≥ 0 (got {warmup}).");
        if (repeats < 1) throw new ArgumentException($"repeats must be at least 1 (got {repeats}).");
        if (minimumSeconds > 0 && warmup < 1) throw new ArgumentException("steady-state timing needs at least one warm-up call to size its turns.");
        var calls = actions.Select(_ => 1).ToArray();
        for (int i = 0; i < warmup; i++)
            for (int a = 0; a < actions.Count; a++)
            {
                var clock = Stopwatch.StartNew();
                actions[a]();
                if (minimumSeconds <= 0) continue;
                calls[a] = Math.Max(1, (int)Math.Ceiling(minimumSeconds / Math.Max(clock.Elapsed.TotalSeconds, 1e-7)));
                for (int c = 1; c < calls[a]; c++) actions[a](); // warm-up turns as long as timed ones: .NET's JIT optimises a method after ~30 calls
            }
        var seconds = actions.Select(_ => new double[repeats]).ToArray();
        for (int r = 0; r < repeats; r++)
            for (int a = 0; a < actions.Count; a++)
            {
                var clock = Stopwatch.StartNew();
                for (int c = 0; c < calls[a]; c++) actions[a]();
                seconds[a][r] = clock.Elapsed.TotalSeconds / calls[a];
            }
        return seconds.Select(s => new LatencyMeasurement(s)).ToList();
    }
}
