using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using TransformerLab.Notebooks;
using TransformerLab.Runtime;

namespace TransformerLab.Cli.Publishing;

/// <summary>How to run notebooks: output folder, size, how long one cell may take, the workspace whose kernel runs them, and how often a running cell says so.</summary>
public sealed record RunnerOptions(string OutputFolder, NotebookSize Size = NotebookSize.Default, TimeSpan? CellTimeout = null, string? Workspace = null,
    TimeSpan? HeartbeatEvery = null)
{
    public TimeSpan Timeout => CellTimeout ?? TimeSpan.FromMinutes(30);

    /// <summary>A long cell (an experiment that trains for minutes) says this often that it is still running: on a busy machine a silent cell looks like a hung one.</summary>
    public TimeSpan Heartbeat => HeartbeatEvery ?? TimeSpan.FromMinutes(1);
}

/// <summary>What happened to one notebook: the files written, the kernel's start-up time, and the first error if any.</summary>
/// <see cref="StaticImages"/> counts the charts given a static copy (null when no browser rendered them).
public sealed record NotebookReport(string Name, int CodeCells, int ExecutedCells, TimeSpan Elapsed, TimeSpan KernelStart,
    string? Error, string? IpynbPath, string? HtmlPath, NotebookSummary? Summary = null, int? StaticImages = null)
{
    public bool Ok => Error is null;
}

/// <summary>
/// Executes notebooks headless in the real .NET Interactive kernel (<see cref="StdioKernel"/>, the one VS Code runs):
/// code cells in order, each in the subkernel its metadata names; the notebook stops at the first failing cell. What
/// the kernel does not do stays here: the notebook size (<see cref="NotebookMode"/>), a per-cell timeout, and writing the
/// executed <c>.ipynb</c> (ids, markdown and metadata kept; outputs as the kernel produced them) and its HTML page —
/// also when a cell failed — with a static image beside each chart when <paramref name="figures"/> can render them.
/// </summary>
public sealed class NotebookRunner(RunnerOptions options, Action<string>? progress = null, StaticFigures? figures = null)
{
    /// <summary>The configuration this runner was built in (Debug or Release): the notebooks run against the library of the same build.</summary>
    public static string BuildConfiguration =>
        typeof(NotebookRunner).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
            .OfType<System.Reflection.AssemblyConfigurationAttribute>().FirstOrDefault()?.Configuration is { Length: > 0 } c ? c : "Debug";

    /// <summary>Every <see cref="RunnerOptions.Heartbeat"/>, a progress line: the cell is still running, for how long, and its timeout.</summary>
    IDisposable? Heartbeat(string what)
    {
        if (progress is null) return null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        return new Timer(_ => progress($"{what} still running after {clock.Elapsed:m\\:ss} (timeout {options.Timeout.TotalSeconds:0.#} s)"),
            null, options.Heartbeat, options.Heartbeat);
    }

    /// <summary>
    /// A cell with the notebooks' library reference (<see cref="NotebookSetup.LibraryReference"/>, the Debug build VS Code
    /// uses) pointed at this build's configuration; the notebook file keeps its one-line reference.
    /// </summary>
    public static string WithThisBuildsLibrary(string source) =>
        source.Replace($"#r \"{NotebookSetup.LibraryReference}\"", $"#r \"{NotebookSetup.LibraryReferenceFor(BuildConfiguration)}\"");

    /// <summary>Null when this build's library is where the notebooks will look for it, else what to build.</summary>
    public static string? MissingLibrary(string notebooksFolder)
    {
        var library = Path.GetFullPath(Path.Combine(notebooksFolder, NotebookSetup.LibraryReferenceFor(BuildConfiguration)));
        return File.Exists(library) ? null
            : $"The notebooks need the library at {library}, which is not built; run `dotnet build lib/TransformerLab -c {BuildConfiguration}` (or `dotnet build Research.sln -c {BuildConfiguration}`), then run the notebooks again.";
    }

    /// <summary>How long the kernel may take to start (the first run of a freshly restored tool is the slowest).</summary>
    public static readonly TimeSpan KernelStartTimeout = TimeSpan.FromMinutes(15); // a hang detector: a busy machine can take minutes to start the kernel

