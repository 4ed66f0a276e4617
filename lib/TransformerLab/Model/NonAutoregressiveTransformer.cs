using TorchSharp;
using TorchSharp.Modules;
using TransformerLab.Attention;
using TransformerLab.Data;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>What the NAT decoder reads at each output position before any output token is known.</summary>
public enum NatDecoderInput
{
    /// <summary>The source embedding at position ⌊j·T_source/T_target⌋ (Gu et al. 2018's uniform copy).</summary>
    UniformCopy,
    /// <summary>Nothing but the position: every query is the same placeholder plus its positional encoding.</summary>
    PositionQueries,
}

/// <summary>How the NAT decides how many tokens to produce.</summary>
public enum LengthPrediction
{
    /// <summary>A classifier over T_target − T_source in [−max, +max], trained jointly.</summary>
    Offset,
    /// <summary>A classifier over T_target in [1, max], trained jointly.</summary>
    Absolute,
    /// <summary>No classifier: decode <see cref="NonAutoregressiveConfig.MaxTargetLength"/> positions and cut at the
    /// first EOS (the second answer of the study notes to "how many BOS tokens?").</summary>
    CutAtEos,
}

/// <summary>A NAT: the Transformer's encoder and decoder layers, a length predictor and parallel decoder inputs.</summary>
public sealed record NonAutoregressiveConfig
{
    /// <summary>Sizes, normalisation and positional encoding, as for the autoregressive model; <c>CausalMask</c> is ignored.</summary>
    public required TransformerConfig Transformer { get; init; }
    public NatDecoderInput DecoderInput { get; init; } = NatDecoderInput.UniformCopy;
    public LengthPrediction Length { get; init; } = LengthPrediction.Offset;
    /// <summary>The longest output: the largest absolute length or offset class, and the width <see cref="LengthPrediction.CutAtEos"/> decodes (EOS included).</summary>
    public int MaxTargetLength { get; init; } = 32;

    /// <summary>Classes of the length classifier (0 for <see cref="LengthPrediction.CutAtEos"/>).</summary>
    public int LengthClasses => Length switch
    {
        LengthPrediction.Offset => 2 * MaxTargetLength + 1,
        LengthPrediction.Absolute => MaxTargetLength + 1, // class 0 exists but is never predicted
        _ => 0,
    };

    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>(Transformer.Problems());
        if (MaxTargetLength < 1) p.Add($"nat_max_length must be at least 1 (got {MaxTargetLength}).");
        if (MaxTargetLength + 1 > Transformer.MaxLength) p.Add($"nat_max_length ({MaxTargetLength}) must be below the model's positions ({Transformer.MaxLength}).");
        return p;
    }
}

/// <summary>
/// The non-autoregressive Transformer (Gu et al. 2018, without fertilities; with the conditional-masked-LM input
/// of Ghazvininejad et al. 2019 for refinement). The encoder is the autoregressive model's; the decoder has no causal
/// mask, so every output position is computed at once from the encoder output and its own input: a placeholder
/// (BOS, "a row of Begin tokens") plus the uniform copy of the source, or the position alone. Positions whose token
/// is already known (during mask-predict refinement, or in training with <c>nat_masking=uniform</c>) add that
/// token's embedding instead of the placeholder's. A classifier over the mean of the encoder output predicts the length.
/// </summary>
public sealed class NonAutoregressiveTransformer : nn.Module
{
    readonly Encoder encoder; // the autoregressive model's module: a teacher's encoder loads here (LoadEncoder)
    readonly Decoder decoder;
    readonly OutputHead output;
    readonly Linear? length_classifier;

    public NonAutoregressiveConfig Config { get; }
    TransformerConfig T => Config.Transformer;

    public NonAutoregressiveTransformer(NonAutoregressiveConfig config) : base(nameof(NonAutoregressiveTransformer))
    {
        var problems = config.Problems();
        if (problems.Count > 0) throw new ArgumentException("Invalid NAT configuration:" + string.Concat(problems.Select(x => Environment.NewLine + "  - " + x)));
        Config = config;
        var c = config.Transformer;
        (encoder, decoder, output) = Initialisation.Build(c);
        if (config.LengthClasses > 0) length_classifier = nn.Linear(c.DModel, config.LengthClasses);
        RegisterComponents();
        Initialisation.Glorot(encoder, decoder, output, c.PadId, length_classifier is null ? [] : [length_classifier]);
    }

    /// <summary>Every parameter, in the order a seed draws them (<see cref="Initialisation.SeedOrder"/>): what the optimiser is given.</summary>
    public IReadOnlyList<Parameter> ParametersInSeedOrder() => Initialisation.SeedOrder(encoder, decoder, output, length_classifier is null ? [] : [length_classifier]);

    public Encoder Encoder => encoder;
    public Decoder Decoder => decoder;

    /// <summary>The placeholder token of positions whose output is not known yet.</summary>
    public const long Placeholder = Vocabulary.Bos;

    /// <summary>Encodes the source exactly as <see cref="EncoderDecoder.Encode"/> does.</summary>
    /// <param name="source"><c>[batch, source time]</c></param>
    /// <returns>memory <c>[batch, source time, d_model]</c>, mask <c>[batch, 1, 1, source time]</c>.</returns>
    public (Tensor Memory, Tensor SourceMask) Encode(Tensor source) => encoder.forward(source);

