using System.Globalization;
using System.Text;
using TransformerLab.NativeFix;

namespace TransformerLab.Runtime;

/// <summary>
/// Tables of named numbers as CSV — a run's curves and per-item breakdowns (curve.csv, dev.csv, beam.csv…): a header
/// row of column names, then one row per record; empty cells are absent values, numbers round-trip exactly ("R").
/// One reader and one writer for every such file, whichever layer writes it.
/// </summary>
public static class NumericCsv
{
    /// <summary>Writes the rows atomically; columns in first-seen order.</summary>
    public static void Write(string path, IReadOnlyList<IReadOnlyDictionary<string, double>> rows)
    {
        var columns = rows.SelectMany(r => r.Keys).Distinct().ToList();
        var text = new StringBuilder(string.Join(",", columns)).Append('\n');
        foreach (var row in rows)
            text.Append(string.Join(",", columns.Select(c => row.TryGetValue(c, out var v) ? v.ToString("R", CultureInfo.InvariantCulture) : ""))).Append('\n');
        AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>The rows of <paramref name="path"/>, each as column → value (absent cells left out); empty if there is no file.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, double>> Read(string path)
    {
        if (!File.Exists(path)) return [];
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return [];
        var header = lines[0].Split(',');
        return lines.Skip(1).Where(line => line.Length > 0).Select(line =>
        {
            var cells = line.Split(',');
            var row = new Dictionary<string, double>();
            for (int i = 0; i < header.Length && i < cells.Length; i++)
                if (cells[i].Length > 0) row[header[i]] = double.Parse(cells[i], CultureInfo.InvariantCulture);
            return (IReadOnlyDictionary<string, double>)row;
        }).ToList();
    }
}
