using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using TransformerLab.Cli;
using TransformerLab.Cli.Commands;
using TransformerLab.Cli.Publishing;
using TransformerLab.Notebooks;
using TransformerLab.Tests.Foundation;
using Xunit;

namespace TransformerLab.Tests.Notebooks;

/// <summary>
/// <c>research notebooks</c> on small fixture notebooks, executed by the real .NET Interactive kernel (the workspace's
/// pinned <c>dotnet-interactive stdio</c>, as VS Code runs it) — not by a host that could hide its problems.
/// </summary>
public sealed class NotebookRunnerTests : IDisposable
{
    /// <summary>
    /// A cell's time limit in these tests: a hang detector, not a speed test — half an hour, so a machine ten times slower
    /// than an idle one (a busy laptop, a shared server) passes; speed is measured by <c>research bench</c>.
    /// </summary>
    internal const double HangSeconds = 1800;

    readonly string _dir = Directory.CreateTempSubdirectory("notebooks-").FullName;
    string Out => Path.Combine(_dir, "out");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The library as notebooks reference it: the build folder of lib/TransformerLab, in this build's configuration.</summary>
    internal static string Library
    {
        get
        {
            var configuration = typeof(NotebookRunnerTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
            return Path.Combine(NotebooksCommand.WorkspaceRoot(AppContext.BaseDirectory), "lib", "TransformerLab", "bin", configuration, "net10.0", "TransformerLab.dll");
        }
    }

    string Write(string name, params string[] codeCells)
    {
        var cells = new List<JsonObject> { NotebookDocument.MarkdownCell("md-1", "# Fixture\nSome *markdown* — with UTF-8.") };
        cells.AddRange(codeCells.Select((c, i) => NotebookDocument.CodeCell($"code-{i + 1}", c)));
        cells.Add(NotebookDocument.MarkdownCell("md-2", "**Question.** Does it `run`?\n\n**Answer.** It does."));
        foreach (var chart in cells.Where(c => NotebookDocument.Source(c).Contains("Chart.Line")))
            chart["metadata"]!["tags"] = new JsonArray("key-figure");
        var path = Path.Combine(_dir, name + ".ipynb");
        File.WriteAllText(path, NotebookDocument.NewRoot(cells).ToJsonString());
        return path;
    }

    NotebookReport Run(string path, double timeoutSeconds = HangSeconds) =>
        new NotebookRunner(new RunnerOptions(Out, NotebookSize.Quick, TimeSpan.FromSeconds(timeoutSeconds))).RunAsync(path).GetAwaiter().GetResult();

    static JsonArray Outputs(NotebookReport report, int codeCell) =>
        (JsonArray)JsonNode.Parse(File.ReadAllText(report.IpynbPath!))!["cells"]![codeCell]!["outputs"]!; // cell 0 is markdown

    static string Text(JsonNode? node) => node is JsonArray a ? string.Concat(a.Select(l => l!.GetValue<string>())) : node?.GetValue<string>() ?? "";

    static string Type(JsonNode? output) => output!["output_type"]!.GetValue<string>();

    [Fact]
    public void The_kernel_produces_streams_displays_values_charts_tables_and_tensors_in_order()
    {
        var report = Run(Write("outputs",
            "Console.WriteLine(\"before\");\ndisplay(\"shown\");\nConsole.Write(\"after\");",
            "var x = 20;",
            "#!csharp\n$\"{x + 1}\"",
            $"#r \"{Library}\"\nusing TransformerLab.Notebooks;\nNotebookSetup.Init();",
            "Plotly.NET.CSharp.Chart.Line<int, int, string>(new[] { 1, 2, 3 }, new[] { 4, 5, 6 })",
            "new Microsoft.Data.Analysis.DataFrame(new Microsoft.Data.Analysis.Int32DataFrameColumn(\"n\", new[] { 7, 8 }))",
            "TorchSharp.torch.ones(2, 3)"));
        Assert.True(report.Ok, report.Error);
        Assert.True(report.KernelStart > TimeSpan.Zero);

        var first = Outputs(report, 1);
        Assert.Equal(["stream", "display_data", "stream"], first.Select(Type));
        Assert.Equal("before\n", Text(first[0]!["text"]));
        Assert.Equal("shown", Text(first[1]!["data"]!["text/plain"]));
        Assert.Equal("after", Text(first[2]!["text"]));
        Assert.Empty(Outputs(report, 2)); // a declaration has no value
        var value = Outputs(report, 3).Single()!;
        Assert.Equal("execute_result", Type(value));
        Assert.Equal("21", Text(value["data"]!["text/plain"]));
        Assert.Equal(3, value["execution_count"]!.GetValue<int>());

        // The chart: Plotly.NET loads in the kernel (one FSharp.Core) and our formatter draws it as HTML.
        var chart = Outputs(report, 5).Single()!;
        Assert.Contains("Plotly.newPlot", Text(chart["data"]!["text/html"]));
        Assert.Contains("\"y\":[4,5,6]", Text(chart["data"]!["text/html"]));
        var table = Text(Outputs(report, 6).Single()!["data"]!["text/html"]);
        Assert.Contains("<table class=\"dataframe\">", table);
        Assert.Contains("<td>8</td>", table);
        var tensor = Text(Outputs(report, 7).Single()!["data"]!["text/plain"]);
        Assert.Contains("[2x3], type = Float32", tensor);

        // Ids, markdown and metadata survive; UTF-8 without BOM; the page renders markdown and inlines plotly.js.
        var bytes = File.ReadAllBytes(report.IpynbPath!);
        Assert.False(bytes.Take(3).SequenceEqual(new byte[] { 0xEF, 0xBB, 0xBF }));
        var notebook = JsonNode.Parse(Encoding.UTF8.GetString(bytes))!;
        Assert.Equal("md-1", notebook["cells"]![0]!["id"]!.GetValue<string>());
        Assert.Equal("code-1", notebook["cells"]![1]!["id"]!.GetValue<string>());
        Assert.Equal("# Fixture\nSome *markdown* — with UTF-8.", Text(notebook["cells"]![0]!["source"]));
        Assert.Equal("csharp", notebook["cells"]![1]!["metadata"]!["polyglot_notebook"]!["kernelName"]!.GetValue<string>());
        Assert.Equal(".net-csharp", notebook["metadata"]!["kernelspec"]!["name"]!.GetValue<string>());
        Assert.Equal(1, notebook["cells"]![1]!["execution_count"]!.GetValue<int>());
        var page = File.ReadAllText(report.HtmlPath!);
        Assert.Contains("<em>markdown</em>", page);
        Assert.Contains($"plotly.js v{NotebookDisplay.PlotlyJsVersion}", page);

        // The index's view of it: title, question, answer, and the tagged cell's chart.
        Assert.Equal(new NotebookSummary("Fixture", "Does it `run`?", [new NotebookAnswer("Answer.", "It does.")], Text(chart["data"]!["text/html"])), report.Summary);
        var index = NotebookPage.Index([report], "quick", "commit test");
        Assert.Contains("<b>Question.</b> Does it <code>run</code>?", index);
        Assert.Contains("Plotly.newPlot", index);
    }

    /// <summary>
    /// Static images for viewers that run no scripts. With a browser installed (this machine has Debian's chromium) a
    /// chart is stored as a PNG of the figure's own size followed by the script that draws it (<see cref="ChartOutputs"/>);
    /// without one the runner writes the kernel's interactive output as before, and starting the renderer says why it could not.
    /// </summary>
    [Fact]
    public async Task With_a_browser_a_chart_carries_a_png_of_its_size_and_without_one_the_run_still_passes()
    {
        var (none, problem) = await StaticFigures.StartAsync("/nonexistent/chromium");
        Assert.Null(none);
        Assert.Contains("/nonexistent/chromium does not exist", problem);
        var path = Write("figures", $"#r \"{Library}\"\nusing TransformerLab.Notebooks;\nNotebookSetup.Init();",
            "Plotly.NET.CSharp.Chart.Line<int, int, string>(new[] { 1, 2, 3 }, new[] { 4, 5, 6 })");
        var plain = Run(path);
        Assert.True(plain.Ok, plain.Error);
        Assert.Null(plain.StaticImages);
        Assert.Null(Outputs(plain, 2).Single()!["data"]!["image/png"]);

        var (figures, _) = await StaticFigures.StartAsync(StaticFigures.FindBrowser());
        if (figures is null) return; // no browser on this machine: the half above is what applies here
        NotebookReport report;
        try { report = await new NotebookRunner(new RunnerOptions(Out, NotebookSize.Quick, TimeSpan.FromSeconds(HangSeconds)), figures: figures).RunAsync(path); }
        finally { await figures.DisposeAsync(); }
        Assert.True(report.Ok, report.Error);
        Assert.Equal(1, report.StaticImages);
        // stored as two outputs: the static figure (the cell's value, with its count), then the script that draws it interactively
        var outputs = Outputs(report, 2).OfType<JsonObject>().ToList();
        Assert.Equal(["execute_result", "display_data"], outputs.Select(o => o["output_type"]!.GetValue<string>()));
        Assert.Equal(["image/png", "text/plain"], ((JsonObject)outputs[0]["data"]!).Select(kv => kv.Key).Order());
        Assert.Equal(["application/javascript"], ((JsonObject)outputs[1]["data"]!).Select(kv => kv.Key));
        var png = Convert.FromBase64String(Text(outputs[0]["data"]!["image/png"]));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        var script = Text(outputs[1]["data"]!["application/javascript"]);
        var layout = JsonNode.Parse(System.Text.RegularExpressions.Regex.Match(script, @"var layout = (\{.*?\});\s*var config").Groups[1].Value)!;
        int Layout(string key) => layout[key]!.GetValue<int>();
        // IHDR: width and height, big-endian, at bytes 16–23: the figure's layout size, which the script checks before hiding an image
        Assert.Equal((Layout("width"), Layout("height")), ChartOutputs.PngSize(png));
        Assert.Contains($"image.naturalWidth === {Layout("width")} && image.naturalHeight === {Layout("height")}", script);
        Assert.True(png.Length > 3_000, $"a {png.Length}-byte PNG is too small to hold a drawn chart"); // an empty plot area is under 1 KB
        Assert.DoesNotContain("data:image/png", script); // one copy of the image
        Assert.Contains("Plotly.newPlot('chart-", script); // ids from the content, not a fresh GUID per run
    }

    /// <summary>
    /// <c>--in-place</c> writes what the repository commits: a notebook that ran without an error goes back over its source
    /// with its outputs; one that failed leaves its source as it was; quick mode, whose outputs are not the experiments', is refused.
    /// </summary>
    [Fact]
    public void In_place_writes_back_only_notebooks_that_ran_and_only_in_default_mode()
    {
        var good = Write("good", "var answer = 6 * 7;\nanswer");
        var bad = Write("bad", "throw new InvalidOperationException(\"no\");");
        var before = File.ReadAllText(bad);
        var quick = CliTests.Run("notebooks", good, "--in-place", "--mode", "quick", "--out", Out);
        Assert.Equal(2, quick.Exit);
        Assert.Contains("default mode", quick.Err);
        var run = CliTests.Run("notebooks", good, bad, "--in-place", "--out", Out);
        Assert.Equal(1, run.Exit); // one notebook failed
        var written = NotebookDocument.Load(good).Cells.OfType<JsonObject>().Single(c => c["cell_type"]!.GetValue<string>() == "code");
        Assert.Contains(">42<", Text(((JsonArray)written["outputs"]!).OfType<JsonObject>().Single()["data"]!["text/html"]));
        Assert.Equal(before, File.ReadAllText(bad));
    }

    /// <summary>Every answer a notebook gives reaches the index, whichever way its heading qualifies it.</summary>
    [Fact]
    public void The_index_shows_every_answer_with_its_heading()
    {
        var cells = new List<JsonObject>
        {
            NotebookDocument.MarkdownCell("m1", "# Answers\n\n**Question.** Which?"),
            NotebookDocument.MarkdownCell("m2", "**Answer (path length).** One layer.\n\nSome text.\n\n**Answer** (3 seeds, paired). Lower in every seed."),
            NotebookDocument.MarkdownCell("m3", "**Answer.** Plain."),
        };
        var path = Path.Combine(_dir, "answers.ipynb");
        File.WriteAllText(path, NotebookDocument.NewRoot(cells).ToJsonString());
        var summary = NotebookPage.Summarise(NotebookDocument.Load(path), "answers");
        Assert.Equal([new NotebookAnswer("Answer (path length).", "One layer."), new NotebookAnswer("Answer (3 seeds, paired).", "Lower in every seed."),
            new NotebookAnswer("Answer.", "Plain.")], summary.Answers);
        var index = NotebookPage.Index([new NotebookReport("answers", 0, 0, TimeSpan.Zero, TimeSpan.Zero, null, null, null, summary, null)], "quick", "test");
        Assert.Contains("<b>Answer (3 seeds, paired).</b> Lower in every seed.", index);
    }

    /// <summary>A run of some notebooks into a folder with the pages of others keeps those in the index, marked as earlier; a damaged one is left out.</summary>
    [Fact]
    public void The_index_keeps_the_pages_of_notebooks_this_run_did_not_execute()
    {
        var folder = Path.Combine(_dir, "pages");
        Directory.CreateDirectory(folder);
        void Page(string name, string markdown)
        {
            File.WriteAllText(Path.Combine(folder, name + ".ipynb"), NotebookDocument.NewRoot([NotebookDocument.MarkdownCell("m1", markdown)]).ToJsonString());
            File.WriteAllText(Path.Combine(folder, name + ".html"), "<html></html>");
        }
        Page("00-first", "# First\n\n**Question.** Old?\n\n**Answer.** From before.");
        Page("02-third", "# Third\n\n**Answer.** Also from before.");
        Page("01-second", "# Second, stale\n\n**Answer.** Replaced by this run.");
        File.WriteAllText(Path.Combine(folder, "03-damaged.ipynb"), "{ not json");
        File.WriteAllText(Path.Combine(folder, "03-damaged.html"), "");
        var fresh = NotebookPage.Summarise(NotebookDocument.Load(Path.Combine(folder, "01-second.ipynb")), "01-second") with { Title = "Second", Answers = [new NotebookAnswer("Answer.", "Fresh.")] };
        var earlier = EarlierPage.In(folder, ["01-second"]);
        Assert.Equal(["00-first", "02-third"], earlier.Select(e => e.Name)); // this run's page and the damaged one are not earlier pages
        var index = NotebookPage.Index([new NotebookReport("01-second", 1, 1, TimeSpan.FromSeconds(2), TimeSpan.Zero, null, null, null, fresh, null)], "default", "test", earlier);
        Assert.Contains("<b>Answer.</b> Fresh.", index);
        Assert.DoesNotContain("Replaced by this run", index);
        Assert.Contains("<b>Answer.</b> From before.", index);
        Assert.Contains("page from an earlier run, written", index);
        // in the notebooks' order, not this run's first
        Assert.True(index.IndexOf("From before.", StringComparison.Ordinal) < index.IndexOf("Fresh.", StringComparison.Ordinal)
            && index.IndexOf("Fresh.", StringComparison.Ordinal) < index.IndexOf("Also from before.", StringComparison.Ordinal));
    }

    [Fact]
    public void An_exception_stops_the_notebook_and_the_partial_notebook_is_still_written()
    {
        var report = Run(Write("error", "1 + 1", "throw new InvalidOperationException(\"boom\");", "Console.WriteLine(\"never\");"));
        Assert.False(report.Ok);
        Assert.Equal("cell 2: System.InvalidOperationException: boom", report.Error);
        Assert.True(File.Exists(report.IpynbPath) && File.Exists(report.HtmlPath));
        var error = Outputs(report, 2).Single()!;
        Assert.Equal("error", Type(error));
        Assert.Equal("System.InvalidOperationException", error["ename"]!.GetValue<string>());
        Assert.Equal("boom", error["evalue"]!.GetValue<string>());
        Assert.Empty(Outputs(report, 3));
        var notebook = JsonNode.Parse(File.ReadAllText(report.IpynbPath!))!;
        Assert.Null(notebook["cells"]![3]!["execution_count"]);
        Assert.Contains("boom", File.ReadAllText(report.HtmlPath!));
    }

    [Fact]
    public void A_compile_error_names_the_diagnostic()
    {
        var report = Run(Write("compile", "int y = \"text\";"));
        Assert.False(report.Ok);
        Assert.Contains("CS0029", report.Error);
        Assert.Contains("CS0029", Outputs(report, 1).Single()!["evalue"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_cell_over_the_timeout_stops_the_notebook_and_says_it_is_running_until_then()
    {
        var progress = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var report = await new NotebookRunner(new RunnerOptions(Out, NotebookSize.Quick, TimeSpan.FromSeconds(3), HeartbeatEvery: TimeSpan.FromSeconds(1)), progress.Enqueue)
            .RunAsync(Write("slow", "System.Threading.Thread.Sleep(60_000);", "1"));
        Assert.False(report.Ok);
        Assert.Contains(progress, line => line.StartsWith("slow: cell 1/2 still running after 0:0", StringComparison.Ordinal) && line.EndsWith("(timeout 3 s)", StringComparison.Ordinal));
        Assert.Contains("did not finish within 3 s", Outputs(report, 1).Single()!["evalue"]!.GetValue<string>());
        Assert.Empty(Outputs(report, 2));
    }

    [Fact]
    public void A_cell_for_a_kernel_that_net_interactive_lacks_is_an_error_that_lists_the_kernels()
    {
        var cell = NotebookDocument.CodeCell("c1", "print(1)");
        cell["metadata"] = new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "python" } };
        var path = Path.Combine(_dir, "python-cell.ipynb");
        File.WriteAllText(path, NotebookDocument.NewRoot([cell]).ToJsonString());
        var report = Run(path);
        Assert.False(report.Ok);
        Assert.Contains("'python' kernel", report.Error);
        Assert.Contains("csharp", report.Error);
    }

    [Fact]
    public void Invalid_json_missing_files_and_other_kernels_notebooks_are_reported_without_starting_a_kernel()
    {
        var broken = Path.Combine(_dir, "broken.ipynb");
        File.WriteAllText(broken, "{ \"cells\": [ ");
        var report = Run(broken);
        Assert.False(report.Ok);
        Assert.Contains("not valid JSON", report.Error);
        Assert.Null(report.IpynbPath);
        Assert.Contains("no such notebook", Run(Path.Combine(_dir, "absent.ipynb")).Error);

        var python = JsonNode.Parse(NotebookDocument.NewRoot([NotebookDocument.CodeCell("c1", "print(1)")]).ToJsonString())!.AsObject();
        python["metadata"] = new JsonObject { ["kernelspec"] = new JsonObject { ["name"] = "python3", ["display_name"] = "Python 3" } };
        var pythonPath = Path.Combine(_dir, "python.ipynb");
        File.WriteAllText(pythonPath, python.ToJsonString());
        Assert.Contains("'python3' kernel", Run(pythonPath).Error);
        Assert.False(Directory.Exists(Out));
    }

    [Fact]
    public void The_command_creates_a_missing_output_folder_and_fails_cleanly_on_a_bad_notebook()
    {
        var broken = Path.Combine(_dir, "bad.ipynb");
        File.WriteAllText(broken, "not json");
        var output = Path.Combine(_dir, "no-such-dir", "deeper");
        var (exit, stdout, stderr) = CliTests.Run("notebooks", broken, "--out", output);
        Assert.Equal(ResearchCli.Failed, exit);
        Assert.True(File.Exists(Path.Combine(output, "index.html")));
        Assert.Contains("not valid JSON", stdout);
        Assert.DoesNotContain("Exception", stdout + stderr);
        Assert.False(stdout.Contains('\u001b'), "escape codes in redirected output: " + stdout.Replace("\u001b", "<ESC>")); // plain text in logs

        var (missingExit, _, missingError) = CliTests.Run("notebooks", Path.Combine(_dir, "nowhere.ipynb"));
        Assert.Equal(ResearchCli.Usage, missingExit);
        Assert.Contains("No such notebook", missingError);
    }
}

/// <summary>Every notebook of the workspace, executed in quick mode in the real kernel: any error output fails its test case.</summary>
public class WorkspaceNotebookTests
{
    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        var folder = Path.Combine(NotebooksCommand.WorkspaceRoot(AppContext.BaseDirectory), "notebooks");
        foreach (var path in Directory.GetFiles(folder, "*.ipynb").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task Runs_in_quick_mode_in_the_kernel_without_errors(string notebook)
    {
        var root = NotebooksCommand.WorkspaceRoot(AppContext.BaseDirectory);
        var output = Directory.CreateTempSubdirectory("workspace-notebooks-").FullName;
        var committed = Path.Combine(root, "data", "runs");
        string[] Runs() => Directory.Exists(committed) ? Directory.GetDirectories(committed, "*", SearchOption.AllDirectories) : [];
        var before = Runs();
        try
        {
            var report = await new NotebookRunner(new RunnerOptions(output, NotebookSize.Quick, TimeSpan.FromSeconds(NotebookRunnerTests.HangSeconds)))
                .RunAsync(Path.Combine(root, "notebooks", notebook));
            Assert.True(report.Ok, report.Error);
            Assert.Equal(report.CodeCells, report.ExecutedCells);
            Assert.DoesNotContain("\"output_type\": \"error\"", File.ReadAllText(report.IpynbPath!));
            Assert.Empty(Runs().Except(before)); // quick runs train in a scratch store, never in the committed one
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void References_the_library_where_the_build_puts_it(string notebook)
    {
        var root = NotebooksCommand.WorkspaceRoot(AppContext.BaseDirectory);
        var source = NotebookDocument.Source(NotebookDocument.Load(Path.Combine(root, "notebooks", notebook)).Cells
            .OfType<JsonObject>().First(c => c["cell_type"]!.GetValue<string>() == "code"));
        var reference = source.Split('\n')[0];
        Assert.Equal($"#r \"{NotebookSetup.LibraryReference}\"", reference.Trim());
        // the runner points it at the library of its own build, whichever configuration that is (a Release-only build works)
        var runs = NotebookRunner.WithThisBuildsLibrary(reference).Trim();
        Assert.Equal($"#r \"{NotebookSetup.LibraryReferenceFor(NotebookRunner.BuildConfiguration)}\"", runs);
        Assert.Null(NotebookRunner.MissingLibrary(Path.Combine(root, "notebooks")));
    }

    /// <summary>nbformat 4.5 gives every cell an id, unique in its notebook (a missing one is a warning today, an error later).</summary>
    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Every_cell_has_an_id_unique_in_its_notebook(string notebook)
    {
        var root = NotebooksCommand.WorkspaceRoot(AppContext.BaseDirectory);
        var ids = NotebookDocument.Load(Path.Combine(root, "notebooks", notebook)).Cells.OfType<JsonObject>()
            .Select((c, i) => c["id"]?.GetValue<string>() ?? $"(cell {i + 1} has none)").ToList();
        Assert.All(ids, id => Assert.Matches("^[a-zA-Z0-9_-]{1,64}$", id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
