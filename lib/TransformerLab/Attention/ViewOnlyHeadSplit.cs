using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Attention;

/// <summary>
/// The multi-head forward pass of the study notes' GitBook code, reproduced line for line on the weights of one of our
/// <see cref="MultiHeadAttention"/> layers, to show what it computes:
/// <code>
/// Q = Q.view(batch_size, -1, self.n_heads, self.d_k)        # [batch, time, heads, d_k] — no transpose
/// scores = torch.matmul(Q, K.transpose(-2, -1)) / math.sqrt(self.d_k)
/// attn_weights = F.softmax(scores, dim=-1)
/// attn_output = torch.matmul(attn_weights, V).view(batch_size, -1, self.d_model)
/// </code>
/// Without the transpose, <c>matmul</c> batches over <c>[batch, time]</c> and multiplies <c>[heads, d_k]</c> by
/// <c>[d_k, heads]</c>: the scores are <c>[batch, time, heads, heads]</c> — each token's heads attend to that same
/// token's other heads — and no token ever sees another. The shapes check out and the output has the right shape,
/// which is why the bug survives a shape check. <see cref="MultiHeadAttention.SplitHeads"/> transposes; the tests hold
/// the two apart (this path differs from TorchSharp's <c>MultiheadAttention</c>, ours does not).
/// </summary>
public static class ViewOnlyHeadSplit
{
    /// <summary>The notes' forward pass with <paramref name="attention"/>'s projections (no mask, no dropout).</summary>
    /// <param name="query"><c>[batch, time, d_model]</c></param>
    /// <param name="key"><c>[batch, time, d_model]</c> (the notes' code needs the same time as the query)</param>
    /// <param name="value"><c>[batch, time, d_model]</c></param>
    /// <returns>the output <c>[batch, time, d_model]</c> and the weights <c>[batch, time, heads, heads]</c></returns>
    public static (Tensor Output, Tensor Weights) Forward(MultiHeadAttention attention, Tensor query, Tensor key, Tensor value)
    {
        using var scope = NewDisposeScope();
        var (wq, wk, wv, wo) = attention.Projections;
        long batch = query.shape[0], heads = attention.Heads, dK = attention.HeadDim;
        var q = wq.forward(query).view(batch, -1, heads, dK);
        var k = wk.forward(key).view(batch, -1, heads, dK);
        var v = wv.forward(value).view(batch, -1, heads, dK);
        var scores = torch.matmul(q, k.transpose(-2, -1)) / Math.Sqrt(dK);
        var weights = torch.nn.functional.softmax(scores, dim: -1);
        var output = wo.forward(torch.matmul(weights, v).view(batch, -1, attention.DModel));
        return (output.MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope());
    }
}
