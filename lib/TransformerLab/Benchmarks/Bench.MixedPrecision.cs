using TorchSharp;
using TransformerLab.Decoding;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Benchmarks;

public sealed partial class Bench
{
    /// <summary>
    /// 3b. Mixed precision (<see cref="MixedPrecision"/>): the bfloat16 matmul rate beside (1); our training step in fp32
    /// and bf16, interleaved, with the model FLOP utilisation of each against its own matmul rate; greedy and beam-4
    /// decoding of 16 tokens both ways, batch 1 and 64.
    /// </summary>
    void MixedPrecisionSection()
    {
        if (MixedPrecision.Unsupported(Precision.Bf16, device) is { } why)
        {
            log?.Invoke($"mixed precision: skipped — {why}");
            return;
        }
        double peakBf16 = 0;
        using (torch.no_grad())
            foreach (var n in quick ? new[] { 512, 1024 } : [512, 1024, 2048])
            {
                using var scope = NewDisposeScope();
                var a = torch.randn(n, n, device: device).to(ScalarType.BFloat16);
                var b = torch.randn(n, n, device: device).to(ScalarType.BFloat16);
                var t = Latency.Measure(() => { using var c = a.mm(b); Sync(); }, warmup: 2, repeats: Repeats).Median;
                var gflops = 2.0 * n * n * n / t / 1e9;
                peakBf16 = Math.Max(peakBf16, gflops);
                Add("mixed precision", $"matmul bf16 {n}×{n}", gflops, "GFLOP/s");
            }
        Ratio("bf16 / fp32 matmul rate (best sizes)", peakBf16 / peakGflops, "reported", null);

        const long batch = 32, time = 32;
        foreach (var large in quick ? new[] { false } : [false, true])
        {
            using var scope = NewDisposeScope();
            var config = StepConfig(large);
            TorchRuntime.Seed(1);
            var model = new EncoderDecoder(config).to(device);
            var (source, input, output) = StepBatch(config);
            using var optimiser = torch.optim.AdamW(model.parameters(), lr: 1e-4);
            void Step(Precision precision)
            {
                using var products = MixedPrecision.Use(precision);
                TrainStep(() => model.forward(source, input), output, optimiser);
            }
            var times = Latency.MeasureInterleaved([() => Step(Precision.Fp32), () => Step(Precision.Bf16)], warmup: 2, repeats: quick ? 3 : 5);
            var tokens = batch * time;
            var name = $"d_model {config.DModel}, {config.EncoderLayers}+{config.DecoderLayers} layers";
            Add("mixed precision", $"training step fp32, {name}", tokens / times[0].Median, "target tokens/s");
            Add("mixed precision", $"training step bf16, {name}", tokens / times[1].Median, "target tokens/s");
            Ratio($"bf16 / fp32 training throughput ({name})", times[0], times[1], large ? "≥ 1.5" : "", large ? r => r >= 1.5 : null);
            var flops = 6.0 * model.parameters().Sum(p => p.numel()) * tokens;
            Ratio($"model FLOP utilisation fp32, of the fp32 matmul rate ({name})", flops / times[0].Median / 1e9 / peakGflops, "reported", null);
            Ratio($"model FLOP utilisation bf16, of the bf16 matmul rate ({name})", flops / times[1].Median / 1e9 / peakBf16, "reported", null);
            model.Dispose();
        }

        using (torch.no_grad())
        {
            using var scope = NewDisposeScope();
            TorchRuntime.Seed(5);
            var model = new EncoderDecoder(StepConfig(false)).to(device);
            model.eval();
            foreach (var batch1 in new[] { 1, 64 })
            {
                var source = torch.randint(4, 64, [batch1, 16], device: device);
                foreach (var beam in new[] { 1, 4 })
                {
                    void Decode(Precision precision)
                    {
                        using var inner = NewDisposeScope();
                        using var products = MixedPrecision.Use(precision);
                        if (beam == 1) DecodeSteps(model, model.Encode(source), 16, useCache: true);
                        else BeamSearch.Decode(model, source, new BeamOptions(beam), maxLength: 16);
                        Sync();
                    }
                    var times = Latency.MeasureInterleaved([() => Decode(Precision.Fp32), () => Decode(Precision.Bf16)], warmup: 1, repeats: quick ? 3 : 5);
                    var what = beam == 1 ? $"greedy, batch {batch1}, 16 tokens" : $"beam {beam}, batch {batch1}, up to 16 tokens";
                    Add("mixed precision", $"decoding fp32, {what}", times[0].Median * 1e3, "ms");
                    Add("mixed precision", $"decoding bf16, {what}", times[1].Median * 1e3, "ms");
                    Ratio($"bf16 / fp32 decoding speed-up, {what}", times[0], times[1], "", null);
                }
            }
            model.Dispose();
        }
    }
}
