namespace TransformerLab.Metrics;

/// <summary>
/// How close predicted sequences are to their references; each item may have several references and is scored
/// against the closest (fewest edits). For G2P the sequence error rate is the word error rate (WER) and the
/// symbol error rate the phoneme error rate (PER).
/// </summary>
public sealed record SequenceMetrics(int Items, double SequenceErrorRate, double SymbolErrorRate, double TokenAccuracy, double ExactMatch)
{
    /// <summary>WER for G2P: the fraction of words whose pronunciation matches no reference.</summary>
    public double WordErrorRate => SequenceErrorRate;
    /// <summary>PER for G2P: Σ edit distance to the closest reference / Σ that reference's length.</summary>
    public double PhonemeErrorRate => SymbolErrorRate;

    /// <summary>
    /// Scores predictions against references (one list of references per item).
    /// Token accuracy counts positions where prediction and closest reference agree, over the reference length.
    /// </summary>
    public static SequenceMetrics Compute(IReadOnlyList<IReadOnlyList<string>> predictions, IReadOnlyList<IReadOnlyList<IReadOnlyList<string>>> references)
    {
        if (predictions.Count != references.Count)
            throw new ArgumentException($"{predictions.Count} predictions for {references.Count} items.");
        if (predictions.Count == 0) throw new ArgumentException("No items to score.");
        long edits = 0, referenceSymbols = 0, samePosition = 0;
        int exact = 0;
        for (int i = 0; i < predictions.Count; i++)
        {
            var prediction = predictions[i];
            if (references[i].Count == 0) throw new ArgumentException($"Item {i} has no reference.");
            var (closest, distance) = references[i].Select(r => (r, d: EditDistance.Between(prediction, r))).MinBy(x => (x.d, x.r.Count));
            edits += distance;
            referenceSymbols += closest.Count;
            if (distance == 0) exact++;
            for (int t = 0; t < Math.Min(prediction.Count, closest.Count); t++)
                if (prediction[t] == closest[t]) samePosition++;
        }
        double n = predictions.Count;
        return new SequenceMetrics(predictions.Count, 1 - exact / n, (double)edits / Math.Max(1, referenceSymbols),
            (double)samePosition / Math.Max(1, referenceSymbols), exact / n);
    }
}
