using System.Text.Json.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Model.Convolutional;

/// <summary>What a convolutional baseline chooses beyond the sizes it shares with the Transformer.</summary>
public sealed record ConvolutionalChoices
{
    /// <summary>Width k of every convolution (odd, so the encoder's window is centred).</summary>
    [JsonPropertyName("cnn_kernel")] public int Kernel { get; init; } = 3;
    /// <summary>Dilation base: layer l dilates by base^l (1 = contiguous kernels; 2 = the receptive field doubles with each layer).</summary>
    [JsonPropertyName("cnn_dilation")] public int Dilation { get; init; } = 1;

    public IEnumerable<string> Problems()
    {
        if (Kernel < 1 || Kernel % 2 == 0) yield return $"cnn_kernel must be odd and at least 1, so the encoder's window is centred (got {Kernel}).";
        if (Dilation < 1) yield return $"cnn_dilation must be at least 1 (got {Dilation}).";
    }
}

/// <summary>
/// The convolutional encoder–decoder of Gehring et al. (2017, ConvS2S), reduced to its parts: token plus learned position
/// embeddings; encoder blocks of a 1-D convolution with a gated linear unit (GLU, Dauphin et al. 2017) and a residual
/// connection scaled by √0.5; decoder blocks of a <i>causal</i> convolution (padded on the left only, so position t sees
/// t and before), GLU, and dot-product attention to the encoder output (Gehring et al. add the source embedding to the
/// attention's values; here keys and values are both the encoder output, the memory every architecture hands its decoder);
/// a linear output layer. Sizes come from the same <see cref="TransformerConfig"/> as the Transformer (d_model,
/// encoder_layers, decoder_layers, dropout, tie_embeddings). Output t depends on input 0 only once the layers' receptive
/// field reaches it: (k − 1)/2 · Σ dilations positions per side in the encoder — O(n/k) layers, or O(log n) dilated.
/// Decoding one token re-runs the decoder over the prefix (a per-layer cache of the last k − 1 inputs would avoid it).
/// </summary>
public sealed class ConvolutionalEncoderDecoder : SequenceToSequence
{
    readonly Embedding sourceTokens, sourcePositions, targetTokens, targetPositions;
    readonly ModuleList<Conv1d> encoderConvolutions, decoderConvolutions;
    readonly ModuleList<Linear> attentionQueries, attentionOutputs;
    readonly Linear? output;
    readonly Parameter? outputBias;
    readonly Dropout dropout;
    readonly long[] dilations;
    static readonly double Half = Math.Sqrt(0.5);

    public TransformerConfig Config { get; }
    public ConvolutionalChoices Choices { get; }

    public ConvolutionalEncoderDecoder(TransformerConfig config, ConvolutionalChoices choices) : base(nameof(ConvolutionalEncoderDecoder))
    {
        Config = config.Validate();
        Choices = choices;
        if (choices.Problems().FirstOrDefault() is { } problem) throw new ArgumentException(problem);
        long d = config.DModel, k = choices.Kernel;
        sourceTokens = nn.Embedding(config.SourceVocabulary, d, padding_idx: config.PadId);
        sourcePositions = nn.Embedding(config.MaxLength, d);
        targetTokens = nn.Embedding(config.TargetVocabulary, d, padding_idx: config.PadId);
        targetPositions = nn.Embedding(config.MaxLength, d);
        dilations = Enumerable.Range(0, Math.Max(config.EncoderLayers, config.DecoderLayers)).Select(l => (long)Math.Pow(choices.Dilation, l)).ToArray();
        // conv d → 2d: GLU halves it back to d. Encoder: centred padding; decoder: none here, the input is left-padded in Causal.
        encoderConvolutions = nn.ModuleList(Enumerable.Range(0, config.EncoderLayers)
            .Select(l => nn.Conv1d(d, 2 * d, k, padding: (k - 1) / 2 * dilations[l], dilation: dilations[l])).ToArray());
        decoderConvolutions = nn.ModuleList(Enumerable.Range(0, config.DecoderLayers).Select(l => nn.Conv1d(d, 2 * d, k, dilation: dilations[l])).ToArray());
        attentionQueries = nn.ModuleList(Enumerable.Range(0, config.DecoderLayers).Select(_ => nn.Linear(d, d)).ToArray());
        attentionOutputs = nn.ModuleList(Enumerable.Range(0, config.DecoderLayers).Select(_ => nn.Linear(d, d)).ToArray());
        if (config.TieEmbeddings) outputBias = nn.Parameter(torch.zeros(config.TargetVocabulary));
        else output = nn.Linear(d, config.TargetVocabulary);
        dropout = nn.Dropout(config.Dropout);
        RegisterComponents();
        using (torch.no_grad())
            foreach (var embedding in new[] { sourceTokens, sourcePositions, targetTokens, targetPositions })
            {
                nn.init.normal_(embedding.weight!, 0, 0.1);
                if (embedding == sourceTokens || embedding == targetTokens) embedding.weight![config.PadId].zero_();
            }
    }

