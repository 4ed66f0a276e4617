using TorchSharp;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Attention;

/// <summary>
/// Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V  (Vaswani et al. 2017, eq. 1).
/// <para>
/// Mask convention, everywhere in this library: a boolean tensor where <c>true</c> means "may attend".
/// It broadcasts against the scores <c>[batch, heads, query time, key time]</c>; see <see cref="Masks"/>.
/// </para>
/// </summary>
public static class ScaledDotProductAttention
{
    /// <summary>
    /// Attends each query to the keys and returns the weighted sum of values.
    /// </summary>
    /// <param name="query"><c>[batch, heads, query time, d_k]</c></param>
    /// <param name="key"><c>[batch, heads, key time, d_k]</c></param>
    /// <param name="value"><c>[batch, heads, key time, d_v]</c></param>
    /// <param name="mask">boolean, <c>true</c> = may attend; broadcastable to <c>[batch, heads, query time, key time]</c>.</param>
    /// <param name="scaled">divide scores by √d_k (the paper). <c>false</c> shows what the scale prevents: saturated softmax.</param>
    /// <param name="dropout">dropout on the attention weights (active only when <paramref name="training"/>).</param>
    /// <param name="needWeights">also return the weights. Without them, the fused LibTorch kernel runs.</param>
    /// <returns>output <c>[batch, heads, query time, d_v]</c>; weights <c>[batch, heads, query time, key time]</c> or null.</returns>
    public static (Tensor Output, Tensor? Weights) Forward(
        Tensor query, Tensor key, Tensor value, Tensor? mask = null,
        bool scaled = true, double dropout = 0.0, bool training = false, bool needWeights = false)
    {
        if (!needWeights && scaled)
        {
            // LibTorch's kernel: same maths, less memory. Its boolean mask also means "true = may attend".
            // (TorchSharp 0.107 has no `scale` argument, so the unscaled variant takes the explicit path.)
            return (MixedPrecision.Attention(query, key, value, mask, training ? dropout : 0.0), null);
        }
        return Explicit(query, key, value, mask, scaled, dropout, training);
    }

    /// <summary>The formula written out: scores, mask, softmax, dropout, weighted sum. Shapes as in <see cref="Forward"/>.</summary>
    public static (Tensor Output, Tensor Weights) Explicit(
        Tensor query, Tensor key, Tensor value, Tensor? mask = null,
        bool scaled = true, double dropout = 0.0, bool training = false)
    {
        using var scope = NewDisposeScope();
        var scores = query.matmul(key.transpose(-2, -1));
        if (scaled) scores = scores / Math.Sqrt(query.shape[^1]);
        if (mask is not null) scores = scores.masked_fill(mask.logical_not(), HeldScalars.NegativeInfinity);
        var weights = scores.softmax(-1);
        var attended = training && dropout > 0 ? nn.functional.dropout(weights, dropout, training: true) : weights;
        var output = attended.matmul(value);
        return (output.MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The same attention one query at a time, as the notes derive it: for query i, scores a_ij = q_i·k_j / √d_k over
    /// every key j, weights a'_ij = softmax_j(a_ij), output o_i = Σ_j a'_ij v_j. The matrix form must equal this.
    /// </summary>
    /// <param name="query"><c>[query time, d_k]</c></param>
    /// <param name="key"><c>[key time, d_k]</c></param>
    /// <param name="value"><c>[key time, d_v]</c></param>
    /// <returns>output <c>[query time, d_v]</c> and weights <c>[query time, key time]</c>.</returns>
    public static (Tensor Output, Tensor Weights) OneQueryAtATime(Tensor query, Tensor key, Tensor value)
    {
        using var scope = NewDisposeScope();
        var outputs = new List<Tensor>();
        var weightRows = new List<Tensor>();
        for (long i = 0; i < query.shape[0]; i++)
        {
            var q = query[i];
            var scores = torch.stack(Enumerable.Range(0, (int)key.shape[0]).Select(j => q.dot(key[j]) / Math.Sqrt(query.shape[1])).ToList());
            var weights = scores.softmax(0);
            outputs.Add(Enumerable.Range(0, (int)key.shape[0]).Select(j => weights[j] * value[j]).Aggregate((a, b) => a + b));
            weightRows.Add(weights);
        }
        return (torch.stack(outputs).MoveToOuterDisposeScope(), torch.stack(weightRows).MoveToOuterDisposeScope());
    }
}
