using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace TransformerLab.Cli.Publishing;

/// <summary>
/// How an executed notebook stores a chart so that every viewer shows it right (issue 38): two outputs in a row. The
/// first is the static figure — <c>image/png</c> and a <c>text/plain</c> title — which every viewer can show and the only
/// one that viewers stripping scripts keep (GitHub, nbconvert's <c>--sanitize-html</c>, which escapes an HTML output's
/// <c>img</c>, <c>style</c> and <c>script</c> in version 7, VS Code with scripts off). The second is
/// <c>application/javascript</c>, which viewers that run scripts prefer: it draws the interactive chart after the image
/// and, once drawn, hides the image (nbconvert and nbviewer pages, VS Code, the workspace's own pages); where it does not
/// run, or plotly.js cannot be loaded, the image stays. Each image is stored once, and the chart's element ids come from
/// its content, so an unchanged chart writes the same bytes.
/// </summary>
public static partial class ChartOutputs
{
    /// <summary>True for an output whose HTML draws a Plotly chart (as the kernel formats one).</summary>
    public static bool IsChartHtml(JsonObject output) =>
        output["data"]?["text/html"] is { } html && NotebookDocument.Text(html).Contains("Plotly.newPlot", StringComparison.Ordinal);

    /// <summary>True for the interactive half of a stored chart.</summary>
    public static bool IsInteractive(JsonObject output) =>
        output["data"]?["application/javascript"] is { } js && NotebookDocument.Text(js).Contains("Plotly.newPlot", StringComparison.Ordinal);

    /// <summary>
    /// The two outputs that replace a chart <paramref name="output"/>: its static figure (<paramref name="pngBase64"/>,
    /// in place of the output, keeping an <c>execute_result</c>'s count) and the script that draws it interactively.
    /// </summary>
    public static (JsonObject Static, JsonObject Interactive) Pair(JsonObject output, string pngBase64)
    {
        var html = NotebookDocument.Text(output["data"]!["text/html"]);
        var (width, height) = PngSize(Convert.FromBase64String(pngBase64));
        var figure = new JsonObject
        {
            ["output_type"] = output["output_type"]?.GetValue<string>() ?? "display_data",
            ["data"] = new JsonObject { ["image/png"] = pngBase64, ["text/plain"] = NotebookDocument.Lines($"<chart: {Title(html)}>") },
            ["metadata"] = new JsonObject(),
        };
        if (output["execution_count"] is { } count) figure["execution_count"] = count.DeepClone();
        var interactive = new JsonObject
        {
            ["output_type"] = "display_data",
            ["data"] = new JsonObject { ["application/javascript"] = NotebookDocument.Lines(Script(html, width, height)) },
            ["metadata"] = new JsonObject(),
        };
        return (figure, interactive);
    }

    /// <summary>
    /// The script that draws the chart of <paramref name="chartHtml"/> into the element it runs in (nbconvert's
    /// <c>element</c>, or the element holding the script) and then hides the static image just before it — only an
    /// image of the figure's own size (<paramref name="width"/> × <paramref name="height"/>), never another one.
    /// </summary>
    public static string Script(string chartHtml, int width, int height)
    {
        var script = ChartScript().Match(chartHtml);
        var div = ChartDiv().Match(chartHtml);
        if (!script.Success || !div.Success) throw new FormatException("the chart output has no Plotly script and element");
        var guid = div.Groups[1].Value;
        var code = script.Groups[1].Value.Trim();
        var id = "chart-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(code.Replace(guid, "").Replace(guid.Replace("-", ""), ""))))[..16];
        code = code.Replace(guid, id).Replace(guid.Replace("-", ""), id.Replace("-", "_"));
        code = NewPlot().Replace(code, m => m.Value.TrimEnd(';') + ".then(drawn);");
        return $$"""
            (function () {
                var host = typeof element !== 'undefined' && element ? (element.jquery ? element[0] : element) : document.currentScript && document.currentScript.parentElement;
                if (!host) return;
                var image = null, images = document.getElementsByTagName('img');
                for (var i = 0; i < images.length; i++) if (images[i].compareDocumentPosition(host) & Node.DOCUMENT_POSITION_FOLLOWING) image = images[i];
                var chart = document.createElement('div');
                chart.id = '{{id}}';
                host.appendChild(chart);
                function drawn() {
                    function hide() { if (image.naturalWidth === {{width}} && image.naturalHeight === {{height}}) image.style.display = 'none'; }
                    if (image) { if (image.complete) hide(); else image.addEventListener('load', hide); }
                }
                {{code}}
            })();
            """;
    }

    /// <summary>The chart's title as plain text (its first line), for the static figure's text form.</summary>
    static string Title(string chartHtml) =>
        LayoutJson().Match(chartHtml) is { Success: true } m && JsonNode.Parse(m.Groups[1].Value)?["title"]?["text"]?.GetValue<string>() is { } title
            ? title.Replace("<br>", " ") : "chart";

    /// <summary>Width and height from a PNG's IHDR chunk (bytes 16–23, big-endian).</summary>
    public static (int Width, int Height) PngSize(byte[] png) =>
        png.Length >= 24 ? (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)))
        : throw new FormatException("not a PNG");

    [GeneratedRegex(@"<script type=""text/javascript"">([\s\S]*?)</script>")]
    private static partial Regex ChartScript();

    [GeneratedRegex(@"<div id=""([0-9a-f-]{36})"">")]
    private static partial Regex ChartDiv();

    [GeneratedRegex(@"Plotly\.newPlot\([^;]*\);")]
    private static partial Regex NewPlot();

    [GeneratedRegex(@"var layout = (\{.*\});\s*$", RegexOptions.Multiline)]
    private static partial Regex LayoutJson();
}
