using System.Text.Json.Serialization;

namespace TransformerLab.Data;

/// <summary>
/// Symbols ↔ ids. Ids 0–3 are reserved: PAD fills batches, BOS starts the decoder input, EOS ends the target
/// (so the model learns to stop), UNK stands for a symbol never seen in training.
/// </summary>
public sealed class Vocabulary
{
    public const int Pad = 0, Bos = 1, Eos = 2, Unk = 3;
    public static readonly IReadOnlyList<string> Reserved = ["<pad>", "<s>", "</s>", "<unk>"];

    readonly List<string> symbols;
    readonly Dictionary<string, int> ids;

    [JsonConstructor]
    public Vocabulary(IReadOnlyList<string> symbols)
    {
        if (symbols.Count < Reserved.Count || !symbols.Take(Reserved.Count).SequenceEqual(Reserved))
            throw new ArgumentException($"A vocabulary starts with the reserved symbols {string.Join(" ", Reserved)}.");
        this.symbols = [.. symbols];
        ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < this.symbols.Count; i++)
            if (!ids.TryAdd(this.symbols[i], i)) throw new ArgumentException($"Symbol '{this.symbols[i]}' appears twice in the vocabulary.");
    }

    /// <summary>The reserved symbols, then every symbol of <paramref name="sequences"/> in ordinal order (so the ids do not depend on data order).</summary>
    public static Vocabulary Build(IEnumerable<IEnumerable<string>> sequences) =>
        new([.. Reserved, .. sequences.SelectMany(s => s).Distinct().Where(s => !Reserved.Contains(s)).Order(StringComparer.Ordinal)]);

    public IReadOnlyList<string> Symbols => symbols;
    [JsonIgnore] public int Count => symbols.Count;

    public int Id(string symbol) => ids.TryGetValue(symbol, out var id) ? id : Unk;
    public string Symbol(long id) => id >= 0 && id < symbols.Count ? symbols[(int)id] : Reserved[Unk];

    public int[] Encode(IEnumerable<string> sequence) => sequence.Select(Id).ToArray();

    /// <summary>Symbols up to the first EOS, without BOS or padding.</summary>
    public string[] Decode(IEnumerable<long> ids) =>
        ids.TakeWhile(i => i != Eos).Where(i => i != Pad && i != Bos).Select(Symbol).ToArray();
}
