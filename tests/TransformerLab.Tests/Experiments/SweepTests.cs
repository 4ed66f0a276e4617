using TransformerLab.Runtime;
using TransformerLab.Cli;
using TransformerLab.Experiments;
using TransformerLab.Notebooks;
using TransformerLab.Tests.Foundation;
using TransformerLab.Training;
using Xunit;

namespace TransformerLab.Tests.Experiments;

/// <summary>A configuration for the toy experiment: minimise (x − 2)² + y; runs whose x is in FailFor throw.</summary>
public sealed record ToyConfig
{
    public double X { get; init; } = 1;
    public double Y { get; init; }
    public string Label { get; init; } = "a";
}

/// <summary>An experiment with no model at all, so sweeps' bookkeeping can be tested in milliseconds.</summary>
public sealed class ToyExperiment : Experiment<ToyConfig>
{
    public static readonly List<(double X, int Seed)> Calls = [];
    public static readonly HashSet<double> FailFor = [];
    /// <summary>Runs with this x raise this many libtorch errors (as TorchSharp reports them) before they run through.</summary>
    public static readonly Dictionary<double, int> LibTorchFailures = [];
    /// <summary>Runs with this x cancel the sweep's token (as Ctrl+C would) and stop.</summary>
    public static (double X, CancellationTokenSource Source)? InterruptAt;

    public override string Name => "toy";
    public override string Question => "Does the sweep machinery work?";
    public override ToyConfig DefaultConfig => new();

    public override RunResult Run(ToyConfig config, int seed, RunContext context)
    {
        lock (Calls)
        {
            Calls.Add((config.X, seed));
            if (LibTorchFailures.TryGetValue(config.X, out var left) && left > 0)
            {
                LibTorchFailures[config.X] = left - 1;
                throw new System.Runtime.InteropServices.ExternalException(
                    "Expected false to be true, but got false.\nException raised from toFloat at /pytorch/c10/core/Scalar.h:140 (most recent call first):\nframe #0: c10::Error::Error(c10::SourceLocation)\n");
            }
        }
        if (FailFor.Contains(config.X)) throw new InvalidOperationException($"injected failure at x={config.X}");
        if (InterruptAt is { } stop && stop.X == config.X)
        {
            stop.Source.Cancel();
            context.Cancel.ThrowIfCancellationRequested();
        }
        var loss = (config.X - 2) * (config.X - 2) + config.Y + seed / 10.0;
        var curve = Enumerable.Range(1, 3).Select(step => (IReadOnlyDictionary<string, double>)new Dictionary<string, double> { ["step"] = step, ["loss"] = loss * (4 - step) }).ToList();
        return new RunResult(new Dictionary<string, double> { ["loss"] = loss }, curve);
    }
}

/// <summary>
/// A test class over a fresh results store in a temporary folder with <see cref="ToyExperiment"/> registered and its call
/// log cleared: what the sweep and store tests share.
/// </summary>
public abstract class ToyStoreTests : IDisposable
{
    protected readonly string root;
    protected readonly ResultsStore store;
    protected readonly ToyExperiment toy = new();

    protected ToyStoreTests(string prefix)
    {
        root = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
        ExperimentRegistry.Register(toy);
        store = new ResultsStore(root);
        lock (ToyExperiment.Calls) ToyExperiment.Calls.Clear();
        ToyExperiment.FailFor.Clear();
        ToyExperiment.LibTorchFailures.Clear();
    }

    public void Dispose()
    {
        ToyExperiment.FailFor.Clear();
        ToyExperiment.LibTorchFailures.Clear();
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        GC.SuppressFinalize(this);
    }
}

[Collection("toy experiment")] // ToyExperiment's call log is shared
public sealed class SweepTests() : ToyStoreTests("tlab-sweep-")
{
    IReadOnlyList<RunSpec> Plan(int seeds = 2) => Sweep.Plan(toy, [new("y", "0.5")], [Sweep.GridAxis("x=1,2,3"), Sweep.GridAxis("label=a,b")], seeds);
    SweepReport RunAll(IReadOnlyList<RunSpec> plan, bool retry = false) => Sweep.Run(store, plan, s => store.Execute(s, 1), retryFailed: retry);

