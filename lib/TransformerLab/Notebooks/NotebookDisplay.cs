using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Data.Analysis;
using Microsoft.DotNet.Interactive.Formatting;
using Plotly.NET;
using TorchSharp;
using static TorchSharp.torch;

namespace TransformerLab.Notebooks;

/// <summary>
/// The one set of formatters for notebook outputs, used by VS Code Polyglot Notebooks and by <c>research notebooks</c>
/// alike: Plotly.NET charts and DataFrames as HTML, tensors as TorchSharp prints them.
/// </summary>
public static partial class NotebookDisplay
{
    /// <summary>The plotly.js that Plotly.NET 6 embeds; offline pages inline it, VS Code loads the same version.</summary>
    public const string PlotlyJsVersion = "2.28.0";

    static int _registered;

    /// <summary>Registers the formatters with Microsoft.DotNet.Interactive.Formatting. Idempotent.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        Formatter.Register<GenericChart>((chart, writer) => writer.Write(ChartHtml(chart)), HtmlFormatter.MimeType);
        Formatter.Register<DataFrame>((frame, writer) => writer.Write(DataFrameHtml(frame)), HtmlFormatter.MimeType);
        Formatter.Register<Tensor>((tensor, writer) => writer.Write(TensorText(tensor)), PlainTextFormatter.MimeType);
        // A device is its name ("cpu", "cuda:0"), not the kernel's object tree of its fields.
        Formatter.Register<Device>((device, writer) => writer.Write(device.ToString()), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(GenericChart), HtmlFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(DataFrame), HtmlFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(Tensor), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(Device), PlainTextFormatter.MimeType);
    }

    /// <summary>
    /// A chart as an HTML fragment. Plotly.NET's <c>toChartHTML</c> calls <c>Plotly.newPlot</c> at once; here the call
    /// waits for plotly.js: immediate where the page already has it (our offline pages); through require.js where the
    /// page uses it (classic Jupyter, nbviewer: plotly.js then registers as an AMD module and sets no <c>window.Plotly</c>);
    /// otherwise after loading it with a script tag (VS Code's notebook view, as Plotly.NET.Interactive does). Titles
    /// longer than a line of the figure are wrapped (<see cref="FitTitles"/>).
    /// </summary>
    public static string ChartHtml(GenericChart chart)
    {
        var html = FitTitles(GenericChart.toChartHTML(chart)).Replace("Plotly.newPlot(", LayoutDefaults + "Plotly.newPlot(");
        return RenderCall().Replace(html, m =>
        {
            var render = m.Groups[1].Value;
            return $$"""
                if (window.Plotly) { {{render}}(); }
                else if (typeof window.requirejs === 'function') {
                    window.requirejs.config({ paths: { plotly: 'https://cdn.plot.ly/plotly-{{PlotlyJsVersion}}.min' } });
                    window.requirejs(['plotly'], function (plotly) { window.Plotly = plotly; {{render}}(); });
                } else {
                    var s = document.createElement('script');
                    s.src = 'https://cdn.plot.ly/plotly-{{PlotlyJsVersion}}.min.js';
                    s.onload = {{render}};
                    document.head.appendChild(s);
                }
                </script>
                """;
        });
    }

    [GeneratedRegex(@"(renderPlotly_[0-9a-f]+)\(\);\s*</script>")]
    private static partial Regex RenderCall();

    /// <summary>
    /// What every chart gets unless it sets it, applied to plotly's <c>layout</c> and <c>data</c> just before drawing:
    /// never SI prefixes ("450µ" for a probability of 0.00045, "1n" for 10⁻⁹): a linear axis's numbers written out with
    /// thousands separated ("12,000", not "12k" or "1.2×10⁴"), a log axis's as powers of ten. On a log x
    /// axis with a few values (sequence lengths, beam sizes) labels at exactly those values ("16,384", not "1.6384×10⁴"), not at 10, 2, 5 of a decade;
    /// on a log axis over more than four decades one label per decade or fewer (at most about nine), otherwise labels at
    /// 1, 2 and 5 of each decade written out in full ("0.5", "20", "1,000": Plotly labels every digit, "7 8 9 10 2 3…", or
    /// with its D2 ticks a bare "5" that may be 0.5 or 50) — at 1 of each decade only on an x axis over more than two,
    /// where the labels would collide. On a log y axis a value of 0 or below (an error that reached 0, a band's lower edge
    /// under it), which plotly would leave out, is drawn half a decade under the lowest tick and labelled 0. Lines with markers get a different open
    /// symbol each, so that a series lying on another stays visible. The legend sits in rows under the plot, so that a
    /// 600-pixel figure keeps its width for the data instead of giving ~40 % of it to a column of long names, in the order the
    /// series were given (plotly reverses it where a band fills to the next trace).
    /// </summary>
    public static readonly string LayoutDefaults = Compact(LayoutDefaultsSource);

    /// <summary>
    /// A script as every chart output embeds it — one copy per chart in the committed notebooks: without its comments and
    /// indentation, which the readable source keeps (no string or regular expression in it holds "// ").
    /// </summary>
    static string Compact(string script) => string.Concat(script.Split('\n')
        .Select(line => InlineComment().Replace(line, "").Trim())
        .Where(line => line.Length > 0 && !line.StartsWith("//", StringComparison.Ordinal))
        .Select(line => line + "\n"));

    [GeneratedRegex(@"\s+// .*$")]
    private static partial Regex InlineComment();

    const string LayoutDefaultsSource = """
        (function (layout, data) {
            function thousands(digits) { return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
            for (var k of Object.keys(layout).concat(['xaxis', 'yaxis'])) {
                if (!/^[xy]axis[0-9]*$/.test(k)) continue;
                var axis = layout[k] = layout[k] || {}, letter = k[0], id = letter + k.slice(5);
                if (axis.type !== 'log') {
                    if (axis.exponentformat === undefined) axis.exponentformat = 'none';
                    if (axis.separatethousands === undefined) axis.separatethousands = true;
                    continue;
                }
                if (axis.exponentformat === undefined) axis.exponentformat = 'power';
                if (axis.dtick !== undefined || axis.tickvals !== undefined) continue;
                var values = [], reachZero = new Set();
                data.forEach(function (t) {
                    if ((t[letter + 'axis'] || letter) === id && Array.isArray(t[letter]))
                        t[letter].forEach(function (v) {
                            if (typeof v !== 'number' || !isFinite(v)) return;
                            if (v > 0) values.push(v); else if (letter === 'y') reachZero.add(t);
                        });
                });
                var distinct = Array.from(new Set(values)).sort(function (a, b) { return a - b; });
                var decades = distinct.length > 1 ? Math.log10(distinct[distinct.length - 1] / distinct[0]) : 0;
                if (distinct.length === 0) continue;
                if (letter === 'x' && distinct.length <= 8) {
                    axis.tickmode = 'array'; axis.tickvals = distinct;
                    axis.ticktext = distinct.map(function (v) { return Number.isInteger(v) ? thousands(String(v)) : String(v); });
                }
                else if (decades > 4) {
                    axis.dtick = Math.ceil(decades / 9);
                    if (reachZero.size > 0) {   // the zero label below needs the ticks as an array: the same decades, as powers of ten
                        axis.tickmode = 'array'; axis.tickvals = []; axis.ticktext = [];
                        for (var p = Math.floor(Math.log10(distinct[0])); p <= Math.ceil(Math.log10(distinct[distinct.length - 1])); p += axis.dtick) {
                            axis.tickvals.push(Math.pow(10, p));
                            axis.ticktext.push(p >= 0 && p <= 3 ? thousands('1' + '0'.repeat(p))
                                : '10' + String(p).split('').map(function (c) { return '⁻⁰¹²³⁴⁵⁶⁷⁸⁹'['-0123456789'.indexOf(c)]; }).join(''));
                        }
                        delete axis.dtick;
                    }
                }
                else {
                    // written out in full at 1, 2 and 5 of each decade (at 1 of each on an x axis over more than two, whose labels are wide)
                    var steps = letter === 'y' || decades <= 2 ? [1, 2, 5] : [1];
                    axis.tickmode = 'array'; axis.tickvals = []; axis.ticktext = [];
                    for (var e = Math.floor(Math.log10(distinct[0])); e <= Math.ceil(Math.log10(distinct[distinct.length - 1])); e++)
                        steps.forEach(function (m) {
                            axis.tickvals.push(Number((m * Math.pow(10, e)).toPrecision(1)));
                            axis.ticktext.push(e >= 0 ? thousands(m + '0'.repeat(e)) : '0.' + '0'.repeat(-e - 1) + m);
                        });
                }
                if (reachZero.size > 0) {
                    // a value of 0 (an error that reached 0, a band's lower edge below it) has no place on a log axis and would
                    // vanish, taking the line's end with it: it is drawn half a decade under the lowest tick, labelled 0, and its
                    // hover says 0
                    var floor = Math.pow(10, Math.floor(Math.log10(distinct[0])) - 0.5);
                    axis.tickvals.unshift(floor); axis.ticktext.unshift('0');
                    reachZero.forEach(function (t) {
                        t.hovertext = t.y.map(function (v) { return typeof v === 'number' && isFinite(v) ? String(v > 0 ? Number(v.toPrecision(4)) : 0) : ''; });
                        t.hoverinfo = 'x+text+name';
                        t.y = t.y.map(function (v) { return typeof v === 'number' && isFinite(v) && v <= 0 ? floor : v; });
                    });
                }
            }
            var symbols = ['circle-open', 'square-open', 'diamond-open', 'triangle-up-open', 'triangle-down-open', 'star-open', 'hexagon-open', 'cross-open'];
            var marked = data.filter(function (t) { return typeof t.mode === 'string' && t.mode.indexOf('markers') >= 0; });
            if (marked.length > 1) marked.forEach(function (t, i) {
                t.marker = t.marker || {};
                if (t.marker.symbol === undefined) { t.marker.symbol = symbols[i % symbols.length]; t.marker.size = t.marker.size || 8; }
            });
            if (layout.legend === undefined) layout.legend = { orientation: 'h', traceorder: 'normal', x: 0, xanchor: 'left', y: -0.15, yanchor: 'top' };
        })(layout, data);

        """;

    /// <summary>Characters of a title line that fit the default 600-pixel figure at Plotly's title font.</summary>
    public const int TitleLineCharacters = 60;

    /// <summary>
    /// Every title in a chart's JSON (<c>"title":{"text":"…"}</c>) longer than <see cref="TitleLineCharacters"/> broken at
    /// spaces into lines of at most that many characters (Plotly draws <c>&lt;br&gt;</c> as a line break): a title wider
    /// than its figure is cut off.
    /// </summary>
    public static string FitTitles(string html) => TitleText().Replace(html, m =>
    {
        var words = m.Groups["text"].Value.Split(' ');
        var lines = new List<string> { "" };
        foreach (var word in words)
            if (lines[^1].Length == 0) lines[^1] = word;
            else if (lines[^1].Length + 1 + word.Length <= TitleLineCharacters) lines[^1] += " " + word;
            else lines.Add(word);
        return m.Groups["head"].Value + string.Join("<br>", lines) + "\"";
    });

    [GeneratedRegex("(?<head>\"title\":\\{\"text\":\")(?<text>(?:[^\"\\\\]|\\\\.){61,}?)\"")]
    private static partial Regex TitleText();

    /// <summary>The minified plotly.js that Plotly.NET carries as a resource (for self-contained pages).</summary>
    public static string PlotlyJs()
    {
        var assembly = typeof(GenericChart).Assembly;
        var name = assembly.GetManifestResourceNames().Single(n => n.EndsWith($"plotly-{PlotlyJsVersion}.min.js", StringComparison.Ordinal));
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>A DataFrame as an HTML table: the first <paramref name="maxRows"/> rows, and a count of the rest.</summary>
    public static string DataFrameHtml(DataFrame frame, int maxRows = 100)
    {
        var sb = new StringBuilder("<table class=\"dataframe\"><thead><tr>");
        foreach (var column in frame.Columns) sb.Append("<th>").Append(WebUtility.HtmlEncode(column.Name)).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        long shown = Math.Min(frame.Rows.Count, maxRows);
        for (long r = 0; r < shown; r++)
        {
            sb.Append("<tr>");
            foreach (var column in frame.Columns) sb.Append("<td>").Append(WebUtility.HtmlEncode(Cell(column[r]))).Append("</td>");
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table>");
        if (frame.Rows.Count > shown) sb.Append($"<p>… {frame.Rows.Count - shown} more rows ({frame.Rows.Count} in all)</p>");
        return sb.ToString();
    }

    static string Cell(object? value) => value switch
    {
        null => "",
        double d => Number(d),
        float f => Number(f),
        IFormattable x => x.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>
    /// A table cell's number: <paramref name="digits"/> significant digits (six unless a cell asks for fewer), and a
    /// magnitude below 10⁻⁴ (a float difference, a gradient far down the sequence) as "8.94 × 10⁻⁷" — .NET's "8.9407E-07"
    /// reads as a typo to most readers; three digits at most are all such a figure means.
    /// </summary>
    public static string Number(double value, int digits = 6)
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        if (value == 0 || !double.IsFinite(value) || Math.Abs(value) >= 1e-4) return value.ToString("G" + digits, culture);
        int exponent = (int)Math.Floor(Math.Log10(Math.Abs(value)));
        double mantissa = Math.Round(value / Math.Pow(10, exponent), Math.Min(digits, 3) - 1);
        if (Math.Abs(mantissa) >= 10) { mantissa /= 10; exponent++; }   // 9.996e-7 rounds to 10.00: write 1 × 10⁻⁶
        return $"{mantissa.ToString("0.##", culture)} × 10{Superscript(exponent)}";
    }

    static string Superscript(int exponent) =>
        string.Concat(exponent.ToString(System.Globalization.CultureInfo.InvariantCulture).Select(c => c switch
        {
            '-' => '⁻', '0' => '⁰', '1' => '¹', '2' => '²', '3' => '³', '4' => '⁴',
            '5' => '⁵', '6' => '⁶', '7' => '⁷', '8' => '⁸', _ => '⁹',
        }));

    /// <summary>A tensor as TorchSharp prints it: a line with its shape, type and device, then its values in numpy style.</summary>
    public static string TensorText(Tensor tensor) =>
        tensor.str(style: TorchSharp.TensorStringStyle.Metadata) + "\n" + tensor.str(fltFormat: "g6", style: TorchSharp.TensorStringStyle.Numpy);
}
