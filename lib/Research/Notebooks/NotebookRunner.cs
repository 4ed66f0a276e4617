using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using TransformerLab.NativeFix;
using TransformerLab.Notebooks;

namespace TransformerLab.Cli.Notebooks;

/// <summary>How to run notebooks: output folder, size, and how long one cell may take.</summary>
public sealed record RunnerOptions(string OutputFolder, NotebookSize Size = NotebookSize.Default, TimeSpan? CellTimeout = null);

/// <summary>What happened to one notebook: the files written, and the first error if any.</summary>
public sealed record NotebookReport(string Name, int CodeCells, int ExecutedCells, TimeSpan Elapsed, string? Error, string? IpynbPath, string? HtmlPath)
{
    public bool Ok => Error is null;
}

/// <summary>
/// Executes Polyglot (C#) notebooks headless with Roslyn scripting: cells in order with shared state, as the
/// dotnet-interactive C# kernel does, but without it. Handles the kernel's directives itself (<c>#!csharp</c>,
/// <c>#r "nuget: …"</c>, <c>#r "path"</c> relative to the notebook), turns <c>display(…)</c> and a cell's trailing
/// expression into <c>display_data</c>, console output into <c>stream</c>, and an exception into an <c>error</c> output
/// that stops the notebook. The executed notebook and its HTML page are written even when a cell fails.
/// </summary>
public sealed partial class NotebookRunner(RunnerOptions options, Action<string>? progress = null)
{
    /// <summary>NuGet packages the runner carries, by package id, with the assemblies they stand for.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> CarriedPackages = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
    {
        ["TorchSharp"] = ["TorchSharp"],
        ["TorchSharp-cpu"] = ["TorchSharp"],
        ["Plotly.NET"] = ["Plotly.NET", "FSharp.Core"],
        ["Plotly.NET.CSharp"] = ["Plotly.NET.CSharp", "Plotly.NET", "FSharp.Core"],
        ["Microsoft.Data.Analysis"] = ["Microsoft.Data.Analysis"],
        ["Microsoft.DotNet.Interactive.Formatting"] = ["Microsoft.DotNet.Interactive.Formatting"],
    };

    static readonly string[] DefaultImports =
        ["System", "System.Text", "System.Collections", "System.Collections.Generic", "System.Linq", "System.Threading.Tasks"];

    static readonly Lazy<Assembly[]> Carried = new(() =>
        CarriedPackages.Values.SelectMany(a => a).Append("TransformerLab").Distinct().Select(n => Assembly.Load(n)).ToArray());

    public TimeSpan CellTimeout => options.CellTimeout ?? TimeSpan.FromMinutes(10);

    /// <summary>Runs one notebook and writes <c>NAME.ipynb</c> and <c>NAME.html</c> into the output folder.</summary>
    public async Task<NotebookReport> RunAsync(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        var clock = Stopwatch.StartNew();
        NotebookDocument doc;
        try { doc = NotebookDocument.Load(path); }
        catch (NotebookFormatException e) { return new NotebookReport(name, 0, 0, clock.Elapsed, e.Message, null, null); }

        NotebookDisplay.Register();
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var scriptOptions = ScriptOptions.Default
            .WithReferences(Carried.Value)
            .WithImports(DefaultImports)
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(folder))
            .WithFilePath(Path.GetFullPath(path));
        var globals = new NotebookGlobals();
        var codeCells = doc.Cells.OfType<JsonObject>().Where(c => c["cell_type"]?.GetValue<string>() == "code").ToList();
        foreach (var cell in codeCells) { cell["outputs"] = new JsonArray(); cell["execution_count"] = null; }

