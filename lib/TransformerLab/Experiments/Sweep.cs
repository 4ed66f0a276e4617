using TransformerLab.Runtime;
using TransformerLab.Training;

namespace TransformerLab.Experiments;

/// <summary>What a sweep did, for its report and exit code.</summary>
/// <param name="Skipped">runs already finished (done or diverged) before the sweep started.</param>
/// <param name="Busy">runs another live process owned when this sweep reached them: left to it, not counted as anything else.</param>
public sealed record SweepReport(int Total, int Skipped, int Done, int Diverged, int Failed, int LeftFailed, int Busy = 0);

/// <summary>Progress over a whole sweep.</summary>
public sealed record SweepProgress(int Finished, int ToRun, int Failed, TimeSpan Elapsed, string? Last)
{
    public TimeSpan? Remaining => Finished == 0 ? null : Elapsed / Finished * (ToRun - Finished);
}

/// <summary>
/// A sweep: the cartesian product of a grid of settings, times seeds 1…N, over an experiment's defaults plus fixed
/// settings. Runs already finished in the store are skipped, so rerunning a sweep resumes it.
/// </summary>
public static class Sweep
{
    /// <summary>Every run of the sweep, in a fixed order (grid in the order given, seeds innermost).</summary>
    /// <param name="fixedSettings">key=value applied to every run (--set).</param>
    /// <param name="grid">key → values (--grid key=v1,v2); a key <c>a+b</c> ties keys a and b to the same value.</param>
    /// <exception cref="SettingsException">an unknown key or a bad value, naming it.</exception>
    /// <param name="firstSeed">the first seed (--first-seed): seeds firstSeed … firstSeed + N − 1, e.g. 101… for tuning runs kept apart from the reported seeds 1….</param>
    public static IReadOnlyList<RunSpec> Plan(Experiment experiment, IEnumerable<KeyValuePair<string, string>> fixedSettings,
        IReadOnlyList<KeyValuePair<string, string[]>> grid, int seeds, int firstSeed = 1)
    {
        if (seeds < 1) throw new SettingsException($"--seeds must be at least 1 (got {seeds}).");
        if (firstSeed < 0) throw new SettingsException($"--first-seed must be ≥ 0 (got {firstSeed}).");
        var duplicate = grid.SelectMany(g => g.Key.Split('+', StringSplitOptions.TrimEntries)).GroupBy(k => k).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new SettingsException($"'{duplicate.Key}' appears twice in the grid.");
        var baseConfig = Settings.With(experiment.Defaults, fixedSettings);
        var hasSeed = Settings.Describe(baseConfig).Any(d => d.Key == "seed");
        IEnumerable<List<KeyValuePair<string, string>>> points = [[]];
        foreach (var (key, values) in grid)
        {
            if (values.Length == 0) throw new SettingsException($"--grid {key}= lists no values.");
            var keys = key.Split('+', StringSplitOptions.TrimEntries); // a tied axis: every key takes each value together
            points = points.SelectMany(p => values.Select(v => new List<KeyValuePair<string, string>>(p).Concat(keys.Select(k => KeyValuePair.Create(k, v))).ToList()));
        }
        var plan = new List<RunSpec>();
        foreach (var point in points)
            for (int seed = firstSeed; seed < firstSeed + seeds; seed++)
            {
                var config = Settings.With(baseConfig, hasSeed ? [.. point, new("seed", seed.ToString())] : point);
                experiment.Validate(config);
                plan.Add(new RunSpec(experiment, config, seed));
            }
        return Distinct(plan);
    }

    /// <summary>The plan with each run once: two grid points that resolve to one configuration (<c>d_model=32,32</c>) are one run.</summary>
    static IReadOnlyList<RunSpec> Distinct(List<RunSpec> plan) => plan.DistinctBy(spec => spec.Key).ToList();

