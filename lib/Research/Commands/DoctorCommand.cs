using TransformerLab.Benchmarks;
using System.CommandLine;
using Spectre.Console;
using TorchSharp;
using TransformerLab.Cli.Publishing;
using TransformerLab.Model;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Cli.Commands;

/// <summary><c>research doctor</c>: what a user needs to know about this machine before running anything.</summary>
public static class DoctorCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "Device for the test forward pass: cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var command = new Command("doctor", "Report TorchSharp and LibTorch versions, the libstdc++ fix, threads, devices, and time a tiny forward pass.") { device };
        command.SetAction(parse => Run(parse.GetValue(device)!));
        return command;
    }

    static int Run(string deviceName)
    {
        TorchRuntime.EnsureLoaded();
        Device device;
        try { device = TorchRuntime.Device(deviceName); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }

        var table = ResearchCli.Table("", "");
        table.HideHeaders();
        table.AddRow("TorchSharp", TorchRuntime.TorchSharpVersion);
        table.AddRow("LibTorch", torch.__version__);
        table.AddRow("libstdc++ fix", Markup.Escape(TorchRuntime.NativeFixStatus()));
        var machine = MachineProfile.Read();
        table.AddRow("CPU", Markup.Escape($"{machine.Cpu} ({machine.Vendor}), {machine.Cores} logical cores"));
        table.AddRow("Vector extensions", Markup.Escape(machine.VectorExtensions + ": " + string.Join("; ", machine.Consequences())));
        table.AddRow("Load average", Markup.Escape($"{machine.Load1:F2} / {machine.Load5:F2} / {machine.Load15:F2} (1 / 5 / 15 min)" +
            (machine.Busy ? $" — busy: something else is using the cores, so timings here are slower than on an idle machine" : " — idle")));
        table.AddRow("Threads", $"{torch.get_num_threads()} intra-op, {Environment.ProcessorCount} logical cores");
        table.AddRow("OpenMP wait policy", Markup.Escape(OpenMpWaitPolicy.Description));
        if ((Workspace.FindRoot(AppContext.BaseDirectory) ?? Workspace.FindRoot()) is { } root)
        {
            var (pinned, running) = StdioKernel.Version(root);
            table.AddRow("Notebook kernel", Markup.Escape($"dotnet-interactive {running} (pinned: {pinned ?? "no .config/dotnet-tools.json"})"));
        }
        table.AddRow("Matmul libraries", Markup.Escape(MachineProfile.MatmulLibraries()));
        table.AddRow("Static chart images", Markup.Escape(StaticFigures.FindBrowser() is { } browser ? File.Exists(browser) ? $"rendered with {browser}" : $"skipped: {browser} does not exist" : $"skipped: {StaticFigures.InstallHint}"));
        table.AddRow("Devices", "cpu" + (torch.cuda.is_available() ? $", cuda × {torch.cuda.device_count()}" : " (CUDA not available)"));
        var (shape, time) = TinyForwardPass(device);
        table.AddRow($"Forward pass on {device.type.ToString().ToLowerInvariant()}", Markup.Escape($"{shape}, median {time.TotalMilliseconds:F2} ms"));
        ResearchCli.Terminal.Write(table);
        return ResearchCli.Ok;
    }

    /// <summary>A forward pass of a small encoder–decoder: proves the native kernels run, and how fast.</summary>
    static (string Shape, TimeSpan Time) TinyForwardPass(Device device)
    {
        TorchRuntime.Seed(0);
        using var scope = torch.NewDisposeScope();
        var config = new TransformerConfig { SourceVocabulary = 32, TargetVocabulary = 32, DModel = 64, Heads = 4, DFF = 256 };
        using var model = new EncoderDecoder(config);
        model.to(device).eval();
        var source = torch.randint(1, 32, [8, 24], device: device);
        var target = torch.randint(1, 32, [8, 20], device: device);
        Tensor? logits = null;
        var time = TransformerLab.Evaluation.Latency.Measure(() =>
        {
            using var _ = torch.no_grad();
            logits?.Dispose();
            logits = model.forward(source, target);
        }, warmup: 1).MedianTime;
        return ($"encoder–decoder (d_model 64, 2+2 layers): [8, 24] + [8, 20] -> [{string.Join(", ", logits!.shape)}]", time);
    }
}