    public override Parameter SourceEmbedding => sourceTokens.weight!;
    public override long TargetVocabulary => Config.TargetVocabulary;
    public override long MaxOutputLength => Config.MaxLength - 1;
    public override IReadOnlyList<Parameter> ParametersInSeedOrder() => parameters().ToList();

    /// <summary>Token plus position embeddings <c>[batch, time, d_model]</c>.</summary>
    static Tensor Embed(Embedding tokens, Embedding positions, Tensor ids) =>
        tokens.forward(ids) + positions.forward(torch.arange(ids.shape[1], device: ids.device)).unsqueeze(0);

    /// <summary>Memory = the last encoder block's output <c>[batch, source time, d_model]</c>, zero at padding.</summary>
    public override EncodedSource Encode(Tensor source)
    {
        using var scope = NewDisposeScope();
        var x = dropout.forward(Embed(sourceTokens, sourcePositions, source));
        var real = source.ne(Config.PadId).unsqueeze(2).to(x.dtype);   // [batch, time, 1]
        foreach (var convolution in encoderConvolutions)
        {
            var y = Glu(convolution.forward((dropout.forward(x) * real).transpose(1, 2))).transpose(1, 2); // padding is zero before each convolution
            x = (x + y) * Half;
        }
        return new EncodedSource(source.alias(), x * real, source.ne(Config.PadId).unsqueeze(1).unsqueeze(1)).MoveToOuterDisposeScope();
    }

    /// <summary>GLU over channels: the first half gated by the sigmoid of the second.</summary>
    static Tensor Glu(Tensor x) => nn.functional.glu(x, dim: 1);

    public override Tensor Decode(Tensor targetInput, EncodedSource source) => Decode(targetInput, source.Memory, source.Mask);

    Tensor Decode(Tensor targetInput, Tensor memory, Tensor sourceMask)
    {
        using var scope = NewDisposeScope();
        var g = dropout.forward(Embed(targetTokens, targetPositions, targetInput));
        var padding = sourceMask.view(memory.shape[0], 1, -1).logical_not();   // [batch, 1, source time]
        var x = g;
        for (int l = 0; l < decoderConvolutions.Count; l++)
        {
            var left = (Choices.Kernel - 1) * dilations[l];                  // causal: pad only the past
            var h = Glu(decoderConvolutions[l].forward(nn.functional.pad(dropout.forward(x).transpose(1, 2), [left, 0]))).transpose(1, 2);
            var query = (attentionQueries[l].forward(h) + g) * Half;
            var weights = torch.bmm(query, memory.transpose(1, 2)).masked_fill(padding, double.NegativeInfinity).softmax(-1);
            var context = attentionOutputs[l].forward(torch.bmm(weights, memory));
            h = (h + context) * Half;
            x = (x + h) * Half;
        }
        var logits = output is not null ? MixedPrecision.Linear(output, dropout.forward(x)) : MixedPrecision.Linear(dropout.forward(x), targetTokens.weight!, outputBias);
        return logits.MoveToOuterDisposeScope();
    }

    public override IDecoderState StartDecoding(EncodedSource source) => new PrefixState(source.Memory, source.Mask);

    /// <summary>Appends the token to the prefix and runs the decoder over it: the last position's logits.</summary>
    public override Tensor DecodeStep(Tensor tokens, IDecoderState decoderState)
    {
        var state = (PrefixState)decoderState;
        using var scope = NewDisposeScope();
        state.Append(tokens.dim() == 1 ? tokens.unsqueeze(1) : tokens);
        return Decode(state.Prefix!, state.Memory, state.SourceMask).select(1, -1).MoveToOuterDisposeScope();
    }

    /// <summary>The convolutional decoder's state: the memory, and every token fed so far <c>[batch, steps]</c>.</summary>
    sealed class PrefixState : IDecoderState
    {
        public Tensor Memory { get; private set; }
        public Tensor SourceMask { get; private set; }
        public Tensor? Prefix { get; private set; }

        public PrefixState(Tensor memory, Tensor sourceMask) =>
            (Memory, SourceMask) = (memory.alias().DetachFromDisposeScope(), sourceMask.alias().DetachFromDisposeScope());

        public void Append(Tensor column)
        {
            var grown = (Prefix is null ? column.clone() : torch.cat([Prefix, column], 1)).DetachFromDisposeScope();
            Prefix?.Dispose();
            Prefix = grown;
        }

        public void Reorder(Tensor indices)
        {
            Tensor Select(Tensor t) { var s = t.index_select(0, indices).DetachFromDisposeScope(); t.Dispose(); return s; }
            (Memory, SourceMask) = (Select(Memory), Select(SourceMask));
            if (Prefix is not null) Prefix = Select(Prefix);
        }

        public void Dispose() { Memory.Dispose(); SourceMask.Dispose(); Prefix?.Dispose(); }
    }
}
