using TorchSharp;
using TorchSharp.Modules;
using TransformerLab.Attention;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>
/// The encoder of figure 1 as one function over its parts, shared by <see cref="EncoderDecoder"/> and
/// <see cref="NonAutoregressiveTransformer"/>: both models own parts of the same names (<c>source_embedding</c>,
/// <c>encoder_layers</c>, …), so an autoregressive teacher's encoder loads into a NAT unchanged.
/// </summary>
static class EncoderStack
{
    /// <param name="source"><c>[batch, source time]</c> ids, padded with <paramref name="padId"/>.</param>
    /// <returns>memory <c>[batch, source time, d_model]</c> and its mask <c>[batch, 1, 1, source time]</c> (true = real token).</returns>
    public static (Tensor Memory, Tensor SourceMask) Encode(Tensor source, long padId, TokenEmbedding embedding, PositionalEncoding position,
        Dropout dropout, IEnumerable<EncoderLayer> layers, nn.Module<Tensor, Tensor>? finalNorm)
    {
        using var scope = NewDisposeScope();
        var mask = Masks.Padding(source, padId);
        var x = dropout.forward(position.forward(embedding.forward(source), 0));
        foreach (var layer in layers) x = layer.forward(x, mask);
        if (finalNorm is not null) x = finalNorm.forward(x);
        return (x.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Final norm (Pre-LN) and the projection to logits, <c>[batch, time, d_model]</c> → <c>[batch, time, vocabulary]</c>:
    /// a linear layer, or the target embedding matrix when tied (then only a bias is learned).
    /// </summary>
    public static Tensor Project(Tensor y, nn.Module<Tensor, Tensor>? finalNorm, Linear? projection, TokenEmbedding targetEmbedding, Parameter? tiedBias)
    {
        if (finalNorm is not null) y = finalNorm.forward(y);
        return projection is not null ? projection.forward(y) : nn.functional.linear(y, targetEmbedding.Weight, tiedBias);
    }

    /// <summary>
    /// The parts of figure 1 for <paramref name="c"/>: embeddings, positional encodings and dropouts of both sides, the
    /// layer stacks, Pre-LN's final norms (null for Post-LN), and the output projection — a linear layer, or only a bias
    /// when it is tied to the target embedding.
    /// </summary>
    public static (TokenEmbedding SourceEmbedding, TokenEmbedding TargetEmbedding, PositionalEncoding SourcePosition, PositionalEncoding TargetPosition,
        Dropout SourceDropout, Dropout TargetDropout, ModuleList<EncoderLayer> EncoderLayers, ModuleList<DecoderLayer> DecoderLayers,
        nn.Module<Tensor, Tensor>? EncoderNorm, nn.Module<Tensor, Tensor>? DecoderNorm, Linear? OutputProjection, Parameter? OutputBias) Parts(TransformerConfig c)
    {
        var pre = c.Norm == NormPlacement.Pre;
        return (new TokenEmbedding(c.SourceVocabulary, c.DModel, c.PadId), new TokenEmbedding(c.TargetVocabulary, c.DModel, c.PadId),
            PositionalEncoding.Create(c.PositionalEncoding, c.DModel, c.MaxLength), PositionalEncoding.Create(c.PositionalEncoding, c.DModel, c.MaxLength),
            nn.Dropout(c.Dropout), nn.Dropout(c.Dropout),
            new ModuleList<EncoderLayer>(Enumerable.Range(0, c.EncoderLayers).Select(_ => new EncoderLayer(c)).ToArray()),
            new ModuleList<DecoderLayer>(Enumerable.Range(0, c.DecoderLayers).Select(_ => new DecoderLayer(c)).ToArray()),
            pre ? Normalization.Create(c.Normalization, c.DModel) : null, pre ? Normalization.Create(c.Normalization, c.DModel) : null,
            c.TieEmbeddings ? null : nn.Linear(c.DModel, c.TargetVocabulary),
            c.TieEmbeddings ? nn.Parameter(torch.zeros(c.TargetVocabulary)) : null);
    }

    /// <summary>Glorot/Xavier uniform for every matrix, as the Annotated Transformer and PyTorch's nn.Transformer do; padding rows stay zero.</summary>
    public static void InitialiseWeights(nn.Module model, long padId, params TokenEmbedding[] embeddings)
    {
        using var _ = torch.no_grad();
        foreach (var (_, p) in model.named_parameters())
            if (p.dim() > 1) nn.init.xavier_uniform_(p);
        foreach (var embedding in embeddings) embedding.Weight[padId].zero_();
    }
}