    [Fact]
    public void A_prepared_run_folder_hands_its_run_to_another_process_and_a_renamed_one_is_refused()
    {
        var spec = Sweep.Plan(toy, [new("x", "3")], [new("label", ["b"])], 2)[1];
        var folder = store.Prepare(spec);
        var read = store.SpecAt(folder);
        Assert.Equal((spec.Key, spec.Seed, spec.Config), (read.Key, read.Seed, read.Config));
        var moved = Path.Combine(Path.GetDirectoryName(folder)!, "renamed");
        Directory.Move(folder, moved);
        Assert.Contains("not the folder's name", Assert.Throws<InvalidDataException>(() => store.SpecAt(moved)).Message);
    }

    [Fact]
    public void A_sweep_runs_the_cartesian_product_times_seeds_and_records_each_run()
    {
        var plan = Plan();
        Assert.Equal(3 * 2 * 2, plan.Count);
        Assert.Equal(plan.Count, plan.Select(p => p.Key).Distinct().Count());
        var report = RunAll(plan);
        Assert.Equal(new SweepReport(12, 0, 12, 0, 0, 0), report);
        var runs = store.Load("toy");
        Assert.Equal(12, runs.Count);
        var run = runs.Single(r => r.Config["x"] == "3" && r.Config["label"] == "b" && r.Seed == 2);
        Assert.Equal(RunState.Done, run.State);
        Assert.Equal(1 + 0.5 + 0.2, run.Metrics["loss"], 12);
        Assert.Equal("0.5", run.Config["y"]);
        Assert.Equal([3.0, 2.0, 1.0], run.Curve().Select(r => r["loss"] / run.Metrics["loss"]).Select(v => Math.Round(v, 9)));
        foreach (var file in new[] { "config.json", "status.json", "summary.json", "curve.csv", "log.txt" })
            Assert.True(File.Exists(Path.Combine(run.Folder, file)), file);
    }

    [Fact]
    public void A_rerun_skips_finished_runs_and_only_retry_failed_redoes_the_failed_one()
    {
        ToyExperiment.FailFor.Add(2);
        var plan = Plan(seeds: 1);
        var first = RunAll(plan);
        Assert.Equal(2, first.Failed); // x=2 with label a and b
        Assert.Equal(4, first.Done);
        Assert.Contains("injected failure", store.Load("toy").First(r => r.State == RunState.Failed).Reason);

        ToyExperiment.FailFor.Clear();
        lock (ToyExperiment.Calls) ToyExperiment.Calls.Clear();
        var second = RunAll(plan);
        Assert.Empty(ToyExperiment.Calls);                  // nothing redone: finished runs skipped, failed ones left
        Assert.Equal(2, second.LeftFailed);

        var third = RunAll(plan, retry: true);
        Assert.Equal([(2.0, 1), (2.0, 1)], ToyExperiment.Calls); // only the failed runs, once each
        Assert.Equal(2, third.Done);
        Assert.All(store.Load("toy"), r => Assert.Equal(RunState.Done, r.State));
    }

    [Fact]
    public void Ensure_returns_the_plans_runs_and_runs_only_what_is_missing()
    {
        var plan = Plan(seeds: 1);
        RunAll(Sweep.Shard(plan, 0, 2));
        lock (ToyExperiment.Calls) ToyExperiment.Calls.Clear();
        var records = Sweep.Ensure(store, plan);
        Assert.Equal(plan.Select(p => p.Key).Order(), records.Select(r => r.Key).Order());
        Assert.Equal(3, ToyExperiment.Calls.Count); // the other shard's half
        Assert.Equal(6, Sweep.Ensure(store, plan).Count);
        Assert.Equal(3, ToyExperiment.Calls.Count);
    }

