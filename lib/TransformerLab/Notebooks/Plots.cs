using System.Globalization;
using Microsoft.FSharp.Core;
using Plotly.NET;
using Plotly.NET.CSharp;
using TransformerLab.Experiments;

namespace TransformerLab.Notebooks;

/// <summary>
/// The notebooks' charts that Plotly.NET's C# bindings (0.14) do not give directly, drawn so that they cannot mislead:
/// maps that are compared share one colour scale and print their numbers, and a band over seeds has one legend entry.
/// </summary>
public static class Plots
{
    /// <summary>Plotly's default colours, in order: a group's line and its band share one.</summary>
    static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    /// <summary>Sets the chart's title (plotly.js <c>layout.title.text</c>).</summary>
    public static GenericChart WithTitle(this GenericChart chart, string title) =>
        GenericChart.mapLayout(FSharpFunc<Layout, Layout>.FromConverter(layout =>
        {
            var text = new Title();
            text.SetProperty("text", title);
            layout.SetProperty("title", text);
            return layout;
        }), chart);

    /// <summary>Sets plotly.js attributes that the C# bindings do not expose (e.g. <c>zmin</c>) on every trace of the chart.</summary>
    public static GenericChart WithTraceAttributes(this GenericChart chart, params (string Name, object Value)[] attributes) =>
        GenericChart.mapTrace(FSharpFunc<Trace, Trace>.FromConverter(trace =>
        {
            foreach (var (name, value) in attributes) trace.SetProperty(name, value);
            return trace;
        }), chart);

    /// <summary>
    /// An attention map as a heatmap: rows are queries, columns keys, read top to bottom like the matrix; weights on
    /// one scale from 0 to 1, so that two maps can be compared by colour.
    /// </summary>
    /// <param name="weights"><c>[query time, key time]</c></param>
    public static GenericChart AttentionHeatmap(TorchSharp.torch.Tensor weights, IReadOnlyList<string> keys, IReadOnlyList<string> queries, string title)
    {
        var rows = weights.to(TorchSharp.torch.ScalarType.Float64).cpu().data<double>().ToArray().Chunk((int)weights.shape[1]).ToArray();
        // Plotly draws row 0 at the bottom; label rows by position so repeated symbols stay distinct, and reverse the axis.
        var x = keys.Select((k, i) => $"{i}:{k}").ToArray();
        var y = queries.Select((q, i) => $"{i}:{q}").ToArray();
        var chart = Plotly.NET.CSharp.Chart.Heatmap<double, string, string, string>(rows, X: x, Y: y, ReverseYAxis: true)
            .WithTraceAttributes(("zmin", 0.0), ("zmax", 1.0))
            .WithXAxisStyle<double, double, string>(TitleText: "key")
            .WithYAxisStyle<double, double, string>(TitleText: "query");
        return chart.WithTitle(title);
    }

    /// <summary>
    /// The rows of a decoder's attention map for a target sequence: each decoder step as the token it reads and the one it
    /// predicts ("&lt;s&gt; → K", "K → AE", …, "T → &lt;/s&gt;"), so that a row is not mistaken for the alignment of the token
    /// it reads (under teacher forcing a step reads the previous target token and predicts the next).
    /// </summary>
    public static IReadOnlyList<string> DecoderRows(IReadOnlyList<string> target) =>
        [.. target.Prepend("<s>").Zip(target.Append("</s>"), (read, predicted) => $"{read} → {predicted}")];

    /// <summary>
    /// A value's seed mean over two settings (e.g. x = peak lr, y = warm-up), every cell printed with its value and sd;
    /// empty where no run of that cell finished, "diverged" where every one diverged. Cells are ordered by the settings'
    /// own order (numbers numerically). The colour scale runs from <paramref name="zMin"/> to <paramref name="zMax"/>
    /// whatever the data, so that maps drawn side by side share it.
    /// </summary>
    public static GenericChart Heatmap<TX, TY>(IReadOnlyList<RunRecord> runs, Func<RunRecord, TX> x, string xTitle, Func<RunRecord, TY> y, string yTitle,
        Func<RunRecord, double> value, string title, double zMin = 0, double zMax = 1, string format = "0.000")
    {
        var cells = Analysis.Group(runs, r => (X: x(r), Y: y(r))).ToDictionary(g => g.Key);
        var xs = cells.Keys.Select(k => k.X).Distinct().Order().ToList();
        var ys = cells.Keys.Select(k => k.Y).Distinct().Order().ToList();
        (Spread Spread, int Diverged)? Cell(TX cx, TY cy) => cells.TryGetValue((cx, cy), out var g) ? (g.Of(value), g.Diverged) : null;
        var z = ys.Select(cy => xs.Select(cx => Cell(cx, cy) is ({ N: > 0 } s, _) ? s.Mean : double.NaN).ToArray()).ToArray();
        var text = ys.Select(cy => xs.Select(cx => Cell(cx, cy) switch
        {
            ({ N: > 0 } s, _) => s.Mean.ToString(format, CultureInfo.InvariantCulture) + (s.N > 1 ? $" ± {s.StandardDeviation.ToString(format, CultureInfo.InvariantCulture)}" : ""),
            (_, > 0) => "diverged",
            _ => "",
        }).ToArray()).ToArray();
        return Plotly.NET.CSharp.Chart.Heatmap<double, string, string, string>(z, X: xs.Select(Label).ToArray(), Y: ys.Select(Label).ToArray(), Name: title)
            .WithTraceAttributes(("zmin", zMin), ("zmax", zMax), ("text", text), ("texttemplate", "%{text}"), ("hovertemplate", $"{xTitle} %{{x}}, {yTitle} %{{y}}: %{{text}}<extra></extra>"))
            .WithXAxisStyle<double, double, string>(TitleText: xTitle)
            .WithYAxisStyle<double, double, string>(TitleText: yTitle)
            .WithTitle(title);
    }

