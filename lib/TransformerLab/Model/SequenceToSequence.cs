using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>
/// The contract every autoregressive encoder–decoder keeps, whatever its layers (Sutskever et al. 2014; Bahdanau et al.
/// 2015; Gehring et al. 2017; Vaswani et al. 2017): encode the source once into a memory the decoder attends to, then
/// model p(y_t | y_&lt;t, x) — all positions at once under teacher forcing (<see cref="Decode"/>), or one token at a time
/// with a state carried between steps (<see cref="DecodeStep"/>). Training, decoding (greedy, beam, sampling) and
/// evaluation see only this, so the Transformer, the recurrent and the convolutional baselines share them.
/// </summary>
public abstract class SequenceToSequence : nn.Module
{
    protected SequenceToSequence(string name) : base(name) { }

    /// <summary>Size of the target vocabulary: the width of the logits.</summary>
    public abstract long TargetVocabulary { get; }

    /// <summary>The longest output decoding may produce (positions the model has, less one).</summary>
    public abstract long MaxOutputLength { get; }

    /// <summary>The source embedding matrix <c>[source vocabulary, d_model]</c>: the inputs x_j every path through the encoder starts from.</summary>
    public abstract TorchSharp.Modules.Parameter SourceEmbedding { get; }

    /// <summary>Encodes the source.</summary>
    /// <param name="source"><c>[batch, source time]</c> ids, padded.</param>
    /// <returns>the source tokens, memory <c>[batch, source time, d_model]</c> and its mask <c>[batch, 1, 1, source time]</c> (true = real token).</returns>
    public abstract EncodedSource Encode(Tensor source);

    /// <summary>Decodes a whole target at once (teacher forcing): position t sees only the target before it.</summary>
    /// <param name="targetInput"><c>[batch, target time]</c>: BOS followed by the target, shifted right.</param>
    /// <returns>logits <c>[batch, target time, output vocabulary]</c> (wider than the target vocabulary for a model that copies: <see cref="Data.ExtendedVocabulary"/>).</returns>
    public abstract Tensor Decode(Tensor targetInput, EncodedSource source);

    /// <summary>Starts step-by-step decoding over an encoded source; dispose the state when done.</summary>
    public abstract IDecoderState StartDecoding(EncodedSource source);

    /// <summary>One decoding step: the token each row produced last in, the next token's logits out.</summary>
    /// <param name="tokens"><c>[batch]</c> or <c>[batch, 1]</c> (BOS at the first step).</param>
    /// <returns>logits <c>[batch, output vocabulary]</c>; equal to <see cref="Decode"/>'s at the same position.</returns>
    public abstract Tensor DecodeStep(Tensor tokens, IDecoderState state);

    /// <summary>
    /// A copying model's extended vocabulary (a pointer-generator's: source words map into it, and a row's unseen words get
    /// ids of their own), owned by the model so that its batches, decoding and evaluation all take it from here; null for
    /// a model that does not copy.
    /// </summary>
    public virtual Data.ExtendedVocabulary? CopyVocabulary => null;

    /// <summary>Whether the model copies source tokens: its batches then carry the rows' own unseen words.</summary>
    public bool CopiesSource => CopyVocabulary is not null;

    /// <summary>Every parameter, in the order a seed draws them: what the optimiser and gradient clipping are given.</summary>
    public abstract IReadOnlyList<TorchSharp.Modules.Parameter> ParametersInSeedOrder();

    /// <summary>Teacher-forced forward pass: <c>[batch, source time]</c>, <c>[batch, target time]</c> → logits <c>[batch, target time, output vocabulary]</c>.</summary>
    public Tensor forward(Tensor source, Tensor targetInput)
    {
        using var scope = NewDisposeScope();
        return Decode(targetInput, Encode(source)).MoveToOuterDisposeScope();
    }
}

/// <summary>What step-by-step decoding carries between steps (a key/value cache, a recurrent state, a prefix).</summary>
public interface IDecoderState : IDisposable
{
    /// <summary>Keeps batch rows <paramref name="indices"/> (<c>[new batch]</c>): beam search reorders and prunes hypotheses.</summary>
    void Reorder(Tensor indices);
}