    [Fact]
    public void Finished_returns_the_finished_part_of_a_sweep_and_runs_nothing()
    {
        var plan = Plan(seeds: 1);
        Assert.Empty(Sweep.Finished(store, plan));
        RunAll(Sweep.Shard(plan, 0, 2));
        lock (ToyExperiment.Calls) ToyExperiment.Calls.Clear();
        var finished = Sweep.Finished(store, plan);
        Assert.Equal(Sweep.Shard(plan, 0, 2).Select(p => p.Key).Order(), finished.Select(r => r.Key).Order());
        Assert.Empty(ToyExperiment.Calls);
    }

    [Fact]
    public void LoadOrRun_prefers_a_finished_full_sweep_and_otherwise_runs_the_small_one()
    {
        var full = Plan(seeds: 2);
        var small = Sweep.Plan(toy, [], [Sweep.GridAxis("x=1,3")], 1);
        var (runs, usedFull) = Sweep.LoadOrRun(store, full, small);
        Assert.False(usedFull);
        Assert.Equal(2, runs.Count);
        RunAll(full);
        lock (ToyExperiment.Calls) ToyExperiment.Calls.Clear();
        (runs, usedFull) = Sweep.LoadOrRun(store, full, small);
        Assert.True(usedFull);
        Assert.Equal(12, runs.Count);
        Assert.Empty(ToyExperiment.Calls);
    }

    [Fact]
    public void An_interrupted_run_is_interrupted_and_the_next_sweep_runs_it_without_retry_failed()
    {
        var plan = Sweep.Plan(toy, [], [Sweep.GridAxis("x=1,2,3")], 1);
        using var cancel = new CancellationTokenSource();
        ToyExperiment.InterruptAt = (2, cancel);
        try { Assert.ThrowsAny<OperationCanceledException>(() => Sweep.Run(store, plan, s => store.Execute(s, 1, cancel.Token), cancel: cancel.Token)); }
        finally { ToyExperiment.InterruptAt = null; }
        Assert.Equal(RunState.Done, store.StateOf(plan[0]));
        Assert.Equal(RunState.Interrupted, store.StateOf(plan[1]));
        var report = RunAll(plan);
        Assert.Equal(2, report.Done);    // x=2 and x=3, no --retry-failed needed
        Assert.Equal(0, report.LeftFailed);
    }

    [Fact]
    public void A_tied_grid_axis_sets_every_key_to_the_same_value()
    {
        var plan = Sweep.Plan(toy, [], [Sweep.GridAxis("x+y=1,3")], seeds: 1);
        Assert.Equal([("1", "1"), ("3", "3")], plan.Select(p => (Settings.Describe(p.Config).Single(d => d.Key == "x").Value, Settings.Describe(p.Config).Single(d => d.Key == "y").Value)));
        var e = Assert.Throws<SettingsException>(() => Sweep.Plan(toy, [], [Sweep.GridAxis("x+y=1"), Sweep.GridAxis("y=2")], 1));
        Assert.Contains("'y' appears twice", e.Message);
    }

    [Fact]
    public void A_key_depends_only_on_what_differs_from_the_defaults_so_new_settings_keep_old_runs_findable()
    {
        var implicitDefault = Sweep.Plan(toy, [], [Sweep.GridAxis("x=3")], 1).Single();
        var explicitDefault = Sweep.Plan(toy, [new("label", "a"), new("y", "0")], [Sweep.GridAxis("x=3")], 1).Single();
        Assert.Equal(implicitDefault.Key, explicitDefault.Key);
        Assert.NotEqual(implicitDefault.Key, Sweep.Plan(toy, [new("label", "b")], [Sweep.GridAxis("x=3")], 1).Single().Key);
        Assert.NotEqual(implicitDefault.Key, new RunSpec(toy, implicitDefault.Config, 2).Key);
    }

    [Fact]
    public void Rekey_moves_a_run_stored_under_an_old_key_to_its_current_one()
    {
        var spec = Plan(seeds: 1)[0];
        RunAll([spec]);
        var old = Path.Combine(root, "toy", "0123456789ab");
        Directory.Move(store.FolderOf(spec), old);
        Assert.Equal(RunState.Pending, store.StateOf(spec));
        Assert.Equal([("0123456789ab", spec.Key)], store.Rekey(toy));
        Assert.Equal(RunState.Done, store.StateOf(spec));
        Assert.Empty(store.Rekey(toy)); // nothing left to move
    }

