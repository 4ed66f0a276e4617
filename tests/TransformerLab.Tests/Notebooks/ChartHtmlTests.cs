using Jint;
using Plotly.NET.CSharp;
using TransformerLab.Notebooks;
using Xunit;

namespace TransformerLab.Tests.Notebooks;

/// <summary>How a chart becomes HTML: a loader for every kind of page, and titles that fit their figure.</summary>
public sealed class ChartHtmlTests
{
    [Fact]
    public void The_loader_renders_with_plotly_present_through_requirejs_or_with_a_script_tag()
    {
        var html = NotebookDisplay.ChartHtml(Chart.Line<int, int, string>(new[] { 1, 2 }, new[] { 3, 4 }));
        Assert.Contains("if (window.Plotly) { renderPlotly_", html);
        // a require.js page (classic Jupyter, nbviewer): plotly.js registers as an AMD module, so it is asked for that way
        Assert.Contains($"window.requirejs.config({{ paths: {{ plotly: 'https://cdn.plot.ly/plotly-{NotebookDisplay.PlotlyJsVersion}.min' }} }});", html);
        Assert.Contains("window.requirejs(['plotly'], function (plotly) { window.Plotly = plotly; renderPlotly_", html);
        Assert.Contains($"s.src = 'https://cdn.plot.ly/plotly-{NotebookDisplay.PlotlyJsVersion}.min.js';", html);
        // the chart defaults apply just before it is drawn
        Assert.Contains(NotebookDisplay.LayoutDefaults, html);
        Assert.True(html.IndexOf("})(layout, data);", StringComparison.Ordinal) < html.IndexOf("Plotly.newPlot(", StringComparison.Ordinal));
    }

    /// <summary>Runs the defaults script on a layout and data as plotly.js would receive them; returns the engine to read them back.</summary>
    static Jint.Engine Applied(string layoutAndData)
    {
        var engine = new Jint.Engine();
        engine.Execute(layoutAndData);
        engine.Execute(NotebookDisplay.LayoutDefaults);
        return engine;
    }

    static string Js(Jint.Engine engine, string expression) => engine.Evaluate($"JSON.stringify({expression})").AsString();

    [Fact]
    public void Log_axes_are_labelled_at_the_values_shown_or_by_decades_and_never_with_SI_prefixes()
    {
        var e = Applied("""
            var layout = { xaxis: { type: 'log' }, yaxis: { type: 'log' }, yaxis2: { type: 'log' } };
            var data = [
                { x: [8, 16, 32, 64], y: [1e-18, 1e-6, 1, 10], mode: 'lines' },
                { x: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], y: [0.02, 0.5, 3, 12, 1, 1, 1, 1, 1, 1], yaxis: 'y2', xaxis: 'x', mode: 'lines' } ];
            """);
        // 13 values over two decades: 1, 2 and 5 of each, written out
        Assert.Equal("[1,2,5,10,20,50,100,200,500]", Js(e, "layout.xaxis.tickvals"));
        Assert.Equal("[\"1\",\"2\",\"5\",\"10\",\"20\",\"50\",\"100\",\"200\",\"500\"]", Js(e, "layout.xaxis.ticktext"));
        Assert.Equal("\"power\"", Js(e, "layout.yaxis.exponentformat"));
        Assert.Equal("3", Js(e, "layout.yaxis.dtick"));      // 19 decades: a label every 3rd, at most about nine
        // under four decades (0.02 to 12): 1, 2 and 5 of each from 0.01 to 100 — never a bare "5" that could be 0.5 or 50
        Assert.Equal("[0.01,0.02,0.05,0.1,0.2,0.5,1,2,5,10,20,50,100,200,500]", Js(e, "layout.yaxis2.tickvals"));
        Assert.Equal("[\"0.01\",\"0.02\",\"0.05\",\"0.1\",\"0.2\",\"0.5\",\"1\",\"2\",\"5\",\"10\",\"20\",\"50\",\"100\",\"200\",\"500\"]", Js(e, "layout.yaxis2.ticktext"));
        var wide = Applied("var layout = { xaxis: { type: 'log' } }; var data = [{ x: [0.5, 1, 3, 8, 20, 90, 300, 900, 2500, 4000], y: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }];");
        Assert.Equal("[\"0.1\",\"1\",\"10\",\"100\",\"1,000\",\"10,000\"]", Js(wide, "layout.xaxis.ticktext")); // an x axis over four decades: one label each, thousands separated
        var few = Applied("var layout = { xaxis: { type: 'log' } }; var data = [{ x: [8, 16, 32, 64], y: [1, 2, 3, 4] }];");
        Assert.Equal("[8,16,32,64]", Js(few, "layout.xaxis.tickvals")); // sequence lengths labelled as themselves
        var contexts = Applied("var layout = { xaxis: { type: 'log' } }; var data = [{ x: [64, 1024, 16384], y: [1, 2, 3] }];");
        Assert.Equal("[\"64\",\"1,024\",\"16,384\"]", Js(contexts, "layout.xaxis.ticktext")); // written out, not 1.6384×10⁴
        var set = Applied("var layout = { yaxis: { type: 'log', dtick: 1, exponentformat: 'e' } }; var data = [{ x: [1], y: [1] }];");
        Assert.Equal("{\"type\":\"log\",\"dtick\":1,\"exponentformat\":\"e\"}", Js(set, "layout.yaxis")); // what the chart sets is kept
    }

