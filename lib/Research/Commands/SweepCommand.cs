using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using TransformerLab.Experiments;
using TransformerLab.Runtime;
using TransformerLab.Training;

namespace TransformerLab.Cli.Commands;

/// <summary><c>research sweep</c>: an experiment over a grid × seeds, into the resumable results store.</summary>
public static class SweepCommand
{
    public static Command Create()
    {
        var experiment = new Argument<string?>("experiment") { Description = "The experiment to run (see --list).", Arity = ArgumentArity.ZeroOrOne };
        var grid = new Option<string[]>("--grid") { Description = "key=v1,v2,… : one axis of the grid; repeat for more axes (cartesian product). key1+key2=v1,v2 sets both keys to each value.", AllowMultipleArgumentsPerToken = true };
        var set = new Option<string[]>("--set") { Description = "key=value applied to every run; repeatable.", AllowMultipleArgumentsPerToken = true };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per grid point: 1…N, or from --first-seed.", DefaultValueFactory = _ => 1 };
        var firstSeed = new Option<int>("--first-seed") { Description = "The first seed (default 1): e.g. --first-seed 101 for tuning runs kept apart from the seeds a comparison reports.", DefaultValueFactory = _ => 1 };
        var jobs = new Option<int>("--jobs") { Description = "Runs at once, each in its own process with cores/jobs torch threads.", DefaultValueFactory = _ => 1 };
        var shard = new Option<string?>("--shard") { Description = "i/N: run only this machine's share of the grid (0-based), e.g. a Slurm array index." };
        var retry = new Option<bool>("--retry-failed") { Description = "Also redo runs that failed (finished and diverged runs are never redone)." };
        var store = new Option<string?>("--store") { Description = "Results folder (default data/runs in the workspace)." };
        var list = new Option<bool>("--list") { Description = "List the experiments with their question, keys and defaults." };
        var rekey = new Option<bool>("--rekey") { Description = "Bring the experiment's stored runs up to this build, then exit: rename run folders to the current key scheme, and rewrite tables an older build wrote in another layout (results are never recomputed)." };
        var run = new Option<string?>("--run") { Hidden = true }; // a parallel sweep's child: the prepared run folder it runs
        var threads = new Option<int>("--threads") { Hidden = true };
        var status = new Option<bool>("--status") { Description = "Show how many of the sweep's runs are done, diverged, failed, running or pending in the store (e.g. while a Slurm array runs), then exit." };
        var slurm = new Option<bool>("--slurm") { Description = "Write an sbatch script for a Slurm job array whose task i runs shard i/N of this sweep (against --store on a shared file system), print how to submit it, and exit." };
        var submit = new Option<bool>("--submit") { Description = "With --slurm: also submit the script (sbatch) and print the job id." };
        var tasks = new Option<int?>("--tasks") { Description = "With --slurm: array tasks N (default: one per run)." };
        var partition = new Option<string?>("--partition") { Description = "With --slurm: the partition (sbatch --partition)." };
        var time = new Option<string?>("--time") { Description = "With --slurm: each task's time limit, e.g. 2:00:00 (sbatch --time); a task stopped by it leaves its run resumable." };
        var cpus = new Option<int>("--cpus-per-task") { Description = "With --slurm: cores per task (sbatch --cpus-per-task); a task uses them as torch threads.", DefaultValueFactory = _ => 1 };
        var parallelism = new Option<int?>("--array-parallelism") { Description = "With --slurm: at most K tasks at once (sbatch --array=0-N%K)." };
        var slurmDir = new Option<string?>("--slurm-dir") { Description = "With --slurm: folder for the script and the tasks' logs, on the shared file system (default runs/slurm in the workspace)." };
        var command = new Command("sweep", "Run an experiment over a grid of settings and seeds; finished runs are kept and skipped on rerun.")
            { experiment, grid, set, seeds, firstSeed, jobs, shard, retry, store, list, rekey, run, threads, status, slurm, submit, tasks, partition, time, cpus, parallelism, slurmDir };
        command.SetAction(parse =>
        {
            if (parse.GetValue(run) is { } folder) return RunOne(folder, parse.GetValue(threads));
            if (parse.GetValue(list)) return List(parse.GetValue(experiment));
            var name = parse.GetValue(experiment) ?? throw new UsageException("Name an experiment, or pass --list to see them.");
            if (parse.GetValue(rekey)) return Rekey(name, parse.GetValue(store));
            var sweep = new SweepArguments(name, parse.GetValue(grid) ?? [], parse.GetValue(set) ?? [], parse.GetValue(seeds), parse.GetValue(retry), parse.GetValue(store), parse.GetValue(firstSeed));
            if (parse.GetValue(status)) return Status(sweep);
            if (parse.GetValue(slurm))
            {
                if (parse.GetValue(shard) is not null) throw new UsageException("--slurm shards the sweep itself (task i runs shard i/N): leave out --shard.");
                if (parse.GetValue(jobs) != 1) throw new UsageException("--slurm runs one run at a time per task: leave out --jobs and ask for more tasks (--tasks) or cores (--cpus-per-task).");
                return Slurm(sweep, parse.GetValue(tasks), new SlurmOptions(1, parse.GetValue(partition), parse.GetValue(time), parse.GetValue(cpus), parse.GetValue(parallelism)),
                    parse.GetValue(slurmDir), parse.GetValue(submit));
            }
            if (parse.GetValue(submit)) throw new UsageException("--submit submits the script --slurm writes: add --slurm.");
            return Run(sweep, parse.GetValue(jobs), parse.GetValue(shard));
        });
        return command;
    }

