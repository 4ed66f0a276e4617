using System.Text.RegularExpressions;
using TransformerLab.Experiments;
using TransformerLab.Training;

namespace TransformerLab.Reporting;

/// <summary>A report table could not be made: the runs it rests on are missing, or experiments.md names an unknown table.</summary>
public sealed class ReportException(string message) : Exception(message);

/// <summary>
/// The sweep a table rests on, as its command line gives it (<c>research sweep experiment --set … --grid … --seeds N</c>):
/// the report loads exactly the runs that command makes, so a table cannot quietly mix in other runs of the store. The
/// settings are written typed, as the notebooks write them (<see cref="Of(string, int, Func{TrainingSettings, TrainingSettings}, ValueTuple{string, string}[])"/>);
/// the <c>--set</c> pairs are derived from them.
/// </summary>
public sealed record SweepSpec(string Experiment, IReadOnlyList<KeyValuePair<string, string>> Set, IReadOnlyList<KeyValuePair<string, string[]>> Grid, int Seeds, int FirstSeed = 1)
{
    /// <summary>
    /// The sweep of <paramref name="experiment"/> over its defaults changed by <paramref name="settings"/>, times the
    /// <paramref name="grid"/> (each axis <c>key</c> → comma-separated values, the <c>--grid</c> of the command line).
    /// The command line sets each key whose value differs from the defaults and that no grid axis sets.
    /// </summary>
    public static SweepSpec Of(string experiment, int seeds, Func<TrainingSettings, TrainingSettings> settings, params (string Key, string Values)[] grid)
    {
        var defaults = ExperimentRegistry.Get<TrainingSettings>(experiment).DefaultConfig;
        var axes = grid.SelectMany(g => g.Key.Split('+')).ToHashSet();
        var set = Settings.Describe(settings(defaults)).Zip(Settings.Describe(defaults))
            .Where(p => p.First.Value != p.Second.Value && !axes.Contains(p.First.Key))
            .Select(p => KeyValuePair.Create(p.First.Key, p.First.Value));
        return new(experiment, [.. set], Axes(grid), seeds);
    }

    /// <summary>The sweep of <paramref name="experiment"/> at its defaults, times the <paramref name="grid"/>.</summary>
    public static SweepSpec Of(string experiment, int seeds, params (string Key, string Values)[] grid) => new(experiment, [], Axes(grid), seeds);

    static KeyValuePair<string, string[]>[] Axes((string Key, string Values)[] grid) => [.. grid.Select(g => KeyValuePair.Create(g.Key, g.Values.Split(',')))];

    /// <summary>This sweep with more grid axes; a key an axis now sets leaves the fixed settings.</summary>
    public SweepSpec WithAxes(params (string Key, string Values)[] grid)
    {
        var axes = grid.SelectMany(g => g.Key.Split('+')).ToHashSet();
        return this with { Set = [.. Set.Where(s => !axes.Contains(s.Key))], Grid = [.. Grid, .. Axes(grid)] };
    }

    public IReadOnlyList<RunSpec> Plan() => Sweep.Plan(ExperimentRegistry.Get(Experiment), Set, Grid, Seeds, FirstSeed);

    public string CommandLine => string.Join(" ", new[] { $"research sweep {Experiment}" }
        .Concat(Grid.Select(g => $"--grid {g.Key}={string.Join(",", g.Value)}"))
        .Concat(Set.Select(s => $"--set {s.Key}={s.Value}"))
        .Append($"--seeds {Seeds}" + (FirstSeed != 1 ? $" --first-seed {FirstSeed}" : "")));
}

/// <summary>
/// Where report tables read from: the results store, and the committed benchmark file (<paramref name="benchFile"/>; by
/// default <c>bench/bench.json</c> beside the store, i.e. <c>data/bench/bench.json</c>).
/// </summary>
public sealed class ReportSources(ResultsStore store, string? benchFile = null)
{
    /// <summary>The committed <c>research bench</c> report; a missing file is an error naming the command that writes it.</summary>
    public Benchmarks.BenchReport Bench() => LoadBench(benchFile ?? Path.Combine(store.Root, "..", "bench", "bench.json"));

