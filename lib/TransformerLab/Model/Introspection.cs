using System.Text.RegularExpressions;
using TorchSharp;

namespace TransformerLab.Model;

/// <summary>Readings taken from a model for the notebooks: per-layer gradient norms.</summary>
public static partial class Introspection
{
    /// <summary>
    /// The L2 norm of the parameter gradients of each layer after a backward pass, in the order the parameters are
    /// registered: one entry per encoder/decoder layer (<c>encoder.layers.0</c>, …) and one for each other part
    /// (<c>encoder.embedding</c>, <c>decoder.norm</c>, <c>output</c>, …). Parameters without a gradient count as zero.
    /// </summary>
    public static IReadOnlyList<(string Layer, double Norm)> LayerGradientNorms(torch.nn.Module module)
    {
        var sums = new List<(string Layer, double SumOfSquares)>();
        foreach (var (name, p) in module.named_parameters())
        {
            var layer = LayerName(name);
            double sq = 0;
            if (p.grad is { } g)
            {
                using var norm = g.norm();
                sq = Math.Pow(norm.ToDouble(), 2);
            }
            var at = sums.FindIndex(s => s.Layer == layer);
            if (at < 0) sums.Add((layer, sq));
            else sums[at] = (layer, sums[at].SumOfSquares + sq);
        }
        return sums.Select(s => (s.Layer, Math.Sqrt(s.SumOfSquares))).ToList();
    }

    /// <summary>
    /// The part a parameter belongs to: <c>decoder.layers.3.self_attn.w_q.weight</c> → <c>decoder.layers.3</c>;
    /// <c>encoder.embedding.embedding.weight</c> → <c>encoder.embedding</c>; <c>output.bias</c> → <c>output</c>.
    /// </summary>
    public static string LayerName(string parameterName)
    {
        var m = StackedLayer().Match(parameterName);
        if (m.Success) return m.Value;
        var parts = parameterName.Split('.');
        return parts[0] is "encoder" or "decoder" && parts.Length > 2 ? $"{parts[0]}.{parts[1]}" : parts[0];
    }

    /// <summary>
    /// <c>encoder.layers.3</c> → (<c>encoder</c>, 3); null for a part outside the stacks (embeddings, final norms,
    /// output head). Takes a name from <see cref="LayerName"/>.
    /// </summary>
    public static (string Stack, int Index)? StackPosition(string layer)
    {
        var m = StackedLayer().Match(layer);
        return m.Success && m.Length == layer.Length ? (m.Groups[1].Value, int.Parse(m.Groups[2].Value)) : null;
    }

    [GeneratedRegex(@"^(encoder|decoder)\.layers\.(\d+)")]
    private static partial Regex StackedLayer();
}