    /// <summary>Without a name: one line per experiment. With one: that experiment's question and every key with its default.</summary>
    static int List(string? name)
    {
        var terminal = ResearchCli.Terminal;
        if (name is null)
        {
            var table = ResearchCli.Table("experiment", "version", "question");
            foreach (var e in ExperimentRegistry.All) table.AddRow(Markup.Escape(e.Name), e.Version.ToString(), Markup.Escape(e.Question));
            terminal.Write(table);
            terminal.WriteLine("Every experiment takes the training settings as keys, with its own defaults: research sweep --list <experiment> shows them.");
            return ResearchCli.Ok;
        }
        var experiment = ExperimentRegistry.Get(name);
        terminal.MarkupLine($"[bold]{Markup.Escape(experiment.Name)}[/] (version {experiment.Version}): {Markup.Escape(experiment.Question)}");
        var keys = ResearchCli.Table("key", "type", "default", "what it sets");
        var descriptions = Settings.Descriptions(experiment.Defaults.GetType());
        foreach (var (key, type, value) in Settings.Describe(experiment.Defaults))
            keys.AddRow(key, Markup.Escape(type), Markup.Escape(value), Markup.Escape(descriptions.GetValueOrDefault(key, "")));
        terminal.Write(keys);
        return ResearchCli.Ok;
    }

    /// <summary>A sweep as the command line gives it: what a local run, a Slurm task and --status all plan from.</summary>
    sealed record SweepArguments(string Experiment, string[] Grid, string[] Sets, int Seeds, bool RetryFailed, string? StorePath, int FirstSeed = 1)
    {
        public IReadOnlyList<RunSpec> Plan() =>
            Sweep.Plan(ExperimentRegistry.Get(Experiment), Sets.Select(Settings.Assignment), Grid.Select(Sweep.GridAxis).ToList(), Seeds, FirstSeed);

        /// <summary>The arguments that give the same sweep again (store made absolute, for a process started elsewhere).</summary>
        public IEnumerable<string> Again(ResultsStore store) =>
        [
            Experiment, .. Grid.SelectMany(g => new[] { "--grid", g }), .. Sets.SelectMany(x => new[] { "--set", x }),
            "--seeds", Seeds.ToString(System.Globalization.CultureInfo.InvariantCulture), "--store", Path.GetFullPath(store.Root),
            .. FirstSeed != 1 ? new[] { "--first-seed", FirstSeed.ToString(System.Globalization.CultureInfo.InvariantCulture) } : [],
            .. RetryFailed ? new[] { "--retry-failed" } : [],
        ];
    }

    static int Status(SweepArguments sweep)
    {
        var results = Store(sweep.StorePath);
        var status = SweepStatus.Of(results, sweep.Plan());
        var table = ResearchCli.Table("runs", "done", "diverged", "failed", "interrupted", "damaged", "running", "pending");
        table.AddRow(status.Total.ToString(), status.Done.ToString(), status.Diverged.ToString(), status.Failed.ToString(),
            status.Interrupted.ToString(), status.Damaged.ToString(), status.Running.ToString(), status.Pending.ToString());
        ResearchCli.Terminal.WriteLine($"{sweep.Experiment} in {results.Root}:");
        ResearchCli.Terminal.Write(table);
        foreach (var (key, seed, state, reason) in status.Problems)
            ResearchCli.Terminal.WriteLine($"{state.ToString().ToLowerInvariant()}: {key} (seed {seed}): {reason ?? "no reason recorded"}");
        if (status.Interrupted + status.Damaged > 0) ResearchCli.Terminal.WriteLine("Rerun (or resubmit) the same sweep to resume the interrupted runs and redo the damaged ones.");
        if (status.Failed > 0) ResearchCli.Terminal.WriteLine("Rerun (or resubmit) the sweep with --retry-failed to redo the failed runs.");
        return ResearchCli.Ok;
    }

