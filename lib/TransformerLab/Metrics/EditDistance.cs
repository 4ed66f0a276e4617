namespace TransformerLab.Metrics;

/// <summary>Levenshtein distance between two symbol sequences: the fewest substitutions, insertions and deletions.</summary>
public static class EditDistance
{
    public static int Between<T>(IReadOnlyList<T> a, IReadOnlyList<T> b)
    {
        var comparer = EqualityComparer<T>.Default;
        var previous = new int[b.Count + 1];
        var current = new int[b.Count + 1];
        for (int j = 0; j <= b.Count; j++) previous[j] = j;
        for (int i = 1; i <= a.Count; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Count; j++)
                current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1),
                                      previous[j - 1] + (comparer.Equals(a[i - 1], b[j - 1]) ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Count];
    }
}
