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
    public static IReadOnlyList<LatencyMeasurement> MeasureInterleaved(IReadOnlyList<Action> actions, int warmup = 2, int repeats = 5)
    {
        if (warmup < 0) throw new ArgumentException($"warm-up calls must be ≥ 0 (got {warmup}).");
        if (repeats < 1) throw new ArgumentException($"repeats must be at least 1 (got {repeats}).");
        for (int i = 0; i < warmup; i++) foreach (var action in actions) action();
        var seconds = actions.Select(_ => new double[repeats]).ToArray();
        for (int r = 0; r < repeats; r++)
            for (int a = 0; a < actions.Count; a++)
            {
                var clock = Stopwatch.StartNew();
                actions[a]();
                seconds[a][r] = clock.Elapsed.TotalSeconds;
            }
        return seconds.Select(s => new LatencyMeasurement(s)).ToList();
    }
}