    [Fact]
    public void On_a_log_y_axis_a_value_of_0_is_drawn_under_the_lowest_tick_labelled_0_and_its_hover_says_0()
    {
        // an error curve that reaches 0 and its band's lower edge (mean − sd) below it: plotly would drop both points
        var e = Applied("""
            var layout = { yaxis: { type: 'log' } };
            var data = [{ x: [500, 1000, 1500], y: [60, 0.6, 0], mode: 'lines' }, { x: [500, 1000, 1500], y: [55, -0.2, NaN], mode: 'lines' }];
            """);
        double floor = Math.Pow(10, -1.5);   // lowest tick 0.1 (the decade of 0.6), half a decade under it
        Assert.Equal(floor, double.Parse(Js(e, "layout.yaxis.tickvals[0]"), System.Globalization.CultureInfo.InvariantCulture), 12);
        Assert.Equal("[\"0\",\"0.1\",\"0.2\",\"0.5\",\"1\"]", Js(e, "layout.yaxis.ticktext.slice(0, 5)"));
        Assert.Equal("[60,0.6,true]", Js(e, $"[data[0].y[0], data[0].y[1], data[0].y[2] === layout.yaxis.tickvals[0]]"));
        Assert.Equal("[\"60\",\"0.6\",\"0\"]", Js(e, "data[0].hovertext"));
        Assert.Equal("[55,true,null]", Js(e, "[data[1].y[0], data[1].y[1] === layout.yaxis.tickvals[0], data[1].y[2]]")); // NaN stays a gap
        Assert.Equal("\"0\"", Js(e, "data[1].hovertext[1]"));
        // over more than four decades the ticks become an array of powers of ten, with 0 under them
        var wide = Applied("var layout = { yaxis: { type: 'log' } }; var data = [{ x: [1, 2, 3], y: [1000, 1e-7, 0] }];");
        Assert.Equal("[\"0\",\"10⁻⁷\",\"10⁻⁵\",\"10⁻³\",\"10⁻¹\",\"10\",\"1,000\"]", Js(wide, "layout.yaxis.ticktext")); // 10 decades: every 2nd
        Assert.Equal("null", Js(wide, "layout.yaxis.dtick || null"));
        // without a 0 nothing changes: no extra tick, no hover text
        var positive = Applied("var layout = { yaxis: { type: 'log' } }; var data = [{ x: [1, 2], y: [50, 0.6] }];");
        Assert.Equal("\"0.1\"", Js(positive, "layout.yaxis.ticktext[0]"));
        Assert.Equal("null", Js(positive, "data[0].hovertext || null"));
    }

    [Fact]
    public void Linear_axes_write_their_numbers_out_with_thousands_separated()
    {
        var e = Applied("var layout = { yaxis: { type: 'linear' } }; var data = [{ x: [0, 6000, 12000], y: [0.00015, 0.00045, 0.0003] }];");
        Assert.Equal("{\"exponentformat\":\"none\",\"separatethousands\":true}", Js(e, "layout.xaxis")); // 12,000, not 1.2×10⁴ or 12k
        Assert.Equal("\"none\"", Js(e, "layout.yaxis.exponentformat"));                                     // 0.00045, not 450µ
        var set = Applied("var layout = { xaxis: { exponentformat: 'e', separatethousands: false } }; var data = [{ x: [1], y: [1] }];");
        Assert.Equal("{\"exponentformat\":\"e\",\"separatethousands\":false}", Js(set, "layout.xaxis")); // what the chart sets is kept
    }

    [Fact]
    public void Series_with_markers_get_distinct_open_symbols_so_one_lying_on_another_stays_visible()
    {
        var e = Applied("""
            var layout = {};
            var data = [{ x: [1, 2], y: [1, 1], mode: 'lines+markers' }, { x: [1, 2], y: [1, 1], mode: 'lines+markers' }, { x: [1], y: [2], mode: 'lines' }];
            """);
        Assert.Equal("[\"circle-open\",\"square-open\",null]", Js(e, "data.map(function (t) { return t.marker ? t.marker.symbol : null; })"));
        Assert.Equal("\"h\"", Js(e, "layout.legend.orientation"));
        Assert.Equal("\"normal\"", Js(e, "layout.legend.traceorder")); // as given, not reversed as plotly does beside a filled band
        var one = Applied("var layout = {}; var data = [{ x: [1], y: [1], mode: 'markers' }];");
        Assert.Equal("null", Js(one, "data[0].marker || null")); // a single series keeps plotly's marker
    }

    [Fact]
    public void A_decoder_maps_rows_name_the_token_each_step_reads_and_the_one_it_predicts()
    {
        // teacher forcing: step t reads <s> or target t − 1 and predicts target t, then EOS — one row per decoder input
        Assert.Equal(["<s> → N", "N → AY", "AY → T", "T → </s>"], Plots.DecoderRows(["N", "AY", "T"]));
        Assert.Equal(["<s> → </s>"], Plots.DecoderRows([]));
    }

    [Fact]
    public void A_title_longer_than_a_line_is_broken_at_spaces_and_a_short_one_is_left_alone()
    {
        const string longTitle = "Dev sequence error during training, fp32 and bf16 (band: one sd over seeds), by step";
        var html = NotebookDisplay.ChartHtml(Chart.Line<int, int, string>(new[] { 1, 2 }, new[] { 3, 4 }).WithTitle(longTitle));
        Assert.Contains("\"text\":\"Dev sequence error during training, fp32 and bf16 (band: one<br>sd over seeds), by step\"", html);
        Assert.All("Dev sequence error during training, fp32 and bf16 (band: one<br>sd over seeds), by step".Split("<br>"),
            line => Assert.True(line.Length <= NotebookDisplay.TitleLineCharacters, line));
        Assert.Contains("\"text\":\"Short\"", NotebookDisplay.ChartHtml(Chart.Line<int, int, string>(new[] { 1 }, new[] { 2 }).WithTitle("Short")));
    }
}
