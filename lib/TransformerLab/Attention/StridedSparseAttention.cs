using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Attention;

/// <summary>
/// A fixed sparse pattern (Child et al. 2019, "strided"): query i attends to the <c>stride</c> keys before it
/// (its local row) and to every key j with (i − j) divisible by the stride (its column), so any key reaches any query in
/// two steps while each query reads about 2·√n keys when the stride is √n. Computed here as full attention under the
/// pattern's mask: the pattern, not a kernel, is what this workspace studies (a sparse kernel would gain the time).
/// </summary>
public static class StridedSparseAttention
{
    /// <summary>The pattern <c>[query time, key time]</c>, causal as in the paper; <paramref name="causal"/> false mirrors it to both sides.</summary>
    public static Tensor Pattern(long time, long stride, bool causal = true, Device? device = null)
    {
        if (stride < 1) throw new ArgumentException($"the stride must be at least 1 (got {stride}).");
        using var scope = NewDisposeScope();
        var i = torch.arange(time, device: device).unsqueeze(1);
        var j = torch.arange(time, device: device).unsqueeze(0);
        var distance = i - j;
        var local = distance.abs().lt(stride);
        var column = distance.remainder(stride).eq(0);
        var pattern = local.logical_or(column);
        if (causal) pattern = pattern.logical_and(distance.ge(0));
        return pattern.MoveToOuterDisposeScope();
    }

    /// <summary>Attention restricted to <see cref="Pattern"/>, combined with <paramref name="mask"/> (true = may attend). Shapes as <see cref="ScaledDotProductAttention"/>.</summary>
    public static Tensor Forward(Tensor query, Tensor key, Tensor value, long stride, bool causal = true, Tensor? mask = null)
    {
        using var scope = NewDisposeScope();
        Tensor pattern = Pattern(query.shape[2], stride, causal, query.device);
        if (mask is not null) pattern = pattern.logical_and(mask);
        return nn.functional.scaled_dot_product_attention(query, key, value, pattern).MoveToOuterDisposeScope();
    }
}