    /// <summary>
    /// A curve per group of runs (e.g. <c>r => $"{r.TrainingSettings().Model.Transformer.Norm}-LN"</c>): the mean over seeds as a
    /// line, ±1 sd as a shaded band in the line's colour; one legend entry per group, naming how many seeds it averages.
    /// <paramref name="curve"/> gives a run's (step, value) points (NaN points skipped).
    /// </summary>
    public static GenericChart CurvesWithBands(IReadOnlyList<RunRecord> runs, Func<RunRecord, string> group,
        Func<RunRecord, IEnumerable<(double Step, double Value)>> curve, string yTitle, string? title = null) =>
        Bands(Analysis.Group(runs, group, StringComparer.Ordinal).Select(g => (g.Key, g.Runs, curve)), yTitle, title);

    /// <summary>
    /// Several curves of every run — e.g. the dev error of each fine-tuning a run holds — one band per named curve, over
    /// the same runs (mean over seeds, ±1 sd shaded).
    /// </summary>
    public static GenericChart CurvesWithBands(IReadOnlyList<RunRecord> runs,
        IReadOnlyList<(string Name, Func<RunRecord, IEnumerable<(double Step, double Value)>> Curve)> curves, string yTitle, string? title = null) =>
        Bands(curves.Select(c => (c.Name, runs, c.Curve)), yTitle, title);

    /// <summary>
    /// Training curves of named groups of runs given as such (e.g. each arm of a comparison and its seeds), one band per
    /// group; <paramref name="logY"/> for a value that falls over decades (0 is then drawn under the lowest tick, labelled 0:
    /// <see cref="NotebookDisplay.LayoutDefaults"/>). Where runs stop
    /// at different steps (early stopping), a step's mean is over the runs that reached it.
    /// </summary>
    public static GenericChart CurvesWithBands(IReadOnlyList<(string Name, IReadOnlyList<RunRecord> Runs)> groups, Func<TrainingCurvePoint, double> value,
        string yTitle, string? title = null, bool logY = false) =>
        Bands(groups.Where(g => g.Runs.Count > 0).Select(g => (g.Name, g.Runs, Curve(value))), yTitle, title, logY);

    /// <summary>A run's training curve as (step, <paramref name="value"/>) points.</summary>
    static Func<RunRecord, IEnumerable<(double Step, double Value)>> Curve(Func<TrainingCurvePoint, double> value) =>
        r => r.TrainingCurve().Select(p => ((double)p.Step, value(p)));

    /// <summary>Each series its own dash: curves that coincide (bf16 on fp32, a control on its treatment) all stay visible; for the band charts here and the notebooks' own line charts.</summary>
    public static readonly StyleParam.DrawingStyle[] Dashes = [StyleParam.DrawingStyle.Solid, StyleParam.DrawingStyle.Dash, StyleParam.DrawingStyle.Dot,
        StyleParam.DrawingStyle.DashDot, StyleParam.DrawingStyle.LongDash, StyleParam.DrawingStyle.LongDashDot];

    static GenericChart Bands(IEnumerable<(string Name, IReadOnlyList<RunRecord> Runs, Func<RunRecord, IEnumerable<(double Step, double Value)>> Curve)> series,
        string yTitle, string? title, bool logY = false)
    {
        var charts = series.SelectMany((g, i) =>
            {
                var band = Analysis.CurveBand(g.Runs, g.Curve);
                var steps = band.Select(b => b.Step).ToArray();
                var colour = Palette[i % Palette.Length];
                var shade = Color.fromString($"rgba({Convert.ToInt32(colour[1..3], 16)},{Convert.ToInt32(colour[3..5], 16)},{Convert.ToInt32(colour[5..7], 16)},0.2)");
                return new[]
                {
                    Plotly.NET.CSharp.Chart.Line<double, double, string>(steps, band.Select(b => b.Mean + b.StandardDeviation),
                        ShowLegend: false, LineWidth: 0, LineColor: shade),
                    Plotly.NET.CSharp.Chart.Line<double, double, string>(steps, band.Select(b => b.Mean - b.StandardDeviation),
                        ShowLegend: false, LineWidth: 0, LineColor: shade, Fill: StyleParam.Fill.ToNext_y, FillColor: shade),
                    Plotly.NET.CSharp.Chart.Line<double, double, string>(steps, band.Select(b => b.Mean),
                        Name: $"{g.Name} (n {g.Runs.Select(r => r.Seed).Distinct().Count()})", LineColor: Color.fromHex(colour), LineDash: Dashes[i % Dashes.Length]),
                };
            });
        var chart = Plotly.NET.CSharp.Chart.Combine(charts).WithXAxisStyle<double, double, string>(TitleText: "step");
        chart = logY ? chart.WithYAxisStyle<double, double, string>(TitleText: yTitle, AxisType: StyleParam.AxisType.Log)
            : chart.WithYAxisStyle<double, double, string>(TitleText: yTitle);
        return title is null ? chart : chart.WithTitle(title);
    }

    /// <summary>Training runs' curves with seed bands: <paramref name="value"/> picks the curve (e.g. <c>p => p.Loss</c>).</summary>
    public static GenericChart CurvesWithBands(IReadOnlyList<RunRecord> runs, Func<RunRecord, string> group, Func<TrainingCurvePoint, double> value,
        string yTitle, string? title = null) =>
        CurvesWithBands(runs, group, Curve(value), yTitle, title);

    static string Label<T>(T value) => value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : value?.ToString() ?? "";
}
