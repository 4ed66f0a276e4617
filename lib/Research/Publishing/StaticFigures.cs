using System.Text.Json.Nodes;
using PuppeteerSharp;
using TransformerLab.Notebooks;

namespace TransformerLab.Cli.Publishing;

/// <summary>
/// Static copies of an executed notebook's charts, for wherever the notebook is read without running its scripts — a
/// GitHub or GitLab page, nbviewer, a viewer with scripts disabled, a PDF export. Each Plotly chart output gets an
/// <c>image/png</c> of the same figure, rendered by plotly.js itself (<c>Plotly.toImage</c>) in an installed headless
/// Chromium driven by PuppeteerSharp (never a downloaded browser), stored with the chart's interactive script as
/// <see cref="ChartOutputs"/> describes.
/// </summary>
public sealed class StaticFigures : IAsyncDisposable
{
    /// <summary>The environment variable that names the browser to use, before the ones looked for on PATH.</summary>
    public const string BrowserVariable = "RESEARCH_BROWSER";

    /// <summary>The image size of a figure whose layout does not set its own (the notebook pages' chart width).</summary>
    public const int DefaultWidth = 900, DefaultHeight = 500;

    /// <summary>What to tell a user whose machine has no browser: the one line the notebooks command prints.</summary>
    public const string InstallHint = "install Chromium (`sudo apt-get install chromium`) or set " + BrowserVariable + " to a Chrome/Chromium binary";

    static readonly string[] Candidates = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

    readonly IBrowser _browser;
    readonly IPage _page;

    StaticFigures(IBrowser browser, IPage page) => (_browser, _page) = (browser, page);

    /// <summary>The browser to render with: <see cref="BrowserVariable"/> if set, else the first candidate on PATH; null if none.</summary>
    public static string? FindBrowser()
    {
        if (Environment.GetEnvironmentVariable(BrowserVariable) is { Length: > 0 } named) return named;
        var path = Environment.GetEnvironmentVariable("PATH")?.Split(Path.PathSeparator) ?? [];
        return Candidates.SelectMany(name => path.Select(folder => Path.Combine(folder, name))).FirstOrDefault(File.Exists);
    }

    /// <summary>
    /// Starts <paramref name="browser"/> headless with a page that holds plotly.js (the copy Plotly.NET carries, so
    /// nothing is fetched). Null, with the reason, when there is no browser or it does not start.
    /// </summary>
    public static async Task<(StaticFigures? Figures, string? Problem)> StartAsync(string? browser)
    {
        if (browser is null) return (null, "no Chromium or Chrome found");
        if (!File.Exists(browser)) return (null, $"the browser {browser} does not exist");
        IBrowser? started = null;
        try
        {
            started = await Puppeteer.LaunchAsync(new LaunchOptions
            {
                ExecutablePath = browser, Headless = true, Timeout = 60_000,
                // --no-sandbox: root in a container has no user namespaces for Chromium's sandbox; the page holds only our own charts.
                Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            });
            var page = await started.NewPageAsync();
            await page.SetContentAsync($"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><script>{NotebookDisplay.PlotlyJs()}</script></head><body></body></html>");
            return (new StaticFigures(started, page), null);
        }
        catch (Exception e) when (e is PuppeteerException or IOException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            if (started is not null) await started.DisposeAsync();
            return (null, $"{browser} did not start ({e.Message.Split('\n')[0]})");
        }
    }

    /// <summary>The PNG of the chart that <paramref name="chartHtml"/> (a chart output's HTML) draws.</summary>
    public async Task<byte[]> RenderAsync(string chartHtml)
    {
        // The output's own script runs as it would in a notebook (plotly.js is on the page, so it draws at once); the image is
        // then made from the figure it drew, at the figure's own size.
        var base64 = await _page.EvaluateFunctionAsync<string>("""
            async (html, width, height) => {
                document.body.innerHTML = html;
                for (const script of document.body.querySelectorAll('script')) (0, eval)(script.textContent);
                const find = () => document.body.querySelector('.js-plotly-plot') ?? document.body.querySelector('div[id]');
                let chart = find();
                for (let i = 0; i < 200 && !(chart && chart.data); i++) { await new Promise(r => setTimeout(r, 25)); chart = find(); }
                if (!(chart && chart.data)) throw new Error('the output drew no Plotly chart');
                const url = await Plotly.toImage(chart, { format: 'png', width: chart.layout.width || width, height: chart.layout.height || height });
                return url.substring(url.indexOf(',') + 1);
            }
            """, chartHtml, DefaultWidth, DefaultHeight);
        return Convert.FromBase64String(base64);
    }

    /// <summary>
    /// Stores every chart of <paramref name="doc"/> as its static figure followed by its interactive script
    /// (<see cref="ChartOutputs"/>). A chart that cannot be rendered (a script error, a browser that died) keeps the
    /// output the kernel wrote and is reported in <c>Failures</c>; the notebook is written either way.
    /// </summary>
    public async Task<(int Rendered, IReadOnlyList<string> Failures)> AddToAsync(NotebookDocument doc)
    {
        var rendered = 0;
        var failures = new List<string>();
        foreach (var cell in doc.Cells.OfType<JsonObject>())
        {
            if (cell["outputs"] is not JsonArray outputs || !outputs.OfType<JsonObject>().Any(ChartOutputs.IsChartHtml)) continue;
            var stored = new JsonArray();
            foreach (var output in outputs.OfType<JsonObject>().ToList())
            {
                outputs.Remove(output);
                if (!ChartOutputs.IsChartHtml(output)) { stored.Add(output); continue; }
                try
                {
                    var png = Convert.ToBase64String(Compact(await RenderAsync(NotebookDocument.Text(output["data"]!["text/html"]))));
                    var (figure, interactive) = ChartOutputs.Pair(output, png);
                    stored.Add(figure);
                    stored.Add(interactive);
                    rendered++;
                }
                catch (Exception e) when (e is PuppeteerException or TimeoutException or FormatException)
                {
                    failures.Add(e.Message.Split('\n')[0]);
                    stored.Add(output);
                }
            }
            cell["outputs"] = stored;
        }
        return (rendered, failures);
    }

    /// <summary>
    /// The PNG with at most 256 colours (Wu's quantizer, no dithering) at the strongest compression: a chart's flat fills
    /// and anti-aliased lines need no more, and the committed notebooks stay a few megabytes. Deterministic: the same
    /// figure gives the same bytes.
    /// </summary>
    public static byte[] Compact(byte[] png)
    {
        using var image = SixLabors.ImageSharp.Image.Load(png);
        using var output = new MemoryStream();
        image.Save(output, new SixLabors.ImageSharp.Formats.Png.PngEncoder
        {
            ColorType = SixLabors.ImageSharp.Formats.Png.PngColorType.Palette,
            BitDepth = SixLabors.ImageSharp.Formats.Png.PngBitDepth.Bit8,
            CompressionLevel = SixLabors.ImageSharp.Formats.Png.PngCompressionLevel.BestCompression,
            Quantizer = new SixLabors.ImageSharp.Processing.Processors.Quantization.WuQuantizer(new() { Dither = null, MaxColors = 256 }),
        });
        return output.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await _page.DisposeAsync();
        await _browser.DisposeAsync();
    }
}