    /// <summary>Writes (and with <paramref name="submit"/> submits) the sweep's Slurm array script.</summary>
    static int Slurm(SweepArguments sweep, int? tasks, SlurmOptions options, string? folder, bool submit)
    {
        var results = Store(sweep.StorePath);
        var plan = sweep.Plan();
        if (plan.Count == 0) throw new UsageException("The sweep has no runs.");
        var count = Math.Min(tasks ?? plan.Count, plan.Count);
        options = options with { Tasks = count };
        var root = NotebooksCommand.WorkspaceRoot();
        var planId = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", plan.Select(p => p.Key)))))[..12];
        var slurmFolder = Path.GetFullPath(folder ?? Path.Combine(root, "runs", "slurm"));
        var scriptPath = Path.Combine(slurmFolder, $"{sweep.Experiment}-{planId}.sbatch");
        string[] command = [DotnetHost(), typeof(SweepCommand).Assembly.Location, "sweep", .. sweep.Again(results), "--shard", $"{SlurmArray.TaskIndex}/{count}", "--jobs", "1"];
        SlurmArray.Write(scriptPath, SlurmArray.Script($"research-{sweep.Experiment}", command, root, Path.Combine(slurmFolder, "logs"), options));
        Directory.CreateDirectory(Path.Combine(slurmFolder, "logs"));
        var terminal = ResearchCli.Terminal;
        terminal.WriteLine($"{sweep.Experiment}: {plan.Count} runs as a Slurm array of {count} task(s) ({plan.Count - SweepStatus.Of(results, plan).Pending} already in {results.Root}).");
        terminal.WriteLine($"Script: {scriptPath}");
        var statusCommand = $"research sweep {string.Join(" ", sweep.Again(results))} --status";
        if (!submit)
        {
            terminal.WriteLine($"Submit it with: sbatch {scriptPath}   (or rerun with --submit); follow it with: {statusCommand}");
            return ResearchCli.Ok;
        }
        string jobId;
        try { jobId = SlurmArray.Submit(scriptPath, root); }
        catch (SlurmException e) { throw new UsageException(e.Message); }
        terminal.WriteLine($"Submitted job array {jobId} ({count} tasks); logs in {Path.Combine(slurmFolder, "logs")}; follow it with: {statusCommand}");
        return ResearchCli.Ok;
    }

    /// <summary>--store, or the workspace's data/runs.</summary>
    static ResultsStore Store(string? path) => path is null ? ResultsStore.Default(NotebooksCommand.WorkspaceRoot()) : new ResultsStore(path);

    static int Rekey(string name, string? storePath)
    {
        var results = Store(storePath);
        var moves = results.Rekey(ExperimentRegistry.Get(name));
        foreach (var (from, to) in moves) ResearchCli.Terminal.WriteLine($"{from} → {to}");
        var upgraded = results.Upgrade(ExperimentRegistry.Get(name));
        ResearchCli.Terminal.WriteLine($"{moves.Count} run folder(s) renamed and {upgraded.Count} run(s) with tables rewritten to the current layout in {Path.Combine(results.Root, name)}.");
        return ResearchCli.Ok;
    }

