using System.Text.Json.Nodes;

namespace TransformerLab.Cli.Publishing;

/// <summary>
/// Whether a committed notebook's outputs are what the code computes now (issue 38), in the manner of nbval: the notebook
/// is executed again and each code cell's outputs compared with the committed ones — text, tables and every chart's data
/// exactly. Declared volatile: a chart's image (its pixels depend on the machine's fonts; the chart's data, in the script
/// after it, is compared), and every output of a cell tagged <see cref="VolatileTag"/>, which measures this machine
/// (timings, its CPU): there only the kinds of outputs must match. Its words vary with the measurement too ("lowest
/// first: …", the fastest kernel), so nothing finer than the kinds can be held; instead the tag is allowed only on the
/// cells <see cref="DeclaredVolatile"/> lists, each with why — read from the notebook alone, the tag would silence any
/// cell it was put on.
/// </summary>
public static class NotebookFreshness
{
    /// <summary>The cell tag that declares a cell's values to depend on the machine and the moment it ran.</summary>
    public const string VolatileTag = "volatile-output";

    const string SetupLine = "the setup line: the versions, and the thread count of the machine that ran it";

    /// <summary>The cells that may carry <see cref="VolatileTag"/> ("notebook file name without .ipynb/cell id"), and what in them depends on the machine.</summary>
    public static readonly IReadOnlyDictionary<string, string> DeclaredVolatile = new Dictionary<string, string>
    {
        ["00-setup/a2"] = SetupLine,
        ["00-setup/precision-2"] = "this machine's CPU flags and its bfloat16 and float32 matrix-product rates, measured under its load",
        ["01-self-attention/c02"] = SetupLine,
        ["02-multi-head-attention/c02"] = SetupLine,
        ["03-positional-encoding/c02"] = SetupLine,
        ["04-masks-and-cross-attention/c02"] = SetupLine,
        ["05-layer-norm-placement/c02"] = SetupLine,
        ["06-at-vs-nat/c02"] = SetupLine,
        ["07-exposure-bias-and-scheduled-sampling/c02"] = SetupLine,
        ["08-decoding/c02"] = SetupLine,
        ["09-self-attention-vs-rnn-cnn/c02"] = SetupLine,
        ["09-self-attention-vs-rnn-cnn/c08"] = "each layer's time and peak memory against n on this machine, their fitted slopes and the order they put the layers in",
        ["10-efficient-attention/c02"] = SetupLine,
        ["10-efficient-attention/c06"] = "each attention kernel's time and peak memory against n on this machine, the fitted slopes, the fastest and slowest kernel",
        ["10-efficient-attention/c08"] = "where each kernel overtook the fused kernel on this machine (from c06's timings)",
        ["10-efficient-attention/c10"] = "the decoding step's time against the context on this machine",
        ["11-training-for-the-metric/c02"] = SetupLine,
        ["12-alignment-guided-attention-and-copying/c02"] = SetupLine,
    };

    /// <summary>Whether <paramref name="cell"/> carries <see cref="VolatileTag"/>.</summary>
    public static bool IsTaggedVolatile(JsonObject cell) => (cell["metadata"]?["tags"] as JsonArray)?.Any(t => t?.GetValue<string>() == VolatileTag) == true;

    /// <summary>The name <see cref="DeclaredVolatile"/> knows a notebook's cell by.</summary>
    public static string CellName(NotebookDocument notebook, JsonObject cell) => $"{System.IO.Path.GetFileNameWithoutExtension(notebook.Path)}/{Id(cell)}";

    /// <summary>
    /// The first difference between the committed <paramref name="committed"/> and the freshly executed <paramref name="executed"/>,
    /// or null when they agree; a cell tagged volatile that <paramref name="declaredVolatile"/> (default: <see cref="DeclaredVolatile"/>)
    /// does not list is a difference in itself.
    /// </summary>
    public static string? FirstDifference(NotebookDocument committed, NotebookDocument executed, IReadOnlyDictionary<string, string>? declaredVolatile = null)
    {
        declaredVolatile ??= DeclaredVolatile;
        var fresh = executed.Cells.OfType<JsonObject>().Where(IsCode).ToDictionary(Id);
        foreach (var (cell, number) in committed.Cells.OfType<JsonObject>().Where(IsCode).Select((c, i) => (c, i + 1)))
        {
            var where = $"code cell {number} ({Id(cell)})";
            if (!fresh.TryGetValue(Id(cell), out var now)) return $"{where}: not in the executed notebook";
            var before = Outputs(cell);
            var after = Outputs(now);
            if (before.Count == 0 && after.Count > 0) return $"{where}: no outputs are committed (refresh with `research notebooks --in-place`)";
            if (before.Count != after.Count) return $"{where}: {before.Count} outputs committed, {after.Count} now";
            var volatileCell = IsTaggedVolatile(cell);
            if (volatileCell && !declaredVolatile.ContainsKey(CellName(committed, cell)))
                return $"{where}: tagged {VolatileTag}, but {CellName(committed, cell)} is not in NotebookFreshness.DeclaredVolatile — add it there with what in it depends on the machine, or remove the tag";
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
