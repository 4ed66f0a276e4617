using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Attention;

/// <summary>
/// Restricted (local) self-attention: query i attends only to keys j with |i − j| ≤ r (Vaswani et al. 2017, Table 1,
/// "self-attention (restricted)": O(r·n·d) per layer, maximum path length O(n/r)). Mathematically it is full attention
/// under a band mask (<see cref="Band"/>), which is the reference a test holds it to; <see cref="Forward"/> computes it
/// block by block so that time and memory grow with n·r, not n².
/// </summary>
public static class LocalAttention
{
    /// <summary>The band mask <c>[query time, key time]</c>: true where |i − j| ≤ <paramref name="window"/> (and j ≤ i when <paramref name="causal"/>).</summary>
    public static Tensor Band(long time, long window, bool causal = false, Device? device = null)
    {
        using var scope = NewDisposeScope();
        var i = torch.arange(time, device: device).unsqueeze(1);
        var j = torch.arange(time, device: device).unsqueeze(0);
        var band = (i - j).abs().le(window);
        if (causal) band = band.logical_and(j.le(i));
        return band.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Local attention over blocks of <paramref name="window"/> queries, each reading the keys from one window before its
    /// block to one window after it (the band cut out of them by a small mask).
    /// </summary>
    /// <param name="query"><c>[batch, heads, time, d_k]</c>; key and value the same time (self-attention).</param>
    /// <param name="keyMask">boolean <c>[batch, 1, 1, time]</c> (or broadcastable), true = a real key; null = all real.</param>
    /// <returns><c>[batch, heads, time, d_v]</c></returns>
    public static Tensor Forward(Tensor query, Tensor key, Tensor value, long window, bool causal = false, Tensor? keyMask = null)
    {
        if (window < 1) throw new ArgumentException($"the window must be at least 1 (got {window}).");
        long time = query.shape[2];
        if (key.shape[2] != time) throw new ArgumentException($"local attention is self-attention: keys ({key.shape[2]}) and queries ({time}) must have the same time.");
        using var scope = NewDisposeScope();
        var blocks = new List<Tensor>();
        for (long start = 0; start < time; start += window)
        {
            long end = Math.Min(time, start + window), from = Math.Max(0, start - window), to = causal ? end : Math.Min(time, end + window);
            var i = torch.arange(start, end, device: query.device).unsqueeze(1);
            var j = torch.arange(from, to, device: query.device).unsqueeze(0);
            var allowed = (i - j).abs().le(window);
            if (causal) allowed = allowed.logical_and(j.le(i));
            Tensor mask = allowed.view(1, 1, end - start, to - from);
            if (keyMask is not null) mask = mask.logical_and(keyMask[TensorIndex.Ellipsis, TensorIndex.Slice(from, to)]);
            blocks.Add(nn.functional.scaled_dot_product_attention(
                query[.., .., TensorIndex.Slice(start, end)], key[.., .., TensorIndex.Slice(from, to)], value[.., .., TensorIndex.Slice(from, to)], mask));
        }
        return torch.cat(blocks, 2).MoveToOuterDisposeScope();
    }
}
