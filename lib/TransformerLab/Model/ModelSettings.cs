using System.Text.Json.Serialization;
using TransformerLab.Data;
using TransformerLab.Model.Convolutional;
using TransformerLab.Model.Recurrent;

namespace TransformerLab.Model;

/// <summary>
/// Which model a run trains: the Transformer encoder–decoder (autoregressive, the paper's), its non-autoregressive decoder
/// (Gu et al. 2018), the recurrent baseline with attention (rnn; Bahdanau et al. 2015, Luong et al. 2015), or the
/// convolutional baseline (cnn; Gehring et al. 2017).
/// </summary>
public enum Architecture { Autoregressive, NonAutoregressive, Rnn, Cnn }

/// <summary>
/// The model's settings, as <c>--set</c> keys: the architecture, the Transformer's configuration (whose sizes the
/// baselines share), and each architecture's own choices. <see cref="Spec"/> turns them into the
/// <see cref="ModelSpec"/> a checkpoint stores; the positions come from the task.
/// </summary>
public sealed record ModelSettings
{
    /// <summary>autoregressive (the Transformer, the paper's decoder), non_autoregressive (Gu et al. 2018; all positions at once), or a baseline for notebook 09: rnn (recurrent with attention) or cnn (convolutional).</summary>
    public Architecture Architecture { get; init; } = Architecture.Autoregressive;

    /// <summary>
    /// The Transformer's keys (d_model, heads, d_ff, encoder_layers, decoder_layers, dropout, attention_dropout, norm,
    /// normalization, positional_encoding, activation, tie_embeddings, causal_mask, attention, attention_window), declared
    /// and checked once in <see cref="TransformerConfig"/>; the baselines take their sizes from it. Default: the G2P model.
    /// </summary>
    public TransformerConfig Transformer { get; init; } = G2pTransformer;

    /// <summary>
    /// The copy mechanism (See et al. 2017): a pointer-generator output layer that can copy source words — also a row's
    /// words that no vocabulary holds (<see cref="Data.ExtendedVocabulary"/>). Transformer only; off by default.
    /// </summary>
    public bool Copy { get; init; }

    /// <summary>The NAT's own choices (keys nat_decoder_input, length_prediction, nat_max_length), used when <see cref="Architecture"/> is non_autoregressive.</summary>
    public NonAutoregressiveChoices Nat { get; init; } = new();

    /// <summary>The recurrent baseline's own choices (keys rnn_cell, rnn_attention), used when <see cref="Architecture"/> is rnn; its sizes are the Transformer's (d_model, encoder_layers, decoder_layers, dropout, tie_embeddings).</summary>
    public RecurrentChoices Rnn { get; init; } = new();

    /// <summary>The convolutional baseline's own choices (keys cnn_kernel, cnn_dilation), used when <see cref="Architecture"/> is cnn; its sizes are the Transformer's.</summary>
    public ConvolutionalChoices Cnn { get; init; } = new();

    /// <summary>The G2P model of experiments.md: d_model 256, 4 heads, d_ff 1024, 3 + 3 layers, Pre-LN, tied target embeddings.</summary>
    public static TransformerConfig G2pTransformer => new()
    {
        DModel = 256, Heads = 4, DFF = 1024, EncoderLayers = 3, DecoderLayers = 3, Norm = NormPlacement.Pre, TieEmbeddings = true,
    };

    /// <summary>Whether the model decodes token by token (everything but the NAT).</summary>
    public bool IsAutoregressive => Architecture != Architecture.NonAutoregressive;

    /// <summary>The Transformer's keys with <paramref name="positions"/> positions and the padding id; the vocabularies come from the data.</summary>
    public TransformerConfig Shape(long positions) => Transformer with { MaxLength = positions, PadId = Vocabulary.Pad };

    /// <summary>The model these settings describe, with <paramref name="positions"/> positions (the task's): what a checkpoint restores from.</summary>
    public ModelSpec Spec(long positions) => Architecture switch
    {
        Architecture.Autoregressive => new ModelSpec.Transformer(Shape(positions), Copy),
        Architecture.NonAutoregressive => new ModelSpec.NonAutoregressive(new NonAutoregressiveConfig
        {
            Transformer = Shape(positions) with { CausalMask = false },
            DecoderInput = Nat.DecoderInput, Length = Nat.LengthPrediction, MaxTargetLength = Nat.MaxLength,
        }),
        Architecture.Rnn => new ModelSpec.Recurrent(Shape(positions), Rnn),
        Architecture.Cnn => new ModelSpec.Convolutional(Shape(positions), Cnn),
        _ => throw new InvalidOperationException($"unknown architecture {Architecture}."),
    };

    /// <summary>Every problem with these settings for a model of <paramref name="positions"/> positions, one sentence each (the vocabularies are checked when the data gives them).</summary>
    public IEnumerable<string> Problems(long positions)
    {
        foreach (var problem in Transformer.ChoiceProblems()) yield return problem;
        if (Copy && Architecture != Architecture.Autoregressive) yield return "copy is the Transformer's pointer-generator (architecture=autoregressive); the other architectures have no copy mechanism here.";
        if (Architecture == Architecture.Cnn) foreach (var problem in Cnn.Problems()) yield return problem;
        if (Architecture == Architecture.Rnn && Transformer.DModel % 2 != 0) yield return $"the rnn baseline's bidirectional encoder splits d_model in two directions: d_model must be even (got {Transformer.DModel}).";
        if (Architecture == Architecture.NonAutoregressive && Nat.MaxLength < 1) yield return $"nat_max_length must be at least 1 (got {Nat.MaxLength}).";
        if (Architecture == Architecture.NonAutoregressive && Nat.MaxLength + 1 > positions) yield return $"nat_max_length ({Nat.MaxLength}) must be below the model's positions ({positions}).";
    }

    /// <summary>
    /// About how many parameters the model has — every layer's projections and feed-forward weights, the embeddings over
    /// <paramref name="vocabulary"/> words, the positions — before any data is loaded: enough to refuse a run that cannot
    /// fit in memory instead of letting it be killed.
    /// </summary>
    public double ParameterEstimate(double vocabulary, long positions)
    {
        double d = Transformer.DModel, f = Transformer.DFF;
        double layers = Transformer.EncoderLayers * (4 * d * d + 2 * d * f) + Transformer.DecoderLayers * (8 * d * d + 2 * d * f);
        if (Architecture == Architecture.Cnn) layers *= Math.Max(1, Cnn.Kernel);
        return layers + 2 * vocabulary * d + (double)positions * d;
    }
}

/// <summary>What a non-autoregressive model chooses beyond the Transformer itself (Gu et al. 2018): its decoder input, length rule and longest output.</summary>
public sealed record NonAutoregressiveChoices
{
    /// <summary>NAT decoder input before any token is known: the uniform copy of the source embeddings, or positions only.</summary>
    [JsonPropertyName("nat_decoder_input")] public NatDecoderInput DecoderInput { get; init; } = NatDecoderInput.UniformCopy;
    /// <summary>NAT output length: a classifier over the offset from the source length or over the length, or cut at the first EOS.</summary>
    public LengthPrediction LengthPrediction { get; init; } = LengthPrediction.Offset;
    /// <summary>The longest NAT output (length classes; the width cut_at_eos decodes, EOS included).</summary>
    [JsonPropertyName("nat_max_length")] public int MaxLength { get; init; } = 32;
}