    /// <summary>Length-classifier logits from the mean of the encoder output over real source positions.</summary>
    /// <returns><c>[batch, length classes]</c></returns>
    public Tensor LengthLogits(Tensor memory, Tensor sourceMask)
    {
        if (length_classifier is null) throw new InvalidOperationException($"This NAT has no length classifier (length_prediction = {Config.Length}).");
        using var scope = NewDisposeScope();
        var real = sourceMask.view(sourceMask.shape[0], -1, 1).to(memory.dtype); // [batch, source time, 1]
        var pooled = (memory * real).sum(1) / real.sum(1).clamp_min(1);
        return length_classifier.forward(pooled).MoveToOuterDisposeScope();
    }

    /// <summary>The length class of each target length, given the source lengths (clamped into range).</summary>
    /// <param name="targetLengths"><c>[batch]</c></param>
    /// <param name="sourceLengths"><c>[batch]</c></param>
    public Tensor LengthClass(Tensor targetLengths, Tensor sourceLengths) => Config.Length switch
    {
        LengthPrediction.Offset => (targetLengths - sourceLengths).clamp(-Config.MaxTargetLength, Config.MaxTargetLength) + Config.MaxTargetLength,
        LengthPrediction.Absolute => targetLengths.clamp(1, Config.MaxTargetLength),
        _ => throw new InvalidOperationException("cut_at_eos predicts no length"),
    };

    /// <summary>
    /// The target length a length class stands for (the inverse of <see cref="LengthClass"/>), or null when it stands for
    /// none in [1, <see cref="NonAutoregressiveConfig.MaxTargetLength"/>] (an offset class that would make the output
    /// empty or too long for this source, or absolute class 0).
    /// </summary>
    public long? LengthOf(long lengthClass, long sourceLength)
    {
        var length = Config.Length switch
        {
            LengthPrediction.Offset => lengthClass - Config.MaxTargetLength + sourceLength,
            LengthPrediction.Absolute => lengthClass,
            _ => throw new InvalidOperationException("cut_at_eos predicts no length"),
        };
        return length >= 1 && length <= Config.MaxTargetLength ? length : null;
    }

    /// <summary>
    /// All output positions at once. Position j of row b exists when <paramref name="tokens"/>[b, j] is not PAD; it
    /// reads <see cref="Placeholder"/> (unknown) or a known token. No causal mask: every position attends to every other.
    /// </summary>
    /// <param name="tokens"><c>[batch, target time]</c>: <see cref="Placeholder"/> or a token where the output exists, PAD beyond its length.</param>
    /// <param name="source"><c>[batch, source time]</c> ids (uniform copy reads their embeddings).</param>
    /// <param name="memory"><c>[batch, source time, d_model]</c></param>
    /// <param name="sourceMask"><c>[batch, 1, 1, source time]</c></param>
    /// <returns>logits <c>[batch, target time, target vocabulary]</c>.</returns>
    public Tensor Decode(Tensor tokens, Tensor source, Tensor memory, Tensor sourceMask)
    {
        using var scope = NewDisposeScope();
        var input = decoder.Embed(tokens, added: Config.DecoderInput == NatDecoderInput.UniformCopy ? UniformCopy(source, tokens) : null);
        var y = decoder.forward(input, memory, Masks.Padding(tokens, T.PadId), sourceMask);
        return output.forward(y).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Gu et al.'s uniform copy: target position j of a row with source length S and target length L reads the
    /// source embedding at ⌊j·S/L⌋; positions beyond L read nothing.
    /// </summary>
    /// <returns><c>[batch, target time, d_model]</c></returns>
    Tensor UniformCopy(Tensor source, Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var beyond = tokens.eq(T.PadId);                                                        // [batch, target time]
        var sourceLengths = source.ne(T.PadId).sum([1L], keepdim: true);                         // [batch, 1]
        var targetLengths = (tokens.shape[1] - beyond.sum([1L], keepdim: true)).clamp_min(1);    // [batch, 1]
        // j < L gives ⌊j·S/L⌋ ≤ S − 1; positions beyond L are zeroed below and only need an index inside the row
        var index = (torch.arange(tokens.shape[1], device: tokens.device) * sourceLengths)
            .div(targetLengths, rounding_mode: RoundingMode.floor).clamp_max(source.shape[1] - 1);
        var copied = encoder.Embedding.forward(source.gather(1, index));
        return copied.masked_fill(beyond.unsqueeze(-1), 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Copies the encoder (embedding, layers, final norm) of an autoregressive model of the same sizes: the shared
    /// encoder, for a NAT initialised from its teacher.
    /// </summary>
    public void LoadEncoder(EncoderDecoder teacher)
    {
        using var _ = torch.no_grad();
        var theirs = teacher.Encoder.state_dict();
        foreach (var (name, p) in encoder.named_parameters())
        {
            if (!theirs.TryGetValue(name, out var t) || !t.shape.SequenceEqual(p.shape))
                throw new ArgumentException($"The teacher has no encoder parameter {name} of shape [{string.Join(", ", p.shape)}]; the encoders differ in size.");
            p.copy_(t);
        }
    }
}
