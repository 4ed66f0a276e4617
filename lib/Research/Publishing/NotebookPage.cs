using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Markdig;
using TransformerLab.Notebooks;

namespace TransformerLab.Cli.Publishing;

/// <summary>
/// An executed notebook as one self-contained HTML page: markdown rendered with Markdig, code with its outputs, and
/// plotly.js inlined once (from Plotly.NET's own copy) when the page has a chart, so it works offline.
/// </summary>
public static partial class NotebookPage
{
    static readonly MarkdownPipeline Markdown = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    const string Style = """
        body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
        pre { background: #f6f8fa; padding: .6em .8em; white-space: pre-wrap; overflow-wrap: anywhere; border-radius: 4px; font-size: 13px; }
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
                // a stored chart is its image, then the script that draws it over the image (ChartOutputs)
                if (data["application/javascript"] is { } js) return $"<div class=\"html\"><script>{NotebookDocument.Text(js)}</script></div>";
                if (data["image/png"] is { } png) return $"<div class=\"html\"><img alt=\"{WebUtility.HtmlEncode(NotebookDocument.Text(data["text/plain"]))}\" src=\"data:image/png;base64,{NotebookDocument.Text(png)}\"></div>";
                if (data["text/html"] is { } htmlNode) return $"<div class=\"html\">{NotebookDocument.Text(htmlNode)}</div>";
                return $"<pre>{WebUtility.HtmlEncode(NotebookDocument.Text(data["text/plain"]))}</pre>";
            default:
                return "";
        }
    }

    /// <summary>
    /// What the index shows of a notebook: its title (the first heading), its question (the paragraph that starts with
    /// <c>**Question.**</c>), every answer (each paragraph that starts with <c>**Answer</c>: <c>**Answer.**</c>,
    /// <c>**Answer (on G2P).**</c>, <c>**Answer** (3 seeds).</c>), and its key figure — the first chart of the code cell
    /// tagged <c>key-figure</c>, as the kernel drew it.
    /// </summary>
    public static NotebookSummary Summarise(NotebookDocument doc, string name)
    {
        var markdown = doc.Cells.OfType<JsonObject>().Where(c => c["cell_type"]?.GetValue<string>() == "markdown")
            .Select(NotebookDocument.Source).ToList();
        var title = markdown.SelectMany(m => m.Split('\n')).FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))?[2..].Trim() ?? name;
        string? Paragraph(string label) => markdown.SelectMany(m => m.Replace("\r\n", "\n").Split("\n\n"))
            .FirstOrDefault(p => p.TrimStart().StartsWith($"**{label}.**", StringComparison.Ordinal)) is { } p
            ? p.Trim()[(label.Length + 5)..].Replace('\n', ' ').Trim() : null;
        var keyOutputs = doc.Cells.OfType<JsonObject>()
            .Where(c => (c["metadata"]?["tags"] as JsonArray)?.Any(t => t?.GetValue<string>() == "key-figure") == true)
            .SelectMany(c => (c["outputs"] as JsonArray ?? []).OfType<JsonObject>()).ToList();
        // the first chart: a stored one is its image and the script after it, a kernel's chart its HTML
        var chart = keyOutputs.FindIndex(o => ChartOutputs.IsInteractive(o) || ChartOutputs.IsChartHtml(o));
        var figure = chart < 0 ? null
            : ChartOutputs.IsInteractive(keyOutputs[chart]) && chart > 0 ? Output(keyOutputs[chart - 1]) + Output(keyOutputs[chart])
            : NotebookDocument.Text(keyOutputs[chart]["data"]!["text/html"]);
        var answers = markdown.SelectMany(m => m.Replace("\r\n", "\n").Split("\n\n"))
            .Select(p => AnswerHeading().Match(p.Trim())).Where(m => m.Success)
            .Select(m => new NotebookAnswer(Heading(m.Groups["label"].Value, m.Groups["qualifier"].Value), m.Groups["text"].Value.Replace('\n', ' ').Trim()))
            .ToList();
        return new NotebookSummary(title, Paragraph("Question"), answers, figure);
    }

    /// <summary>"**Answer.**", "**Answer (qualifier).**" or "**Answer** (qualifier).", then the answer.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^\*\*(?<label>Answer[^*]*?)\.?\*\*\s*(?:(?<qualifier>\([^)]*\))\.?)?\s*(?<text>[\s\S]*)$")]
    private static partial System.Text.RegularExpressions.Regex AnswerHeading();

    static string Heading(string label, string qualifier) => (qualifier.Length > 0 ? $"{label.TrimEnd()} {qualifier}" : label.TrimEnd()) + ".";

    /// <summary>
    /// The entry page: for each notebook its question, its one-line answer and its key figure, linked to the full page,
    /// with the run's status and time; and when and at which commit the pages were made.
    /// </summary>
    /// <remarks>
    /// A run of some notebooks into a folder that holds the pages of others (say, two re-executed after new results)
    /// keeps those in the index as <paramref name="earlier"/> pages, marked with when they were written: the index
    /// lists every page the folder links to, not only this run's.
    /// </remarks>
    public static string Index(IReadOnlyList<NotebookReport> reports, string mode, string provenance, IReadOnlyList<EarlierPage>? earlier = null)
    {
        static string Section(string name, NotebookSummary? s, string? error, string meta)
        {
            var section = new StringBuilder("<section class=\"cell\">")
                .Append($"<h2><a href=\"{WebUtility.HtmlEncode(name)}.html\">{WebUtility.HtmlEncode(s?.Title ?? name)}</a></h2>");
            if (s?.Question is { } q) section.Append("<p><b>Question.</b> ").Append(Inline(q)).Append("</p>");
            if (error is not null) section.Append($"<pre class=\"error\">{WebUtility.HtmlEncode(error)}</pre>");
            else
                foreach (var a in s?.Answers ?? [])
                    section.Append("<p><b>").Append(WebUtility.HtmlEncode(a.Heading)).Append("</b> ").Append(Inline(a.Text)).Append("</p>");
            if (s?.KeyFigure is { } figure) section.Append("<div class=\"html\">").Append(figure).Append("</div>");
            return section.Append($"<p class=\"meta\">{WebUtility.HtmlEncode(meta)}</p></section>\n").ToString();
        }
        var html = string.Concat(reports
            .Select(r => (r.Name, Html: Section(r.Name, r.Summary, r.Error, $"{r.ExecutedCells}/{r.CodeCells} cells, {r.Elapsed.TotalSeconds:F1} s, {(r.Ok ? "ok" : "failed")}")))
            .Concat((earlier ?? []).Where(e => reports.All(r => r.Name != e.Name))
                .Select(e => (e.Name, Html: Section(e.Name, e.Summary, null, $"page from an earlier run, written {e.WrittenUtc:yyyy-MM-dd HH:mm} UTC"))))
            .OrderBy(e => e.Name, StringComparer.Ordinal).Select(e => e.Html));
        var plotly = html.Contains("Plotly.newPlot", StringComparison.Ordinal) ? $"<script>{NotebookDisplay.PlotlyJs()}</script>" : "";
        return $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Transformer Lab notebooks</title><style>{Style}{IndexStyle}</style>{plotly}</head>
            <body><h1>Transformer Lab notebooks</h1>
            <p class="meta">{WebUtility.HtmlEncode(provenance)}; notebook size {WebUtility.HtmlEncode(mode)}. Each section is one notebook: its question,
            its answer as the page states it (its "above" and "below" point into that page), and its key figure; the title links to the whole page.</p>
            {html}</body></html>

            """;
    }

    const string IndexStyle = " .meta { color: #777; font-size: 13px; } h2 { margin-top: 2em; border-top: 1px solid #ddd; padding-top: .8em; }";

    /// <summary>Markdown of one paragraph (code spans, emphasis) as inline HTML.</summary>
    static string Inline(string markdown)
    {
        var html = Markdig.Markdown.ToHtml(markdown, Markdown).Trim();
        return html.StartsWith("<p>", StringComparison.Ordinal) && html.EndsWith("</p>", StringComparison.Ordinal) ? html[3..^4] : html;
    }
}

