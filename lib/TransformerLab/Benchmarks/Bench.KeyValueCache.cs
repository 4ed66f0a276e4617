using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Benchmarks;

public sealed partial class Bench
{
    /// <summary>5. Greedy-style decoding of exactly L tokens with and without the key/value cache (batch 8, untrained small model).</summary>
    void KeyValueCache()
    {
        using var scope = NewDisposeScope();
        TorchRuntime.Seed(2);
        var model = new EncoderDecoder(StepConfig(false)).to(device);
        model.eval();
        var source = torch.randint(4, 64, [8, 32], device: device);
        var encoded = model.Encode(source);
        foreach (var length in quick ? new[] { 16, 64 } : [16, 64, 256])
        {
            var times = Latency.MeasureInterleaved(
                [() => DecodeSteps(model, encoded, length, useCache: true), () => DecodeSteps(model, encoded, length, useCache: false)],
                warmup: 1, repeats: quick ? 2 : 3);
            Add("KV cache", $"with cache, L={length}", times[0].Median * 1e3, "ms");
            Add("KV cache", $"without cache, L={length}", times[1].Median * 1e3, "ms");
            Ratio($"KV cache speed-up, L={length}", times[1], times[0], length == 64 ? "≥ 3" : "", length == 64 ? r => r >= 3 : null);
        }
        model.Dispose();
    }

    /// <summary>Feeds the argmax token for exactly <paramref name="length"/> steps (no early stop), as decoding a length-L output costs.</summary>
    void DecodeSteps(EncoderDecoder model, EncodedSource source, int length, bool useCache)
    {
        using var scope = NewDisposeScope();
        using var steps = DecoderSteps.Create(model, source, useCache);
        var tokens = torch.full(source.Batch, Vocabulary.Bos, dtype: ScalarType.Int64, device: device);
        for (int t = 0; t < length; t++)
        {
            using var inner = NewDisposeScope();
            tokens = steps.Next(tokens).argmax(-1).MoveToOuterDisposeScope();
        }
        Sync();
    }
}
