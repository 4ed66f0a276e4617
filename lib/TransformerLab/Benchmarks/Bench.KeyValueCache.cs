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

    /// <summary>
    /// 5b. Where a second intra-op thread starts to pay in cached decoding (the rule <see cref="IntraOpThreads.OneThreadWork"/>
    /// encodes): 16 cached greedy steps at 1 … 256 rows on one thread against every core, at the G2P model's width
    /// (d_model 128, 2 + 2 layers) and the kv-cache model's (d_model 256, 3 + 3). Steady-state turns of ≥ 50 ms.
    /// </summary>
    void DecodingThreads()
    {
        var cores = torch.get_num_threads();
        if (cores < 2) return;
        var widths = new[]
        {
            new TransformerConfig { SourceVocabulary = 32, TargetVocabulary = 44, DModel = 128, Heads = 4, DFF = 256, EncoderLayers = 2, DecoderLayers = 2 },
            StepConfig(false),
        };
        foreach (var config in widths)
        {
            using var scope = NewDisposeScope();
            TorchRuntime.Seed(2);
            var model = new EncoderDecoder(config).to(device);
            model.eval();
            foreach (var rows in quick ? new[] { 1, 8, 64 } : [1, 2, 4, 8, 16, 32, 64, 128, 256])
            {
                using var inner = NewDisposeScope();
                var encoded = model.Encode(torch.randint(4, config.SourceVocabulary, [rows, 16], device: device));
                var times = Latency.MeasureInterleaved(
                [
                    () => OnThreads(1, () => { DecodeSteps(model, encoded, 16, useCache: true); return 0; }),
                    () => OnThreads(cores, () => { DecodeSteps(model, encoded, 16, useCache: true); return 0; }),
                ], warmup: 2, repeats: Repeats, minimumSeconds: quick ? 0.02 : 0.05);
                var setting = $"d_model {config.DModel}, {rows} row{(rows == 1 ? "" : "s")}, 16 cached steps";
                Add("decoding threads", $"1 thread, {setting}", times[0].Median * 1e3, "ms");
                Add("decoding threads", $"{cores} threads, {setting}", times[1].Median * 1e3, "ms");
                Ratio($"decoding on {cores} threads / 1 thread, {setting}", times[1], times[0], "", null);
            }
            model.Dispose();
        }
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
