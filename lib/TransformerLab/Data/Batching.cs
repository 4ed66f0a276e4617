using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Data;

/// <summary>
/// A padded batch. The decoder input is the target shifted right (BOS + target) and the output the target
/// followed by EOS, so at every position the model predicts the next symbol and, at the end, learns to stop.
/// </summary>
public sealed class Batch : IDisposable
{
    /// <summary><c>[batch, source time]</c>, PAD-filled.</summary>
    public required Tensor Source { get; init; }
    /// <summary><c>[batch, target time]</c>: BOS y1 … yn PAD….</summary>
    public required Tensor TargetInput { get; init; }
    /// <summary><c>[batch, target time]</c>: y1 … yn EOS PAD….</summary>
    public required Tensor TargetOutput { get; init; }
    /// <summary>Indices of the examples in the list the batch was made from.</summary>
    public required int[] Indices { get; init; }
    /// <summary>Non-pad target tokens (EOS included): the loss's denominator.</summary>
    public long TargetTokens { get; init; }
    public int Size => Indices.Length;

    public void Dispose()
    {
        Source.Dispose();
        TargetInput.Dispose();
        TargetOutput.Dispose();
    }
}

/// <summary>Turns examples into padded batches, grouping similar lengths so little compute goes to padding.</summary>
public static class Batching
{
    /// <summary>Pads id sequences into <c>[count, longest]</c>.</summary>
    public static Tensor Pad(IReadOnlyList<int[]> sequences, Device? device = null, int? length = null)
    {
        var width = length ?? Math.Max(1, sequences.Max(s => s.Length));
        var data = new long[sequences.Count * width]; // zero = Vocabulary.Pad
        for (int i = 0; i < sequences.Count; i++)
            for (int t = 0; t < sequences[i].Length; t++) data[i * width + t] = sequences[i][t];
        return torch.tensor(data, [sequences.Count, width], device: device);
    }

    /// <summary>
    /// One source as the model reads it: its ids in the source vocabulary or, for a copying model, in the extended one,
    /// with the row's own unseen words the extension names (none without copying).
    /// </summary>
    public static (int[] Ids, string[] RowWords) EncodeSource(IReadOnlyList<string> sentence, Vocabulary source, ExtendedVocabulary? copy)
    {
        if (copy is null) return (source.Encode(sentence), []);
        var words = copy.RowWords(sentence);
        return (copy.EncodeSource(sentence, words), words);
    }

    /// <summary>The batch of examples <paramref name="indices"/>.</summary>
    /// <param name="copy">for a copying model: sources and targets in its extended vocabulary, each row with its own unseen words.</param>
    public static Batch Make(IReadOnlyList<Example> examples, int[] indices, Vocabulary source, Vocabulary target, Device? device = null, ExtendedVocabulary? copy = null)
    {
        var sources = indices.Select(i => EncodeSource(examples[i].Source, source, copy)).ToList();
        var targets = indices.Select((i, r) => copy?.EncodeTarget(examples[i].Target, sources[r].RowWords) ?? target.Encode(examples[i].Target)).ToList();
        return new Batch
        {
            Source = Pad(sources.Select(s => s.Ids).ToList(), device),
            TargetInput = Pad(targets.Select(t => (int[])[Vocabulary.Bos, .. t]).ToList(), device),
            TargetOutput = Pad(targets.Select(t => (int[])[.. t, Vocabulary.Eos]).ToList(), device),
            Indices = indices,
            TargetTokens = targets.Sum(t => t.Length + 1L),
        };
    }

    /// <summary>
    /// One epoch's batches as index lists: examples are shuffled, sorted by length within pools of 50 batches
    /// (bucketing), cut into batches of <paramref name="batchSize"/>, and the batches shuffled again.
    /// Deterministic in <paramref name="random"/>.
    /// </summary>
    public static List<int[]> EpochPlan(IReadOnlyList<Example> examples, int batchSize, Random random, int poolBatches = 50)
    {
        if (batchSize < 1) throw new ArgumentException($"batch size must be at least 1 (got {batchSize}).");
        var order = Enumerable.Range(0, examples.Count).ToArray();
        random.Shuffle(order);
        var batches = new List<int[]>();
        foreach (var pool in order.Chunk(batchSize * poolBatches))
        {
            var sorted = pool.OrderBy(i => examples[i].Source.Count + examples[i].Target.Count).ToArray();
            batches.AddRange(sorted.Chunk(batchSize));
        }
        var shuffled = batches.ToArray();
        random.Shuffle(shuffled);
        return [.. shuffled];
    }

    /// <summary>Batches in data order, for evaluation: sorted by source length inside, so results map back through <see cref="Batch.Indices"/>.</summary>
    public static IEnumerable<int[]> InOrder(IReadOnlyList<IReadOnlyList<string>> sources, int batchSize) =>
        Enumerable.Range(0, sources.Count).OrderBy(i => sources[i].Count).Chunk(batchSize);
}
