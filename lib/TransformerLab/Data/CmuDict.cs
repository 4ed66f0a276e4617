using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace TransformerLab.Data;

/// <summary>
/// The CMU Pronouncing Dictionary for grapheme-to-phoneme conversion: a word's letters → its ARPAbet phonemes.
/// The file is upstream's <c>cmudict.dict</c> format: <c>word PH1 ON0 EMES</c>, variants as <c>word(2)</c>,
/// optional <c># comment</c> (see data/cmudict/README.md for where ours comes from).
/// </summary>
public static partial class CmuDict
{
    public const string DefaultPath = "data/cmudict/cmudict.dict";

    /// <summary>One word and its pronunciations, in file order; stress digits kept.</summary>
    public sealed record Entry(string Word, IReadOnlyList<IReadOnlyList<string>> Pronunciations);

    /// <summary>Reads the dictionary; variants <c>word(2)</c> join their word's entry.</summary>
    public static IReadOnlyList<Entry> Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"CMUdict file not found: {path}. It is committed at {DefaultPath}; run from the workspace root or pass its path.", path);
        var entries = new Dictionary<string, List<IReadOnlyList<string>>>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.Split('#', 2)[0].Trim();
            if (line.Length == 0) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2) throw new InvalidDataException($"{path}:{lineNumber}: expected 'word PHONEMES...', got '{raw}'; is it a cmudict.dict file?");
            var word = Variant().Replace(parts[0], "");
            if (!entries.TryGetValue(word, out var list)) entries[word] = list = [];
            list.Add(parts[1..]);
        }
        return entries.Select(e => new Entry(e.Key, e.Value)).ToList();
    }

    /// <summary>ARPAbet phoneme without its stress digit (AH0 → AH): 39 symbols instead of 69.</summary>
    public static string WithoutStress(string phoneme) => phoneme.TrimEnd('0', '1', '2');

    /// <summary>
    /// Which split a word belongs to: a hash of the word, not its position in the file, so the split is the same
    /// whatever order or version of the file is read, and all variants of a word land together.
    /// </summary>
    public static string SplitOf(string word)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(word));
        var bucket = BitConverter.ToUInt32(hash, 0) % 100;
        return bucket < 90 ? "train" : bucket < 95 ? "dev" : "test";
    }

    /// <summary>
    /// The G2P task: letters → phonemes, stress removed unless <paramref name="stress"/>, split 90/5/5 by word.
    /// Each pronunciation is one example; variants that become equal without stress are kept once.
    /// </summary>
    public static TaskData Load(string path = DefaultPath, bool stress = false)
    {
        var splits = new Dictionary<string, List<Example>> { ["train"] = [], ["dev"] = [], ["test"] = [] };
        foreach (var entry in Read(path))
        {
            var letters = entry.Word.Select(c => c.ToString()).ToArray();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var pronunciation in entry.Pronunciations)
            {
                var phonemes = stress ? pronunciation : pronunciation.Select(WithoutStress).ToArray();
                if (seen.Add(string.Join(" ", phonemes))) splits[SplitOf(entry.Word)].Add(new Example(letters, phonemes));
            }
        }
        if (splits.Values.Any(split => split.Count == 0))
            throw new InvalidDataException($"{path} gives {splits["train"].Count} train, {splits["dev"].Count} dev and {splits["test"].Count} test words; every split needs some. Is it a whole cmudict.dict file (one 'word PHONEMES…' line per pronunciation)?");
        return TaskData.FromSplits(stress ? "g2p-stress" : "g2p", splits["train"], splits["dev"], splits["test"]);
    }

    /// <summary>
    /// Converts the npm package <c>cmu-pronouncing-dictionary</c> (its .tgz, or its index.js) to upstream's
    /// <c>cmudict.dict</c> lines, in the package's order. The package holds one JS object literal,
    /// <c>"word": "PH1 ON0 EMES",</c> per line.
    /// </summary>
    public static IReadOnlyList<string> FromNpmPackage(string path)
    {
        string source;
        if (path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase))
        {
            using var gzip = new System.IO.Compression.GZipStream(File.OpenRead(path), System.IO.Compression.CompressionMode.Decompress);
            using var tar = new System.Formats.Tar.TarReader(gzip);
            System.Formats.Tar.TarEntry? entry;
            while ((entry = tar.GetNextEntry()) is not null && entry.Name != "package/index.js") { }
            if (entry?.DataStream is null) throw new FormatException($"{path} has no package/index.js: is it the cmu-pronouncing-dictionary package?");
            source = new StreamReader(entry.DataStream).ReadToEnd();
        }
        else source = File.ReadAllText(path);
        var lines = new List<string>();
        foreach (Match m in NpmEntry().Matches(source))
            lines.Add($"{m.Groups[1].Value} {m.Groups[2].Value}");
        if (lines.Count == 0) throw new FormatException($"{path} holds no \"word\": \"PHONEMES\" entries.");
        return lines;
    }

    [GeneratedRegex(@"^\s*""([^""]+)"":\s*""([^""]+)"",?\s*$", RegexOptions.Multiline)]
    private static partial Regex NpmEntry();

    [GeneratedRegex(@"\(\d+\)$")]
    private static partial Regex Variant();
}