    [Fact]
    public void Shards_cover_the_grid_exactly_once()
    {
        var plan = Plan(seeds: 3);
        foreach (var n in new[] { 1, 2, 5, 7, 36, 40 })
        {
            var keys = Enumerable.Range(0, n).SelectMany(i => Sweep.Shard(plan, i, n)).Select(s => s.Key).ToList();
            Assert.Equal(plan.Select(p => p.Key).Order(), keys.Order());
        }
        Assert.Equal((1, 4), Sweep.ParseShard("1/4"));
        Assert.Throws<SettingsException>(() => Sweep.ParseShard("4/4"));
    }

    [Fact]
    public void Aggregation_gives_mean_sample_sd_and_n_over_seeds()
    {
        RunAll(Plan(seeds: 3));
        var aggregates = Analysis.Aggregate(store.Load("toy"), ["x"], "loss");
        var x1 = aggregates.Single(a => a.Group["x"] == "1");
        // x=1: (1−2)² + 0.5 + seed/10 for seeds 1,2,3 and both labels: values 1.6,1.7,1.8 twice
        Assert.Equal(1.7, x1.Mean, 12);
        Assert.Equal(Math.Sqrt((2 * 0.01 + 2 * 0.01) / 5), x1.StandardDeviation, 12);
        Assert.Equal(6, x1.N);
        var frame = Analysis.ToDataFrame(store.Load("toy"));
        Assert.Equal(18, frame.Rows.Count);
        Assert.Contains("x", frame.Columns.Select(c => c.Name));
        Assert.Contains("label", frame.Columns.Select(c => c.Name));
        Assert.DoesNotContain("y", frame.Columns.Select(c => c.Name)); // the same in every run
        var band = Analysis.CurveBand(store.Load("toy").Where(r => r.ConfigAs<ToyConfig>().X == 1), LossCurve);
        Assert.Equal(3, band.Count);
        Assert.Equal(3 * 1.7, band[0].Mean, 12);
    }

    static IEnumerable<(double Step, double Value)> LossCurve(RunRecord run) => run.Curve().Select(row => (row["step"], row["loss"]));

    [Fact]
    public void Typed_groups_order_by_their_keys_and_summarise_done_runs_only()
    {
        RunAll(Plan(seeds: 3));
        var groups = Analysis.Group(store.Load("toy"), r => (r.ConfigAs<ToyConfig>().X, r.ConfigAs<ToyConfig>().Label));
        Assert.Equal([(1.0, "a"), (1.0, "b"), (2.0, "a"), (2.0, "b"), (3.0, "a"), (3.0, "b")], groups.Select(g => g.Key));
        Assert.All(groups, g => Assert.Equal([1, 2, 3], g.Runs.Select(r => r.Seed)));
        var x1 = groups[0].Of(r => r.Metrics["loss"]);
        Assert.Equal((1.7, 0.1, 3), (Math.Round(x1.Mean, 12), Math.Round(x1.StandardDeviation, 12), x1.N)); // seeds 1.6, 1.7, 1.8
        Assert.Equal("1.700 ± 0.100 (n 3)", x1.Format("F3"));
        Assert.Equal(2, groups[0].Of(r => r.Seed == 2 ? double.NaN : r.Metrics["loss"]).N); // a reading a run did not make is skipped
    }

