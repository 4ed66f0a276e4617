using Microsoft.Data.Analysis;

namespace TransformerLab.Experiments;

/// <summary>A group of runs that differ only by seed, summarised: mean, sample standard deviation and count of a metric.</summary>
public sealed record SeedAggregate(IReadOnlyDictionary<string, string> Group, string Metric, double Mean, double StandardDeviation, int N, int Diverged, int Failed)
{
    /// <summary>"0.1234 ± 0.0056 (n 3)", the form experiments.md reports.</summary>
    public string Format(string number = "F4") => N == 0 ? "–" : $"{Mean.ToString(number)} ± {StandardDeviation.ToString(number)} (n {N})";
}

/// <summary>
/// The rows with one key of a table every run writes (e.g. <c>quality.csv</c>), summarised over the runs: each other
/// column's mean, sample standard deviation and count.
/// </summary>
public sealed record TableAggregate(IReadOnlyDictionary<string, double> Key, IReadOnlyDictionary<string, (double Mean, double StandardDeviation, int N)> Columns)
{
    public double Mean(string column) => Columns.TryGetValue(column, out var c) ? c.Mean : double.NaN;

    /// <summary>"0.1234 ± 0.0056 (n 3)", or "–" where no run has the column.</summary>
    public string Format(string column, string number = "F4") =>
        Columns.TryGetValue(column, out var c) && c.N > 0 ? $"{c.Mean.ToString(number)} ± {c.StandardDeviation.ToString(number)} (n {c.N})" : "–";
}

