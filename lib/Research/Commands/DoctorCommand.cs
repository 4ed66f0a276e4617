using System.CommandLine;
using Spectre.Console;
using TorchSharp;
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

        var table = Cli.Table("", "");
        table.HideHeaders();
        table.AddRow("TorchSharp", TorchRuntime.TorchSharpVersion);
        table.AddRow("LibTorch", torch.__version__);
        table.AddRow("libstdc++ fix", Markup.Escape(TorchRuntime.NativeFixStatus()));
        table.AddRow("Threads", $"{torch.get_num_threads()} intra-op, {Environment.ProcessorCount} logical cores");
        table.AddRow("Devices", "cpu" + (torch.cuda.is_available() ? $", cuda × {torch.cuda.device_count()}" : " (CUDA not available)"));
        var (shape, time) = TinyForwardPass(device);
        table.AddRow($"Forward pass on {device.type.ToString().ToLowerInvariant()}", Markup.Escape($"{shape}, median {time.TotalMilliseconds:F2} ms"));
        AnsiConsole.Write(table);
        return Cli.Ok;
    }

    /// <summary>A small self-attention forward pass: proves the native kernels run, and how fast.</summary>
    static (string Shape, TimeSpan Time) TinyForwardPass(Device device)
    {
        TorchRuntime.Seed(0);
        using var scope = torch.NewDisposeScope();
        var x = torch.randn([8, 4, 64, 32], device: device); // [batch, heads, time, dim]
        Tensor? y = null;
        var time = TorchRuntime.TimeWarm(() => { using var _ = torch.no_grad(); y = nn.functional.scaled_dot_product_attention(x, x, x); });
        return ($"attention [8, 4, 64, 32] -> [{string.Join(", ", y!.shape)}]", time);
    }
}
