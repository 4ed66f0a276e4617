using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Markdig;
using TransformerLab.Notebooks;

namespace TransformerLab.Cli.Notebooks;

/// <summary>
/// An executed notebook as one self-contained HTML page: markdown rendered with Markdig, code with its outputs, and
/// plotly.js inlined once (from Plotly.NET's own copy) when the page has a chart, so it works offline.
/// </summary>
public static class NotebookPage
{
    static readonly MarkdownPipeline Markdown = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    const string Style = """
        body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
        pre { background: #f6f8fa; padding: .6em .8em; overflow-x: auto; border-radius: 4px; font-size: 13px; }
        .cell { margin: 1.2em 0; }
        .source { border-left: 3px solid #4a7bd0; }
        .stderr { background: #fff5e6; }
        .error { background: #fdecea; color: #8a1c12; }
        table.dataframe { border-collapse: collapse; font-size: 13px; margin: .5em 0; }
        table.dataframe th, table.dataframe td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
        table.dataframe th { background: #f0f0f0; }
        nav a { margin-right: 1em; }
        """;

    public static string Render(NotebookDocument doc, string title)
    {
        var body = new StringBuilder();
        foreach (var cell in doc.Cells.OfType<JsonObject>())
        {
            var source = NotebookDocument.Source(cell);
            if (cell["cell_type"]?.GetValue<string>() == "markdown")
            {
                body.Append("<section class=\"cell markdown\">").Append(Markdig.Markdown.ToHtml(source, Markdown)).Append("</section>\n");
                continue;
            }
            if (cell["cell_type"]?.GetValue<string>() != "code") continue;
            body.Append("<section class=\"cell code\"><pre class=\"source\"><code>").Append(WebUtility.HtmlEncode(source)).Append("</code></pre>\n");
            foreach (var output in (cell["outputs"] as JsonArray ?? []).OfType<JsonObject>()) body.Append(Output(output)).Append('\n');
            body.Append("</section>\n");
        }
        var html = body.ToString();
        var plotly = html.Contains("Plotly.newPlot", StringComparison.Ordinal) ? $"<script>{NotebookDisplay.PlotlyJs()}</script>" : "";
        return $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>{WebUtility.HtmlEncode(title)}</title>
            <style>{Style}</style>{plotly}</head>
            <body><nav><a href="index.html">all notebooks</a></nav>
            {html}</body></html>

            """;
    }

    static string Output(JsonObject output)
    {
        switch (output["output_type"]?.GetValue<string>())
        {
            case "stream":
                var name = output["name"]?.GetValue<string>();
                return $"<pre class=\"{name}\">{WebUtility.HtmlEncode(NotebookDocument.Text(output["text"]))}</pre>";
            case "error":
                return $"<pre class=\"error\">{WebUtility.HtmlEncode(string.Join("\n", (output["traceback"] as JsonArray ?? []).Select(l => l!.GetValue<string>())))}</pre>";
            case "display_data" or "execute_result":
                var data = output["data"] as JsonObject ?? [];
                if (data["text/html"] is { } htmlNode) return $"<div class=\"html\">{NotebookDocument.Text(htmlNode)}</div>";
                return $"<pre>{WebUtility.HtmlEncode(NotebookDocument.Text(data["text/plain"]))}</pre>";
            default:
                return "";
        }
    }

    /// <summary>The index page: one row per notebook with its status and time.</summary>
    public static string Index(IEnumerable<NotebookReport> reports)
    {
        var rows = string.Concat(reports.Select(r =>
            $"<tr><td><a href=\"{WebUtility.HtmlEncode(r.Name)}.html\">{WebUtility.HtmlEncode(r.Name)}</a></td>" +
            $"<td>{r.ExecutedCells}/{r.CodeCells}</td><td>{r.Elapsed.TotalSeconds:F1} s</td>" +
            $"<td>{(r.Ok ? "ok" : WebUtility.HtmlEncode(r.Error))}</td></tr>\n"));
        return $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Transformer Lab notebooks</title><style>{Style}</style></head>
            <body><h1>Transformer Lab notebooks</h1>
            <table class="dataframe"><thead><tr><th>notebook</th><th>cells run</th><th>time</th><th>status</th></tr></thead><tbody>
            {rows}</tbody></table></body></html>

            """;
    }
}
