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
        // axis numbers as powers of ten and the legend under the plot, unless the chart says otherwise, just before it is drawn
        Assert.Contains("l[k].exponentformat = 'power'", html);
        Assert.Contains("l.legend = { orientation: 'h'", html);
        Assert.True(html.IndexOf("})(layout);", StringComparison.Ordinal) < html.IndexOf("Plotly.newPlot(", StringComparison.Ordinal));
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