    /// <summary>Runs one notebook and writes <c>NAME.ipynb</c> and <c>NAME.html</c> into the output folder.</summary>
    public async Task<NotebookReport> RunAsync(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        var clock = Stopwatch.StartNew();
        NotebookDocument doc;
        try { doc = NotebookDocument.Load(path); }
        catch (NotebookFormatException e) { return new NotebookReport(name, 0, 0, clock.Elapsed, TimeSpan.Zero, e.Message, null, null); }

        var codeCells = doc.Cells.OfType<JsonObject>().Where(c => c["cell_type"]?.GetValue<string>() == "code").ToList();
        foreach (var cell in codeCells) { cell["outputs"] = new JsonArray(); cell["execution_count"] = null; }

        string? error = null;
        int executed = 0;
        var kernelStart = TimeSpan.Zero;
        progress?.Invoke($"{name}: starting the kernel");
        var environment = new Dictionary<string, string> { [NotebookMode.EnvironmentVariable] = options.Size.ToString().ToLowerInvariant() };
        // Quick runs train afresh in a folder of their own and never touch the committed store (NotebookRuns).
        var scratch = options.Size == NotebookSize.Quick ? Directory.CreateTempSubdirectory("quick-runs-").FullName : null;
        if (scratch is not null) environment[NotebookRuns.ScratchVariable] = scratch;
        try
        {
            await using var kernel = await StdioKernel.StartAsync(
                options.Workspace ?? Workspace.FindRoot(AppContext.BaseDirectory) ?? Workspace.Root(), Path.GetDirectoryName(Path.GetFullPath(path))!,
                environment, KernelStartTimeout);
            kernelStart = kernel.StartTime;
            foreach (var (cell, number) in codeCells.Select((c, i) => (c, i + 1)))
            {
                progress?.Invoke($"{name}: cell {number}/{codeCells.Count}");
                cell["execution_count"] = ++executed;
                var outputs = new CellOutputs((JsonArray)cell["outputs"]!, executed);
                var subkernel = doc.KernelOf(cell);
                if (!kernel.Kernels.Any(k => k.LocalName == subkernel || k.Aliases.Contains(subkernel)))
                    outputs.Fail($"This cell is for the '{subkernel}' kernel, which .NET Interactive does not have " +
                                 $"(it has {string.Join(", ", kernel.Kernels.Where(k => !k.IsComposite).Select(k => k.LocalName))}).");
                else
                {
                    using var heartbeat = Heartbeat($"{name}: cell {number}/{codeCells.Count}");
                    try { await kernel.SubmitAsync(WithThisBuildsLibrary(NotebookDocument.Source(cell)), subkernel, options.Timeout, outputs.Add); }
                    catch (KernelException e) { outputs.Fail(e.Message); }
                }
                if (outputs.Error is { } failure)
                {
                    error = $"cell {number}: {failure.Split('\n')[0]}";
                    break;
                }
            }
        }
        catch (KernelException e)
        {
            error = e.Message;
        }
        finally
        {
            if (scratch is not null) Directory.Delete(scratch, recursive: true);
        }

        int? staticImages = null;
        if (figures is not null)
        {
            progress?.Invoke($"{name}: static images of the charts");
            var (rendered, failures) = await figures.AddToAsync(doc);
            staticImages = rendered;
            foreach (var failure in failures) progress?.Invoke($"{name}: a chart kept no static image ({failure})");
        }

        Directory.CreateDirectory(options.OutputFolder);
        var ipynb = Path.Combine(options.OutputFolder, name + ".ipynb");
        var html = Path.Combine(options.OutputFolder, name + ".html");
        AtomicFile.WriteAllBytes(ipynb, new UTF8Encoding(false).GetBytes(doc.ToJson()));
        AtomicFile.WriteAllBytes(html, new UTF8Encoding(false).GetBytes(NotebookPage.Render(doc, name)));
        return new NotebookReport(name, codeCells.Count, executed, clock.Elapsed, kernelStart, error, ipynb, html, NotebookPage.Summarise(doc, name), staticImages);
    }
}
