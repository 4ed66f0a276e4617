using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Decoding;

/// <summary>
/// Feeds a decoder one token per hypothesis and returns the next token's logits. Two ways: with the key/value
/// cache (<see cref="Cached"/>, what decoding uses) or by re-running the whole prefix each step
/// (<see cref="Recomputed"/>, the reference the cache must agree with, and the baseline a benchmark compares to).
/// </summary>
public abstract class DecoderSteps : IDisposable
{
    /// <param name="tokens"><c>[hypotheses]</c>: the token each hypothesis produced last (BOS at the start).</param>
    /// <returns>logits <c>[hypotheses, target vocabulary]</c>.</returns>
    public abstract Tensor Next(Tensor tokens);

    /// <summary>Keeps hypotheses <paramref name="indices"/> (<c>[new hypotheses]</c>), in that order.</summary>
    public abstract void Reorder(Tensor indices);

    public abstract void Dispose();

    public static DecoderSteps Create(SequenceToSequence model, EncodedSource source, bool useCache) =>
        useCache ? new Cached(model, source) : new Recomputed(model, source);

    sealed class Cached(SequenceToSequence model, EncodedSource source) : DecoderSteps
    {
        readonly IDecoderState state = model.StartDecoding(source);
        public override Tensor Next(Tensor tokens) => model.DecodeStep(tokens, state);
        public override void Reorder(Tensor indices) => state.Reorder(indices);
        public override void Dispose() => state.Dispose();
    }

    sealed class Recomputed(SequenceToSequence model, EncodedSource source) : DecoderSteps
    {
        Tensor? prefix;
        EncodedSource source = source.Detached();

        public override Tensor Next(Tensor tokens)
        {
            var column = tokens.view(-1, 1);
            var grown = (prefix is null ? column.clone() : torch.cat([prefix, column], 1)).DetachFromDisposeScope();
            prefix?.Dispose();
            prefix = grown;
            using var scope = NewDisposeScope();
            var logits = model.Decode(prefix, source);
            return logits.select(1, -1).MoveToOuterDisposeScope();
        }

        public override void Reorder(Tensor indices)
        {
            using (var rows = source.Rows(indices)) { source.Dispose(); source = rows.Detached(); }
            if (prefix is not null) Replace(ref prefix!, prefix.index_select(0, indices));
        }

        static void Replace(ref Tensor field, Tensor value)
        {
            value.DetachFromDisposeScope();
            field.Dispose();
            field = value;
        }

        public override void Dispose()
        {
            prefix?.Dispose();
            source.Dispose();
        }
    }
}
