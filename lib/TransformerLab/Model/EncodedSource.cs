using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Model;

/// <summary>
/// What the encoder hands the decoder: the memory every cross-attention reads, which of its positions are real, and the
/// source tokens themselves — a copy mechanism (<see cref="PointerGenerator"/>) points at them, the other decoders ignore
/// them. The three travel together so that beam search's reordering or a candidate set's repetition keeps them in step.
/// </summary>
/// <param name="Tokens"><c>[batch, source time]</c>: the ids the encoder read (with a copying model, ids ≥ the source
/// vocabulary name a row's own unseen words: <see cref="Data.ExtendedVocabulary"/>).</param>
/// <param name="Memory"><c>[batch, source time, d_model]</c>: the encoder's output.</param>
/// <param name="Mask"><c>[batch, 1, 1, source time]</c>: true = a real token (may be attended to).</param>
public sealed record EncodedSource(Tensor Tokens, Tensor Memory, Tensor Mask) : IDisposable
{
    public long Batch => Memory.shape[0];

    /// <summary>Rows <paramref name="indices"/> (<c>[new batch]</c>), in that order: beam search's expansion and reordering.</summary>
    public EncodedSource Rows(Tensor indices) => new(Tokens.index_select(0, indices), Memory.index_select(0, indices), Mask.index_select(0, indices));

    /// <summary>Each row <paramref name="times"/> times in a row (row b becomes rows b·times … b·times + times − 1).</summary>
    public EncodedSource Repeated(long times) => new(Tokens.repeat_interleave(times, 0), Memory.repeat_interleave(times, 0), Mask.repeat_interleave(times, 0));

    /// <summary>The same tensors, owned by no dispose scope: a decoding state keeps them across steps and disposes them itself.</summary>
    public EncodedSource Detached() => new(Tokens.alias().DetachFromDisposeScope(), Memory.alias().DetachFromDisposeScope(), Mask.alias().DetachFromDisposeScope());

    /// <summary>Moves the three tensors to the enclosing dispose scope (as <c>Tensor.MoveToOuterDisposeScope</c> does for one).</summary>
    public EncodedSource MoveToOuterDisposeScope()
    {
        Tokens.MoveToOuterDisposeScope();
        Memory.MoveToOuterDisposeScope();
        Mask.MoveToOuterDisposeScope();
        return this;
    }

    public void Dispose()
    {
        Tokens.Dispose();
        Memory.Dispose();
        Mask.Dispose();
    }
}