        string? error = null;
        int executed = 0;
        ScriptState<object>? state = null;
        var (stdout, stderr, cwd) = (Console.Out, Console.Error, Environment.CurrentDirectory);
        var mode = Environment.GetEnvironmentVariable(NotebookMode.EnvironmentVariable);
        Environment.SetEnvironmentVariable(NotebookMode.EnvironmentVariable, options.Size.ToString().ToLowerInvariant());
        Environment.CurrentDirectory = folder; // as in VS Code: relative paths start at the notebook
        try
        {
            foreach (var (cell, number) in codeCells.Select((c, i) => (c, i + 1)))
            {
                progress?.Invoke($"{name}: cell {number}/{codeCells.Count}");
                var outputs = (JsonArray)cell["outputs"]!;
                cell["execution_count"] = ++executed;
                globals.Outputs = outputs;
                var (cellOut, cellErr) = (new CellWriter(outputs, "stdout"), new CellWriter(outputs, "stderr"));
                Console.SetOut(cellOut);
                Console.SetError(cellErr);
                try
                {
                    var kernel = doc.KernelOf(cell);
                    if (kernel is not ("csharp" or "C#" or "c#"))
                        throw new CellException($"this cell is for the '{kernel}' kernel; research notebooks runs C# cells only.");
                    var code = Preprocess(NotebookDocument.Source(cell), folder);
                    state = await Execute(code, state, scriptOptions, globals);
                    if (HasReturnValue(state.Script)) outputs.Add(NotebookGlobals.DisplayData(state.ReturnValue));
                }
                catch (Exception e)
                {
                    var failure = Unwrap(e);
                    outputs.Add(ErrorOutput(failure, number));
                    error = $"cell {number}: {failure.GetType().Name}: {FirstLine(failure.Message)}";
                    break;
                }
                finally
                {
                    cellOut.Complete();
                    cellErr.Complete();
                }
            }
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            Environment.CurrentDirectory = cwd;
            Environment.SetEnvironmentVariable(NotebookMode.EnvironmentVariable, mode);
            globals.Outputs = null;
        }

