namespace TransformerLab.Model;

/// <summary>
/// Everything that defines an encoder–decoder Transformer. Defaults are a small model for this workspace's tasks;
/// the paper's base model is d_model 512, 8 heads, d_ff 2048, 6 + 6 layers, dropout 0.1.
/// </summary>
public sealed record TransformerConfig
{
    public long SourceVocabulary { get; init; }
    public long TargetVocabulary { get; init; }
    public long DModel { get; init; } = 128;
    public long Heads { get; init; } = 4;
    public long DFF { get; init; } = 512;
    public int EncoderLayers { get; init; } = 2;
    public int DecoderLayers { get; init; } = 2;
    /// <summary>Dropout on each sub-layer's output and on the embeddings (the paper's P_drop).</summary>
    public double Dropout { get; init; } = 0.1;
    /// <summary>Dropout on attention weights (PyTorch's nn.MultiheadAttention has it; the paper does not mention it).</summary>
    public double AttentionDropout { get; init; } = 0.0;
    public NormPlacement Norm { get; init; } = NormPlacement.Post;
    /// <summary>LayerNorm (the paper); BatchNorm only to show why not.</summary>
    public NormalizationKind Normalization { get; init; } = NormalizationKind.LayerNorm;
    public PositionalEncodingKind PositionalEncoding { get; init; } = PositionalEncodingKind.Sinusoidal;
    public Activation Activation { get; init; } = Activation.ReLU;
    /// <summary>Share the target embedding matrix with the output projection (Press &amp; Wolf 2017; the paper does).</summary>
    public bool TieTargetEmbeddings { get; init; }
    /// <summary>Positions a learned encoding has, and the longest output decoding may produce.</summary>
    public long MaxLength { get; init; } = 256;
    /// <summary>Id of the padding token in both vocabularies.</summary>
    public long PadId { get; init; } = 0;
    /// <summary>
    /// The decoder's look-ahead mask. Always true for a real model; false only to show what it prevents
    /// (a decoder that sees the next token learns to copy it and fails when decoding on its own).
    /// </summary>
    public bool CausalMask { get; init; } = true;

    /// <summary>Every problem with this configuration, one sentence each (empty when valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        if (SourceVocabulary <= 0) p.Add($"source_vocabulary must be positive (got {SourceVocabulary}).");
        if (TargetVocabulary <= 0) p.Add($"target_vocabulary must be positive (got {TargetVocabulary}).");
        if (DModel <= 0) p.Add($"d_model must be positive (got {DModel}).");
        if (Heads <= 0) p.Add($"heads must be positive (got {Heads}).");
        else if (DModel % Heads != 0) p.Add($"d_model ({DModel}) must be divisible by heads ({Heads}).");
        if (PositionalEncoding == PositionalEncodingKind.Sinusoidal && DModel % 2 != 0)
            p.Add($"sinusoidal positional encoding needs an even d_model (got {DModel}).");
        if (DFF <= 0) p.Add($"d_ff must be positive (got {DFF}).");
        if (EncoderLayers < 1) p.Add($"encoder_layers must be at least 1 (got {EncoderLayers}).");
        if (DecoderLayers < 1) p.Add($"decoder_layers must be at least 1 (got {DecoderLayers}).");
        if (Dropout is < 0 or >= 1) p.Add($"dropout must be in [0, 1) (got {Dropout}).");
        if (AttentionDropout is < 0 or >= 1) p.Add($"attention_dropout must be in [0, 1) (got {AttentionDropout}).");
        if (MaxLength < 1) p.Add($"max_length must be at least 1 (got {MaxLength}).");
        if (PadId < 0 || PadId >= Math.Min(SourceVocabulary, TargetVocabulary))
            p.Add($"pad_id ({PadId}) must be a valid id in both vocabularies ({SourceVocabulary} source, {TargetVocabulary} target).");
        return p;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> listing every problem, or returns this configuration.</summary>
    public TransformerConfig Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
            throw new ArgumentException("Invalid Transformer configuration:" + string.Concat(problems.Select(x => Environment.NewLine + "  - " + x)));
        return this;
    }
}
