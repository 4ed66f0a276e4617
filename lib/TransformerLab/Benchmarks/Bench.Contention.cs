

namespace TransformerLab.Benchmarks;

public sealed partial class Bench
{
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
}
