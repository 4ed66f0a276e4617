using Microsoft.Data.Analysis;

namespace TransformerLab.Experiments;

/// <summary>A group of runs that differ only by seed, summarised: mean, sample standard deviation and count of a metric.</summary>
public sealed record SeedAggregate(IReadOnlyDictionary<string, string> Group, string Metric, double Mean, double StandardDeviation, int N, int Diverged, int Failed)
{
    /// <summary>"0.1234 ± 0.0056 (n 3)", the form experiments.md reports.</summary>
    public string Format(string number = "F4") => new Spread(Mean, StandardDeviation, N).Format(number);
}

/// <summary>A value's mean and sample standard deviation over <see cref="N"/> runs (NaN for none; sd 0 for one).</summary>
public sealed record Spread(double Mean, double StandardDeviation, int N)
{
    public static Spread Of(IEnumerable<double> values)
    {
        var list = values.Where(v => !double.IsNaN(v)).ToList();
        var (mean, sd) = Analysis.MeanAndSd(list);
        return new(mean, sd, list.Count);
    }

    /// <summary>"0.1234 ± 0.0056 (n 3)", the form experiments.md reports; "–" for none.</summary>
    public string Format(string number = "F4") => N == 0 ? "–" : $"{Mean.ToString(number)} ± {StandardDeviation.ToString(number)} (n {N})";
}

/// <summary>
/// Runs that share a key — typically every setting but the seed — in seed order. <see cref="Of"/> summarises a value over
/// the finished (done) runs; diverged and failed runs are counted, never averaged.
/// </summary>
public sealed record RunGroup<TKey>(TKey Key, IReadOnlyList<RunRecord> Runs)
{
    public IEnumerable<RunRecord> Done => Runs.Where(r => r.State == RunState.Done);
    public int Diverged => Runs.Count(r => r.State == RunState.Diverged);
    public int Failed => Runs.Count(r => r.State == RunState.Failed);

    /// <summary>The value's spread over the done runs (a NaN value — a reading the run did not make — is skipped).</summary>
    public Spread Of(Func<RunRecord, double> value) => Spread.Of(Done.Select(value));
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
    /// The runs grouped by <paramref name="key"/> (e.g. <c>r => r.TrainingSettings().Model.Transformer.Heads</c>, or a tuple of
    /// settings), groups in the order of their keys (<paramref name="order"/>, or the key type's own), runs in seed order.
    /// </summary>
    public static IReadOnlyList<RunGroup<TKey>> Group<TKey>(IEnumerable<RunRecord> runs, Func<RunRecord, TKey> key, IComparer<TKey>? order = null) =>
        runs.GroupBy(key).OrderBy(g => g.Key, order ?? Comparer<TKey>.Default)
            .Select(g => new RunGroup<TKey>(g.Key, g.OrderBy(r => r.Seed).ToList())).ToList();

    /// <summary>
    /// The command line's summary (<c>research sweep</c>): runs grouped by the values of the configuration keys
    /// <paramref name="by"/>, the metric named <paramref name="metric"/> summarised over each group's done runs.
    /// </summary>
    public static IReadOnlyList<SeedAggregate> Aggregate(IReadOnlyList<RunRecord> runs, IReadOnlyList<string> by, string metric) =>
        Group(runs, r => string.Join(Separator, by.Select(k => r.Config.GetValueOrDefault(k, ""))),
                Comparer<string>.Create((a, b) => GroupOrder.Instance.Compare(a.Split(Separator), b.Split(Separator))))
            .Select(g =>
            {
                var spread = g.Of(r => r.Metrics.GetValueOrDefault(metric, double.NaN));
                var group = by.Zip(g.Key.Split(Separator)).ToDictionary(p => p.First, p => p.Second);
                return new SeedAggregate(group, metric, spread.Mean, spread.StandardDeviation, spread.N, g.Diverged, g.Failed);
            })
            .ToList();

    /// <summary>
    /// A value of <paramref name="treatment"/> minus that of <paramref name="baseline"/>, seed by seed over the seeds
    /// finished in both, in seed order. Runs with one seed share their initialisation and data order, so with 3 seeds the
    /// paired difference separates an effect from seed noise better than two means whose spreads overlap.
    /// </summary>
    public static IReadOnlyList<double> Paired(IEnumerable<RunRecord> baseline, IEnumerable<RunRecord> treatment, Func<RunRecord, double> value)
    {
        var before = baseline.Where(r => r.State == RunState.Done).ToDictionary(r => r.Seed, value);
        return treatment.Where(r => r.State == RunState.Done && before.ContainsKey(r.Seed)).OrderBy(r => r.Seed)
            .Select(r => value(r) - before[r.Seed]).ToList();
    }

    /// <summary>Mean and sample standard deviation (n − 1; 0 for a single value, NaN for none).</summary>
    public static (double Mean, double StandardDeviation) MeanAndSd(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return (double.NaN, double.NaN);
        var mean = values.Average();
        var sd = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        return (mean, sd);
    }

    /// <summary>
    /// A curve averaged over runs at each step (e.g. <c>r => r.TrainingCurve().Select(p => ((double)p.Step, p.Loss))</c>):
    /// (step, mean, sd, n); NaN points — steps where a run has no such value — are skipped.
    /// </summary>
    public static IReadOnlyList<(double Step, double Mean, double StandardDeviation, int N)> CurveBand(IEnumerable<RunRecord> runs,
        Func<RunRecord, IEnumerable<(double Step, double Value)>> curve) =>
        runs.SelectMany(curve).Where(p => !double.IsNaN(p.Value))
            .GroupBy(p => p.Step).OrderBy(g => g.Key)
            .Select(g => { var (m, s) = MeanAndSd(g.Select(p => p.Value).ToList()); return (g.Key, m, s, g.Count()); })
            .ToList();

    const char Separator = '\u0001';

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
