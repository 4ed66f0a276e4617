using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>
/// How the Transformers of this library are built and start. Both are part of what a seed means: parts are made, and
/// their matrices drawn, in the order of figure 1 read across — both embeddings, both positional encodings, the encoder
/// layers, the decoder layers, the final norms, the output head — so the same seed gives the same initial weights to an
/// autoregressive model and a NAT, and to models built before the Encoder/Decoder modules existed (paired-by-seed
/// comparisons with committed runs stay paired).
/// </summary>
public static class Initialisation
{
    /// <summary>The encoder, decoder and output head of <paramref name="c"/>, their parts constructed in the seed's order.</summary>
    public static (Encoder Encoder, Decoder Decoder, OutputHead Output) Build(TransformerConfig c)
    {
        var pre = c.Norm == NormPlacement.Pre;
        var sourceEmbedding = new TokenEmbedding(c.SourceVocabulary, c.DModel, c.PadId);
        var targetEmbedding = new TokenEmbedding(c.TargetVocabulary, c.DModel, c.PadId);
        var sourcePosition = PositionalEncoding.Create(c.PositionalEncoding, c.DModel, c.MaxLength);
        var targetPosition = PositionalEncoding.Create(c.PositionalEncoding, c.DModel, c.MaxLength);
        var (sourceDropout, targetDropout) = (nn.Dropout(c.Dropout), nn.Dropout(c.Dropout));
        var encoderLayers = Enumerable.Range(0, c.EncoderLayers).Select(_ => new EncoderLayer(c)).ToArray();
        var decoderLayers = Enumerable.Range(0, c.DecoderLayers).Select(_ => new DecoderLayer(c)).ToArray();
        var encoderNorm = pre ? Normalization.Create(c.Normalization, c.DModel) : null;
        var decoderNorm = pre ? Normalization.Create(c.Normalization, c.DModel) : null;
        var decoder = new Decoder(targetEmbedding, targetPosition, targetDropout, decoderLayers, decoderNorm);
        return (new Encoder(sourceEmbedding, sourcePosition, sourceDropout, encoderLayers, encoderNorm, c.PadId), decoder, new OutputHead(c, targetEmbedding));
    }

    /// <summary>
    /// Glorot/Xavier uniform for every matrix, as the Annotated Transformer and PyTorch's nn.Transformer do, drawn in the
    /// seed's order (then those of <paramref name="others"/>, e.g. a length classifier); padding rows stay zero.
    /// </summary>
    public static void Glorot(Encoder encoder, Decoder decoder, OutputHead output, long padId, params nn.Module[] others)
    {
        using var _ = torch.no_grad();
        foreach (var p in SeedOrder(encoder, decoder, output, others))
            if (p.dim() > 1) nn.init.xavier_uniform_(p);
        encoder.Embedding.Weight[padId].zero_();
        decoder.Embedding.Weight[padId].zero_();
    }

    /// <summary>
    /// Every parameter in the seed's order. The optimiser and gradient clipping see them in this order too: clipping sums
    /// squared norms over it, and a sum in another order differs in its last bits, which training then amplifies.
    /// </summary>
    public static IReadOnlyList<Parameter> SeedOrder(Encoder encoder, Decoder decoder, OutputHead output, params nn.Module[] others)
    {
        nn.Module?[] parts = [encoder.Embedding, decoder.Embedding, encoder.Position, decoder.Position,
            .. encoder.Layers, .. decoder.Layers, encoder.Norm, decoder.Norm];
        // A tied head is only a bias, which the model held as its own parameter before the Encoder/Decoder modules; TorchSharp
        // lists a module's own parameters before its children's, so that bias came first. Kept, so sums over parameters agree.
        nn.Module?[] order = output.IsTied ? [output, .. parts, .. others] : [.. parts, output, .. others];
        return order.OfType<nn.Module>().SelectMany(m => m.parameters()).ToList();
    }
}
