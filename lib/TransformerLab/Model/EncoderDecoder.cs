using TorchSharp;
using TorchSharp.Modules;
using TransformerLab.Attention;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>
/// The encoder–decoder Transformer of Vaswani et al. (2017), figure 1: an encoder stack over the source, a decoder
/// stack over the shifted-right target with cross-attention to the encoder, and a linear projection to logits.
/// Post-LN or Pre-LN (<see cref="NormPlacement"/>); sinusoidal, learned or no positional encoding.
/// </summary>
public sealed class EncoderDecoder : SequenceToSequence
{
    readonly Encoder encoder;
    readonly Decoder decoder;
    readonly OutputHead output;

    public TransformerConfig Config { get; }

    public EncoderDecoder(TransformerConfig config) : base(nameof(EncoderDecoder))
    {
        Config = config.Validate();
        (encoder, decoder, output) = Initialisation.Build(config);
        RegisterComponents();
        Initialisation.Glorot(encoder, decoder, output, Config.PadId);
    }

    /// <summary>Every parameter, in the order a seed draws them (<see cref="Initialisation.SeedOrder"/>): what the optimiser is given.</summary>
    public override IReadOnlyList<Parameter> ParametersInSeedOrder() => Initialisation.SeedOrder(encoder, decoder, output, []);

    public Encoder Encoder => encoder;
    public Decoder Decoder => decoder;
    public IReadOnlyList<EncoderLayer> EncoderLayers => encoder.Layers;
    public IReadOnlyList<DecoderLayer> DecoderLayers => decoder.Layers;

    /// <summary>Every attention module, tagged with its stack, layer and kind.</summary>
    public IEnumerable<(string Kind, int Layer, MultiHeadAttention Module)> AttentionModules()
    {
        for (int i = 0; i < EncoderLayers.Count; i++) yield return ("encoder self", i, EncoderLayers[i].SelfAttention);
        for (int i = 0; i < DecoderLayers.Count; i++)
        {
            yield return ("decoder self", i, DecoderLayers[i].SelfAttention);
            yield return ("cross", i, DecoderLayers[i].CrossAttention);
        }
    }

    /// <summary>Encodes the source.</summary>
    /// <param name="source"><c>[batch, source time]</c> ids, padded with <see cref="TransformerConfig.PadId"/>.</param>
    /// <returns>memory <c>[batch, source time, d_model]</c> and its mask <c>[batch, 1, 1, source time]</c> (true = real token).</returns>
    public override (Tensor Memory, Tensor SourceMask) Encode(Tensor source) => encoder.forward(source);

    public override Parameter SourceEmbedding => encoder.Embedding.Weight;
    public override long TargetVocabulary => Config.TargetVocabulary;
    public override long MaxOutputLength => Config.MaxLength - 1;

    /// <summary>Decodes a whole target at once (teacher forcing), under the causal mask.</summary>
    /// <param name="targetInput"><c>[batch, target time]</c>: BOS followed by the target, shifted right.</param>
    /// <param name="memory"><c>[batch, source time, d_model]</c> from <see cref="Encode"/>.</param>
    /// <param name="sourceMask"><c>[batch, 1, 1, source time]</c> from <see cref="Encode"/>.</param>
    /// <returns>logits <c>[batch, target time, target vocabulary]</c>.</returns>
    public override Tensor Decode(Tensor targetInput, Tensor memory, Tensor sourceMask)
    {
        using var scope = NewDisposeScope();
        var targetMask = Config.CausalMask ? Masks.Decoder(targetInput, Config.PadId) : Masks.Padding(targetInput, Config.PadId);
        var y = decoder.forward(decoder.Embed(targetInput), memory, targetMask, sourceMask);
        return output.forward(y).MoveToOuterDisposeScope();
    }

    /// <summary>Starts step-by-step decoding over an encoded source; dispose the state when done.</summary>
    public override DecoderState StartDecoding(Tensor memory, Tensor sourceMask) => new(memory, sourceMask, DecoderLayers.Count);

