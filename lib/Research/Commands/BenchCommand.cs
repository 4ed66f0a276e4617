using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using TransformerLab.Benchmarks;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Cli.Commands;

/// <summary><c>research bench</c>: our Transformer against TorchSharp's built-ins and the machine's limits, as ratios.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "Fewer sizes and repeats (about a minute on an idle 2-core machine): a smoke run, not figures to quote." };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N (cuda needs TorchSharp-cuda referenced).", DefaultValueFactory = _ => "cpu" };
        var output = new Option<string?>("--out") { Description = "JSON file of the figures and ratios. Default: artifacts/bench/bench[-quick].json in the workspace." };
        var threads = new Option<int>("--threads") { Description = "Torch intra-op threads; 0 = one per core.", DefaultValueFactory = _ => 0 };
        var section = new Option<string[]>("--section") { Description = $"Run only these sections (repeatable): {string.Join(", ", Bench.Sections)}.", AllowMultipleArgumentsPerToken = true };
        var workload = new Option<string?>("--workload") { Hidden = true }; // a contention child: run one workload, print its seconds per call
        var seconds = new Option<double>("--seconds") { Hidden = true, DefaultValueFactory = _ => 3 };
        var command = new Command("bench", "Measure matmul GFLOP/s, attention against nn.MultiheadAttention and the SDPA kernel, a training step against nn.Transformer layers, MFU, the KV cache, NAT against AT latency, one layer of each kind against n (Vaswani et al.'s Table 1) and memory growth; print a table, write JSON.")
            { quick, device, output, threads, section, workload, seconds };
        command.SetAction(parse => parse.GetValue(workload) is { } name
            ? RunWorkload(name, parse.GetValue(device)!, parse.GetValue(threads), parse.GetValue(seconds))
            : Run(parse.GetValue(quick), parse.GetValue(device)!, parse.GetValue(output), parse.GetValue(threads), parse.GetValue(section) ?? []));
        return command;
    }

    /// <summary>A child of the contention section: one workload, timed in steady state, its seconds per call on stdout.</summary>
    static int RunWorkload(string name, string deviceName, int threads, double seconds)
    {
        ContentionWorkload workload;
        try { workload = Workloads.Parse(name); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var perCall = Workloads.SecondsPerCall(workload, threads, seconds, TorchRuntime.Device(deviceName));
        Console.WriteLine(Workloads.ResultPrefix + perCall.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        return ResearchCli.Ok;
    }

    static int Run(bool quick, string deviceName, string? output, int threads, string[] sections)
    {
        if (sections.FirstOrDefault(x => !Bench.Sections.Contains(x)) is { } unknown)
            throw new UsageException($"--section {unknown}: no such section; the sections are {string.Join(", ", Bench.Sections)}.");
        if (threads < 0) throw new UsageException($"--threads must be ≥ 0 (got {threads}).");
        TorchRuntime.EnsureLoaded();
        Device device;
        try { device = TorchRuntime.Device(deviceName); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        if (threads > 0) TorchSharp.torch.set_num_threads(threads);
        var path = Path.GetFullPath(output ?? Path.Combine(NotebooksCommand.WorkspaceRoot(), "artifacts", "bench", quick ? "bench-quick.json" : "bench.json"));

        var machine = MachineProfile.Read();
        Console.Error.WriteLine($"Machine: {machine}; OpenMP wait policy {OpenMpWaitPolicy.Description}.");
        if (machine.Busy)
            Console.Error.WriteLine($"warning: the machine is busy now (load {machine.Load1:F2} on {machine.Cores} cores): the figures will measure the contention as much as the code. " +
                                    "Stop what else runs, or wait, before quoting them.");
        var host = new WorkloadHost(SweepCommand.DotnetHost(), [typeof(BenchCommand).Assembly.Location, "bench"]);
        var report = new Bench(device, quick, line => Console.Error.WriteLine(line), host, sections.Length > 0 ? sections.ToHashSet() : null).Run();

        var figures = ResearchCli.Table("section", "figure", "value", "unit");
        foreach (var f in report.Figures) figures.AddRow(Markup.Escape(f.Section), Markup.Escape(f.Name + (f.Detail == "" ? "" : $" ({f.Detail})")), $"{f.Value:G4}", Markup.Escape(f.Unit));
        ResearchCli.Terminal.Write(figures);
        var ratios = ResearchCli.Table("ratio", "value", "repeats from–to", "target", "met");
        foreach (var r in report.Ratios)
            ratios.AddRow(Markup.Escape(r.Name), $"{r.Value:G4}", double.IsNaN(r.Low) ? "" : $"{r.Low:G3}–{r.High:G3}" + (r.Unsteady ? " [yellow]unsteady[/]" : ""),
                Markup.Escape(r.Target), r.Met switch { true => "[green]yes[/]", false => "[red]no[/]", null => "" });
        ResearchCli.Terminal.Write(ratios);
        if (report.LoadAverage is { } load)
        {
            Console.WriteLine($"Load average {load.AtStart:F2} at the start, {load.AtEnd:F2} at the end, on {load.Cores} cores.");
            if (load.Busy)
                Console.Error.WriteLine($"warning: the machine was busy when the bench started (load average {load.AtStart:F2} on {load.Cores} cores): " +
                                        "its times and ratios measure the contention as much as the code. Rerun on an idle machine before quoting them.");
        }
        if (report.Ratios.Any(r => r.Unsteady))
            Console.Error.WriteLine("warning: ratios marked unsteady varied by more than half their value across repeats: not figures to quote.");

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(report, BenchReport.Json));
        Console.WriteLine($"{report.Figures.Count} figures, {report.Ratios.Count} ratios in {report.Seconds:F0} s → {path}");
        return ResearchCli.Ok;
    }
}
