using System.Diagnostics;
using TorchSharp;
using TransformerLab.Model;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Benchmarks;

public sealed partial class Bench
{
    /// <summary>7. Resident memory (managed + native) over a training run of the small config: growth after warm-up.</summary>
    void Memory()
    {
        var steps = quick ? 150 : 2000; // quick: a smoke check of the same loop, inside the minute --quick promises
        var warm = steps / 10;
        var config = StepConfig(false) with { DModel = 128, Heads = 4, DFF = 512, EncoderLayers = 2, DecoderLayers = 2 };
        TorchRuntime.Seed(4);
        using var model = new EncoderDecoder(config).to(device);
        using var optimiser = torch.optim.AdamW(model.parameters(), lr: 1e-4);
        var random = new Random(4);
        var samples = new List<(int Step, double Mb)>();
        for (int step = 1; step <= steps; step++)
        {
            using (var scope = NewDisposeScope())
            {
                var time = 16 + random.Next(16); // varying shapes, as real batches have
                var source = torch.randint(4, 64, [32, time], device: device);
                var target = torch.randint(4, 64, [32, time + 1], device: device);
                optimiser.zero_grad();
                var logits = model.forward(source, target[.., ..^1]);
                nn.functional.cross_entropy(logits.reshape(-1, 64), target[.., 1..].reshape(-1)).backward();
                optimiser.step();
            }
            if (step == warm || step % (steps / 10) == 0)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                using var process = Process.GetCurrentProcess();
                samples.Add((step, process.WorkingSet64 / 1048576.0));
            }
        }
        var atWarm = samples.First(s => s.Step == warm).Mb;
        var atEnd = samples[^1].Mb;
        Add("memory", $"resident after {warm} steps", atWarm, "MiB");
        Add("memory", $"resident after {steps} steps", atEnd, "MiB");
        var growth = (atEnd - atWarm) / atWarm;
        Ratio($"memory growth from step {warm} to {steps}", growth, "< 5 %", growth < 0.05);
    }
}
