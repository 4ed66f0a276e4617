using System.Diagnostics;
using System.Text.Json.Nodes;
using Plotly.NET.CSharp;
using PuppeteerSharp;
using TransformerLab.Cli.Publishing;
using TransformerLab.Notebooks;
using Xunit;

namespace TransformerLab.Tests.Notebooks;

/// <summary>
/// A stored chart (<see cref="ChartOutputs"/>: its image, then the script that draws it) as real viewers show it. The
/// notebook goes through Debian's nbconvert (python3-nbconvert) with its own MIME priority, by default and with
/// <c>--sanitize-html</c>, and through the workspace's own page; each page is opened in headless Chromium with
/// JavaScript off and on (plotly.js served from Plotly.NET's copy, as a CDN would). Debian's nbconvert page loads require.js
/// (libjs-requirejs), as classic Jupyter and nbviewer pages do, so plotly.js arrives there as an AMD module, not as the
/// global the chart's code calls: the chart's loader must take that path, and the test holds that it did. Where scripts run the interactive
/// chart is drawn and its image hidden; where they do not, or are stripped, the image shows and no script text does; an
/// unrelated image before the chart is never hidden. Needs Chromium and python3-nbconvert: <c>.ci/run</c> installs both
/// and fails the test without them; elsewhere it says so and checks nothing.
/// </summary>
public sealed class ChartViewersTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("chart-viewers-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A 3 × 2 PNG: an unrelated image earlier in the notebook, which the chart's script must leave alone.</summary>
    const string OtherImage = "iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAIAAAASFvFNAAAAEklEQVR4nGP4z8DwHwyQWAwMAF8gD/HvHn2JAAAAAElFTkSuQmCC";

    async Task<string> StoredNotebook(StaticFigures figures)
    {
        var chart = NotebookDisplay.ChartHtml(Chart.Line<int, int, string>(new[] { 1, 2, 3 }, new[] { 4, 1, 6 }).WithTitle("A line"));
        JsonObject Code(string id, JsonObject output)
        {
            var cell = NotebookDocument.CodeCell(id, "display(...)");
            cell["outputs"] = new JsonArray(output);
            return cell;
        }
        JsonObject Display(string mime, JsonNode value) => new() { ["output_type"] = "display_data", ["data"] = new JsonObject { [mime] = value }, ["metadata"] = new JsonObject() };
        var root = NotebookDocument.NewRoot([
            NotebookDocument.MarkdownCell("m", "# Viewers"),
            Code("other", Display("image/png", OtherImage)),
            Code("chart", Display("text/html", NotebookDocument.Lines(chart))),
        ]);
        var path = Path.Combine(_dir, "viewers.ipynb");
        File.WriteAllText(path, root.ToJsonString());
        var doc = NotebookDocument.Load(path);
        var (rendered, failures) = await figures.AddToAsync(doc);
        Assert.True(rendered == 1, string.Join("; ", failures));
        File.WriteAllText(path, doc.ToJson());
        File.WriteAllText(Path.Combine(_dir, "page.html"), NotebookPage.Render(doc, "viewers"));
        return path;
    }

    static bool HasNbconvert() => Python("-c \"import nbconvert\"") == 0;

    /// <summary>Debian's require.js (libjs-requirejs), which its nbconvert pages load from this path.</summary>
    const string RequireJs = "/usr/share/javascript/requirejs/require.min.js";

    static int Python(string arguments)
    {
        if (!File.Exists("/usr/bin/python3")) return -1;
        using var process = Process.Start(new ProcessStartInfo("/usr/bin/python3", arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>
    /// What a reader sees on <paramref name="file"/>: the visible images by width × height, drawn Plotly charts, whether
    /// script text shows, and whether the page had loaded require.js (an AMD loader) when the chart was drawn.
    /// </summary>
    static async Task<(string[] Images, int Charts, bool ScriptText, bool RequireJs)> Seen(IBrowser browser, string file, bool javaScript)
    {
        await using var page = await browser.NewPageAsync();
        await page.SetJavaScriptEnabledAsync(javaScript);
        await page.SetRequestInterceptionAsync(true);
        page.Request += async (_, e) =>
        {
            var url = e.Request.Url;
            if (url.StartsWith("file:", StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal)) await e.Request.ContinueAsync();
            else if (url.Contains("cdn.plot.ly/plotly-", StringComparison.Ordinal))
                await e.Request.RespondAsync(new ResponseData { Body = NotebookDisplay.PlotlyJs(), ContentType = "application/javascript", Status = System.Net.HttpStatusCode.OK });
            else if (url.EndsWith("/require.min.js", StringComparison.Ordinal) && File.Exists(RequireJs)) // a template that loads it from a CDN
                await e.Request.RespondAsync(new ResponseData { Body = File.ReadAllText(RequireJs), ContentType = "application/javascript", Status = System.Net.HttpStatusCode.OK });
            else await e.Request.AbortAsync(); // no network: MathJax and fonts fail fast, as offline
        };
        await page.GoToAsync("file://" + file, new NavigationOptions { WaitUntil = [WaitUntilNavigation.Load], Timeout = 60_000 });
        if (javaScript)
            for (var i = 0; i < 200 && await page.EvaluateExpressionAsync<int>("document.querySelectorAll('.js-plotly-plot').length") == 0; i++) await Task.Delay(50);
        await Task.Delay(500); // the image is hidden once the chart has been drawn
        // the images shown: evaluated in the page when scripts run, read from the DOM through the protocol when they do not
        var images = await page.QuerySelectorAllAsync("img");
        var shown = new List<string>();
        foreach (var image in images)
            if (await image.BoundingBoxAsync() is { } box && box.Width > 0) shown.Add($"{(int)await image.EvaluateFunctionAsync<int>("i => i.naturalWidth")}x{await image.EvaluateFunctionAsync<int>("i => i.naturalHeight")}");
        var charts = (await page.QuerySelectorAllAsync(".js-plotly-plot")).Length;
        var text = await page.EvaluateExpressionAsync<string>("document.body.innerText");
        var amd = javaScript && await page.EvaluateExpressionAsync<bool>("typeof window.requirejs === 'function' && typeof window.define === 'function' && !!window.define.amd");
        return ([.. shown], charts, text.Contains("Plotly.newPlot", StringComparison.Ordinal) || text.Contains("<script", StringComparison.Ordinal), amd);
    }

    [Fact]
    public async Task Every_viewer_shows_the_chart_once_interactive_where_scripts_run_and_as_its_image_elsewhere()
    {
        var browserPath = StaticFigures.FindBrowser();
        var (figures, problem) = await StaticFigures.StartAsync(browserPath);
        if (figures is null || !HasNbconvert() || !File.Exists(RequireJs))
        {
            if (figures is not null) await figures.DisposeAsync();
            var missing = $"the chart viewers cannot be checked here: {problem ?? (HasNbconvert() ? "no " + RequireJs : "no python3-nbconvert")} (apt-get install chromium python3-nbconvert libjs-requirejs)";
            if (Environment.GetEnvironmentVariable("RESEARCH_REQUIRE_VIEWERS") == "1") Assert.Fail(missing); // CI installs them (.ci/run)
            Console.WriteLine(missing);
            return;
        }
        string notebook;
        try { notebook = await StoredNotebook(figures); }
        finally { await figures.DisposeAsync(); }
        Assert.Equal(0, Python($"-m nbconvert --to html \"{notebook}\" --output \"{Path.Combine(_dir, "nbconvert")}\""));
        Assert.Equal(0, Python($"-m nbconvert --to html --sanitize-html \"{notebook}\" --output \"{Path.Combine(_dir, "sanitized")}\""));

        await using var browser = await Puppeteer.LaunchAsync(new LaunchOptions { ExecutablePath = browserPath, Headless = true, Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
        var stored = NotebookDocument.Load(notebook).Cells.OfType<JsonObject>().SelectMany(c => c["outputs"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        Assert.Equal(3, stored.Count); // the other image; the chart's image and its script
        var (width, height) = ChartOutputs.PngSize(Convert.FromBase64String(NotebookDocument.Text(stored[1]["data"]!["image/png"])));
        var chartImage = $"{width}x{height}";
        foreach (var page in new[] { "nbconvert.html", "page.html" })
        {
            var off = await Seen(browser, Path.Combine(_dir, page), javaScript: false);
            Assert.Equal(["3x2", chartImage], off.Images.Order()); // both images, no chart, no script text
            Assert.Equal(0, off.Charts);
            Assert.False(off.ScriptText, page);
            var on = await Seen(browser, Path.Combine(_dir, page), javaScript: true);
            Assert.Equal(1, on.Charts);          // drawn once
            Assert.Equal(["3x2"], on.Images);    // its image hidden, the other image left alone
            Assert.False(on.ScriptText, page);
            Assert.Equal(page == "nbconvert.html", on.RequireJs); // nbconvert's page drew it through require.js; the workspace's page without
        }
        var sanitized = await Seen(browser, Path.Combine(_dir, "sanitized.html"), javaScript: true);
        Assert.Equal(["3x2", chartImage], sanitized.Images.Order()); // scripts stripped: the image, never escaped script text
        Assert.Equal(0, sanitized.Charts);
        Assert.False(sanitized.ScriptText);
    }
}
