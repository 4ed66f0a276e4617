using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Metrics;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Training;

/// <summary>
/// The outputs a sequence-level objective weighs for each source of a batch: samples drawn from the model (ancestral,
/// temperature 1, eval mode, no gradient — they are data, not part of the graph), optionally the reference too, and
/// optionally with duplicates removed. <see cref="LogProbabilities"/> then scores them under the model with gradient.
/// Rows have different numbers of distinct candidates: <see cref="Valid"/> marks the real slots of <c>[batch, slots]</c>.
/// </summary>
public sealed class CandidateSet
{
    /// <summary>Each source's candidates (tokens, no BOS or EOS), all rows padded to the same number of slots with the row's first candidate.</summary>
    public IReadOnlyList<IReadOnlyList<long[]>> Outputs { get; }
    /// <summary>Each source's reference tokens (no BOS or EOS).</summary>
    public IReadOnlyList<long[]> References { get; }
    /// <summary><c>[batch, slots]</c>: true where a slot holds a real candidate.</summary>
    public bool[,] Valid { get; }
    public int Slots => Valid.GetLength(1);

    CandidateSet(IReadOnlyList<IReadOnlyList<long[]>> outputs, IReadOnlyList<long[]> references, bool[,] valid) =>
        (Outputs, References, Valid) = (outputs, references, valid);

    /// <summary>
    /// <paramref name="samples"/> outputs per source of <paramref name="batch"/>, drawn with a generator seeded by
    /// <paramref name="seed"/> (so a step's candidates are the same on every run and after a resume).
    /// </summary>
    public static CandidateSet Sample(SequenceToSequence model, Batch batch, int samples, long seed, bool withReference, bool distinct)
    {
        var references = Rows(batch.TargetOutput);
        using var repeated = batch.Source.repeat_interleave(samples, 0); // row i's samples are rows i·k … i·k + k − 1
        var drawn = Sampling.Decode(model, repeated, new SamplingOptions(Seed: seed));
        var outputs = new List<IReadOnlyList<long[]>>();
        for (int row = 0; row < references.Count; row++)
        {
            var candidates = drawn.Skip(row * samples).Take(samples).Select(h => h.Tokens).ToList();
            if (withReference) candidates.Add(references[row]);
            if (distinct) candidates = candidates.DistinctBy(c => string.Join(',', c)).ToList();
            outputs.Add(candidates);
        }
        return Of(outputs, references);
    }

    /// <summary>A candidate set given directly: each row's candidates, however many, and its reference.</summary>
    public static CandidateSet Of(IReadOnlyList<IReadOnlyList<long[]>> outputs, IReadOnlyList<long[]> references)
    {
        int slots = outputs.Max(c => c.Count);
        var valid = new bool[outputs.Count, slots];
        for (int row = 0; row < outputs.Count; row++)
            for (int slot = 0; slot < outputs[row].Count; slot++) valid[row, slot] = true;
        return new CandidateSet(outputs.Select(c => (IReadOnlyList<long[]>)[.. c, .. Enumerable.Repeat(c[0], slots - c.Count)]).ToList(), references, valid);
    }

    /// <summary>Δ(y, y*) of every slot <c>[batch, slots]</c> (float32; padding slots get their row's first candidate's cost).</summary>
    public Tensor Costs(SequenceCostKind kind, Device device)
    {
        var costs = new float[Outputs.Count * Slots];
        for (int row = 0; row < Outputs.Count; row++)
            for (int slot = 0; slot < Slots; slot++) costs[row * Slots + slot] = (float)SequenceCost.Of(kind, Outputs[row][slot], References[row]);
        return torch.tensor(costs, [Outputs.Count, Slots], device: device);
    }

    /// <summary><c>[batch, slots]</c> bool on <paramref name="device"/>.</summary>
    public Tensor ValidMask(Device device)
    {
        var flat = new bool[Outputs.Count * Slots];
        for (int row = 0; row < Outputs.Count; row++)
            for (int slot = 0; slot < Slots; slot++) flat[row * Slots + slot] = Valid[row, slot];
        return torch.tensor(flat, [Outputs.Count, Slots], device: device);
    }

    /// <summary>
    /// log p(y|x) = Σ_t log p(y_t | y_&lt;t, x) of every slot, EOS included, <c>[batch, slots]</c>, with gradient: one
    /// teacher-forced pass of the decoder over all candidates, the encoded <paramref name="source"/> (memory <c>[batch, source
    /// time, d_model]</c> shared by a row's slots. A sample cut at the length limit is scored as if it ended there.
    /// </summary>
    public Tensor LogProbabilities(SequenceToSequence model, EncodedSource source)
    {
        using var scope = NewDisposeScope();
        var flat = Outputs.SelectMany(c => c).ToList();
        var device = source.Memory.device;
        var input = Batching.Pad(flat.Select(y => (int[])[Vocabulary.Bos, .. y.Select(t => (int)t)]).ToList(), device);
        var output = Batching.Pad(flat.Select(y => (int[])[.. y.Select(t => (int)t), Vocabulary.Eos]).ToList(), device);
        var logits = model.Decode(input, source.Repeated(Slots)); // [batch·slots, time, vocabulary]
        // the distribution the samples were drawn from (PAD and BOS never produced), so Q and the samples agree
        var tokens = DecodingCommon.NextTokenLogProbabilities(logits).gather(-1, output.unsqueeze(-1)).squeeze(-1);       // [batch·slots, time]
        var real = output.ne(Vocabulary.Pad);
        return tokens.masked_fill(real.logical_not(), 0).sum(1).view(Outputs.Count, Slots).MoveToOuterDisposeScope();
    }

    static List<long[]> Rows(Tensor targetOutput)
    {
        var width = (int)targetOutput.shape[1];
        var ids = targetOutput.cpu().data<long>().ToArray();
        return Enumerable.Range(0, (int)targetOutput.shape[0]).Select(r => DecodingCommon.UntilEos(ids[(r * width)..((r + 1) * width)])).ToList();
    }
}
