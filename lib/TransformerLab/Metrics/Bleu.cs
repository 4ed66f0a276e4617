namespace TransformerLab.Metrics;

/// <summary>
/// Corpus BLEU (Papineni et al. 2002): clipped n-gram precisions for n = 1…4 pooled over the corpus, their geometric
/// mean with uniform weights ¼, times the brevity penalty exp(1 − r/c) when the candidate total c is shorter than
/// the reference total r. (d2l.ai's BLEU weights n-grams differently and scores one sentence; this is the standard one.)
/// </summary>
public static class Bleu
{
    /// <param name="candidates">one tokenised candidate per item.</param>
    /// <param name="references">each item's references; the effective reference length is the one closest to the candidate's (shorter wins ties).</param>
    /// <returns>BLEU in [0, 1] (multiply by 100 for the usual scale).</returns>
    public static double Corpus(IReadOnlyList<IReadOnlyList<string>> candidates, IReadOnlyList<IReadOnlyList<IReadOnlyList<string>>> references, int maxOrder = 4)
    {
        if (candidates.Count != references.Count) throw new ArgumentException($"{candidates.Count} candidates for {references.Count} items.");
        var matches = new long[maxOrder];
        var totals = new long[maxOrder];
        long candidateLength = 0, referenceLength = 0;
        for (int i = 0; i < candidates.Count; i++)
        {
            var candidate = candidates[i];
            candidateLength += candidate.Count;
            referenceLength += references[i].Select(r => r.Count).MinBy(l => (Math.Abs(l - candidate.Count), l));
            for (int n = 1; n <= maxOrder; n++)
            {
                var counts = NGrams(candidate, n);
                var maxReference = new Dictionary<string, int>();
                foreach (var reference in references[i])
                    foreach (var (gram, count) in NGrams(reference, n))
                        maxReference[gram] = Math.Max(maxReference.GetValueOrDefault(gram), count);
                matches[n - 1] += counts.Sum(kv => Math.Min(kv.Value, maxReference.GetValueOrDefault(kv.Key)));
                totals[n - 1] += Math.Max(0, candidate.Count - n + 1);
            }
        }
        if (matches.Any(m => m == 0)) return 0;
        var logPrecision = Enumerable.Range(0, maxOrder).Average(n => Math.Log((double)matches[n] / totals[n]));
        var brevity = candidateLength < referenceLength ? Math.Exp(1 - (double)referenceLength / Math.Max(1, candidateLength)) : 1;
        return brevity * Math.Exp(logPrecision);
    }

    /// <summary>
    /// Sentence BLEU of one candidate against one reference, smoothed so that a missing higher-order match does not zero
    /// it: add-one on the matches and totals of n ≥ 2 (Lin &amp; Och 2004; "smoothing 2" of Chen &amp; Cherry 2014). Unigrams
    /// stay unsmoothed, so a candidate sharing no token with the reference scores 0. Brevity penalty as in
    /// <see cref="Corpus"/>. For sequence-level training rewards, where one sentence at a time is scored.
    /// </summary>
    public static double Sentence<T>(IReadOnlyList<T> candidate, IReadOnlyList<T> reference, int maxOrder = 4)
    {
        if (candidate.Count == 0) return reference.Count == 0 ? 1 : 0;
        var c = candidate.Select(t => t?.ToString() ?? "").ToList();
        var r = reference.Select(t => t?.ToString() ?? "").ToList();
        double logPrecision = 0;
        for (int n = 1; n <= maxOrder; n++)
        {
            var counts = NGrams(c, n);
            var referenceCounts = NGrams(r, n);
            double matches = counts.Sum(kv => Math.Min(kv.Value, referenceCounts.GetValueOrDefault(kv.Key)));
            double total = Math.Max(0, c.Count - n + 1);
            if (n == 1 && matches == 0) return 0;
            if (n > 1) (matches, total) = (matches + 1, total + 1);
            logPrecision += Math.Log(matches / total) / maxOrder;
        }
        var brevity = c.Count < r.Count ? Math.Exp(1 - (double)r.Count / c.Count) : 1;
        return brevity * Math.Exp(logPrecision);
    }

    static Dictionary<string, int> NGrams(IReadOnlyList<string> tokens, int n)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i + n <= tokens.Count; i++)
        {
            var gram = string.Join("\u0001", tokens.Skip(i).Take(n));
            counts[gram] = counts.GetValueOrDefault(gram) + 1;
        }
        return counts;
    }
}
