namespace TransformerLab.Metrics;

/// <summary>
/// Consecutive repeated tokens ("the the"), the signature of a NAT's multi-modality problem (Gu et al. 2018, §3.1):
/// neighbouring positions, predicted independently, each pick the same likely token from different modes.
/// Compare a model's rate with the references' own, which is the rate of real repeats.
/// </summary>
public static class Repetition
{
    /// <summary>Of all pairs of neighbouring tokens in <paramref name="sequences"/>, the share whose two tokens are equal.</summary>
    public static double Rate<T>(IEnumerable<IReadOnlyList<T>> sequences)
    {
        long pairs = 0, repeats = 0;
        var comparer = EqualityComparer<T>.Default;
        foreach (var s in sequences)
            for (int i = 1; i < s.Count; i++)
            {
                pairs++;
                if (comparer.Equals(s[i], s[i - 1])) repeats++;
            }
        return pairs == 0 ? 0 : (double)repeats / pairs;
    }
}
