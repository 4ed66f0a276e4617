using System.Text.RegularExpressions;
using TorchSharp;

namespace TransformerLab.Model;

/// <summary>Readings taken from a model for the notebooks: per-layer gradient norms.</summary>
public static partial class Introspection
{
    /// <summary>
    /// The L2 norm of the parameter gradients of each layer after a backward pass, in the order the parameters are
    /// registered: one entry per encoder/decoder layer (<c>encoder_layers.0</c>, …) and one for each other top-level
    /// part (embeddings, final norms, output projection). Parameters without a gradient count as zero.
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

    /// <summary><c>decoder_layers.3.self_attn.w_q.weight</c> → <c>decoder_layers.3</c>; <c>output_projection.bias</c> → <c>output_projection</c>.</summary>
    public static string LayerName(string parameterName)
    {
        var m = StackedLayer().Match(parameterName);
        return m.Success ? m.Value : parameterName.Split('.')[0];
    }

    /// <summary>
    /// <c>encoder_layers.3</c> → (<c>encoder</c>, 3); null for a part outside the stacks (embeddings, final norms,
    /// output projection). Takes a name from <see cref="LayerName"/>.
    /// </summary>
    public static (string Stack, int Index)? StackPosition(string layer)
    {
        var m = StackedLayer().Match(layer);
        return m.Success && m.Length == layer.Length ? (m.Groups[1].Value, int.Parse(m.Groups[2].Value)) : null;
    }

    [GeneratedRegex(@"^([A-Za-z_]+)_layers\.(\d+)")]
    private static partial Regex StackedLayer();
}
