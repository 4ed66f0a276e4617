using System.Text;
using System.Text.Json.Nodes;
using TransformerLab.Cli.Commands;
using TransformerLab.Cli.Notebooks;
using TransformerLab.Notebooks;
using Xunit;

namespace TransformerLab.Tests.Notebooks;

/// <summary>The headless runner on small fixture notebooks written to a temporary folder.</summary>
public sealed class NotebookRunnerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("notebooks-").FullName;
    string Out => Path.Combine(_dir, "out");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Write(string name, params string[] codeCells)
    {
        var cells = new List<JsonObject> { NotebookDocument.MarkdownCell("md-1", "# Fixture\nSome *markdown* — with UTF-8.") };
        cells.AddRange(codeCells.Select((c, i) => NotebookDocument.CodeCell($"code-{i + 1}", c)));
        var path = Path.Combine(_dir, name + ".ipynb");
        File.WriteAllText(path, NotebookDocument.NewRoot(cells).ToJsonString());
        return path;
    }

    NotebookReport Run(string path, double timeoutSeconds = 60) =>
        new NotebookRunner(new RunnerOptions(Out, NotebookSize.Quick, TimeSpan.FromSeconds(timeoutSeconds))).RunAsync(path).GetAwaiter().GetResult();

    JsonArray Outputs(NotebookReport report, int codeCell) =>
        (JsonArray)JsonNode.Parse(File.ReadAllText(report.IpynbPath!))!["cells"]![codeCell]!["outputs"]!; // cell 0 is markdown

    static string Text(JsonNode? node) => node is JsonArray a ? string.Concat(a.Select(l => l!.GetValue<string>())) : node?.GetValue<string>() ?? "";

    [Fact]
    public void Display_trailing_values_and_stdout_become_outputs_in_order()
    {
        var report = Run(Write("outputs",
            "Console.WriteLine(\"before\");\ndisplay(42);\nConsole.Write(\"after\");",
            "var x = 20;",
            "x + 1",
            "string? nothing = null;\nnothing",
            "#!csharp\nx * 2"));
        Assert.True(report.Ok, report.Error);

        var first = Outputs(report, 1);
        Assert.Equal(["stream", "display_data", "stream"], first.Select(o => o!["output_type"]!.GetValue<string>()));
        Assert.Equal("before\n", Text(first[0]!["text"]));
        Assert.Equal("42", Text(first[1]!["data"]!["text/plain"]));
        Assert.Empty(Outputs(report, 2)); // a declaration has no value
        Assert.Equal("21", Text(Outputs(report, 3)[0]!["data"]!["text/plain"]));
        Assert.Equal("<null>", Text(Outputs(report, 4)[0]!["data"]!["text/plain"])); // a null value is still a value
        Assert.Equal("40", Text(Outputs(report, 5)[0]!["data"]!["text/plain"]));    // #!csharp accepted
    }

    [Fact]
    public void An_error_stops_the_notebook_and_the_partial_notebook_is_still_written()
    {
        var report = Run(Write("error", "1 + 1", "throw new InvalidOperationException(\"boom\");", "Console.WriteLine(\"never\");"));
        Assert.False(report.Ok);
        Assert.Contains("cell 2", report.Error);
        Assert.True(File.Exists(report.IpynbPath) && File.Exists(report.HtmlPath));
        var error = Outputs(report, 2).Single()!;
        Assert.Equal("error", error["output_type"]!.GetValue<string>());
        Assert.Equal("System.InvalidOperationException", error["ename"]!.GetValue<string>());
        Assert.Equal("cell 2: boom", error["evalue"]!.GetValue<string>());
        Assert.Empty(Outputs(report, 3));
        var notebook = JsonNode.Parse(File.ReadAllText(report.IpynbPath!))!;
        Assert.Null(notebook["cells"]![3]!["execution_count"]);
        Assert.Contains("boom", File.ReadAllText(report.HtmlPath!));
    }

    [Fact]
    public void A_compile_error_names_the_cell_and_the_diagnostic()
    {
        var report = Run(Write("compile", "int y = \"text\";"));
        Assert.False(report.Ok);
        Assert.Equal("CompilationError", Outputs(report, 1).Single()!["ename"]!.GetValue<string>());
        Assert.Contains("CS0029", Outputs(report, 1).Single()!["evalue"]!.GetValue<string>());
    }

    [Fact]
    public void Relative_references_resolve_against_the_notebook_folder()
    {
        // A library the runner does not carry is loaded from the path; the workspace library maps to the loaded copy.
        var refs = Directory.CreateDirectory(Path.Combine(_dir, "refs")).FullName;
        File.Copy(typeof(TransformerLab.NativeFix.ElfImage).Assembly.Location, Path.Combine(refs, "TransformerLab.NativeFix.dll"));
        File.Copy(typeof(NotebookSetup).Assembly.Location, Path.Combine(refs, "TransformerLab.dll"));
        var report = Run(Write("references",
            "#r \"refs/TransformerLab.NativeFix.dll\"\nTransformerLab.NativeFix.GlibcxxCompat.LibraryFileName",
            "#r \"refs/TransformerLab.dll\"\ntypeof(TransformerLab.Notebooks.NotebookSetup).Assembly == typeof(TransformerLab.Runtime.TorchRuntime).Assembly"));
        Assert.True(report.Ok, report.Error);
        Assert.Equal("libLibTorchSharp.so", Text(Outputs(report, 1)[0]!["data"]!["text/plain"]));
        Assert.Equal("True", Text(Outputs(report, 2)[0]!["data"]!["text/plain"]));
    }

    [Fact]
    public void A_missing_reference_is_an_error_that_says_where_it_looked()
    {
        var report = Run(Write("missing-ref", "#r \"nowhere/Library.dll\"\n1"));
        Assert.False(report.Ok);
        Assert.Contains("no such file", Outputs(report, 1).Single()!["evalue"]!.GetValue<string>());
    }

    [Fact]
    public void Nuget_references_map_to_carried_packages_and_others_are_refused_by_name()
    {
        var ok = Run(Write("nuget", "#r \"nuget: Plotly.NET, 6.0.0\"\n#r \"nuget:Microsoft.Data.Analysis\"\ntypeof(Plotly.NET.GenericChart).Name"));
        Assert.True(ok.Ok, ok.Error);
        var refused = Run(Write("nuget-unknown", "#r \"nuget: Newtonsoft.Json, 13.0.3\"\n1"));
        Assert.False(refused.Ok);
        var message = Outputs(refused, 1).Single()!["evalue"]!.GetValue<string>();
        Assert.Contains("Newtonsoft.Json", message);
        Assert.Contains("TorchSharp", message); // lists what it carries
    }

    [Fact]
    public void Unknown_magics_are_refused_by_name()
    {
        var report = Run(Write("magic", "#!time\n1 + 1"));
        Assert.False(report.Ok);
        Assert.Contains("'#!time' is not supported", Outputs(report, 1).Single()!["evalue"]!.GetValue<string>());
        var packageSource = Run(Write("source", "#i \"nuget:https://example.invalid/index.json\"\n1"));
        Assert.Contains("'#i'", packageSource.Error);
    }

    [Fact]
    public void Invalid_json_and_missing_files_are_reported_without_writing_anything()
    {
        var broken = Path.Combine(_dir, "broken.ipynb");
        File.WriteAllText(broken, "{ \"cells\": [ ");
        var report = Run(broken);
        Assert.False(report.Ok);
        Assert.Contains("not valid JSON", report.Error);
        Assert.Null(report.IpynbPath);
        Assert.Contains("no such notebook", Run(Path.Combine(_dir, "absent.ipynb")).Error);
        Assert.False(Directory.Exists(Out));
    }

    [Fact]
    public void A_cell_over_the_timeout_stops_the_notebook()
    {
        var report = Run(Write("slow", "System.Threading.Thread.Sleep(3000);", "1"), timeoutSeconds: 0.5);
        Assert.False(report.Ok);
        Assert.Contains("did not finish within 0.5 s", Outputs(report, 1).Single()!["evalue"]!.GetValue<string>());
    }

    [Fact]
    public void Writing_keeps_ids_markdown_and_metadata_in_utf8_without_bom()
    {
        var report = Run(Write("roundtrip", "1"));
        var bytes = File.ReadAllBytes(report.IpynbPath!);
        Assert.False(bytes.Take(3).SequenceEqual(new byte[] { 0xEF, 0xBB, 0xBF }));
        var notebook = JsonNode.Parse(Encoding.UTF8.GetString(bytes))!;
        Assert.Equal("md-1", notebook["cells"]![0]!["id"]!.GetValue<string>());
        Assert.Equal("# Fixture\nSome *markdown* — with UTF-8.", Text(notebook["cells"]![0]!["source"]));
        Assert.Equal("csharp", notebook["cells"]![1]!["metadata"]!["polyglot_notebook"]!["kernelName"]!.GetValue<string>());
        Assert.Equal(".net-csharp", notebook["metadata"]!["kernelspec"]!["name"]!.GetValue<string>());
        Assert.Equal("polyglot-notebook", notebook["metadata"]!["language_info"]!["name"]!.GetValue<string>());
        Assert.Equal(1, notebook["cells"]![1]!["execution_count"]!.GetValue<int>());
        Assert.Contains("<em>markdown</em>", File.ReadAllText(report.HtmlPath!));
    }

    [Fact]
    public void Older_dotnet_interactive_metadata_is_read_and_other_kernels_are_refused()
    {
        var cell = NotebookDocument.CodeCell("c1", "1");
        cell["metadata"] = new JsonObject { ["dotnet_interactive"] = new JsonObject { ["language"] = "fsharp" } };
        var path = Path.Combine(_dir, "fsharp.ipynb");
        File.WriteAllText(path, NotebookDocument.NewRoot([cell]).ToJsonString());
        var report = Run(path);
        Assert.False(report.Ok);
        Assert.Contains("'fsharp' kernel", report.Error);
    }
}

/// <summary>Every notebook of the workspace, executed in quick mode: any error output fails its test case.</summary>
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
    public async Task Runs_in_quick_mode_without_errors(string notebook)
    {
        var root = NotebooksCommand.WorkspaceRoot(AppContext.BaseDirectory);
        var output = Directory.CreateTempSubdirectory("workspace-notebooks-").FullName;
        try
        {
            var report = await new NotebookRunner(new RunnerOptions(output, NotebookSize.Quick, TimeSpan.FromMinutes(5)))
                .RunAsync(Path.Combine(root, "notebooks", notebook));
            Assert.True(report.Ok, report.Error);
            Assert.Equal(report.CodeCells, report.ExecutedCells);
            Assert.DoesNotContain("\"output_type\": \"error\"", File.ReadAllText(report.IpynbPath!));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
