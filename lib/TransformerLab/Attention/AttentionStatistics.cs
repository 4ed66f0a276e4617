using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Attention;

/// <summary>Where one head looks, summarised over its queries.</summary>
/// <param name="Entropy">mean softmax entropy in nats (0 = always one key).</param>
/// <param name="MeanOffset">mean of Σ_j w_ij (j − i): negative looks back, positive ahead.</param>
/// <param name="Previous">mean weight on key i − 1.</param>
/// <param name="Same">mean weight on key i.</param>
/// <param name="Next">mean weight on key i + 1.</param>
public sealed record HeadProfile(int Layer, int Head, double Entropy, double MeanOffset, double Previous, double Same, double Next);

/// <summary>Summaries of attention maps that make heads comparable: how sharp, how far and which way each looks.</summary>
public static class AttentionStatistics
{
    /// <summary>One profile per head.</summary>
    /// <param name="weights"><c>[batch, heads, query time, key time]</c> from one layer.</param>
    public static IReadOnlyList<HeadProfile> Profiles(Tensor weights, int layer)
    {
        using var scope = NewDisposeScope();
        var w = weights.to(ScalarType.Float64);
        long queries = w.shape[2], keys = w.shape[3];
        var offsets = torch.arange(keys, dtype: ScalarType.Float64).view(1, keys) - torch.arange(queries, dtype: ScalarType.Float64).view(queries, 1); // [q, k]: j − i
        var entropy = -(w * w.clamp_min(1e-30).log()).sum(-1).mean([0L, 2L]);            // [heads]
        var meanOffset = (w * offsets).sum(-1).mean([0L, 2L]);
        double[] Diagonal(long k) => w.diagonal(k, -2, -1).mean([0L, 2L]).data<double>().ToArray();
        var (e, o, prev, same, next) = (entropy.data<double>().ToArray(), meanOffset.data<double>().ToArray(), Diagonal(-1), Diagonal(0), Diagonal(1));
        return Enumerable.Range(0, (int)w.shape[1]).Select(h => new HeadProfile(layer, h, e[h], o[h], prev[h], same[h], next[h])).ToList();
    }
}
