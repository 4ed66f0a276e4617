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
        var seeds = new Option<int>("--seeds") { Description = "Seeds 1…N per grid point.", DefaultValueFactory = _ => 1 };
        var jobs = new Option<int>("--jobs") { Description = "Runs at once, each in its own process with cores/jobs torch threads.", DefaultValueFactory = _ => 1 };
        var shard = new Option<string?>("--shard") { Description = "i/N: run only this machine's share of the grid (0-based), e.g. a Slurm array index." };
        var retry = new Option<bool>("--retry-failed") { Description = "Also redo runs that failed (finished and diverged runs are never redone)." };
        var store = new Option<string?>("--store") { Description = "Results folder (default data/runs in the workspace)." };
        var list = new Option<bool>("--list") { Description = "List the experiments with their question, keys and defaults." };
        var rekey = new Option<bool>("--rekey") { Description = "Bring the experiment's stored runs up to this build, then exit: rename run folders to the current key scheme, and rewrite tables an older build wrote in another layout (results are never recomputed)." };
        var run = new Option<string?>("--run") { Hidden = true }; // a parallel sweep's child: the prepared run folder it runs
        var threads = new Option<int>("--threads") { Hidden = true };
        var command = new Command("sweep", "Run an experiment over a grid of settings and seeds; finished runs are kept and skipped on rerun.")
            { experiment, grid, set, seeds, jobs, shard, retry, store, list, rekey, run, threads };
        command.SetAction(parse =>
        {
            if (parse.GetValue(run) is { } folder) return RunOne(folder, parse.GetValue(threads));
            if (parse.GetValue(list)) return List(parse.GetValue(experiment));
            var name = parse.GetValue(experiment) ?? throw new UsageException("Name an experiment, or pass --list to see them.");
            if (parse.GetValue(rekey)) return Rekey(name, parse.GetValue(store));
            return Run(name, parse.GetValue(grid) ?? [], parse.GetValue(set) ?? [], parse.GetValue(seeds), parse.GetValue(jobs),
                parse.GetValue(shard), parse.GetValue(retry), parse.GetValue(store));
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

    static int Run(string name, string[] grid, string[] sets, int seeds, int jobs, string? shardText, bool retryFailed, string? storePath)
    {
        var experiment = ExperimentRegistry.Get(name);
        var plan = Sweep.Plan(experiment, sets.Select(Settings.Assignment), grid.Select(Sweep.GridAxis).ToList(), seeds);
        var results = Store(storePath);
        if (jobs < 1) throw new UsageException($"--jobs must be at least 1 (got {jobs}).");

        var configurations = plan.Count / seeds; // of the whole sweep, before any sharding
        if (shardText is not null)
        {
            var (index, count) = Sweep.ParseShard(shardText);
            plan = Sweep.Shard(plan, index, count);
            Console.WriteLine($"Shard {index}/{count}: {plan.Count} runs.");
        }
        var perJob = Math.Max(1, Environment.ProcessorCount / jobs);
        Console.WriteLine($"{experiment.Name}: {plan.Count} runs ({(shardText is null ? "" : "this shard's share of ")}{configurations} configurations × {seeds} seeds) in {results.Root}; {jobs} at a time, {perJob} torch thread{(perJob == 1 ? "" : "s")} each.");
        using var cancel = new StopSignals(_ => Console.Error.WriteLine("Stopping: no new runs start; the runs under way stop and stay pending."), secondCtrlCKills: false);

        Func<RunSpec, RunState> execute = jobs == 1
            ? spec => { TorchSharp.torch.set_num_threads(perJob); return results.Execute(spec, perJob, cancel.Token); }
            : spec => RunChild(spec, perJob, results);
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
                          (report.LeftFailed > 0 ? $", {report.LeftFailed} failed before and not retried (--retry-failed)" : "") + ".");
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
    static RunState RunChild(RunSpec spec, int threads, ResultsStore results)
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
        child.WaitForExit();
        return results.StateOf(spec);
    }

    static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        var process = Environment.ProcessPath;
        return process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet" ? process : "dotnet";
    }
}