    /// <summary>
    /// One decoding step with the key/value cache: only the new token is embedded and projected; self-attention
    /// reads the earlier steps' keys and values from the cache, so step t costs O(t) instead of re-running the prefix.
    /// </summary>
    /// <param name="tokens"><c>[batch]</c> or <c>[batch, 1]</c>: the token just produced (BOS at the first step).</param>
    /// <returns>logits <c>[batch, target vocabulary]</c> for the next token.</returns>
    public override Tensor DecodeStep(Tensor tokens, IDecoderState decoderState)
    {
        var state = (DecoderState)decoderState;
        using var scope = NewDisposeScope();
        var step = tokens.dim() == 1 ? tokens.unsqueeze(1) : tokens;
        var y = decoder.forward(decoder.Embed(step, state.Position), state.Memory, targetMask: null, state.SourceMask, state.Layers);
        state.Advance();
        return output.forward(y).squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per-layer, per-head attention weights of one teacher-forced forward pass (eval mode, no gradient), for plots.
    /// Each tensor is <c>[batch, heads, query time, key time]</c>.
    /// </summary>
    public AttentionMaps RecordAttention(Tensor source, Tensor targetInput)
    {
        var wasTraining = training;
        eval();
        var modules = AttentionModules().ToList();
        try
        {
            foreach (var (_, _, m) in modules) m.RecordWeights = true;
            using (torch.no_grad()) forward(source, targetInput).Dispose();
            List<Tensor> Of(string kind) => modules.Where(m => m.Kind == kind).Select(m => m.Module.LastWeights!.alias().DetachFromDisposeScope()).ToList();
            return new AttentionMaps(Of("encoder self"), Of("decoder self"), Of("cross"));
        }
        finally
        {
            foreach (var (_, _, m) in modules) { m.RecordWeights = false; m.ClearWeights(); }
            train(wasTraining);
        }
    }
}

/// <summary>The state of step-by-step decoding: encoder output, per-layer caches and the next position.</summary>
public sealed class DecoderState : IDecoderState
{
    internal DecoderState(Tensor memory, Tensor sourceMask, int layers)
    {
        Memory = memory.alias().DetachFromDisposeScope();
        SourceMask = sourceMask.alias().DetachFromDisposeScope();
        Layers = Enumerable.Range(0, layers).Select(_ => new LayerCache()).ToArray();
    }

    /// <summary><c>[batch, source time, d_model]</c></summary>
    public Tensor Memory { get; private set; }
    /// <summary><c>[batch, 1, 1, source time]</c></summary>
    public Tensor SourceMask { get; private set; }
    public IReadOnlyList<LayerCache> Layers { get; }
    /// <summary>Position of the next token to be fed.</summary>
    public long Position { get; private set; }

    internal void Advance() => Position++;

    /// <summary>Keeps batch rows <paramref name="indices"/> (<c>[new batch]</c>) in every cache: beam search reorders and prunes hypotheses.</summary>
    public void Reorder(Tensor indices)
    {
        foreach (var layer in Layers) layer.Reorder(indices);
        var memory = Memory.index_select(0, indices).DetachFromDisposeScope();
        var mask = SourceMask.index_select(0, indices).DetachFromDisposeScope();
        Memory.Dispose();
        SourceMask.Dispose();
        (Memory, SourceMask) = (memory, mask);
    }

    public void Dispose()
    {
        foreach (var layer in Layers) layer.Dispose();
        Memory.Dispose();
        SourceMask.Dispose();
    }
}

/// <summary>Attention weights by layer, each <c>[batch, heads, query time, key time]</c>. Dispose to free them.</summary>
public sealed record AttentionMaps(IReadOnlyList<Tensor> EncoderSelf, IReadOnlyList<Tensor> DecoderSelf, IReadOnlyList<Tensor> Cross) : IDisposable
{
    public void Dispose()
    {
        foreach (var t in EncoderSelf.Concat(DecoderSelf).Concat(Cross)) t.Dispose();
    }
}
