using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TransformerLab.Cli;
using TransformerLab.Experiments;
using TransformerLab.Reporting;
using TransformerLab.Runtime;
using TransformerLab.Tests.Foundation;
using Xunit;

namespace TransformerLab.Tests.Experiments;

/// <summary>
/// The results store cannot give a wrong number with exit 0: one owner per run (a lock, two real processes), a damaged run
/// is a state the sweep redoes and the report refuses, a killed run is interrupted and resumes to the same files as an
/// uninterrupted one.
/// </summary>
[Collection("toy experiment")] // ToyExperiment's call log is shared
public sealed class StoreIntegrityTests() : ToyStoreTests("tlab-store-")
{
    static readonly SweepSpec ToySweep = SweepSpec.Of("toy", 2, ("x", "1,3"));

    IReadOnlyList<RunSpec> Plan() => ToySweep.Plan();

    void RunAll() => Sweep.Run(store, Plan(), s => store.Execute(s, 1));

    int Calls() { lock (ToyExperiment.Calls) return ToyExperiment.Calls.Count; }

    static Dictionary<string, byte[]> Files(string folder) =>
        Directory.GetFiles(folder).Where(f => Path.GetFileName(f) != RunLock.FileName).ToDictionary(f => Path.GetFileName(f)!, File.ReadAllBytes);

    // ---- one owner per run ----

    [Fact]
    public void A_run_another_process_owns_is_left_alone_and_counted_as_busy()
    {
        var plan = Plan();
        var owned = store.FolderOf(plan[0]);
        using (var other = RunLock.TryAcquire(owned))
        {
            Assert.NotNull(other);
            Assert.Equal(RunState.Running, store.StateOf(plan[0]));
            var lines = new List<string>();
            var report = Sweep.Run(store, plan, s => store.Execute(s, 1), progress: p => { if (p.Last is not null) lines.Add(p.Last); });
            Assert.Equal(1, report.Busy);
            Assert.Equal(plan.Count - 1, report.Done);
            Assert.Contains(lines, l => l.Contains("another live process"));
            Assert.False(File.Exists(Path.Combine(owned, "status.json")), "the sweep wrote into a run another process owns");
            Assert.Equal(RunState.Running, store.Execute(plan[0], 1)); // asked directly, too
        }
        Assert.Equal(RunState.Pending, store.StateOf(plan[0])); // the owner is gone: free again
        RunAll();
        Assert.All(plan, s => Assert.Equal(RunState.Done, store.StateOf(s)));
    }

    [Fact]
    public async Task Ensure_waits_for_a_run_another_process_holds_instead_of_leaving_it_out()
    {
        var plan = Plan();
        var held = RunLock.TryAcquire(store.FolderOf(plan[0]))!;
        var release = Task.Run(async () => { await Task.Delay(1500); held.Dispose(); }); // the other owner stops without finishing it
        var runs = Sweep.Ensure(store, plan, threads: 1);
        await release;
        Assert.Equal(plan.Count, runs.Count);
        Assert.All(runs, r => Assert.Equal(RunState.Done, r.State));
    }

    [Fact]
    public void A_finished_run_is_never_rerun_or_rewritten_even_when_asked_directly()
    {
        RunAll();
        var calls = Calls();
        var spec = Plan()[0];
        var before = Files(store.FolderOf(spec));
        Assert.Equal(RunState.Done, store.Execute(spec, 1));
        store.Prepare(spec);
        Assert.Equal(calls, Calls());
        var after = Files(store.FolderOf(spec));
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.True(bytes.SequenceEqual(after[name]), $"{name} was rewritten");
    }

    [Fact]
    public void Grid_points_that_resolve_to_one_configuration_are_one_run()
    {
        var plan = Sweep.Plan(toy, [], [Sweep.GridAxis("x=1,1,1.0")], 2);
        Assert.Equal(2, plan.Count);
        Assert.Equal(2, plan.Select(p => p.Key).Distinct().Count());
        Sweep.Run(store, plan, s => store.Execute(s, 1), jobs: 2);
        Assert.Equal(2, Calls());
    }

