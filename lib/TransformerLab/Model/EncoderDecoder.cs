using TorchSharp;
using TorchSharp.Modules;
using TransformerLab.Attention;
using TransformerLab.Data;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>
/// The encoder–decoder Transformer of Vaswani et al. (2017), figure 1: an encoder stack over the source, a decoder
/// stack over the shifted-right target with cross-attention to the encoder, and a linear projection to logits.
/// Post-LN or Pre-LN (<see cref="NormPlacement"/>); sinusoidal, learned or no positional encoding. With an
/// <see cref="ExtendedVocabulary"/> it also copies (See et al. 2017): a <see cref="PointerGenerator"/> mixes the output
/// layer's distribution with the last decoder layer's cross-attention over the source's words, and Decode returns
/// log-probabilities over the extended vocabulary instead of logits (softmax leaves them unchanged, so every decoder and
/// loss treats them alike).
/// </summary>
public sealed class EncoderDecoder : SequenceToSequence
{
    readonly Encoder encoder;
    readonly Decoder decoder;
    readonly OutputHead output;
    readonly PointerGenerator? pointer; // null: the paper's output layer alone
    readonly ExtendedVocabulary? copy;

    public TransformerConfig Config { get; }

    /// <param name="copy">the vocabularies a copying model maps source words through; null: no copy mechanism.</param>
    public EncoderDecoder(TransformerConfig config, ExtendedVocabulary? copy = null) : base(nameof(EncoderDecoder))
    {
        Config = config.Validate();
        (encoder, decoder, output) = Initialisation.Build(config);
        Initialisation.Glorot(encoder, decoder, output, Config.PadId);
        if (copy is not null)
        {
            if (copy.Source.Count != Config.SourceVocabulary || copy.Target.Count != Config.TargetVocabulary)
                throw new ArgumentException($"the copy vocabularies ({copy.Source.Count} source, {copy.Target.Count} target symbols) do not match the model's ({Config.SourceVocabulary}, {Config.TargetVocabulary}).");
            // made and drawn after everything else, so a seed gives the rest of the model the same weights as without copying
            (pointer, this.copy) = (new PointerGenerator(Config.DModel), copy);
            using (torch.no_grad()) nn.init.xavier_uniform_(pointer.Gate.weight!);
        }
        RegisterComponents();
    }

    nn.Module[] Others => pointer is null ? [] : [pointer];

    /// <summary>Every parameter, in the order a seed draws them (<see cref="Initialisation.SeedOrder"/>): what the optimiser is given.</summary>
    public override IReadOnlyList<Parameter> ParametersInSeedOrder() => Initialisation.SeedOrder(encoder, decoder, output, Others);

    public override ExtendedVocabulary? CopyVocabulary => copy;
    /// <summary>The copy mechanism's gate; null when the model does not copy.</summary>
    public PointerGenerator? Pointer => pointer;

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
    /// <param name="source"><c>[batch, source time]</c> ids, padded with <see cref="TransformerConfig.PadId"/>; a copying
    /// model also takes a row's own unseen words (ids ≥ the source vocabulary), which the encoder reads as UNK.</param>
    /// <returns>the tokens, memory <c>[batch, source time, d_model]</c> and its mask <c>[batch, 1, 1, source time]</c> (true = real token).</returns>
    public override EncodedSource Encode(Tensor source)
    {
        using var scope = NewDisposeScope();
        var (memory, mask) = encoder.forward(copy is null ? source : Known(source, Config.SourceVocabulary));
        return new EncodedSource(source.alias(), memory, mask).MoveToOuterDisposeScope();
    }

    /// <summary>Ids the embedding has: an id of the extended vocabulary beyond <paramref name="vocabulary"/> is read as UNK (See et al.).</summary>
    static Tensor Known(Tensor ids, long vocabulary) => ids.masked_fill(ids.ge(vocabulary), Vocabulary.Unk);

    public override Parameter SourceEmbedding => encoder.Embedding.Weight;
    public override long TargetVocabulary => Config.TargetVocabulary;
    public override long MaxOutputLength => Config.MaxLength - 1;

