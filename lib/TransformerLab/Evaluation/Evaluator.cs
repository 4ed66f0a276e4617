using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Decoding;
using TransformerLab.Metrics;
using TransformerLab.Model;
using static TorchSharp.torch;

namespace TransformerLab.Evaluation;

/// <summary>One decoded item: the source, what the model produced, and every reference.</summary>
public sealed record Prediction(IReadOnlyList<string> Source, IReadOnlyList<string> Output, IReadOnlyList<IReadOnlyList<string>> References, double LogProbability)
{
    public bool Correct => References.Any(r => r.SequenceEqual(Output));
}

/// <summary>Decoded outputs of a model on a split, and their metrics (the teacher-forced readings are training's: <c>Training.GoldContextReadings</c>).</summary>
public static class Evaluator
{
    /// <summary>Decodes every item and scores it against its references.</summary>
    public static (SequenceMetrics Metrics, IReadOnlyList<Prediction> Predictions) Decode(SequenceToSequence model, IReadOnlyList<EvaluationItem> items,
        Vocabulary source, Vocabulary target, DecodeStrategy strategy, Device device, int batchSize = 256) =>
        Decode(input => strategy.Decode(model, input), items, source, target, device, model.CopyVocabulary, batchSize);

    /// <summary>Decodes every item with a checkpoint's model, in the vocabularies it was trained with (a copying model's extended one included).</summary>
    public static (SequenceMetrics Metrics, IReadOnlyList<Prediction> Predictions) Decode(CheckpointDecoder decoder, IReadOnlyList<EvaluationItem> items,
        Device device, int batchSize = 256) =>
        Decode(decoder.Decode, items, decoder.SourceVocabulary, decoder.TargetVocabulary, device, decoder.Copy, batchSize);

    /// <summary>Decodes every item with <paramref name="decode"/> (<c>[batch, source time]</c> → one hypothesis per row) and scores it.</summary>
    /// <param name="copy">
    /// a copying model's extended vocabulary (its inputs carry each row's unseen words, its outputs map back to them), null
    /// for any other model. Required on purpose: a copying model decoded without it silently loses every unseen word.
    /// </param>
    public static (SequenceMetrics Metrics, IReadOnlyList<Prediction> Predictions) Decode(Func<Tensor, IReadOnlyList<Hypothesis>> decode,
        IReadOnlyList<EvaluationItem> items, Vocabulary source, Vocabulary target, Device device, ExtendedVocabulary? copy, int batchSize = 256)
    {
        var predictions = DecodeNBest(input => decode(input).Select(h => (IReadOnlyList<Hypothesis>)[h]).ToList(), items, source, target, device, copy, batchSize)
            .Select(n => n[0]).ToList();
        return (Score(predictions), predictions);
    }

    /// <summary>
    /// Decodes every item with <paramref name="decode"/> (<c>[batch, source time]</c> → each row's candidates, best first)
    /// and returns each item's candidates as predictions, in the order of <paramref name="items"/>.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<Prediction>> DecodeNBest(Func<Tensor, IReadOnlyList<IReadOnlyList<Hypothesis>>> decode,
        IReadOnlyList<EvaluationItem> items, Vocabulary source, Vocabulary target, Device device, ExtendedVocabulary? copy, int batchSize = 256)
    {
        var predictions = new IReadOnlyList<Prediction>[items.Count];
        var sources = items.Select(i => i.Source).ToList();
        foreach (var indices in Batching.InOrder(sources, batchSize))
        {
            using var scope = NewDisposeScope();
            var encoded = indices.Select(i => Batching.EncodeSource(items[i].Source, source, copy)).ToList();
            using var input = Batching.Pad(encoded.Select(e => e.Ids).ToList(), device);
            var candidates = decode(input);
            for (int j = 0; j < indices.Length; j++)
            {
                var item = items[indices[j]];
                var words = encoded[j].RowWords;
                predictions[indices[j]] = candidates[j].Select(h => new Prediction(item.Source, copy?.Decode(h.Tokens, words) ?? target.Decode(h.Tokens), item.References, h.LogProbability)).ToList();
            }
        }
        return predictions;
    }

    /// <summary>Sequence and symbol metrics of one prediction per item against its references.</summary>
    public static SequenceMetrics Score(IReadOnlyList<Prediction> predictions) =>
        SequenceMetrics.Compute(predictions.Select(p => p.Output).ToList(), predictions.Select(p => p.References).ToList());
}