    [Fact]
    public void Heatmaps_share_a_fixed_scale_and_print_their_values_and_bands_have_one_legend_entry_per_group()
    {
        RunAll(Plan(seeds: 3));
        var heatmap = Plotly.NET.GenericChart.toChartHTML(Plots.Heatmap(store.Load("toy"), r => r.ConfigAs<ToyConfig>().X, "x",
            r => r.ConfigAs<ToyConfig>().Label, "label", r => r.Metrics["loss"], "toy", zMin: 0, zMax: 10, format: "0.0"));
        Assert.Contains("\"zmin\":0.0", heatmap);
        Assert.Contains("\"zmax\":10.0", heatmap);
        Assert.Contains("\"texttemplate\":\"%{text}\"", heatmap);
        Assert.Contains("\"1.7 ± 0.1\"", heatmap); // x=1: the mean 1.7 of seeds 1.6, 1.7, 1.8, with its sd
        Assert.Contains("\"title\":{\"text\":\"toy\"}", heatmap);
        var bands = Plotly.NET.GenericChart.toChartHTML(Plots.CurvesWithBands(store.Load("toy"), r => $"x={r.ConfigAs<ToyConfig>().X}", LossCurve, "loss"));
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(bands, "\"showlegend\":false").Count / 2); // upper and lower of 3 groups
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(bands, "\"name\":\"x=").Count);
    }

    [Fact]
    public void A_paired_difference_matches_runs_by_seed()
    {
        RunAll(Plan(seeds: 3));
        var runs = store.Load("toy").Where(r => r.Config["label"] == "a").ToList();
        // loss(x=2) − loss(x=1) = 0.5 + s/10 − (1.5 + s/10) = −1 for every seed s: no spread once paired
        var paired = Analysis.Paired(runs.Where(r => r.Config["x"] == "1"), runs.Where(r => r.Config["x"] == "2"), r => r.Metrics["loss"]);
        Assert.Equal([-1.0, -1.0, -1.0], paired.Select(d => Math.Round(d, 12)));
        // a seed missing from one side is left out, not paired with another seed
        var twoSeeds = Analysis.Paired(runs.Where(r => r.Config["x"] == "1" && r.Seed != 2), runs.Where(r => r.Config["x"] == "3"), r => r.Metrics["loss"]);
        Assert.Equal([0.0, 0.0], twoSeeds.Select(d => Math.Round(d, 12)));
    }

    [Fact]
    public void Unknown_experiment_or_key_is_an_error_listing_the_valid_names()
    {
        var e = Assert.Throws<SettingsException>(() => ExperimentRegistry.Get("tyo"));
        Assert.Contains("toy", e.Message);
        Assert.Contains("train", e.Message);
        var k = Assert.Throws<SettingsException>(() => Sweep.Plan(toy, [], [Sweep.GridAxis("z=1,2")], 1));
        Assert.Contains("'z'", k.Message);
        Assert.Contains("label", k.Message);

        var (exit, _, error) = CliTests.Run("sweep", "tyo");
        Assert.Equal(ResearchCli.Usage, exit);
        Assert.Contains("Known experiments", error);
        (exit, _, error) = CliTests.Run("sweep", "train", "--grid", "d_modle=32,64");
        Assert.Equal(ResearchCli.Usage, exit);
        Assert.Contains("d_model", error);
    }

    /// <summary>A training sweep that runs in a second or two.</summary>
    static readonly string[] Tiny = ["--set", "task=copy", "--set", "symbols=5", "--set", "min_length=2", "--set", "max_length=4", "--set", "train_size=200",
        "--set", "dev_size=10", "--set", "test_size=10", "--set", "d_model=16", "--set", "heads=2", "--set", "d_ff=32", "--set", "encoder_layers=1",
        "--set", "decoder_layers=1", "--set", "batch_size=16", "--set", "max_steps=5", "--set", "eval_every=5", "--set", "warmup=2"];

    [Fact]
    public void Parallel_jobs_run_each_configuration_in_its_own_process()
    {
        var tiny = Tiny;
        var (exit, output, error) = CliTests.Run(["sweep", "train", "--grid", "norm=post,pre", "--jobs", "2", "--store", root, .. tiny]);
        Assert.True(exit == ResearchCli.Ok, error + output);
        Assert.Contains("2 at a time, 1 torch thread each", output);
        var runs = store.Load("train");
        Assert.Equal(2, runs.Count);
        Assert.All(runs, r => Assert.Equal(RunState.Done, r.State));
        foreach (var run in runs) // written by a child process, not this one
            Assert.NotEqual(Environment.ProcessId, (int)System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run.Folder, "status.json")))!["pid"]!);
    }

    /// <summary>
    /// SIGTERM sent to the sweep process alone — kill, Slurm's scancel; unlike Ctrl+C, it does not reach the process group —
    /// stops its child runs too: each saves and stays pending, and the sweep exits as interrupted.
    /// </summary>
    [Fact]
    public async Task A_terminated_sweep_stops_its_child_runs()
    {
        if (OperatingSystem.IsWindows()) return; // no SIGTERM there
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { typeof(ResearchCli).Assembly.Location, "sweep", "train", "--grid", "norm=post,pre", "--jobs", "2", "--store", root })
            info.ArgumentList.Add(a);
        foreach (var a in Tiny.Select(a => a is "max_steps=5" ? "max_steps=100000" : a is "eval_every=5" ? "eval_every=100" : a)) info.ArgumentList.Add(a);
        using var sweep = System.Diagnostics.Process.Start(info)!;
        var output = sweep.StandardOutput.ReadToEndAsync();
        var error = sweep.StandardError.ReadToEndAsync();

        var deadline = DateTime.UtcNow.AddMinutes(2); // both children training: steps.csv written
        while (store.Load("train").Count(r => File.Exists(Path.Combine(r.Folder, "steps.csv"))) < 2 && DateTime.UtcNow < deadline && !sweep.HasExited)
            Thread.Sleep(200);
        var children = store.Load("train").Select(r => (int)System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(r.Folder, "status.json")))!["pid"]!).ToList();
        Assert.Equal(2, children.Count);
        Assert.DoesNotContain(sweep.Id, children);

        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", sweep.Id.ToString()])) kill.WaitForExit();
        Assert.True(sweep.WaitForExit(1_200_000), "the sweep did not stop within twenty minutes");
        Assert.Equal(ResearchCli.Interrupted, sweep.ExitCode);
        Assert.Contains("Interrupted", await error);
        foreach (var pid in children) // stopped by the sweep, not left training
        {
            try { using var child = System.Diagnostics.Process.GetProcessById(pid); Assert.True(child.WaitForExit(600_000), $"child run {pid} still running"); }
            catch (ArgumentException) { } // already gone
        }
        Assert.All(store.Load("train"), r => Assert.Equal(RunState.Interrupted, r.State));
        Assert.All(store.Load("train"), r => Assert.True(File.Exists(Path.Combine(r.Folder, "last.ckpt")), $"no checkpoint in {r.Folder}: {output.Result}"));
    }

    /// <summary>
    /// The script <c>--slurm</c> writes, run as Slurm runs it — once per array task, with SLURM_ARRAY_TASK_ID set — fills
    /// the store with exactly the local sweep's runs (tests/cluster/slurm-smoke.sh does the same on a real Slurm).
    /// </summary>
    [Fact]
    public async Task A_slurm_array_script_runs_the_same_sweep_one_shard_per_task()
    {
        var slurmDir = Path.Combine(root, "slurm");
        var (exit, output, error) = CliTests.Run(["sweep", "train", "--grid", "norm=post,pre", "--store", root, .. Tiny,
            "--slurm", "--slurm-dir", slurmDir, "--time", "0:05:00", "--partition", "cpu", "--array-parallelism", "1", "--cpus-per-task", "2"]);
        Assert.True(exit == ResearchCli.Ok, error + output);
        Assert.Contains("2 runs as a Slurm array of 2 task(s)", output);
        var script = File.ReadAllText(Directory.GetFiles(slurmDir, "train-*.sbatch").Single());
        Assert.Contains("#SBATCH --array=0-1%1\n", script);
        Assert.Contains("#SBATCH --partition=cpu\n", script);
        Assert.Contains("#SBATCH --time=0:05:00\n", script);
        Assert.Contains("#SBATCH --cpus-per-task=2\n", script);
        Assert.Contains($"--store {root} --shard \"${{SLURM_ARRAY_TASK_ID}}/2\" --jobs 1", script);
        Assert.Empty(store.Load("train"));

        foreach (var task in new[] { 0, 1 })
        {
            var info = new System.Diagnostics.ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
            info.ArgumentList.Add(Directory.GetFiles(slurmDir, "train-*.sbatch").Single());
            info.Environment["SLURM_ARRAY_TASK_ID"] = task.ToString();
            using var process = System.Diagnostics.Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            var shardOutput = await stdout;
            Assert.True(process.ExitCode == 0, stderr + shardOutput);
            Assert.Contains("Shard " + task + "/2: 1 runs.", shardOutput);
        }
        var plan = Sweep.Plan(ExperimentRegistry.Get("train"), Tiny.Where((_, i) => i % 2 == 1).Select(Settings.Assignment), [Sweep.GridAxis("norm=post,pre")], 1);
        var runs = store.Load("train");
        Assert.Equal(plan.Select(p => p.Key).Order(), runs.Select(r => r.Key).Order()); // the local sweep's runs, no other
        Assert.All(runs, r => Assert.Equal(RunState.Done, r.State));
        var status = SweepStatus.Of(store, plan);
        Assert.Equal((2, 2, 0, 0, 0), (status.Total, status.Done, status.Failed, status.Running, status.Pending));
        (exit, output, _) = CliTests.Run(["sweep", "train", "--grid", "norm=post,pre", "--store", root, .. Tiny, "--status"]);
        Assert.Equal(ResearchCli.Ok, exit);
        Assert.Matches(@"[│|] 2\s+[│|] 2\s+[│|] 0\s+[│|] 0\s+[│|] 0\s+[│|] 0\s+[│|]", output);
        // a mistaken combination is a usage error that says what to do
        (exit, _, error) = CliTests.Run(["sweep", "train", "--store", root, "--slurm", "--shard", "0/2"]);
        Assert.Equal(ResearchCli.Usage, exit);
        Assert.Contains("leave out --shard", error);
    }

    [Fact]
    public void A_slurm_script_passes_every_argument_through_the_shell_unchanged_but_the_task_index()
    {
        var path = Path.Combine(root, "quoting.sbatch");
        string[] words = ["a b", "it's", "$HOME", "`date`", "back\\slash", "\"quoted\"", "", $"{SlurmArray.TaskIndex}/3", $"$x {SlurmArray.TaskIndex}"];
        SlurmArray.Write(path, SlurmArray.Script("quoting", ["printf", "[%s]\\n", .. words], root, root, new SlurmOptions(3)));
        var info = new System.Diagnostics.ProcessStartInfo("bash") { RedirectStandardOutput = true };
        info.ArgumentList.Add(path);
        info.Environment["SLURM_ARRAY_TASK_ID"] = "2";
        using var process = System.Diagnostics.Process.Start(info)!;
        var printed = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        Assert.Equal(words.Select(w => "[" + w.Replace(SlurmArray.TaskIndex, "2") + "]\n"), printed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l + "\n"));
    }

    [Fact]
    public void The_sweep_command_runs_and_resumes_through_the_cli()
    {
        var (exit, output, error) = CliTests.Run("sweep", "toy", "--grid", "x=1,3", "--seeds", "2", "--store", root);
        Assert.True(exit == ResearchCli.Ok, error);
        Assert.Contains("4 runs: 0 already finished, 4 done", output);
        (exit, output, _) = CliTests.Run("sweep", "toy", "--grid", "x=1,3", "--seeds", "2", "--store", root);
        Assert.Equal(ResearchCli.Ok, exit);
        Assert.Contains("4 already finished", output);
        (exit, output, _) = CliTests.Run("sweep", "--list");
        Assert.Contains("train", output);
        Assert.Contains("ln-placement", output);
        Assert.DoesNotContain("label_smoothing", output); // experiments only; keys per experiment on request
        Assert.True(output.Split('\n').Length < 40, output);
        (exit, output, _) = CliTests.Run("sweep", "--list", "train");
        Assert.Contains("label_smoothing", output);
    }
}
