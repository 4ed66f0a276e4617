using System.Text.Json.Nodes;
using TransformerLab.Cli.Publishing;
using Xunit;

namespace TransformerLab.Tests.Notebooks;

/// <summary>
/// The freshness check's comparison: committed outputs against freshly executed ones — equal text, tables and chart data
/// pass; any other difference names the cell and shows where; only what is declared volatile (a chart's pixels, a cell
/// tagged volatile-output) may differ.
/// </summary>
public sealed class NotebookFreshnessTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("freshness-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static JsonObject Display(string mime, string value) =>
        new() { ["output_type"] = "display_data", ["data"] = new JsonObject { [mime] = NotebookDocument.Lines(value) }, ["metadata"] = new JsonObject() };

    NotebookDocument Doc(string name, params (string Id, JsonObject[] Outputs, bool Volatile)[] cells)
    {
        var root = NotebookDocument.NewRoot(cells.Select(c =>
        {
            var cell = NotebookDocument.CodeCell(c.Id, "x");
            cell["outputs"] = new JsonArray([.. c.Outputs.Select(o => o.DeepClone())]);
            if (c.Volatile) cell["metadata"]!["tags"] = new JsonArray(NotebookFreshness.VolatileTag);
            return cell;
        }));
        var path = Path.Combine(_dir, name + ".ipynb");
        File.WriteAllText(path, root.ToJsonString());
        return NotebookDocument.Load(path);
    }

    const string Chart = "(function () { Plotly.newPlot('chart-1', data, layout, config).then(drawn); })();";

    [Fact]
    public void Equal_outputs_are_fresh_and_a_changed_number_names_its_cell_and_where()
    {
        var table = Display("text/html", "<table><tr><td>41.6</td></tr></table>");
        var committed = Doc("a", ("first", [Display("text/plain", "ok")], false), ("table", [table], false));
        Assert.Null(NotebookFreshness.FirstDifference(committed, Doc("b", ("first", [Display("text/plain", "ok")], false), ("table", [table], false))));
        var changed = NotebookFreshness.FirstDifference(committed,
            Doc("c", ("first", [Display("text/plain", "ok")], false), ("table", [Display("text/html", "<table><tr><td>41.7</td></tr></table>")], false)));
        Assert.NotNull(changed);
        Assert.StartsWith("code cell 2 (table), output 1: text/html differs at character 18", changed);
        Assert.Contains("41.6", changed);
        Assert.Contains("41.7", changed);
    }

    [Fact]
    public void A_charts_pixels_may_differ_but_not_its_data()
    {
        JsonObject[] Stored(string png, string script) => [Display("image/png", png), Display("application/javascript", script)];
        var committed = Doc("a", ("chart", Stored("AAAA", Chart), false));
        Assert.Null(NotebookFreshness.FirstDifference(committed, Doc("b", ("chart", Stored("BBBB", Chart), false))));
        Assert.Contains("application/javascript differs",
            NotebookFreshness.FirstDifference(committed, Doc("c", ("chart", Stored("AAAA", Chart.Replace("chart-1", "chart-2")), false))));
    }

    [Fact]
    public void A_volatile_cell_must_keep_its_kinds_of_output_and_nothing_else()
    {
        var committed = Doc("a", ("timing", [Display("text/plain", "12.3 ms")], true));
        var declared = new Dictionary<string, string> { ["a/timing"] = "a timing" };
        Assert.Null(NotebookFreshness.FirstDifference(committed, Doc("b", ("timing", [Display("text/plain", "15.9 ms")], true)), declared));
        Assert.Contains("committed display_data[text/plain], now display_data[text/html]",
            NotebookFreshness.FirstDifference(committed, Doc("c", ("timing", [Display("text/html", "<b>15.9 ms</b>")], true)), declared));
        // the tag alone silences nothing: a cell the list does not declare is reported, with what to do
        Assert.Contains("tagged volatile-output, but a/timing is not in NotebookFreshness.DeclaredVolatile",
            NotebookFreshness.FirstDifference(committed, Doc("d", ("timing", [Display("text/plain", "12.3 ms")], true)), new Dictionary<string, string>()));
    }

    /// <summary>The committed notebooks tag exactly the cells the list declares volatile: no undeclared tag, no stale entry.</summary>
    [Fact]
    public void The_committed_notebooks_tag_as_volatile_exactly_the_declared_cells()
    {
        var notebooks = Directory.GetFiles(Path.Combine(TransformerLab.Runtime.Workspace.Root(AppContext.BaseDirectory), "notebooks"), "*.ipynb").Select(NotebookDocument.Load);
        var tagged = notebooks.SelectMany(n => n.Cells.OfType<JsonObject>().Where(NotebookFreshness.IsTaggedVolatile).Select(c => NotebookFreshness.CellName(n, c))).Order().ToList();
        Assert.Equal(NotebookFreshness.DeclaredVolatile.Keys.Order(), tagged);
    }

    [Fact]
    public void Another_number_or_type_of_outputs_or_a_missing_cell_is_a_difference()
    {
        var committed = Doc("a", ("cell", [Display("text/plain", "1")], false));
        Assert.Contains("1 outputs committed, 2 now", NotebookFreshness.FirstDifference(committed, Doc("b", ("cell", [Display("text/plain", "1"), Display("text/plain", "2")], false))));
        var result = Display("text/plain", "1");
        result["output_type"] = "execute_result";
        Assert.Contains("committed display_data[text/plain], now execute_result[text/plain]", NotebookFreshness.FirstDifference(committed, Doc("c", ("cell", [result], false))));
        var stream = new JsonObject { ["output_type"] = "stream", ["name"] = "stdout", ["text"] = NotebookDocument.Lines("1") };
        var stderr = new JsonObject { ["output_type"] = "stream", ["name"] = "stderr", ["text"] = NotebookDocument.Lines("1") };
        Assert.Contains("committed stream[stdout], now stream[stderr]", NotebookFreshness.FirstDifference(Doc("d", ("cell", [stream], false)), Doc("e", ("cell", [stderr], false))));
        Assert.Contains("not in the executed notebook", NotebookFreshness.FirstDifference(committed, Doc("f", ("other", [Display("text/plain", "1")], false))));
    }

    [Fact]
    public void A_notebook_committed_without_outputs_is_stale()
    {
        var difference = NotebookFreshness.FirstDifference(Doc("a", ("cell", [], false)), Doc("b", ("cell", [Display("text/plain", "1")], false)));
        Assert.Contains("no outputs are committed", difference);
    }

    /// <summary>The size budget of the committed, executed notebooks: 4 MB for all of them (one quantized PNG per chart).</summary>
    [Fact]
    public void The_committed_notebooks_fit_their_size_budget()
    {
        var folder = Path.Combine(TransformerLab.Runtime.Workspace.Root(AppContext.BaseDirectory), "notebooks");
        var bytes = Directory.GetFiles(folder, "*.ipynb").Sum(f => new FileInfo(f).Length);
        Assert.True(bytes <= 4_000_000, $"the notebooks hold {bytes / 1e6:F1} MB, over the 4 MB budget: look for images stored twice or unquantized");
    }
}
