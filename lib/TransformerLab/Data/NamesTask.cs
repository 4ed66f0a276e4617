namespace TransformerLab.Data;

/// <summary>
/// A copy task whose inputs carry names (notebook 12, the copy mechanism): each input is 4–12 common symbols (s0, s1, …)
/// with one or two name tokens (n0, n1, …) at random places, and the output is the input. Training names come from a
/// pool of <c>names</c>, so most are seen only a few times; half the names of dev and test come from a second pool of the
/// same size that training never shows. A model without a copy mechanism cannot output an unseen name (its target
/// vocabulary lacks it); this task measures what copying buys, for unseen names and by how often a name was seen.
/// </summary>
public static class NamesTask
{
    /// <param name="names">names in the training pool (and in the unseen pool).</param>
    public static TaskData Generate(int symbols = 20, int minLength = 4, int maxLength = 12, int names = 5_000,
        int trainSize = 20_000, int devSize = 1_000, int testSize = 1_000, int seed = 1)
    {
        if (symbols < 2 || names < 1) throw new ArgumentException($"The names task needs at least 2 symbols and 1 name (got {symbols}, {names}).");
        if (minLength < 1 || maxLength < minLength) throw new ArgumentException($"Need 1 ≤ min length ≤ max length (got {minLength}, {maxLength}).");
        var random = new Random(seed);
        Example Make(bool heldOut)
        {
            var tokens = Enumerable.Range(0, random.Next(minLength, maxLength + 1)).Select(_ => $"s{random.Next(symbols)}").ToList();
            var count = random.Next(1, 3);
            for (int i = 0; i < count; i++)
            {
                var unseen = heldOut && random.Next(2) == 1;
                tokens.Insert(random.Next(tokens.Count + 1), Name(random.Next(names) + (unseen ? names : 0)));
            }
            return new Example(tokens, tokens);
        }
        var train = Enumerable.Range(0, trainSize).Select(_ => Make(heldOut: false)).ToList();
        var dev = Enumerable.Range(0, devSize).Select(_ => Make(heldOut: true)).ToList();
        var test = Enumerable.Range(0, testSize).Select(_ => Make(heldOut: true)).ToList();
        return TaskData.FromSplits("names", train, dev, test);
    }

    /// <summary>Whether a token is a name (not one of the common symbols).</summary>
    public static bool IsName(string token) => token.StartsWith('n');

    static string Name(int id) => $"n{id}";
}
