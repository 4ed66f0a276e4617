using System.Text.Json.Nodes;

namespace TransformerLab.Cli.Publishing;

/// <summary>
/// Whether a committed notebook's outputs are what the code computes now (issue 38), in the manner of nbval: the notebook
/// is executed again and each code cell's outputs compared with the committed ones — text, tables and every chart's data
/// exactly. Declared volatile: a chart's image (its pixels depend on the machine's fonts; the chart's data, in the script
/// after it, is compared), and every output of a cell tagged <see cref="VolatileTag"/>, which measures this machine
/// (timings, its CPU): there only the kinds of outputs must match.
/// </summary>
public static class NotebookFreshness
{
    /// <summary>The cell tag that declares a cell's values to depend on the machine and the moment it ran.</summary>
    public const string VolatileTag = "volatile-output";

    /// <summary>The first difference between the committed <paramref name="committed"/> and the freshly executed <paramref name="executed"/>, or null when they agree.</summary>
    public static string? FirstDifference(NotebookDocument committed, NotebookDocument executed)
    {
        var fresh = executed.Cells.OfType<JsonObject>().Where(IsCode).ToDictionary(Id);
        foreach (var (cell, number) in committed.Cells.OfType<JsonObject>().Where(IsCode).Select((c, i) => (c, i + 1)))
        {
            var where = $"code cell {number} ({Id(cell)})";
            if (!fresh.TryGetValue(Id(cell), out var now)) return $"{where}: not in the executed notebook";
            var before = Outputs(cell);
            var after = Outputs(now);
            if (before.Count == 0 && after.Count > 0) return $"{where}: no outputs are committed (refresh with `research notebooks --in-place`)";
            if (before.Count != after.Count) return $"{where}: {before.Count} outputs committed, {after.Count} now";
            var volatileCell = (cell["metadata"]?["tags"] as JsonArray)?.Any(t => t?.GetValue<string>() == VolatileTag) == true;
            for (var i = 0; i < before.Count; i++)
            {
                var chartImage = i + 1 < before.Count && ChartOutputs.IsInteractive(before[i + 1]);
                if (Difference(before[i], after[i], volatileCell, chartImage) is { } difference) return $"{where}, output {i + 1}: {difference}";
            }
        }
        return null;
    }

    static string? Difference(JsonObject before, JsonObject after, bool volatileCell, bool chartImage)
    {
        var (kindBefore, kindAfter) = (Kind(before), Kind(after));
        if (kindBefore != kindAfter) return $"committed {kindBefore}, now {kindAfter}";
        if (volatileCell) return null;
        foreach (var key in Keys(before))
        {
            if (chartImage && key == "image/png") continue;
            var (a, b) = (Text(before, key), Text(after, key));
            if (a == b) continue;
            var at = Enumerable.Range(0, Math.Min(a.Length, b.Length)).FirstOrDefault(i => a[i] != b[i], Math.Min(a.Length, b.Length));
            return $"{key} differs at character {at}: committed “{Excerpt(a, at)}”, now “{Excerpt(b, at)}”";
        }
        return null;
    }

    /// <summary>An output's type and MIME types (or stream name), e.g. <c>display_data[image/png, text/plain]</c>.</summary>
    static string Kind(JsonObject output) => $"{output["output_type"]?.GetValue<string>()}[{string.Join(", ", Keys(output))}]";

    static IEnumerable<string> Keys(JsonObject output) => output["data"] is JsonObject data ? data.Select(kv => kv.Key).Order(StringComparer.Ordinal)
        : output["name"] is { } name ? [name.GetValue<string>()] : output["ename"] is not null ? ["error"] : [];

    static string Text(JsonObject output, string key) => NotebookDocument.Text(output["data"]?[key] ?? output["text"] ?? output["evalue"]);

    static string Excerpt(string text, int at) => text.Substring(Math.Max(0, at - 30), Math.Min(text.Length, at + 50) - Math.Max(0, at - 30)).ReplaceLineEndings(" ");

    static bool IsCode(JsonObject cell) => cell["cell_type"]?.GetValue<string>() == "code";

    static string Id(JsonObject cell) => cell["id"]?.GetValue<string>() ?? "";

    static List<JsonObject> Outputs(JsonObject cell) => [.. (cell["outputs"] as JsonArray ?? []).OfType<JsonObject>()];
}