    /// <summary>
    /// Every run of a sweep given as typed configurations — one per grid point, e.g.
    /// <c>[1, 2, 4, 8].Select(h =&gt; settings.WithModel(m =&gt; m with { Heads = h }))</c> — times seeds 1…N (seeds innermost).
    /// The runs are those of the same sweep given as <c>--grid</c>/<c>--set</c> text: same configurations, same keys.
    /// </summary>
    public static IReadOnlyList<RunSpec> Plan<TConfig>(Experiment<TConfig> experiment, IEnumerable<TConfig> points, int seeds) where TConfig : class
    {
        if (seeds < 1) throw new SettingsException($"--seeds must be at least 1 (got {seeds}).");
        var plan = new List<RunSpec>();
        foreach (var point in points)
        {
            var hasSeed = Settings.Describe(point).Any(d => d.Key == "seed");
            for (int seed = 1; seed <= seeds; seed++)
            {
                var config = hasSeed ? Settings.With(point, [new("seed", seed.ToString())]) : point;
                experiment.Validate(config);
                plan.Add(new RunSpec(experiment, config, seed));
            }
        }
        return Distinct(plan);
    }

    /// <summary>Parses <c>key=v1,v2,…</c>.</summary>
    public static KeyValuePair<string, string[]> GridAxis(string text)
    {
        var (key, values) = Settings.Assignment(text);
        return new(key, values.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>
    /// Shard <paramref name="index"/> of <paramref name="count"/> (0-based): the runs whose position in the plan is
    /// index mod count. Every run is in exactly one shard, and every machine computes the same split.
    /// </summary>
    public static IReadOnlyList<RunSpec> Shard(IReadOnlyList<RunSpec> plan, int index, int count)
    {
        if (count < 1 || index < 0 || index >= count) throw new SettingsException($"--shard i/N needs 0 ≤ i < N (got {index}/{count}).");
        return plan.Where((_, i) => i % count == index).ToList();
    }

    /// <summary>Parses <c>i/N</c>.</summary>
    public static (int Index, int Count) ParseShard(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], out var i) && int.TryParse(parts[1], out var n) && n >= 1 && i >= 0 && i < n) return (i, n);
        throw new SettingsException($"--shard expects i/N with 0 ≤ i < N, such as 0/4 (got '{text}').");
    }

    /// <summary>
    /// Runs the plan's unfinished runs through <paramref name="execute"/>, <paramref name="jobs"/> at a time: pending,
    /// interrupted (resumed) and damaged (redone) runs, and failed ones when <paramref name="retryFailed"/>. Done and
    /// diverged runs are skipped, and so are runs another live process owns — <paramref name="execute"/> returns
    /// <see cref="RunState.Running"/> for a run that another process took after this plan was made.
    /// </summary>
    /// <param name="execute">runs one spec and returns its final state (in this process, or in a child process).</param>
    public static SweepReport Run(ResultsStore store, IReadOnlyList<RunSpec> plan, Func<RunSpec, RunState> execute, int jobs = 1,
        bool retryFailed = false, Action<SweepProgress>? progress = null, CancellationToken cancel = default)
    {
        if (jobs < 1) throw new SettingsException($"--jobs must be at least 1 (got {jobs}).");
        plan = plan.DistinctBy(spec => spec.Key).ToList();
        var states = plan.Select(store.StateOf).ToList();
        var todo = plan.Where((_, i) => states[i] is RunState.Pending or RunState.Interrupted or RunState.Damaged || (states[i] == RunState.Failed && retryFailed)).ToList();
        int leftFailed = retryFailed ? 0 : states.Count(s => s == RunState.Failed);
        int busy = states.Count(s => s == RunState.Running);
        foreach (var (spec, _) in plan.Zip(states).Where(x => x.Second == RunState.Running))
            progress?.Invoke(new SweepProgress(0, todo.Count, 0, TimeSpan.Zero, $"{spec.Key} seed {spec.Seed}: skipped, another live process is running it"));
        int done = 0, diverged = 0, failed = 0, finished = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        progress?.Invoke(new SweepProgress(0, todo.Count, 0, clock.Elapsed, null));
        var gate = new object();
        Parallel.ForEach(todo, new ParallelOptions { MaxDegreeOfParallelism = jobs, CancellationToken = cancel }, spec =>
        {
            RunState state;
            try { state = execute(spec); }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested) { return; } // stays pending; the sweep stops below
            if (state is RunState.Pending or RunState.Interrupted && cancel.IsCancellationRequested) return; // a child process stopped by Ctrl+C
            lock (gate)
            {
                if (state == RunState.Running) // another process took it after the plan was made
                {
                    busy++;
                    progress?.Invoke(new SweepProgress(finished, todo.Count, failed, clock.Elapsed, $"{spec.Key} seed {spec.Seed}: skipped, another live process is running it"));
                    return;
                }
                finished++;
                if (state == RunState.Done) done++;
                else if (state == RunState.Diverged) diverged++;
                else failed++;
                progress?.Invoke(new SweepProgress(finished, todo.Count, failed, clock.Elapsed, $"{spec.Key} seed {spec.Seed}: {state.ToString().ToLowerInvariant()}"));
            }
        });
        cancel.ThrowIfCancellationRequested();
        return new SweepReport(plan.Count, states.Count(s => s is RunState.Done or RunState.Diverged), done, diverged, failed, leftFailed, busy);
    }

    /// <summary>
    /// What notebooks call: the plan's runs from the store, running here whatever is not finished yet. A notebook
    /// thus shows a full sweep someone ran with <c>research sweep</c>, or runs its own small version.
    /// </summary>
    /// <remarks>
    /// A run another live process is training is waited for (its lock polled every two seconds), not left out: a notebook
    /// must not quietly show fewer seeds than it planned because a sweep in another terminal held one of them.
    /// </remarks>
    public static IReadOnlyList<RunRecord> Ensure(ResultsStore store, IReadOnlyList<RunSpec> plan, int threads = 0)
    {
        RunState Execute(RunSpec spec) => store.Execute(spec, threads > 0 ? threads : Environment.ProcessorCount);
        Run(store, plan, Execute);
        while (plan.Any(spec => store.StateOf(spec) == RunState.Running))
        {
            Thread.Sleep(TimeSpan.FromSeconds(2));
            Run(store, plan, Execute); // one its owner left unfinished
        }
        return Load(store, plan);
    }

    /// <summary>
    /// The plan's runs that the store holds finished (done or diverged), running nothing: what a notebook shows of a
    /// large sweep that is still under way, e.g. the depths of a grid that have been run so far.
    /// </summary>
    public static IReadOnlyList<RunRecord> Finished(ResultsStore store, IReadOnlyList<RunSpec> plan) =>
        Load(store, plan).Where(r => r.State is RunState.Done or RunState.Diverged).ToList();

    static IReadOnlyList<RunRecord> Load(ResultsStore store, IReadOnlyList<RunSpec> plan)
    {
        var keys = plan.Select(p => p.Key).ToHashSet();
        return plan.Select(p => p.Experiment.Name).Distinct().SelectMany(store.Load).Where(r => keys.Contains(r.Key)).ToList();
    }

    /// <summary>
    /// The full sweep's runs if <paramref name="store"/> has every one of them finished (someone ran <c>research sweep</c>),
    /// otherwise <paramref name="otherwise"/>'s runs, running what is missing in <paramref name="scratch"/> (default: the
    /// same store): how a notebook shows the real result when it exists and a small version of it when not.
    /// </summary>
    public static (IReadOnlyList<RunRecord> Runs, bool Full) LoadOrRun(ResultsStore store, IReadOnlyList<RunSpec> full,
        IReadOnlyList<RunSpec> otherwise, ResultsStore? scratch = null, int threads = 0)
    {
        if (full.All(spec => store.StateOf(spec) is RunState.Done or RunState.Diverged)) return (Ensure(store, full, threads), true);
        return (Ensure(scratch ?? store, otherwise, threads), false);
    }
}
