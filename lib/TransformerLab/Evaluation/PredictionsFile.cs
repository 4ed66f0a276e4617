using System.Text;
using TransformerLab.Runtime;

namespace TransformerLab.Evaluation;

/// <summary>
/// A split's decoded predictions as a tab-separated file, one item a line: source, prediction, references (" | " between
/// them), correct (1/0), log-probability. Symbols are space-separated. Written atomically.
/// </summary>
public static class PredictionsFile
{
    public const string Header = "source\tprediction\treferences\tcorrect\tlog_probability";

    public static void Write(string path, IEnumerable<Prediction> predictions)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var p in predictions)
            text.Append($"{string.Join(" ", p.Source)}\t{string.Join(" ", p.Output)}\t{string.Join(" | ", p.References.Select(r => string.Join(" ", r)))}\t{(p.Correct ? 1 : 0)}\t{p.LogProbability.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)}\n");
        AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(text.ToString()));
    }
}
