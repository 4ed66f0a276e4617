using TorchSharp;
using TorchSharp.Modules;
using TransformerLab.Attention;
using TransformerLab.Model;
using TransformerLab.Runtime;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Model;

/// <summary>Copying weights into and out of TorchSharp's own modules, and comparing tensors.</summary>
static class Reference
{
    public static void Copy(Tensor destination, Tensor source)
    {
        using var _ = torch.no_grad();
        destination.copy_(source);
    }

    /// <summary>Our Q/K/V/O projections ← TorchSharp's packed in-projection and out-projection.</summary>
    public static void CopyFrom(this MultiHeadAttention ours, TorchSharp.Modules.MultiheadAttention theirs) =>
        ours.CopyFrom(Parameters(theirs), "");

    /// <summary>As above, from the parameters named <c>{prefix}in_proj_weight</c> etc. of a larger TorchSharp module.</summary>
    public static void CopyFrom(this MultiHeadAttention ours, IDictionary<string, Parameter> all, string prefix)
    {
        var p = all.Where(x => x.Key.StartsWith(prefix)).ToDictionary(x => x.Key[prefix.Length..], x => x.Value);
        var d = ours.DModel;
        var (q, k, v, o) = ours.Projections;
        foreach (var (linear, i) in new[] { (q, 0), (k, 1), (v, 2) })
        {
            Copy(linear.weight!, p["in_proj_weight"].narrow(0, i * d, d));
            Copy(linear.bias!, p["in_proj_bias"].narrow(0, i * d, d));
        }
        Copy(o.weight!, p["out_proj.weight"]);
        Copy(o.bias!, p["out_proj.bias"]);
    }

    public static void CopyFrom(this nn.Module<Tensor, Tensor> norm, IDictionary<string, Parameter> p, string prefix)
    {
        var ours = (LayerNorm)norm;
        Copy(ours.weight!, p[prefix + ".weight"]);
        Copy(ours.bias!, p[prefix + ".bias"]);
    }

    public static void CopyFrom(this PositionwiseFeedForward ours, IDictionary<string, Parameter> p)
    {
        var (first, second) = ours.Layers;
        Copy(first.weight!, p["linear1.weight"]);
        Copy(first.bias!, p["linear1.bias"]);
        Copy(second.weight!, p["linear2.weight"]);
        Copy(second.bias!, p["linear2.bias"]);
    }

    /// <summary>
    /// A causal mask in the form TorchSharp's own attention modules honour: additive float, 0 where allowed and −∞
    /// above the diagonal, <c>[time, time]</c>. (TorchSharp 0.107's nn.MultiheadAttention does not treat a boolean
    /// attn_mask as PyTorch documents: with either polarity the first query still attends to later keys.)
    /// </summary>
    public static Tensor TorchCausalMask(long time) =>
        torch.zeros(time, time).masked_fill(Masks.Causal(time).view(time, time).logical_not(), double.NegativeInfinity);

    public static Dictionary<string, Parameter> Parameters(nn.Module module) =>
        module.named_parameters().ToDictionary(x => x.name, x => x.parameter);

    /// <summary>Same shape and every element equal (TorchSharp's <c>Tensor.equal</c> is element-wise).</summary>
    public static bool Identical(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().ToBoolean();

    public static void AssertClose(Tensor expected, Tensor actual, double atol = 1e-5, double rtol = 1e-5)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var diff = (expected - actual).abs().max();
        Assert.True(expected.allclose(actual, rtol, atol), $"max |difference| = {diff.ToDouble():G4} exceeds atol {atol}");
    }

    public static TransformerConfig SmallConfig(NormPlacement norm = NormPlacement.Post) => new()
    {
        SourceVocabulary = 13, TargetVocabulary = 11, DModel = 16, Heads = 4, DFF = 32,
        EncoderLayers = 2, DecoderLayers = 2, Dropout = 0.0, Norm = norm,
    };

    /// <summary>Random token ids in [first, vocabulary): never the pad id 0 unless <paramref name="first"/> is 0.</summary>
    public static Tensor Tokens(long batch, long time, long vocabulary, long first = 1) =>
        torch.randint(first, vocabulary, [batch, time], dtype: ScalarType.Int64);

    public static EncoderDecoder NewModel(TransformerConfig config, long seed = 0)
    {
        TorchRuntime.Seed(seed);
        var model = new EncoderDecoder(config);
        model.eval();
        return model;
    }
}
