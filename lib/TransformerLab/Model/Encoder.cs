using TorchSharp;
using TorchSharp.Modules;
using TransformerLab.Attention;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>
/// The left half of figure 1: source embedding (× √d_model), positional encoding and dropout, N encoder layers, and
/// — for Pre-LN — the final normalisation. The autoregressive Transformer and the NAT both use this module, so a
/// teacher's encoder loads into a NAT unchanged.
/// </summary>
public sealed class Encoder : nn.Module
{
    readonly TokenEmbedding embedding;
    readonly PositionalEncoding position;
    readonly Dropout dropout;
    readonly ModuleList<EncoderLayer> layers;
    readonly nn.Module<Tensor, Tensor>? norm; // Pre-LN only: the last layer's output is not normalised otherwise
    readonly long padId;

    /// <summary>An encoder built from its parts (see <see cref="Initialisation.Build"/>, which makes them in the order a seed fixes).</summary>
    public Encoder(TokenEmbedding embedding, PositionalEncoding position, Dropout dropout, IEnumerable<EncoderLayer> layers, nn.Module<Tensor, Tensor>? norm, long padId)
        : base(nameof(Encoder))
    {
        this.embedding = embedding;
        this.position = position;
        this.dropout = dropout;
        this.layers = new ModuleList<EncoderLayer>(layers.ToArray());
        this.norm = norm;
        this.padId = padId;
        RegisterComponents();
    }

    public TokenEmbedding Embedding => embedding;
    public PositionalEncoding Position => position;
    public IReadOnlyList<EncoderLayer> Layers => [.. layers];
    /// <summary>Pre-LN's final normalisation; null for Post-LN.</summary>
    public nn.Module<Tensor, Tensor>? Norm => norm;

    /// <param name="source"><c>[batch, source time]</c> ids, padded with the pad id.</param>
    /// <returns>memory <c>[batch, source time, d_model]</c> and its mask <c>[batch, 1, 1, source time]</c> (true = real token).</returns>
    public (Tensor Memory, Tensor SourceMask) forward(Tensor source)
    {
        using var scope = NewDisposeScope();
        var mask = Masks.Padding(source, padId);
        var x = dropout.forward(position.forward(embedding.forward(source), 0));
        foreach (var layer in layers) x = layer.forward(x, mask);
        if (norm is not null) x = norm.forward(x);
        return (x.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }
}