    /// <summary>Another committed <c>research bench</c> report beside it, by file name (e.g. a run made after a section was added).</summary>
    public Benchmarks.BenchReport Bench(string fileName) => LoadBench(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(benchFile ?? Path.Combine(store.Root, "..", "bench", "bench.json")))!, fileName));

    static Benchmarks.BenchReport LoadBench(string file)
    {
        var path = Path.GetFullPath(file);
        return Benchmarks.BenchReport.Load(path)
            ?? throw new ReportException($"No benchmark report at {path}: run `research bench --out {path}` (Release build, idle machine), then report again.");
    }

    readonly Dictionary<SweepSpec, IReadOnlyList<RunRecord>> loaded = [];

    /// <summary>
    /// The runs of <paramref name="sweep"/> that are finished, for a sweep that is run over several sittings: its table says
    /// how many of each row's runs are still to come, and rerunning the command completes it.
    /// </summary>
    /// A damaged run is an error even here: a table must not quietly lose a run it had.
    public IReadOnlyList<RunRecord> FinishedRuns(SweepSpec sweep)
    {
        var plan = sweep.Plan();
        var damaged = plan.Select(spec => (spec, Run: store.Inspect(spec))).Where(x => x.Run.State == RunState.Damaged).ToList();
        if (damaged.Count > 0) throw new ReportException(Missing(sweep, damaged));
        return Sweep.Finished(store, plan);
    }

    string Missing(SweepSpec sweep, IReadOnlyList<(RunSpec Spec, RunInspection Run)> runs) =>
        $"{runs.Count} of the {sweep.Plan().Count} runs of `{sweep.CommandLine}` are not finished in {store.Root}: " +
        string.Join("; ", runs.Take(5).Select(x => $"{x.Spec.Key} (seed {x.Spec.Seed}) is {x.Run.State.ToString().ToLowerInvariant()}{(x.Run.Reason is null ? "" : ": " + x.Run.Reason)}")) +
        (runs.Count > 5 ? $"; and {runs.Count - 5} more" : "") + ". Run that command (it skips finished runs, resumes interrupted ones and redoes damaged ones), then report again.";

    /// <summary>Every run of <paramref name="sweep"/>, finished; a missing or unfinished run is an error naming the command.</summary>
    public IReadOnlyList<RunRecord> Runs(SweepSpec sweep)
    {
        if (loaded.TryGetValue(sweep, out var runs)) return runs;
        var plan = sweep.Plan();
        var unfinished = plan.Select(spec => (spec, Run: store.Inspect(spec))).Where(x => !x.Run.Finished).ToList();
        if (unfinished.Count > 0) throw new ReportException(Missing(sweep, unfinished));
        runs = Sweep.Finished(store, plan);
        if (runs.Count != plan.Count) throw new ReportException($"`{sweep.CommandLine}` plans {plan.Count} runs but {store.Root} gives back {runs.Count} finished ones; look for run folders that do not read back.");
        return loaded[sweep] = runs;
    }
}

/// <summary>
/// experiments.md's result tables, generated from committed runs. A table's place in the file is marked
/// <c>&lt;!-- report: name --&gt;</c> … <c>&lt;!-- /report --&gt;</c>; <see cref="Update"/> rewrites what is between the marks
/// and leaves every other line as written. <c>research report</c> writes the file; a test fails when it is out of date.
/// </summary>
public static class ExperimentsReport
{
    static readonly Regex Claim = new(@"(?<open><!-- claim: (?<name>[a-z0-9\-]+) -->)(?<body>.*?)(?<close><!-- /claim -->)", RegexOptions.Singleline);

    static readonly Regex Block = new(@"(?<open><!-- report: (?<name>[a-z0-9\-]+) -->\n)(?<body>.*?)(?<close><!-- /report -->)", RegexOptions.Singleline);

    /// <summary>The markdown with every marked table regenerated, and the names of the tables whose text changed.</summary>
    /// <exception cref="ReportException">a marked name is not a known table, or a table's runs are missing.</exception>
    public static (string Markdown, IReadOnlyList<string> Changed) Update(string markdown, ReportSources sources)
    {
        var changed = new List<string>();
        var text = Block.Replace(markdown.ReplaceLineEndings("\n"), m =>
        {
            var name = m.Groups["name"].Value;
            if (!ExperimentsTables.All.TryGetValue(name, out var table))
                throw new ReportException($"experiments.md marks a table '{name}' that the report does not know; known: {string.Join(", ", ExperimentsTables.All.Keys)}.");
            string body;
            try { body = table(sources).ToString(); }
            catch (Exception e) when (e is InvalidOperationException or InvalidDataException or KeyNotFoundException or FormatException or IndexOutOfRangeException or ArgumentException)
            {
                throw new ReportException($"table '{name}' could not be made from the stored runs: {e.Message} A run's tables may be damaged: `research sweep <experiment> --status` with the table's sweep command names them.");
            }
            if (body != m.Groups["body"].Value) changed.Add(name);
            return m.Groups["open"].Value + body + m.Groups["close"].Value;
        });
        text = Claim.Replace(text, m =>
        {
            var name = m.Groups["name"].Value;
            if (!ExperimentsClaims.All.TryGetValue(name, out var claim))
                throw new ReportException($"experiments.md marks a claim '{name}' that the report does not know; known: {string.Join(", ", ExperimentsClaims.All.Keys)}.");
            var body = claim(sources);
            if (body != m.Groups["body"].Value) changed.Add("claim: " + name);
            return m.Groups["open"].Value + body + m.Groups["close"].Value;
        });
        return (text, changed);
    }

    /// <summary>Text with every generated table and claim cut out: the hand-written prose, which states no strength of its own.</summary>
    public static string HandWritten(string markdown) =>
        Claim.Replace(Block.Replace(markdown.ReplaceLineEndings("\n"), ""), "");

    /// <summary>The claim names marked in <paramref name="markdown"/>, in order (a claim may stand in several places).</summary>
    public static IReadOnlyList<string> MarkedClaims(string markdown) => Claim.Matches(markdown.ReplaceLineEndings("\n")).Select(m => m.Groups["name"].Value).ToList();

    /// <summary>The table names marked in <paramref name="markdown"/>, in order.</summary>
    public static IReadOnlyList<string> Marked(string markdown) => Block.Matches(markdown.ReplaceLineEndings("\n")).Select(m => m.Groups["name"].Value).ToList();
}