    /// <summary>A training sweep of two runs long enough (a few seconds each) that two sweeps started together overlap.</summary>
    static readonly string[] Overlapping = ["--grid", "lr=0.001,0.002", "--set", "task=copy", "--set", "symbols=5", "--set", "min_length=2", "--set", "max_length=4",
        "--set", "train_size=200", "--set", "dev_size=10", "--set", "test_size=10", "--set", "d_model=16", "--set", "heads=2", "--set", "d_ff=32",
        "--set", "encoder_layers=1", "--set", "decoder_layers=1", "--set", "batch_size=16", "--set", "max_steps=600", "--set", "eval_every=200",
        "--set", "warmup=2", "--set", "threads=1"];

    static Process StartCli(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(typeof(ResearchCli).Assembly.Location);
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    [Fact]
    public void Two_sweeps_on_one_store_train_each_run_exactly_once()
    {
        string[] args = ["sweep", "train", "--store", root, .. Overlapping];
        using var first = StartCli(args);
        using var second = StartCli(args);
        var outputs = new[] { first, second }.Select(p => (Out: p.StandardOutput.ReadToEndAsync(), Err: p.StandardError.ReadToEndAsync())).ToList();
        Assert.True(first.WaitForExit(3_600_000) && second.WaitForExit(3_600_000), "the sweeps did not finish in an hour");
        var text = string.Join("\n", outputs.Select(o => o.Out.Result + o.Err.Result));
        Assert.True(first.ExitCode == 0 && second.ExitCode == 0, text);

        var runs = store.Load("train");
        Assert.Equal(2, runs.Count);
        var start = new Regex(@"^\[[^\]]+\] train [0-9a-f]{12} seed \d+ on ", RegexOptions.Multiline);
        foreach (var run in runs)
        {
            Assert.Equal(RunState.Done, run.State);
            var log = File.ReadAllText(Path.Combine(run.Folder, "log.txt"));
            Assert.Single(start.Matches(log));                                                          // trained once
            Assert.Matches(@"\(.+; fp32 GEMM oneMKL (as shipped|with its vendor check overridden).*\)", log); // on which kernels
            Assert.Single(Directory.GetFiles(Path.Combine(run.Folder, "tensorboard")));                    // by one process
        }
        // each run was trained by one of the two; the other left it or found it finished
        Assert.Matches("another live process|already finished", text);
    }

    [Fact]
    public void First_seed_keeps_tuning_seeds_apart_from_reported_ones()
    {
        var reported = Sweep.Plan(toy, [], [Sweep.GridAxis("x=1,3")], 2);
        var tuning = Sweep.Plan(toy, [], [Sweep.GridAxis("x=1,3")], 2, firstSeed: 101);
        Assert.Equal([101, 102, 101, 102], tuning.Select(s => s.Seed));
        Assert.Empty(reported.Select(s => s.Key).Intersect(tuning.Select(s => s.Key)));
        Assert.Equal(tuning.Select(s => s.Key), SweepSpec.Of("toy", 2, ("x", "1,3")) with { FirstSeed = 101 } is var spec ? spec.Plan().Select(s => s.Key) : []);
        Assert.EndsWith("--seeds 2 --first-seed 101", (SweepSpec.Of("toy", 2, ("x", "1,3")) with { FirstSeed = 101 }).CommandLine);
        var (exit, output, error) = CliTests.Run("sweep", "toy", "--grid", "x=1,3", "--seeds", "2", "--first-seed", "101", "--store", root);
        Assert.True(exit == ResearchCli.Ok, output + error);
        Assert.Equal([101, 101, 102, 102], store.Load("toy").Select(r => r.Seed).Order());
    }

    // ---- damaged is a state ----

    [Fact]
    public void A_done_run_missing_its_summary_is_damaged_the_report_refuses_it_and_the_sweep_redoes_it()
    {
        RunAll();
        var spec = Plan()[1];
        File.Delete(Path.Combine(store.FolderOf(spec), "summary.json"));

        var inspection = store.Inspect(spec);
        Assert.Equal(RunState.Damaged, inspection.State);
        Assert.Contains("summary.json is missing", inspection.Reason);
        Assert.Equal(RunState.Damaged, store.Load("toy").Single(r => r.Key == spec.Key).State);

        var refused = Assert.Throws<ReportException>(() => new ReportSources(store).Runs(ToySweep));
        Assert.Contains(spec.Key, refused.Message);
        Assert.Contains("summary.json is missing", refused.Message);
        Assert.Throws<ReportException>(() => new ReportSources(store).FinishedRuns(ToySweep));
        var status = SweepStatus.Of(store, Plan());
        Assert.Equal(1, status.Damaged);
        Assert.Contains(status.Problems, p => p.Key == spec.Key && p.State == RunState.Damaged);

        var calls = Calls();
        RunAll();
        Assert.Equal(calls + 1, Calls());
        Assert.Equal(RunState.Done, store.StateOf(spec));
        Assert.Equal(Plan().Count, new ReportSources(store).Runs(ToySweep).Count);
    }

    [Theory]
    [InlineData("status.json", "{ not json", "status.json is unreadable")]
    [InlineData("status.json", """{"state": "finished"}""", "no known state")]
    [InlineData("status.json", """{"state": 3}""", "no known state")]
    [InlineData("summary.json", """{"metrics": {"loss": "low"}}""", "'loss' is not a number")]
    [InlineData("summary.json", """[1, 2]""", "summary.json is not a JSON object")]
    [InlineData("config.json", "", "config.json is not valid JSON")]
    [InlineData("curve.csv", "step,loss\n1,2\n3\n", "curve.csv row 2 has 1 cells")]
    [InlineData("curve.csv", null, "curve.csv is missing")]
    public void A_damaged_file_makes_the_run_damaged_with_the_reason_and_no_reader_crashes(string file, string? content, string reason)
    {
        RunAll();
        var spec = Plan()[0];
        var path = Path.Combine(store.FolderOf(spec), file);
        if (content is null) File.Delete(path);
        else File.WriteAllText(path, content);

        var inspection = store.Inspect(spec);
        Assert.Equal(RunState.Damaged, inspection.State);
        Assert.Contains(reason, inspection.Reason);
        Assert.Equal(RunState.Damaged, store.Load("toy").Single(r => r.Key == spec.Key).State);
        Assert.DoesNotContain(Sweep.Finished(store, Plan()), r => r.Key == spec.Key);
        var (exit, output, _) = CliTests.Run("sweep", "toy", "--grid", "x=1,3", "--seeds", "2", "--store", root, "--status");
        Assert.Equal(ResearchCli.Ok, exit);
        Assert.Contains("damaged: " + spec.Key, output);
    }

    [Fact]
    public void A_table_an_experiment_declares_is_checked_too()
    {
        Assert.Contains("by_position.csv", ExperimentRegistry.Get("exposure-bias").Tables);
        var folder = Path.Combine(root, "t");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "by_position.csv"), "position,count\n1,2\n2\n");
        Assert.Contains("row 2", Csv.Problem(Path.Combine(folder, "by_position.csv")));
        Assert.Equal("is missing", Csv.Problem(Path.Combine(folder, "absent.csv")));
        File.WriteAllText(Path.Combine(folder, "empty.csv"), "");
        Assert.Equal("is empty", Csv.Problem(Path.Combine(folder, "empty.csv")));
        Assert.Null(Csv.Problem(Path.Combine(folder, "empty.csv"), mayBeEmpty: true));
    }

    [Fact]
    public void Every_committed_run_reads_back_whole()
    {
        var committed = ResultsStore.Default(Workspace.Root(AppContext.BaseDirectory));
        var damaged = ExperimentRegistry.All.SelectMany(e => committed.Load(e.Name)).Where(r => r.State == RunState.Damaged)
            .Select(r => $"{r.Experiment}/{r.Key}: {r.Reason}").ToList();
        Assert.True(damaged.Count == 0, string.Join("\n", damaged));
    }

    // ---- interrupted is not failed ----

    [Fact]
    public void A_run_left_running_by_a_dead_process_is_interrupted_and_the_same_sweep_resumes_it()
    {
        var spec = Plan()[0];
        Directory.CreateDirectory(store.FolderOf(spec));
        File.WriteAllText(Path.Combine(store.FolderOf(spec), "status.json"),
            $$"""{"state": "running", "host": "{{Environment.MachineName}}", "pid": 999999999}""");
        var inspection = store.Inspect(spec);
        Assert.Equal(RunState.Interrupted, inspection.State);
        Assert.Contains("the same command resumes it", inspection.Reason);
        var report = Sweep.Run(store, Plan(), s => store.Execute(s, 1)); // no --retry-failed
        Assert.Equal(Plan().Count, report.Done);
        Assert.Equal(RunState.Done, store.StateOf(spec));
    }

    /// <summary>Tiny, with a log interval that does not divide the evaluation interval: a resume lands mid-interval.</summary>
    static readonly string[] Resumable = ["--set", "task=copy", "--set", "symbols=5", "--set", "min_length=2", "--set", "max_length=4", "--set", "train_size=200",
        "--set", "dev_size=20", "--set", "test_size=10", "--set", "d_model=16", "--set", "heads=2", "--set", "d_ff=32", "--set", "encoder_layers=1",
        "--set", "decoder_layers=1", "--set", "batch_size=16", "--set", "max_steps=1500", "--set", "eval_every=50", "--set", "log_every=15",
        "--set", "warmup=10", "--set", "threads=1"];

    static readonly string[] TimeColumns = ["tokens_per_second", "elapsed_seconds", "train_seconds"];

    [Fact]
    public void A_killed_run_is_interrupted_and_the_same_command_resumes_it_to_the_uninterrupted_files()
    {
        if (OperatingSystem.IsWindows()) return; // SIGKILL
        var killed = Path.Combine(root, "killed");
        using (var sweep = StartCli(["sweep", "train", "--store", killed, .. Resumable]))
        {
            _ = sweep.StandardOutput.ReadToEndAsync();
            _ = sweep.StandardError.ReadToEndAsync();
            var deadline = DateTime.UtcNow.AddMinutes(30);
            while (!(Directory.Exists(killed) && Directory.EnumerateFiles(killed, "last.ckpt", SearchOption.AllDirectories).Any()) && DateTime.UtcNow < deadline && !sweep.HasExited) Thread.Sleep(10);
            Assert.False(sweep.HasExited, "the run finished before it could be killed");
            sweep.Kill(entireProcessTree: true); // SIGKILL: no handler runs
            sweep.WaitForExit();
        }
        var run = Assert.Single(new ResultsStore(killed).Load("train"));
        Assert.Equal(RunState.Interrupted, run.State);
        var steps = Csv.Read(Path.Combine(run.Folder, "steps.csv"));
        Assert.True(steps.Count == 0 || steps[^1]["step"] < 1500, "the run was killed after it finished");

        var (exit, output, error) = CliTests.Run(["sweep", "train", "--store", killed, .. Resumable]);
        Assert.True(exit == ResearchCli.Ok, output + error);
        var whole = Path.Combine(root, "whole");
        (exit, output, error) = CliTests.Run(["sweep", "train", "--store", whole, .. Resumable]);
        Assert.True(exit == ResearchCli.Ok, output + error);

        var resumed = Assert.Single(new ResultsStore(killed).Load("train"));
        var uninterrupted = Assert.Single(new ResultsStore(whole).Load("train"));
        Assert.Equal(RunState.Done, resumed.State);
        Assert.Matches(@"resumed from last\.ckpt at step \d+", File.ReadAllText(Path.Combine(resumed.Folder, "log.txt")));
        foreach (var file in new[] { "steps.csv", "dev.csv", "curve.csv" })
            Assert.Equal(Untimed(Csv.Read(Path.Combine(uninterrupted.Folder, file))), Untimed(Csv.Read(Path.Combine(resumed.Folder, file))));
        Assert.Equal(uninterrupted.Metrics.Where(m => !TimeColumns.Contains(m.Key)).OrderBy(m => m.Key),
            resumed.Metrics.Where(m => !TimeColumns.Contains(m.Key)).OrderBy(m => m.Key));
    }

    static List<string> Untimed(IReadOnlyList<IReadOnlyDictionary<string, double>> rows) =>
        rows.Select(r => string.Join(",", r.Where(kv => !TimeColumns.Contains(kv.Key)).Select(kv => $"{kv.Key}={kv.Value:R}"))).ToList();

    // ---- libtorch errors: TorchSharp's finalized-Scalar race stops a run now and then ----

    [Fact]
    public void A_run_libtorch_stops_once_resumes_in_the_same_execute_and_ends_with_the_files_of_an_unstopped_run()
    {
        var spec = Plan()[0];
        var clean = new ResultsStore(Path.Combine(root, "clean"));
        Assert.Equal(RunState.Done, clean.Execute(spec, 1));

        ToyExperiment.LibTorchFailures[1] = 1;
        Assert.Equal(RunState.Done, store.Execute(spec, 1));
        lock (ToyExperiment.Calls) Assert.Equal(3, ToyExperiment.Calls.Count); // the clean run, the stopped attempt, the resumed one
        var (stopped, unstopped) = (Files(store.FolderOf(spec)), Files(clean.FolderOf(spec)));
        foreach (var file in new[] { "summary.json", "curve.csv", "config.json" }) Assert.Equal(unstopped[file], stopped[file]);
        var log = File.ReadAllText(Path.Combine(store.FolderOf(spec), "log.txt"));
        Assert.Contains("libtorch stopped attempt 1 of 3: Expected false to be true, but got false. Exception raised from toFloat at /pytorch/c10/core/Scalar.h:140", log);
        Assert.Contains("resuming from the last checkpoint", log);
        Assert.DoesNotContain("frame #0", log); // the native backtrace says nothing a reader can use
    }

    [Fact]
    public void A_libtorch_error_that_recurs_fails_the_run_after_three_attempts_with_its_message()
    {
        var spec = Plan()[0];
        ToyExperiment.LibTorchFailures[1] = int.MaxValue;
        Assert.Equal(RunState.Failed, store.Execute(spec, 1));
        lock (ToyExperiment.Calls) Assert.Equal(ResultsStore.LibTorchAttempts, ToyExperiment.Calls.Count);
        Assert.Equal("libtorch stopped it in each of 3 attempts; the last: Expected false to be true, but got false. Exception raised from toFloat at /pytorch/c10/core/Scalar.h:140 (most recent call first):",
            store.ReasonOf(spec));
        Assert.False(File.Exists(Path.Combine(store.FolderOf(spec), "summary.json")));
    }

    [Fact]
    public void A_stopped_run_is_interrupted_with_its_reason()
    {
        var plan = Plan();
        using var stop = new CancellationTokenSource();
        ToyExperiment.InterruptAt = (3, stop);
        try { Assert.Throws<OperationCanceledException>(() => Sweep.Run(store, plan, s => store.Execute(s, 1, stop.Token), cancel: stop.Token)); }
        finally { ToyExperiment.InterruptAt = null; }
        var interrupted = plan.Select(store.Inspect).Where(i => i.State == RunState.Interrupted).ToList();
        Assert.NotEmpty(interrupted);
        Assert.All(interrupted, i => Assert.Contains("resumes", i.Reason));
    }
}
