using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using TransformerLab.Runtime;

namespace TransformerLab.Model;

/// <summary>Where each sub-layer's normalisation sits relative to its residual connection.</summary>
public enum NormPlacement
{
    /// <summary>LayerNorm(x + Sublayer(x)): the original Transformer. Gradients near the output are large at
    /// initialisation, so it needs learning-rate warm-up (Xiong et al. 2020).</summary>
    Post,
    /// <summary>x + Sublayer(LayerNorm(x)), with a final LayerNorm after the stack: trains without warm-up
    /// (Xiong et al. 2020).</summary>
    Pre,
}

/// <summary>A sub-layer wrapped in its residual connection, dropout and normalisation (LayerNorm unless asked otherwise).</summary>
public sealed class ResidualConnection : nn.Module
{
    readonly nn.Module<Tensor, Tensor> norm;
    readonly Dropout dropout;

    public NormPlacement Placement { get; }

    public ResidualConnection(long dModel, double dropout, NormPlacement placement, NormalizationKind normalization = NormalizationKind.LayerNorm)
        : base(nameof(ResidualConnection))
    {
        norm = Normalization.Create(normalization, dModel);
        this.dropout = nn.Dropout(dropout);
        Placement = placement;
        RegisterComponents();
    }

    public nn.Module<Tensor, Tensor> Norm => norm;

    /// <param name="x"><c>[batch, time, d_model]</c></param>
    /// <param name="sublayer">attention or feed-forward, <c>[batch, time, d_model]</c> → same.</param>
    public Tensor forward(Tensor x, Func<Tensor, Tensor> sublayer)
    {
        using var scope = NewDisposeScope();
        // x + …, with the alpha = 1 held for the process (HeldScalars): one of these adds is where libtorch read a freed Scalar
        var output = Placement == NormPlacement.Post
            ? norm.forward(x.add(dropout.forward(sublayer(x)), HeldScalars.One))
            : x.add(dropout.forward(sublayer(norm.forward(x))), HeldScalars.One);
        return output.MoveToOuterDisposeScope();
    }
}