    /// <summary>A child process of a parallel sweep: the one run prepared in <paramref name="folder"/>, here.</summary>
    static int RunOne(string folder, int threads)
    {
        var results = new ResultsStore(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(folder)))!);
        RunSpec spec;
        try { spec = results.SpecAt(folder); }
        catch (InvalidDataException e) { throw new UsageException(e.Message); }
        if (threads > 0) TorchSharp.torch.set_num_threads(threads);
        using var stop = new StopSignals(); // Ctrl+C reaches the whole process group; the parent reports it
        try { return results.Execute(spec, threads, stop.Token) == RunState.Failed ? ResearchCli.Failed : ResearchCli.Ok; }
        catch (OperationCanceledException) { return ResearchCli.Interrupted; } // left pending, not failed
    }

    static int Run(SweepArguments sweep, int jobs, string? shardText)
    {
        var experiment = ExperimentRegistry.Get(sweep.Experiment);
        var plan = sweep.Plan();
        var (seeds, retryFailed, grid) = (sweep.Seeds, sweep.RetryFailed, sweep.Grid);
        var results = Store(sweep.StorePath);
        if (jobs < 1) throw new UsageException($"--jobs must be at least 1 (got {jobs}).");

        var configurations = plan.Count / seeds; // of the whole sweep, before any sharding
        if (shardText is not null)
        {
            var (index, count) = Sweep.ParseShard(shardText);
            plan = Sweep.Shard(plan, index, count);
            Console.WriteLine($"Shard {index}/{count}: {plan.Count} runs.");
        }
        var perJob = Math.Max(1, Environment.ProcessorCount / jobs);
        // a threads setting wins over the share of cores (TrainingExperiment uses it when it is set)
        var threads = plan.Select(s => s.Config).OfType<TrainingSettings>().Select(c => c.Threads).Distinct().ToList() is [> 0 and var set] ? set : perJob;
        Console.WriteLine($"{experiment.Name}: {plan.Count} runs ({(shardText is null ? "" : "this shard's share of ")}{configurations} configurations × {seeds} seeds) in {results.Root}; {jobs} at a time, {threads} torch thread{(threads == 1 ? "" : "s")} each.");
        using var cancel = new StopSignals(_ => Console.Error.WriteLine("Stopping: no new runs start; the runs under way stop and stay pending."), secondCtrlCKills: false);

        Func<RunSpec, RunState> execute = jobs == 1
            ? spec => { TorchSharp.torch.set_num_threads(perJob); return results.Execute(spec, perJob, cancel.Token); }
            : spec => RunChild(spec, perJob, results, cancel.Token);
        SweepReport report;
        try
        {
            report = Sweep.Run(results, plan, execute, jobs, retryFailed, p =>
            {
                if (p.Last is null) return;
                Console.WriteLine($"[{p.Finished}/{p.ToRun}] {p.Last}; failed {p.Failed}; elapsed {p.Elapsed:hh\\:mm\\:ss}, ETA {p.Remaining:hh\\:mm\\:ss}");
            }, cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Interrupted; rerun the same command to continue (finished runs are kept).");
            return ResearchCli.Interrupted;
        }
        PrintResults(results, plan, grid.Select(Sweep.GridAxis).Select(g => g.Key).ToList());
        Console.WriteLine($"{report.Total} runs: {report.Skipped} already finished, {report.Done} done, {report.Diverged} diverged, {report.Failed} failed now" +
                          (report.LeftFailed > 0 ? $", {report.LeftFailed} failed before and not retried (--retry-failed)" : "") +
                          (report.Busy > 0 ? $", {report.Busy} left to the other process running them (--status follows them)" : "") + ".");
        if (report.Failed + report.LeftFailed > 0)
        {
            Console.Error.WriteLine($"Some runs failed: see status.json and log.txt in their folders under {Path.Combine(results.Root, experiment.Name)}.");
            return ResearchCli.Failed;
        }
        return ResearchCli.Ok;
    }

    /// <summary>The sweep's finished runs: mean ± sd (n) over seeds of every metric, per grid point.</summary>
    static void PrintResults(ResultsStore results, IReadOnlyList<RunSpec> plan, IReadOnlyList<string> axes)
    {
        if (plan.Count == 0) return;
        var keys = plan.Select(p => p.Key).ToHashSet();
        var runs = results.Load(plan[0].Experiment.Name).Where(r => keys.Contains(r.Key)).ToList();
        var metrics = runs.SelectMany(r => r.Metrics.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        if (metrics.Count == 0) return;
        var table = ResearchCli.Table("configuration", "metric", "mean ± sd (n seeds)");
        foreach (var metric in metrics)
            foreach (var a in Analysis.Aggregate(runs, axes, metric))
                table.AddRow(Markup.Escape(axes.Count == 0 ? "all" : string.Join(", ", axes.Select(k => $"{k}={a.Group[k]}"))), metric,
                    a.Format("G4") + (a.Diverged + a.Failed > 0 ? $", {a.Diverged} diverged, {a.Failed} failed" : ""));
        ResearchCli.Terminal.Write(table);
    }

    /// <summary>Runs one spec in a child `research sweep --run FOLDER` process, so parallel runs do not share a torch runtime.</summary>
    static RunState RunChild(RunSpec spec, int threads, ResultsStore results, CancellationToken cancel)
    {
        var folder = results.Prepare(spec); // the child reads its run from the folder's config.json
        // `dotnet research.dll …`: works from the apphost, from `dotnet run` and from a test host alike
        var info = new ProcessStartInfo(DotnetHost()) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(typeof(SweepCommand).Assembly.Location);
        foreach (var a in new[] { "sweep", "--run", folder, "--threads", threads.ToString() }) info.ArgumentList.Add(a);
        using var child = Process.Start(info)!;
        child.OutputDataReceived += (_, _) => { };
        child.ErrorDataReceived += (_, _) => { };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        using var forward = cancel.Register(() => StopSignals.Forward(child)); // a stop of this process stops the child too
        child.WaitForExit();
        return results.StateOf(spec);
    }

    internal static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        var process = Environment.ProcessPath;
        return process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet" ? process : "dotnet";
    }
}