        Directory.CreateDirectory(options.OutputFolder);
        var ipynb = Path.Combine(options.OutputFolder, name + ".ipynb");
        var html = Path.Combine(options.OutputFolder, name + ".html");
        AtomicFile.WriteAllBytes(ipynb, new UTF8Encoding(false).GetBytes(doc.ToJson()));
        AtomicFile.WriteAllBytes(html, new UTF8Encoding(false).GetBytes(NotebookPage.Render(doc, name)));
        return new NotebookReport(name, codeCells.Count, executed, clock.Elapsed, error, ipynb, html);
    }

    async Task<ScriptState<object>> Execute(string code, ScriptState<object>? state, ScriptOptions scriptOptions, NotebookGlobals globals)
    {
        using var cancel = new CancellationTokenSource();
        // RunAsync executes the submission synchronously up to its first await: start it on the thread pool so that
        // the timeout below can fire while the cell is still running.
        var run = Task.Run(() => state is null
            ? CSharpScript.RunAsync(code, scriptOptions, globals, typeof(NotebookGlobals), cancel.Token)
            : state.ContinueWithAsync(code, scriptOptions, cancel.Token));
        // Roslyn cannot stop a running submission: on timeout the notebook stops here and the cell is abandoned.
        if (await Task.WhenAny(run, Task.Delay(CellTimeout)) != run)
        {
            cancel.Cancel();
            throw new TimeoutException($"the cell did not finish within {CellTimeout.TotalSeconds:0.#} s (--timeout).");
        }
        return await run;
    }

    /// <summary>
    /// Applies the Polyglot kernel's directives that Roslyn does not know, line by line, keeping line numbers:
    /// <c>#!csharp</c> is dropped (Roslyn would take a first-line <c>#!</c> for a shebang and ignore it silently),
    /// <c>#r "nuget: …"</c> is checked against the carried packages, a relative <c>#r "path"</c> is resolved against
    /// the notebook's folder, and any other magic is refused by name.
    /// </summary>
    public static string Preprocess(string source, string notebookFolder)
    {
        var lines = source.Replace("\r\n", "\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.StartsWith("#!", StringComparison.Ordinal))
            {
                var magic = line.Split(' ', 2)[0];
                if (magic is "#!csharp" or "#!c#" or "#!C#") { lines[i] = ""; continue; }
                throw new CellException($"the magic command '{magic}' is not supported by research notebooks (supported: #!csharp, #r).");
            }
            if (line.StartsWith("#i ", StringComparison.Ordinal) || line == "#i")
                throw new CellException("'#i' (package sources) is not supported: research notebooks runs with the packages it carries.");
            var reference = ReferenceDirective().Match(line);
            if (!reference.Success) continue;
            var target = reference.Groups[1].Value;
            if (target.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase))
            {
                var package = target["nuget:".Length..].Split(',')[0].Trim();
                if (!CarriedPackages.ContainsKey(package))
                    throw new CellException($"#r \"nuget: {package}\": research notebooks cannot fetch packages; it carries {string.Join(", ", CarriedPackages.Keys)} and the TransformerLab library.");
                lines[i] = ""; // already referenced
                continue;
            }
            var full = Path.GetFullPath(Path.Combine(notebookFolder, target));
            var carriedByName = Carried.Value.Any(a => a.GetName().Name == Path.GetFileNameWithoutExtension(full));
            if (!File.Exists(full) && carriedByName) { lines[i] = ""; continue; } // e.g. only a Release build exists
            if (!File.Exists(full))
                throw new CellException($"#r \"{target}\": no such file (looked for {full}). Build the solution first: dotnet build Research.sln.");
            var assembly = AssemblyName.GetAssemblyName(full).Name;
            // The library and its dependencies are already loaded in this process: use those, not a second copy.
            lines[i] = Carried.Value.Any(a => a.GetName().Name == assembly) ? "" : $"#r \"{full}\"";
        }
        return string.Join('\n', lines);
    }

    [GeneratedRegex("""^#r\s+"([^"]+)"\s*$""")]
    private static partial Regex ReferenceDirective();

    /// <summary>Roslyn 5.12 tells whether a submission ends in an expression only through a non-public method.</summary>
    static bool HasReturnValue(Script script) =>
        (bool)(typeof(Script).GetMethod("HasReturnValue", BindingFlags.Instance | BindingFlags.NonPublic)
               ?? throw new MissingMethodException("Script.HasReturnValue is gone from this Roslyn version."))
            .Invoke(script, null)!;

    static Exception Unwrap(Exception e) => e is AggregateException { InnerExceptions.Count: 1 } a ? Unwrap(a.InnerException!) : e;

    static JsonObject ErrorOutput(Exception e, int cell)
    {
        var (name, message) = e switch
        {
            CompilationErrorException c => ("CompilationError", string.Join("\n", c.Diagnostics.Select(d => d.ToString()))),
            CellException => ("CellError", e.Message),
            _ => (e.GetType().FullName ?? e.GetType().Name, e.Message),
        };
        var traceback = new JsonArray($"Error in cell {cell}: {name}: {message}");
        if (e is not (CompilationErrorException or CellException))
            foreach (var line in (e.StackTrace ?? "").Split('\n').Where(l => l.Trim().Length > 0)) traceback.Add(line.TrimEnd());
        return new JsonObject { ["output_type"] = "error", ["ename"] = name, ["evalue"] = $"cell {cell}: {message}", ["traceback"] = traceback };
    }

    static string FirstLine(string s) => s.Split('\n')[0].Trim();

    /// <summary>
    /// Sends what a cell writes to the console into its outputs, in order, as nbformat <c>stream</c> outputs. Text
    /// accumulates per output and is split into lines once, by <see cref="Complete"/>, so a chatty cell stays linear.
    /// </summary>
    sealed class CellWriter(JsonArray outputs, string stream) : TextWriter
    {
        readonly Dictionary<JsonObject, StringBuilder> _texts = [];

        public override Encoding Encoding => Encoding.UTF8;
        public override void Write(char value) => Write(value.ToString());
        public override void Write(string? value)
        {
            if (string.IsNullOrEmpty(value)) return;
            lock (outputs)
            {
                if (outputs.Count == 0 || outputs[^1] is not JsonObject last || !_texts.TryGetValue(last, out var text))
                {
                    last = new JsonObject { ["output_type"] = "stream", ["name"] = stream, ["text"] = new JsonArray() };
                    outputs.Add(last);
                    _texts[last] = text = new StringBuilder();
                }
                text.Append(value);
            }
        }

        /// <summary>Writes the accumulated text of each stream output as nbformat lines.</summary>
        public void Complete()
        {
            lock (outputs)
                foreach (var (output, text) in _texts) output["text"] = NotebookDocument.Lines(text.ToString());
        }
    }
}

/// <summary>A cell the runner refuses before running it (unsupported magic, unknown package, missing reference).</summary>
public sealed class CellException(string message) : Exception(message);
