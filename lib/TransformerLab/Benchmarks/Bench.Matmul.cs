using TorchSharp;
using TransformerLab.Evaluation;
using static TorchSharp.torch;

namespace TransformerLab.Benchmarks;

public sealed partial class Bench
{
    /// <summary>1. Dense matmul rate, the practical ceiling every other figure is compared with.</summary>
    void Matmul()
    {
        foreach (var n in quick ? new[] { 512, 1024 } : [512, 1024, 2048])
        {
            using var scope = NewDisposeScope();
            var a = torch.randn(n, n, device: device);
            var b = torch.randn(n, n, device: device);
            var t = Latency.Measure(() => { using var c = a.mm(b); Sync(); }, warmup: 2, repeats: Repeats).Median;
            var gflops = 2.0 * n * n * n / t / 1e9;
            peakGflops = Math.Max(peakGflops, gflops);
            Add("matmul", $"{n}×{n}", gflops, "GFLOP/s");
        }
    }
}
