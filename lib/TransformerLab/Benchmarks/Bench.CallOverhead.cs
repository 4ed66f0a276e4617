using TorchSharp;
using TransformerLab.Attention;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Benchmarks;

public sealed partial class Bench
{
    /// <summary>
    /// 6b. Host time per LibTorch call at decoding's shapes, where the arithmetic is tiny: one element-wise add on
    /// <c>[1, 4, 8, 32]</c> (the cost of crossing into LibTorch and back), the fused attention kernel at T 8 with and without
    /// an all-true mask, a 128 → 128 linear layer over one row and over sixteen (an AT step's product against the NAT pass's,
    /// on one thread), our multi-head attention against the same operations written with no module or dispose scope around
    /// them (<see cref="MinimalAttention"/>), and one cached decoding step of the small G2P model — in units of the add.
    /// </summary>
    void CallOverhead()
    {
        using var inference = torch.inference_mode();
        using var scope = NewDisposeScope();
        const int calls = 200;
        var x = torch.randn(1, 4, 8, 32, device: device);
        var mask = torch.ones(1, 1, 1, 8, dtype: ScalarType.Bool, device: device);
        var times = Latency.MeasureInterleaved(
        [
            () => { for (int i = 0; i < calls; i++) { using var y = x + 1; } },
            () => { for (int i = 0; i < calls; i++) { using var y = nn.functional.scaled_dot_product_attention(x, x, x); } },
            () => { for (int i = 0; i < calls; i++) { using var y = nn.functional.scaled_dot_product_attention(x, x, x, mask); } },
        ], warmup: 2, repeats: Repeats);
        var add = times[0].Median / calls * 1e6;
        Add("call overhead", "element-wise add, [1, 4, 8, 32]", add, "µs per call");
        Add("call overhead", "SDPA kernel, T=8, no mask", times[1].Median / calls * 1e6, "µs per call");
        Add("call overhead", "SDPA kernel, T=8, all-true mask", times[2].Median / calls * 1e6, "µs per call");

        TorchRuntime.Seed(6);
        var mha = new MultiHeadAttention(128, 4).to(device);
        mha.eval();
        var h = torch.randn(1, 8, 128, device: device);
        var (wq, wk, wv, wo) = mha.Projections;
        var attention = Latency.MeasureInterleaved(
        [
            () => { for (int i = 0; i < calls; i++) { using var s = NewDisposeScope(); mha.forward(h, h, h); } },
            () => { for (int i = 0; i < calls; i++) { using var s = NewDisposeScope(); MinimalAttention(h, wq, wk, wv, wo, 4); } },
        ], warmup: 2, repeats: Repeats);
        var w = torch.randn(128, 128, device: device);
        var rows = new[] { 1, 16 }.Select(n => torch.randn(1, n, 128, device: device)).ToArray();
        var linear = OnThreads(1, () => Latency.MeasureInterleaved(rows.Select(r => (Action)(() => { for (int i = 0; i < calls; i++) { using var y = nn.functional.linear(r, w); } })).ToList(), warmup: 2, repeats: Repeats));
        Add("call overhead", "linear layer 128 → 128, 1 row (an AT step's product), 1 thread", linear[0].Median / calls * 1e6, "µs per call");
        Add("call overhead", "linear layer 128 → 128, 16 rows (the NAT pass's product at 16 tokens), 1 thread", linear[1].Median / calls * 1e6, "µs per call",
            $"{2.0 * 16 * 128 * 128 / (linear[1].Median / calls) / 1e9:F0} GFLOP/s");
        Add("call overhead", "our MultiHeadAttention, batch 1, T=8, d 128", attention[0].Median / calls * 1e6, "µs per call");
        Add("call overhead", "the same operations, no module or scopes", attention[1].Median / calls * 1e6, "µs per call");
        Ratio("our MHA / the same operations bare, batch 1, T=8", attention[0], attention[1], "", null);

        var transformer = new TransformerConfig { SourceVocabulary = 32, TargetVocabulary = 44, DModel = 128, Heads = 4, DFF = 256, EncoderLayers = 2, DecoderLayers = 2 };
        TorchRuntime.Seed(3);
        var model = new EncoderDecoder(transformer).to(device);
        model.eval();
        using var steps = DecoderSteps.Create(model, model.Encode(torch.randint(4, 32, [1, 8], device: device)), useCache: true);
        var token = torch.full(1, Vocabulary.Bos, dtype: ScalarType.Int64, device: device);
        for (int i = 0; i < 15; i++) { using var s = NewDisposeScope(); token = steps.Next(token).argmax(-1).MoveToOuterDisposeScope(); } // a context of 15
        var step = Latency.Measure(() => { using var s = NewDisposeScope(); steps.Next(token); }, warmup: 2, repeats: 20).Median * 1e6;
        Add("call overhead", "one cached decoding step, small G2P model (2 layers, d 128), context 16–38 (the cache grows with each repeat)", step, "µs", $"≈ {step / add:F0} element-wise adds");
        model.Dispose();
        mha.Dispose();
    }
}