/// <summary>Turning a store's runs into tables and plots, for notebooks and experiments.md.</summary>
public static class Analysis
{
    /// <summary>
    /// One row per run: key, seed, state, the configuration keys that vary across <paramref name="runs"/> (or
    /// <paramref name="configKeys"/>), then every metric.
    /// </summary>
    public static DataFrame ToDataFrame(IReadOnlyList<RunRecord> runs, IReadOnlyList<string>? configKeys = null)
    {
        configKeys ??= VaryingKeys(runs);
        var metrics = runs.SelectMany(r => r.Metrics.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var columns = new List<DataFrameColumn>
        {
            new StringDataFrameColumn("run", runs.Select(r => r.Key)),
            new Int32DataFrameColumn("seed", runs.Select(r => r.Seed)),
            new StringDataFrameColumn("state", runs.Select(r => r.State.ToString().ToLowerInvariant())),
        };
        columns.AddRange(configKeys.Select(k => new StringDataFrameColumn(k, runs.Select(r => r.Config.GetValueOrDefault(k, "")))));
        columns.AddRange(metrics.Select(m => new DoubleDataFrameColumn(m, runs.Select(r => r.Metrics.TryGetValue(m, out var v) ? v : (double?)null))));
        return new DataFrame(columns);
    }

    /// <summary>Configuration keys whose value is not the same in every run (seed excluded).</summary>
    public static IReadOnlyList<string> VaryingKeys(IReadOnlyList<RunRecord> runs) =>
        runs.SelectMany(r => r.Config.Keys).Distinct().Where(k => k != "seed" && runs.Select(r => r.Config.GetValueOrDefault(k, "")).Distinct().Count() > 1).ToList();

    /// <summary>
    /// Groups runs by the values of <paramref name="by"/> and summarises <paramref name="metric"/> over the finished
    /// (done) runs of each group. Diverged and failed runs are counted, not averaged.
    /// </summary>
    public static IReadOnlyList<SeedAggregate> Aggregate(IReadOnlyList<RunRecord> runs, IReadOnlyList<string> by, string metric) =>
        runs.GroupBy(r => string.Join("\u0001", by.Select(k => r.Config.GetValueOrDefault(k, ""))))
            .Select(g =>
            {
                var values = g.Where(r => r.State == RunState.Done && r.Metrics.ContainsKey(metric)).Select(r => r.Metrics[metric]).ToList();
                var (mean, sd) = MeanAndSd(values);
                var group = by.ToDictionary(k => k, k => g.First().Config.GetValueOrDefault(k, ""));
                return new SeedAggregate(group, metric, mean, sd, values.Count, g.Count(r => r.State == RunState.Diverged), g.Count(r => r.State == RunState.Failed));
            })
            .OrderBy(a => by.Select(k => a.Group[k]).ToArray(), GroupOrder.Instance)
            .ToList();

    /// <summary>
    /// <paramref name="metric"/> of <paramref name="treatment"/> minus that of <paramref name="baseline"/>, seed by seed
    /// (seeds finished in both), summarised: mean and sample sd of the differences. Runs with one seed share their
    /// initialisation and data order, so with 3 seeds the paired difference separates an effect from seed noise better
    /// than two means whose spreads overlap.
    /// </summary>
    public static SeedAggregate PairedDifference(IReadOnlyList<RunRecord> baseline, IReadOnlyList<RunRecord> treatment, string metric)
    {
        static Dictionary<int, double> BySeed(IEnumerable<RunRecord> runs, string metric) => runs
            .Where(r => r.State == RunState.Done && r.Metrics.ContainsKey(metric))
            .GroupBy(r => r.Seed).ToDictionary(g => g.Key, g => g.Single().Metrics[metric]);
        var before = BySeed(baseline, metric);
        var after = BySeed(treatment, metric);
        var differences = after.Keys.Intersect(before.Keys).Order().Select(seed => after[seed] - before[seed]).ToList();
        var (mean, sd) = MeanAndSd(differences);
        return new SeedAggregate(new Dictionary<string, string>(), metric, mean, sd, differences.Count, 0, 0);
    }

    /// <summary>
    /// Within each finished run, one row of <paramref name="file"/> minus another — e.g. beam 4 minus greedy decoding of the
    /// same model — over the runs: the rows of a run share its seed, model and data, so seed-to-seed spread cancels. Rows
    /// are picked by the values of their key columns; the per-seed differences come in seed order.
    /// </summary>
    public static (SeedAggregate Difference, IReadOnlyList<double> PerSeed) PairedRowDifference(IEnumerable<RunRecord> runs, string file,
        IReadOnlyDictionary<string, double> baseline, IReadOnlyDictionary<string, double> treatment, string column)
    {
        static double At(RunRecord run, string file, IReadOnlyDictionary<string, double> key, string column) =>
            run.Table(file).Single(row => key.All(k => row.GetValueOrDefault(k.Key, double.NaN) == k.Value))[column];
        var perSeed = runs.Where(r => r.State == RunState.Done).OrderBy(r => r.Seed)
            .Select(r => At(r, file, treatment, column) - At(r, file, baseline, column)).ToList();
        var (mean, sd) = MeanAndSd(perSeed);
        return (new SeedAggregate(new Dictionary<string, string>(), column, mean, sd, perSeed.Count, 0, 0), perSeed);
    }

    /// <summary>The aggregates as a table: the group keys, then mean, sd, n, diverged, failed.</summary>
    public static DataFrame ToDataFrame(IReadOnlyList<SeedAggregate> aggregates)
    {
        var keys = aggregates.FirstOrDefault()?.Group.Keys.ToList() ?? [];
        var columns = new List<DataFrameColumn>(keys.Select(k => new StringDataFrameColumn(k, aggregates.Select(a => a.Group[k]))))
        {
            new DoubleDataFrameColumn("mean", aggregates.Select(a => a.N > 0 ? a.Mean : (double?)null)),
            new DoubleDataFrameColumn("sd", aggregates.Select(a => a.N > 1 ? a.StandardDeviation : (double?)null)),
            new Int32DataFrameColumn("n", aggregates.Select(a => a.N)),
            new Int32DataFrameColumn("diverged", aggregates.Select(a => a.Diverged)),
            new Int32DataFrameColumn("failed", aggregates.Select(a => a.Failed)),
        };
        return new DataFrame(columns);
    }

    /// <summary>
    /// <paramref name="file"/> of every finished run, its rows grouped by the values of <paramref name="keys"/> and
    /// every other column summarised over runs (NaN cells skipped); groups in order of their keys.
    /// </summary>
    public static IReadOnlyList<TableAggregate> AggregateTable(IEnumerable<RunRecord> runs, string file, params string[] keys) =>
        runs.Where(r => r.State == RunState.Done).SelectMany(r => r.Table(file))
            .GroupBy(row => string.Join("\u0001", keys.Select(k => row.GetValueOrDefault(k, double.NaN))))
            .Select(g => new TableAggregate(
                keys.ToDictionary(k => k, k => g.First().GetValueOrDefault(k, double.NaN)),
                g.SelectMany(row => row.Keys).Distinct().Where(c => !keys.Contains(c)).ToDictionary(c => c, c =>
                {
                    var values = g.Where(row => row.TryGetValue(c, out var v) && !double.IsNaN(v)).Select(row => row[c]).ToList();
                    var (mean, sd) = MeanAndSd(values);
                    return (mean, sd, values.Count);
                })))
            .OrderBy(a => keys.Select(k => a.Key[k]).ToArray(), Comparer<double[]>.Create((x, y) =>
                x.Zip(y).Select(p => p.First.CompareTo(p.Second)).FirstOrDefault(c => c != 0)))
            .ToList();

    /// <summary>Mean and sample standard deviation (n − 1; 0 for a single value, NaN for none).</summary>
    public static (double Mean, double StandardDeviation) MeanAndSd(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return (double.NaN, double.NaN);
        var mean = values.Average();
        var sd = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        return (mean, sd);
    }

    /// <summary>A curve column averaged over runs at each step where every run has it: (step, mean, sd, n).</summary>
    public static IReadOnlyList<(double Step, double Mean, double StandardDeviation, int N)> CurveBand(IEnumerable<RunRecord> runs, string column) =>
        runs.SelectMany(r => r.Curve().Where(row => row.ContainsKey(column)).Select(row => (Step: row["step"], Value: row[column])))
            .GroupBy(x => x.Step).OrderBy(g => g.Key)
            .Select(g => { var (m, s) = MeanAndSd(g.Select(x => x.Value).ToList()); return (g.Key, m, s, g.Count()); })
            .ToList();

    /// <summary>Groups in the order of their values, key by key: numerically where both values are numbers.</summary>
    sealed class GroupOrder : IComparer<string[]>
    {
        public static readonly GroupOrder Instance = new();
        public int Compare(string[]? a, string[]? b)
        {
            for (int i = 0; i < a!.Length; i++)
            {
                int c = Number(a[i]) is { } x && Number(b![i]) is { } y ? x.CompareTo(y) : string.CompareOrdinal(a[i], b![i]);
                if (c != 0) return c;
            }
            return 0;
        }
    }

    static double? Number(string s) => double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : null;

    /// <summary>Distinct values, numerically when they all are numbers (so 1e-3 comes before 2e-3), otherwise ordinally.</summary>
    public static List<string> Ordered(IEnumerable<string> values)
    {
        var distinct = values.Distinct().ToList();
        return distinct.All(v => Number(v) is not null) ? [.. distinct.OrderBy(v => Number(v))] : [.. distinct.Order(StringComparer.Ordinal)];
    }
}
