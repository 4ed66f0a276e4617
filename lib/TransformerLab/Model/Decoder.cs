using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>
/// The right half of figure 1 up to the output head: target embedding (× √d_model), positional encoding and dropout,
/// N decoder layers with cross-attention to the encoder's memory, and — for Pre-LN — the final normalisation. What the
/// decoder reads and which positions it may see are the caller's: the autoregressive Transformer feeds the shifted
/// target under the causal mask (or one token at a time with a cache), the NAT feeds placeholders plus a copy of the
/// source under the padding mask alone.
/// </summary>
public sealed class Decoder : nn.Module
{
    readonly TokenEmbedding embedding;
    readonly PositionalEncoding position;
    readonly Dropout dropout;
    readonly ModuleList<DecoderLayer> layers;
    readonly nn.Module<Tensor, Tensor>? norm; // Pre-LN only

    /// <summary>A decoder built from its parts (see <see cref="Initialisation.Build"/>, which makes them in the order a seed fixes).</summary>
    public Decoder(TokenEmbedding embedding, PositionalEncoding position, Dropout dropout, IEnumerable<DecoderLayer> layers, nn.Module<Tensor, Tensor>? norm)
        : base(nameof(Decoder))
    {
        this.embedding = embedding;
        this.position = position;
        this.dropout = dropout;
        this.layers = new ModuleList<DecoderLayer>(layers.ToArray());
        this.norm = norm;
        RegisterComponents();
    }

    /// <summary>The target embedding (the output head may share its matrix).</summary>
    public TokenEmbedding Embedding => embedding;
    public PositionalEncoding Position => position;
    public IReadOnlyList<DecoderLayer> Layers => [.. layers];
    /// <summary>Pre-LN's final normalisation; null for Post-LN.</summary>
    public nn.Module<Tensor, Tensor>? Norm => norm;

    /// <summary>The decoder's input: embedded tokens, plus <paramref name="added"/> if given, then positions from <paramref name="start"/>, then dropout.</summary>
    /// <param name="tokens"><c>[batch, target time]</c></param>
    /// <param name="added"><c>[batch, target time, d_model]</c> added to the embeddings before the positions (the NAT's copy of the source).</param>
    /// <returns><c>[batch, target time, d_model]</c></returns>
    public Tensor Embed(Tensor tokens, long start = 0, Tensor? added = null)
    {
        var y = embedding.forward(tokens);
        if (added is not null) y = y + added;
        return dropout.forward(position.forward(y, start));
    }

    /// <summary>The decoder layers and the final norm over embedded input <paramref name="y"/>.</summary>
    /// <param name="y"><c>[batch, target time, d_model]</c> from <see cref="Embed"/>.</param>
    /// <param name="memory"><c>[batch, source time, d_model]</c></param>
    /// <param name="targetMask">true = may attend, <c>[batch, 1, target time, target time]</c> or <c>[batch, 1, 1, target time]</c>; null when each step is fed alone.</param>
    /// <param name="sourceMask"><c>[batch, 1, 1, source time]</c></param>
    /// <param name="caches">one key/value cache per layer for step-by-step decoding, or null.</param>
    /// <returns><c>[batch, target time, d_model]</c></returns>
    public Tensor forward(Tensor y, Tensor memory, Tensor? targetMask, Tensor sourceMask, IReadOnlyList<LayerCache>? caches = null) =>
        Forward(y, memory, targetMask, sourceMask, caches, needCrossWeights: false).Output;

    /// <summary><see cref="forward"/>, and on request the last layer's cross-attention weights of this pass <c>[batch, heads, target time, source time]</c>, with their gradient (what guided attention and the copy pointer read).</summary>
    public (Tensor Output, Tensor? CrossWeights) Forward(Tensor y, Tensor memory, Tensor? targetMask, Tensor sourceMask, IReadOnlyList<LayerCache>? caches, bool needCrossWeights)
    {
        using var scope = NewDisposeScope();
        Tensor? crossWeights = null;
        for (int i = 0; i < layers.Count; i++)
            (y, crossWeights) = layers[i].Forward(y, memory, targetMask, sourceMask, caches?[i], needCrossWeights && i == layers.Count - 1);
        if (norm is not null) y = norm.forward(y);
        return (y.MoveToOuterDisposeScope(), crossWeights?.MoveToOuterDisposeScope());
    }
}
