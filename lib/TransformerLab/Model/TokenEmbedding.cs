using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>
/// Token embedding multiplied by √d_model (Vaswani et al. 2017, §3.4), which keeps embeddings on the same scale
/// as the positional encoding added to them.
/// </summary>
public sealed class TokenEmbedding : nn.Module<Tensor, Tensor>
{
    readonly Embedding embedding;
    readonly double _scale;

    public TokenEmbedding(long vocabulary, long dModel, long padId) : base(nameof(TokenEmbedding))
    {
        embedding = nn.Embedding(vocabulary, dModel, padding_idx: padId);
        _scale = Math.Sqrt(dModel);
        RegisterComponents();
    }

    /// <summary>The embedding matrix <c>[vocabulary, d_model]</c>; the output projection shares it when weights are tied.</summary>
    public Parameter Weight => embedding.weight!;

    /// <param name="tokens"><c>[batch, time]</c> ids.</param>
    /// <returns><c>[batch, time, d_model]</c></returns>
    public override Tensor forward(Tensor tokens) => embedding.forward(tokens) * _scale;
}
