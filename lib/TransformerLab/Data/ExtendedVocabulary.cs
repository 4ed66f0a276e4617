namespace TransformerLab.Data;

/// <summary>
/// The extended vocabulary of a copying model (See et al. 2017): the target vocabulary, followed by each row's own words
/// that the source vocabulary lacks — the k-th distinct such word of a row has source id V_s + k (the encoder reads it as
/// UNK) and target id V_t + k, so copying can produce a word no vocabulary holds. A source word both vocabularies hold is
/// copied to its target id (<see cref="CopyMap"/>); a word only the source vocabulary holds cannot be copied.
/// A word the target vocabulary holds but the source vocabulary lacks is copied as V_t + k and decodes to the same word.
/// </summary>
public sealed class ExtendedVocabulary
{
    public ExtendedVocabulary(Vocabulary source, Vocabulary target)
    {
        (Source, Target) = (source, target);
        CopyMap = source.Symbols.Select((symbol, id) => id < Vocabulary.Reserved.Count ? Vocabulary.Pad : target.Id(symbol) is var t && t != Vocabulary.Unk ? t : Vocabulary.Pad)
            .Select(t => (long)t).ToArray();
    }

    public Vocabulary Source { get; }
    public Vocabulary Target { get; }

    /// <summary>
    /// Source id → the target id copying it yields: the same word's target id, or PAD (never produced) for a reserved
    /// symbol or a word the target vocabulary lacks. <c>[source vocabulary]</c>.
    /// </summary>
    public long[] CopyMap { get; }

    /// <summary>A row's words the source vocabulary lacks, in first-seen order: its extension.</summary>
    public string[] RowWords(IEnumerable<string> source) =>
        source.Where(w => Source.Id(w) == Vocabulary.Unk && !Vocabulary.Reserved.Contains(w)).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>The source as the encoder of a copying model reads it: known words their id, a row word V_s + its index.</summary>
    public int[] EncodeSource(IReadOnlyList<string> source, IReadOnlyList<string> rowWords) =>
        source.Select(w => Source.Id(w) is var id && id != Vocabulary.Unk ? id : Index(rowWords, w) is >= 0 and var k ? Source.Count + k : Vocabulary.Unk).ToArray();

    /// <summary>A target in the extended vocabulary: its target id, else V_t + its index among the row's words, else UNK.</summary>
    public int[] EncodeTarget(IReadOnlyList<string> target, IReadOnlyList<string> rowWords) =>
        target.Select(w => Target.Id(w) is var id && id != Vocabulary.Unk ? id : Index(rowWords, w) is >= 0 and var k ? Target.Count + k : Vocabulary.Unk).ToArray();

    /// <summary>Extended ids back to words, up to the first EOS (as <see cref="Vocabulary.Decode"/>); an id past the row's words is UNK.</summary>
    public string[] Decode(IEnumerable<long> ids, IReadOnlyList<string> rowWords) =>
        ids.TakeWhile(i => i != Vocabulary.Eos).Where(i => i != Vocabulary.Pad && i != Vocabulary.Bos)
            .Select(i => i < Target.Count ? Target.Symbol(i) : i - Target.Count < rowWords.Count ? rowWords[(int)(i - Target.Count)] : Vocabulary.Reserved[Vocabulary.Unk])
            .ToArray();

    static int Index(IReadOnlyList<string> words, string word)
    {
        for (int i = 0; i < words.Count; i++) if (words[i] == word) return i;
        return -1;
    }
}
