using System.Globalization;
using System.Text;
using TransformerLab.Experiments;

namespace TransformerLab.Reporting;

/// <summary>A GitHub-flavoured markdown table: a header row and rows of cells, written the way experiments.md lays them out.</summary>
public sealed record MarkdownTable(IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows)
{
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("| ").Append(string.Join(" | ", Header)).Append(" |\n");
        text.Append('|').Append(string.Concat(Header.Select(_ => "---|"))).Append('\n');
        foreach (var row in Rows) text.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
        return text.ToString();
    }
}

/// <summary>How a number over seeds is written in a report cell.</summary>
public static class Cell
{
    /// <summary>"72.9 ± 1.6": mean ± sample sd of <paramref name="values"/> × <paramref name="scale"/>, absent (NaN) values left out; "–" when there are none.</summary>
    public static string MeanSd(IEnumerable<double> values, int decimals, double scale = 1)
    {
        var list = values.Where(v => !double.IsNaN(v)).Select(v => v * scale).ToList();
        if (list.Count == 0) return "–";
        var (mean, sd) = Analysis.MeanAndSd(list);
        return $"{Number(mean, decimals)} ± {Number(sd, decimals)}";
    }

    /// <summary>"71.2 / 74.2 / 73.4": one value per seed, in seed order.</summary>
    public static string PerSeed(IEnumerable<double> values, int decimals, double scale = 1) =>
        string.Join(" / ", values.Select(v => Number(v * scale, decimals)));

    /// <summary>Fixed decimals, invariant culture, a true minus sign, and no "-0.0".</summary>
    public static string Number(double value, int decimals)
    {
        if (double.IsNaN(value)) return "–";
        var text = value.ToString("N" + decimals, CultureInfo.InvariantCulture);
        if (text.TrimStart('-').All(c => c is '0' or '.' or ',')) text = text.TrimStart('-');
        return text.Replace('-', '−');
    }

    /// <summary>"+1.45" / "−0.61": a signed difference.</summary>
    public static string Signed(double value, int decimals) =>
        double.IsNaN(value) ? "–" : (value > 0 && Number(value, decimals) != Number(0, decimals) ? "+" : "") + Number(value, decimals);

    /// <summary>
    /// "+1.45 ± 0.15 (95 % CI +1.08 to +1.82)": mean ± sd of paired differences and the 95 % interval of their mean
    /// (<see cref="Estimate"/>; Student's t over the seeds), so a reader sees at once whether the interval excludes 0.
    /// </summary>
    public static string SignedMeanSd(IReadOnlyList<double> differences, int decimals, double scale = 1, (double Low, double High)? range = null)
    {
        if (differences.Count == 0) return "–";
        var e = new Estimate([.. differences.Select(d => d * scale)]);
        var core = $"{Signed(e.Mean, decimals)} ± {Number(e.StandardDeviation, decimals)}";
        var (low, high) = e.Within(range is { } r ? (scale * r.Low, scale * r.High) : null);
        return e.N < 2 ? core : e.NoSpread ? $"{core} (the same in each seed: no interval)" : $"{core} (95 % CI {Signed(low, decimals)} to {Signed(high, decimals)})";
    }

    /// <summary>
    /// <see cref="SignedMeanSd"/> of differences of two rates (errors, accuracies) in points: its interval cut to ±100
    /// points, which a difference of two rates cannot pass (<see cref="Estimate.RateDifference"/>).
    /// </summary>
    public static string RateDifference(IReadOnlyList<double> differences, int decimals) => SignedMeanSd(differences, decimals, 100, Estimate.RateDifference);
}
