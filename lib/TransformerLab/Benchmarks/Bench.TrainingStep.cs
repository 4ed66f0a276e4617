using TorchSharp;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Benchmarks;

public sealed partial class Bench
{
    static TransformerConfig StepConfig(bool large) => large
        ? new() { SourceVocabulary = 64, TargetVocabulary = 64, DModel = 512, Heads = 8, DFF = 2048, EncoderLayers = 3, DecoderLayers = 3, Dropout = 0.1, Norm = NormPlacement.Post }
        : new() { SourceVocabulary = 64, TargetVocabulary = 64, DModel = 256, Heads = 4, DFF = 1024, EncoderLayers = 3, DecoderLayers = 3, Dropout = 0.1, Norm = NormPlacement.Post };

    /// <summary>
    /// 3. One training step (forward, backward, AdamW) of our encoder–decoder against the same configuration built from
    /// TorchSharp's layers (Post-LN, as they are), batch 32 × 32 tokens without padding. 4. Model FLOP utilisation of
    /// the larger configuration: 6 · parameters · tokens per step (Kaplan et al.'s estimate) over the step time, against (1).
    /// </summary>
    void TrainingStep()
    {
        const long batch = 32, time = 32;
        foreach (var large in quick ? new[] { false } : [false, true])
        {
            using var scope = NewDisposeScope();
            var config = StepConfig(large);
            TorchRuntime.Seed(1);
            var ours = new EncoderDecoder(config).to(device);
            var theirs = new BuiltinEncoderDecoder(config).to(device);
            var (source, input, output) = StepBatch(config);
            var optimisers = new[] { ours, (nn.Module)theirs }.Select(m => torch.optim.AdamW(m.parameters(), lr: 1e-4)).ToArray();
            var times = Latency.MeasureInterleaved(
            [
                () => TrainStep(() => ours.forward(source, input), output, optimisers[0]),
                () => TrainStep(() => theirs.forward(source, input), output, optimisers[1]),
            ], warmup: 2, repeats: quick ? 3 : 5);
            var tokens = batch * time;
            var name = $"d_model {config.DModel}, {config.EncoderLayers}+{config.DecoderLayers} layers";
            Add("training step", $"ours, {name}", tokens / times[0].Median, "target tokens/s");
            Add("training step", $"built-in layers, {name}", tokens / times[1].Median, "target tokens/s");
            if (!large) Ratio($"our training step / built-in ({name})", times[1], times[0], "≥ 1.0 (throughput)", r => r >= 1.0);
            if (large || quick)
            {
                var parameters = ours.parameters().Sum(p => p.numel());
                // encoder parameters see the source tokens, decoder parameters the target tokens: ≈ 6·N·tokens at equal lengths
                var flops = 6.0 * parameters * tokens / times[0].Median;
                Add("model FLOP utilisation", $"ours, {name}", flops / 1e9, "GFLOP/s", $"{parameters:N0} parameters");
                Ratio($"model FLOP utilisation ({name})", flops / 1e9 / peakGflops, "reported", null);
            }
            foreach (var o in optimisers) o.Dispose();
            ours.Dispose();
            theirs.Dispose();
        }
    }

    /// <summary>The training-step benchmarks' batch: 32 sources and targets of 32 random tokens, no padding; the decoder input is the target shifted right.</summary>
    (Tensor Source, Tensor Input, Tensor Output) StepBatch(TransformerConfig config)
    {
        const long batch = 32, time = 32;
        var source = torch.randint(4, config.SourceVocabulary, [batch, time], device: device);
        var target = torch.randint(4, config.TargetVocabulary, [batch, time + 1], device: device);
        return (source, target[.., ..^1], target[.., 1..]);
    }

    /// <summary>One optimiser step on <paramref name="logits"/>' cross-entropy against <paramref name="output"/>, finished on the device before it returns.</summary>
    void TrainStep(Func<Tensor> logits, Tensor output, optim.Optimizer optimiser)
    {
        using var inner = NewDisposeScope();
        optimiser.zero_grad();
        var scores = logits();
        nn.functional.cross_entropy(scores.reshape(-1, scores.shape[^1]), output.reshape(-1)).backward();
        optimiser.step();
        Sync();
    }
}
