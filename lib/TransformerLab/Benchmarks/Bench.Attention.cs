using TorchSharp;
using TransformerLab.Attention;
using TransformerLab.Evaluation;
using static TorchSharp.torch;

namespace TransformerLab.Benchmarks;

public sealed partial class Bench
{
    /// <summary>2. Multi-head self-attention, d_model 256, 4 heads, batch 8: ours, TorchSharp's module, the fused kernel alone.</summary>
    void Attention()
    {
        const long d = 256, heads = 4, batch = 8;
        foreach (var time in quick ? new long[] { 64, 256 } : [64, 256, 1024])
        {
            using var scope = NewDisposeScope();
            var ours = new MultiHeadAttention(d, heads).to(device);
            var theirs = nn.MultiheadAttention(d, heads, dropout: 0.0).to(device);
            ours.eval();
            theirs.eval();
            var x = torch.randn(batch, time, d, device: device);
            var xt = x.transpose(0, 1).contiguous();
            var q = torch.randn(batch, heads, time, d / heads, device: device);
            foreach (var backward in new[] { false, true })
            {
                x.requires_grad_(backward);
                xt.requires_grad_(backward);
                q.requires_grad_(backward);
                void Step(Func<Tensor> f)
                {
                    using var inner = NewDisposeScope();
                    using var _ = torch.set_grad_enabled(backward);
                    var y = f();
                    if (backward) y.sum().backward();
                    Sync();
                }
                var (wq, wk, wv, wo) = ours.Projections;
                var times = Latency.MeasureInterleaved(
                [
                    () => Step(() => ours.forward(x, x, x)),
                    () => Step(() => theirs.forward(xt, xt, xt, key_padding_mask: null, need_weights: false, attn_mask: null).Item1),
                    () => Step(() => MinimalAttention(x, wq, wk, wv, wo, heads)),
                    () => Step(() => nn.functional.scaled_dot_product_attention(q, q, q)),
                ], warmup: 2, repeats: Repeats);
                var pass = backward ? "forward+backward" : "forward";
                Add("attention", $"ours, T={time}, {pass}", times[0].Median * 1e3, "ms");
                Add("attention", $"nn.MultiheadAttention, T={time}, {pass}", times[1].Median * 1e3, "ms");
                Add("attention", $"same projections + SDPA kernel, T={time}, {pass}", times[2].Median * 1e3, "ms");
                Add("attention", $"SDPA kernel alone, T={time}, {pass}", times[3].Median * 1e3, "ms");
                if (!backward)
                {
                    Ratio($"our MHA forward / (same projections + SDPA kernel), T={time}", times[0], times[2], "≤ 1.1", r => r <= 1.1);
                    Ratio($"our MHA forward / SDPA kernel alone (no projections), T={time}", times[0], times[3], "", null);
                }
                Ratio($"our MHA / nn.MultiheadAttention, T={time}, {pass}", times[0], times[1], "", null);
            }
        }
    }

    /// <summary>
    /// Multi-head attention in the fewest operations: the four projections with <paramref name="wq"/>… and the fused kernel,
    /// no masks, no dispose scopes — what our module would cost with no overhead of its own.
    /// </summary>
    public static Tensor MinimalAttention(Tensor x, TorchSharp.Modules.Linear wq, TorchSharp.Modules.Linear wk, TorchSharp.Modules.Linear wv, TorchSharp.Modules.Linear wo, long heads)
    {
        long b = x.shape[0], t = x.shape[1], d = x.shape[2];
        Tensor Split(Tensor y) => y.view(b, t, heads, d / heads).transpose(1, 2);
        var o = nn.functional.scaled_dot_product_attention(Split(wq.forward(x)), Split(wk.forward(x)), Split(wv.forward(x)));
        return wo.forward(o.transpose(1, 2).reshape(b, t, d));
    }
}