    /// <summary>Decodes a whole target at once (teacher forcing), under the causal mask.</summary>
    /// <param name="targetInput"><c>[batch, target time]</c>: BOS followed by the target, shifted right.</param>
    /// <param name="source">from <see cref="Encode"/>.</param>
    /// <returns>logits <c>[batch, target time, target vocabulary]</c>; for a copying model log-probabilities <c>[batch, target time, extended vocabulary]</c>.</returns>
    public override Tensor Decode(Tensor targetInput, EncodedSource source)
    {
        using var scope = NewDisposeScope();
        return TeacherForced(targetInput, source).Output.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Decode"/>, and the attention its last decoder layer paid to the source in that pass: what an auxiliary
    /// loss on the alignment reads (guided attention), with its gradient. A copying model's pointer reads the same tensor,
    /// so the two can be combined.
    /// </summary>
    /// <returns>logits as <see cref="Decode"/> returns them, and the cross-attention weights <c>[batch, heads, target time, source time]</c>.</returns>
    public (Tensor Logits, Tensor CrossAttention) DecodeWithAttention(Tensor targetInput, EncodedSource source)
    {
        using var scope = NewDisposeScope();
        var (output, _, attention) = TeacherForced(targetInput, source, keepAttention: true);
        return (output.MoveToOuterDisposeScope(), attention!.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// p_gen, the probability of generating rather than copying, at every position of a teacher-forced pass (eval mode,
    /// no gradient): <c>[batch, target time]</c>. Only for a copying model.
    /// </summary>
    public Tensor GenerationProbability(Tensor source, Tensor targetInput)
    {
        if (copy is null) throw new InvalidOperationException("GenerationProbability needs a copying model (copy=true).");
        var wasTraining = training;
        eval();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = torch.no_grad();
            return TeacherForced(targetInput, Encode(source)).PGen!.MoveToOuterDisposeScope();
        }
        finally { train(wasTraining); }
    }

    /// <summary>
    /// The decoder over the whole target under its mask, then the output layer, and the pointer when the model copies.
    /// The last layer's cross-attention comes back from the decoder's forward pass when the pointer needs it or
    /// <paramref name="keepAttention"/> asks for it.
    /// </summary>
    (Tensor Output, Tensor? PGen, Tensor? Attention) TeacherForced(Tensor targetInput, EncodedSource source, bool keepAttention = false)
    {
        if (copy is not null) targetInput = Known(targetInput, Config.TargetVocabulary);
        var targetMask = Config.CausalMask ? Masks.Decoder(targetInput, Config.PadId) : Masks.Padding(targetInput, Config.PadId);
        var x = decoder.Embed(targetInput);
        var (y, attention) = decoder.Forward(x, source.Memory, targetMask, source.Mask, caches: null, needCrossWeights: copy is not null || keepAttention);
        var logits = output.forward(y);
        if (copy is null) return (logits, null, attention);
        var (mixed, pGen) = Point(logits, y, x, source.Memory, CopyIds(source.Tokens), attention!);
        return (mixed, pGen, attention);
    }

    /// <summary>The pointer-generator over the last decoder layer's cross-attention (averaged over heads).</summary>
    (Tensor LogProbabilities, Tensor PGen) Point(Tensor logits, Tensor state, Tensor input, Tensor memory, (Tensor Ids, long Width) copyIds, Tensor attention) =>
        pointer!.forward(logits, attention.mean([1L]), state, memory, input, copyIds.Ids, copyIds.Width);

    /// <summary>
    /// The source's tokens as ids of the extended target vocabulary (<see cref="ExtendedVocabulary.CopyMap"/>; a row's own
    /// unseen word V_t + its index), and the extended vocabulary's width for these rows.
    /// </summary>
    (Tensor Ids, long Width) CopyIds(Tensor tokens)
    {
        long sourceVocabulary = Config.SourceVocabulary, targetVocabulary = Config.TargetVocabulary;
        var map = torch.tensor(copy!.CopyMap, device: tokens.device);
        var known = tokens.lt(sourceVocabulary);
        var ids = torch.where(known, map.index_select(0, tokens.clamp_max(sourceVocabulary - 1).flatten()).view_as(tokens), tokens - sourceVocabulary + targetVocabulary);
        var rowWords = Math.Max(0, tokens.max().item<long>() - sourceVocabulary + 1);
        return (ids, targetVocabulary + rowWords);
    }

    /// <summary>Starts step-by-step decoding over an encoded source; dispose the state when done.</summary>
    public override DecoderState StartDecoding(EncodedSource source)
    {
        using var scope = NewDisposeScope();
        (Tensor Ids, long Width)? copyIds = copy is null ? null : CopyIds(source.Tokens);
        return new(source, DecoderLayers.Count, copyIds);
    }

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
        if (copy is not null) step = Known(step, Config.TargetVocabulary);
        var x = decoder.Embed(step, state.Position);
        var (y, attention) = decoder.Forward(x, state.Source.Memory, targetMask: null, state.Source.Mask, state.Layers, needCrossWeights: state.CopyIds is not null);
        state.Advance();
        var logits = output.forward(y);
        if (state.CopyIds is { } copyIds) logits = Point(logits, y, x, state.Source.Memory, copyIds, attention!).LogProbabilities;
        return logits.squeeze(1).MoveToOuterDisposeScope();
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

/// <summary>The state of step-by-step decoding: the encoded source, per-layer caches, the next position, and — for a copying model — the source's ids in the extended vocabulary.</summary>
public sealed class DecoderState : IDecoderState
{
    internal DecoderState(EncodedSource source, int layers, (Tensor Ids, long Width)? copyIds)
    {
        Source = source.Detached();
        Layers = Enumerable.Range(0, layers).Select(_ => new LayerCache()).ToArray();
        CopyIds = copyIds is { } c ? (c.Ids.DetachFromDisposeScope(), c.Width) : null;
    }

    public EncodedSource Source { get; private set; }
    public IReadOnlyList<LayerCache> Layers { get; }
    /// <summary>The source's tokens in the extended vocabulary <c>[batch, source time]</c> and its width; null when the model does not copy.</summary>
    public (Tensor Ids, long Width)? CopyIds { get; private set; }
    /// <summary>Position of the next token to be fed.</summary>
    public long Position { get; private set; }

    internal void Advance() => Position++;

    /// <summary>Keeps batch rows <paramref name="indices"/> (<c>[new batch]</c>) in every cache: beam search reorders and prunes hypotheses.</summary>
    public void Reorder(Tensor indices)
    {
        foreach (var layer in Layers) layer.Reorder(indices);
        using (var rows = Source.Rows(indices)) { Source.Dispose(); Source = rows.Detached(); }
        if (CopyIds is { } c)
        {
            var ids = c.Ids.index_select(0, indices).DetachFromDisposeScope();
            c.Ids.Dispose();
            CopyIds = (ids, c.Width);
        }
    }

    public void Dispose()
    {
        foreach (var layer in Layers) layer.Dispose();
        Source.Dispose();
        CopyIds?.Ids.Dispose();
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
