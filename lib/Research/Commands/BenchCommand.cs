using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using TransformerLab.Benchmarks;
using TransformerLab.NativeFix;
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
        var command = new Command("bench", "Measure matmul GFLOP/s, attention against nn.MultiheadAttention and the SDPA kernel, a training step against nn.Transformer layers, MFU, the KV cache, NAT against AT latency, one layer of each kind against n (Vaswani et al.'s Table 1) and memory growth; print a table, write JSON.")
            { quick, device, output, threads };
        command.SetAction(parse => Run(parse.GetValue(quick), parse.GetValue(device)!, parse.GetValue(output), parse.GetValue(threads)));
        return command;
    }

    static int Run(bool quick, string deviceName, string? output, int threads)
    {
        if (threads < 0) throw new UsageException($"--threads must be ≥ 0 (got {threads}).");
        TorchRuntime.EnsureLoaded();
        Device device;
        try { device = TorchRuntime.Device(deviceName); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        if (threads > 0) TorchSharp.torch.set_num_threads(threads);
        var path = Path.GetFullPath(output ?? Path.Combine(NotebooksCommand.WorkspaceRoot(), "artifacts", "bench", quick ? "bench-quick.json" : "bench.json"));

        var report = new Bench(device, quick, line => Console.Error.WriteLine(line)).Run();

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