/// <summary>A notebook page already in the output folder from an earlier run: its name, what the index shows of it, when it was written.</summary>
public sealed record EarlierPage(string Name, NotebookSummary Summary, DateTime WrittenUtc)
{
    /// <summary>
    /// The executed notebooks in <paramref name="folder"/> that have their page beside them (<c>name.ipynb</c> and
    /// <c>name.html</c>), other than <paramref name="except"/> (this run's); one that cannot be read is left out.
    /// </summary>
    public static IReadOnlyList<EarlierPage> In(string folder, IEnumerable<string> except)
    {
        var skip = except.ToHashSet(StringComparer.Ordinal);
        var pages = new List<EarlierPage>();
        foreach (var path in Directory.GetFiles(folder, "*.ipynb").Order(StringComparer.Ordinal))
        {
            var (name, html) = (Path.GetFileNameWithoutExtension(path), Path.ChangeExtension(path, ".html"));
            if (skip.Contains(name) || !File.Exists(html)) continue;
            try { pages.Add(new EarlierPage(name, NotebookPage.Summarise(NotebookDocument.Load(path), name), File.GetLastWriteTimeUtc(html))); }
            catch (Exception e) when (e is IOException or NotebookFormatException) { } // a damaged page has no entry
        }
        return pages;
    }
}

/// <summary>The index page's view of one executed notebook (see <see cref="NotebookPage.Summarise"/>).</summary>
public sealed record NotebookSummary(string Title, string? Question, IReadOnlyList<NotebookAnswer> Answers, string? KeyFigure)
{
    /// <summary>Records compare their lists by reference; a summary is equal to another with the same answers.</summary>
    public bool Equals(NotebookSummary? other) => other is not null && (Title, Question, KeyFigure) == (other.Title, other.Question, other.KeyFigure) && Answers.SequenceEqual(other.Answers);

    public override int GetHashCode() => HashCode.Combine(Title, Question, KeyFigure, Answers.Count);
}

/// <summary>One answer of a notebook: its heading as written ("Answer.", "Answer (quality, on G2P).") and its text.</summary>
public sealed record NotebookAnswer(string Heading, string Text);
