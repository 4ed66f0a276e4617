using System.Text.Json.Serialization;
using TransformerLab.Attention;

namespace TransformerLab.Model;

/// <summary>
/// Marks a configuration property that the data determine (vocabulary sizes, padding id, positions), not a choice of the
/// experimenter: it is not a <c>key=value</c> setting, and training fills it in from the task's data.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class FromDataAttribute : Attribute;

/// <summary>
/// Everything that defines an encoder–decoder Transformer: declared once, here. Training settings hold one
/// (<c>TrainingSettings.Model</c>), and each choice below is also a <c>key=value</c> setting of that name in snake_case.
/// Defaults are a small Post-LN model, the paper's block; the paper's base model is d_model 512, 8 heads, d_ff 2048,
/// 6 + 6 layers, dropout 0.1.
/// </summary>
public sealed record TransformerConfig
{
    /// <summary>Source vocabulary size, from the data.</summary>
    [FromData] public long SourceVocabulary { get; init; }
    /// <summary>Target vocabulary size, from the data.</summary>
    [FromData] public long TargetVocabulary { get; init; }
    /// <summary>Width of every token representation (d_model).</summary>
    public long DModel { get; init; } = 128;
    /// <summary>Attention heads per layer; each gets d_model / heads dimensions.</summary>
    public long Heads { get; init; } = 4;
    /// <summary>Inner width of the position-wise feed-forward layer (d_ff).</summary>
    [JsonPropertyName("d_ff")] public long DFF { get; init; } = 512;
    /// <summary>Encoder layers (N of the paper, encoder side).</summary>
    public int EncoderLayers { get; init; } = 2;
    /// <summary>Decoder layers (N of the paper, decoder side).</summary>
    public int DecoderLayers { get; init; } = 2;
    /// <summary>Dropout on embeddings, sublayer outputs and the feed-forward layer (the paper's P_drop).</summary>
    public double Dropout { get; init; } = 0.1;
    /// <summary>Dropout on the attention weights (PyTorch's nn.MultiheadAttention has it; the paper does not mention it).</summary>
    public double AttentionDropout { get; init; } = 0.0;
    /// <summary>LayerNorm after the residual addition (post, the paper) or before the sublayer (pre).</summary>
    public NormPlacement Norm { get; init; } = NormPlacement.Post;
    /// <summary>The normalisation in every block: layer_norm (the paper), or batch_norm to show why not.</summary>
    public NormalizationKind Normalization { get; init; } = NormalizationKind.LayerNorm;
    /// <summary>How positions enter: sinusoidal (the paper), learned embeddings, or none.</summary>
    public PositionalEncodingKind PositionalEncoding { get; init; } = PositionalEncodingKind.Sinusoidal;
    /// <summary>The feed-forward activation.</summary>
    public Activation Activation { get; init; } = Activation.ReLU;
    /// <summary>Share the target embedding with the output projection (Press and Wolf 2017; the paper does).</summary>
    public bool TieEmbeddings { get; init; }
    /// <summary>Positions a learned encoding has, and the longest output decoding may produce.</summary>
    [FromData] public long MaxLength { get; init; } = 256;
    /// <summary>Id of the padding token in both vocabularies.</summary>
    [FromData] public long PadId { get; init; } = 0;
    /// <summary>Mask future positions in decoder self-attention; false only to show what it prevents.</summary>
    /// <remarks>A decoder that sees the next token learns to copy it and fails when decoding on its own.</remarks>
    public bool CausalMask { get; init; } = true;
    /// <summary>The encoder's self-attention: full (the paper's), local (window attention_window), strided (sparse, stride attention_stride), linear (elu+1 kernel) or linformer (rank attention_rank). The decoder's attention stays full.</summary>
    public AttentionKind Attention { get; init; } = AttentionKind.Full;
    /// <summary>Local attention: how far a position may look on each side, r (Table 1's restricted self-attention).</summary>
    public long AttentionWindow { get; init; } = DefaultAttentionParameter;
    /// <summary>Strided attention: the stride of the sparse pattern (Child et al. 2019): each position sees its own block and every stride-th position.</summary>
    public long AttentionStride { get; init; } = DefaultAttentionParameter;
    /// <summary>Linformer attention: the rank k keys and values are projected down to (Wang et al. 2020).</summary>
    public long AttentionRank { get; init; } = DefaultAttentionParameter;

    /// <summary>
    /// The default window, stride and rank. Until issue 37 one key, attention_window, meant all three; runs stored then
    /// keep their keys because a run's identity hashes the kernel's own parameter under that name (<c>RunSpec.Key</c>).
    /// </summary>
    public const long DefaultAttentionParameter = 16;

    /// <summary>The key of the one parameter <paramref name="kind"/> reads (null for full and linear attention, which have none).</summary>
    public static string? ParameterKey(AttentionKind kind) => kind switch
    {
        AttentionKind.Local => "attention_window",
        AttentionKind.Strided => "attention_stride",
        AttentionKind.Linformer => "attention_rank",
        _ => null,
    };

    /// <summary><see cref="ParameterKey(AttentionKind)"/> for a kind as a setting's text ("strided"); null for an unknown one.</summary>
    public static string? ParameterKey(string? kind) =>
        Enum.TryParse<AttentionKind>(kind?.Replace("_", ""), ignoreCase: true, out var parsed) ? ParameterKey(parsed) : null;

    /// <summary>Every problem with this configuration, one sentence each (empty when valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        if (SourceVocabulary <= 0) p.Add($"source_vocabulary must be positive (got {SourceVocabulary}).");
        if (TargetVocabulary <= 0) p.Add($"target_vocabulary must be positive (got {TargetVocabulary}).");
        p.AddRange(ChoiceProblems());
        if (MaxLength < 1) p.Add($"max_length must be at least 1 (got {MaxLength}).");
        if (PadId < 0 || PadId >= Math.Min(SourceVocabulary, TargetVocabulary))
            p.Add($"pad_id ({PadId}) must be a valid id in both vocabularies ({SourceVocabulary} source, {TargetVocabulary} target).");
        return p;
    }

    /// <summary>The problems of the experimenter's choices alone (every property but the <see cref="FromDataAttribute"/> ones): what settings can check before any data is loaded.</summary>
    public IReadOnlyList<string> ChoiceProblems()
    {
        var p = new List<string>();
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
        if (AttentionWindow < 1) p.Add($"attention_window must be at least 1 (got {AttentionWindow}).");
        if (AttentionStride < 1) p.Add($"attention_stride must be at least 1 (got {AttentionStride}).");
        if (AttentionRank < 1) p.Add($"attention_rank must be at least 1 (got {AttentionRank}).");
        // attention_window once meant the stride and the rank too: refuse it where it would now be silently unused
        if (Attention is AttentionKind.Strided or AttentionKind.Linformer && AttentionWindow != DefaultAttentionParameter
            && (Attention == AttentionKind.Strided ? AttentionStride : AttentionRank) == DefaultAttentionParameter)
            p.Add($"attention_window ({AttentionWindow}) is local attention's window; attention={Attention.ToString().ToLowerInvariant()} reads {ParameterKey(Attention)} — set {ParameterKey(Attention)}={AttentionWindow}.");
        if (Attention != AttentionKind.Full && AttentionDropout > 0) p.Add($"attention_dropout applies to full attention's weights; attention={Attention.ToString().ToLowerInvariant()} has none (set attention_dropout=0).");
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
