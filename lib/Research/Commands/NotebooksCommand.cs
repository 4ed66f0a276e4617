using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Spectre.Console;
using TransformerLab.Runtime;
using TransformerLab.Cli.Publishing;
using TransformerLab.Notebooks;

namespace TransformerLab.Cli.Commands;

/// <summary>
/// <c>research notebooks</c>: execute the Polyglot notebooks headless in the real .NET Interactive kernel; write the
/// executed .ipynb files, one HTML page each and an index.
/// </summary>
public static class NotebooksCommand
{
    public static Command Create()
    {
        var notebooks = new Argument<string[]>("notebook") { Description = "Notebooks to run (default: every notebooks/*.ipynb of the workspace).", Arity = ArgumentArity.ZeroOrMore };
        var mode = new Option<string>("--mode") { Description = "quick: seconds per notebook (CI smoke runs); default: the real experiments.", DefaultValueFactory = _ => "default" };
        mode.AcceptOnlyFromAmong("quick", "default");
        var output = new Option<string?>("--out") { Description = "Folder for the executed notebooks and HTML pages, created if missing (default: artifacts/notebooks)." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds one cell may run before its notebook is stopped.", DefaultValueFactory = _ => 1800 };
        var inPlace = new Option<bool>("--in-place") { Description = "Also write each notebook that ran without an error back over its source, outputs included — the executed notebooks the repository commits (default mode only)." };
        var check = new Option<bool>("--check") { Description = "Change nothing: execute the notebooks (default mode) and exit 1 naming each one whose committed outputs differ from what the code computes now — notebook, cell and the first difference." };
        var command = new Command("notebooks", "Execute the notebooks headless in the .NET Interactive kernel (the one VS Code runs); write executed .ipynb files and self-contained HTML pages.") { notebooks, mode, output, timeout, inPlace, check };
        command.SetAction(parse => Run(parse.GetValue(notebooks) ?? [], NotebookMode.Parse(parse.GetValue(mode)), parse.GetValue(output), parse.GetValue(timeout), parse.GetValue(inPlace), parse.GetValue(check)));
        return command;
    }

    /// <summary>The workspace root: the nearest folder upwards holding Research.sln.</summary>
    public static string WorkspaceRoot(string? start = null) => Workspace.FindRoot(start)
        ?? throw new UsageException("Not inside the workspace (no Research.sln above this folder): run from the repository, or name the notebooks.");

    static int Run(string[] names, NotebookSize size, string? outFolder, double timeoutSeconds, bool inPlace, bool check)
    {
        if (check && inPlace) throw new UsageException("--check changes nothing and --in-place writes the notebooks: use one.");
        if (check && size != NotebookSize.Default) throw new UsageException("--check compares with the committed outputs, which are the default mode's: drop --mode quick.");
        if (timeoutSeconds <= 0) throw new UsageException($"--timeout must be positive (got {timeoutSeconds}).");
        if (inPlace && size != NotebookSize.Default) throw new UsageException("--in-place writes the outputs the repository commits: run it in default mode (drop --mode quick).");
        var paths = names.Length > 0
            ? names.Select(Path.GetFullPath).ToList()
            : Directory.GetFiles(Path.Combine(WorkspaceRoot(), "notebooks"), "*.ipynb").Order(StringComparer.Ordinal).ToList();
        var missing = paths.Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0) throw new UsageException($"No such notebook: {string.Join(", ", missing)}");
        if (paths.Count == 0) throw new UsageException("No notebooks found in notebooks/.");
        if (NotebookRunner.MissingLibrary(Path.Combine(WorkspaceRoot(), "notebooks")) is { } unbuilt) throw new UsageException(unbuilt);
        var folder = Path.GetFullPath(outFolder ?? (check ? Directory.CreateTempSubdirectory("notebooks-check-").FullName
            : Path.Combine(names.Length > 0 ? Environment.CurrentDirectory : WorkspaceRoot(), "artifacts", "notebooks")));
        try { Directory.CreateDirectory(folder); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--out {folder}: cannot create the output folder ({e.Message}).");
        }

        var terminal = ResearchCli.Terminal;
        var machine = MachineProfile.Read();
        terminal.WriteLine($"Machine: {machine}.");
        if (machine.Busy)
            terminal.MarkupLine($"[yellow]warning[/]: the machine is busy (load {machine.Load1:F2} on {machine.Cores} cores): notebooks that compute on the page take longer, and their timings show the contention.");
        var options = new RunnerOptions(folder, size, TimeSpan.FromSeconds(timeoutSeconds), Workspace.FindRoot(AppContext.BaseDirectory) ?? Workspace.FindRoot());
        var (figures, problem) = StaticFigures.StartAsync(StaticFigures.FindBrowser()).GetAwaiter().GetResult();
        if (figures is null && (check || inPlace))
            throw new UsageException($"{(check ? "--check" : "--in-place")} needs the charts' static images, as the notebooks commit them, and {problem}: {StaticFigures.InstallHint}.");
        if (figures is null)
            terminal.MarkupLine($"[yellow]Static chart images skipped[/]: {Markup.Escape(problem!)}. The notebooks keep their interactive charts; " +
                                $"for images that show on GitHub and nbviewer, {Markup.Escape(StaticFigures.InstallHint)}.");
        List<NotebookReport> reports;
        try { reports = ResearchCli.IsTerminal ? WithProgressBar(terminal, options, paths, figures) : WithLogLines(options, paths, figures); }
        finally { figures?.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        var provenance = $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC at {Workspace.Revision(options.Workspace ?? Environment.CurrentDirectory)}";
        AtomicFile.WriteAllBytes(Path.Combine(folder, "index.html"),
            new UTF8Encoding(false).GetBytes(NotebookPage.Index(reports, size.ToString().ToLowerInvariant(), provenance, EarlierPage.In(folder, reports.Select(r => r.Name)))));

        if (inPlace)
            foreach (var (report, source) in reports.Zip(paths))
                if (report.Ok && report.IpynbPath is { } executed) AtomicFile.WriteAllBytes(source, File.ReadAllBytes(executed)); // a failed run never replaces a source
                else terminal.MarkupLine($"[yellow]{Markup.Escape(report.Name)}[/]: not written back ({Markup.Escape(report.Error ?? "no executed notebook")}).");

        var stale = new List<string>();
        if (check)
            foreach (var (report, source) in reports.Zip(paths))
                if (report.Ok && NotebookFreshness.FirstDifference(NotebookDocument.Load(source), NotebookDocument.Load(report.IpynbPath!)) is { } difference)
                    stale.Add($"{report.Name}: {difference}");

        var table = ResearchCli.Table("notebook", "cells", "kernel start", "seconds", "static images", "status");
        foreach (var r in reports)
            table.AddRow(Markup.Escape(r.Name), $"{r.ExecutedCells}/{r.CodeCells}", $"{r.KernelStart.TotalSeconds:F1}", $"{r.Elapsed.TotalSeconds:F1}",
                r.StaticImages?.ToString() ?? "–",
                r.Ok ? "[green]ok[/]" : $"[red]{Markup.Escape(r.Error!)}[/]");
        terminal.Write(table);
        var index = Path.Combine(folder, "index.html");
        terminal.MarkupLine($"Mode {size.ToString().ToLowerInvariant()}, {reports.Sum(r => r.Elapsed.TotalSeconds):F0} s in all. Rendered pages: " +
                            (ResearchCli.IsTerminal ? $"[link]{Markup.Escape(index)}[/]" : Markup.Escape(index)));
        if (check)
        {
            foreach (var line in stale) Console.Error.WriteLine($"stale: {line}");
            Console.WriteLine(stale.Count == 0 && reports.All(r => r.Ok)
                ? $"The committed outputs of {Notebooks(reports.Count)} are what the code computes now." + (outFolder is null ? " (The check's executed copies are removed.)" : "")
                : $"{stale.Count} of {Notebooks(reports.Count)} differ from their committed outputs or failed; refresh with `research notebooks --in-place` and commit.");
        }
        var ok = reports.All(r => r.Ok) && stale.Count == 0;
        // the check's own executed copies are scratch: kept to look at when something differs, removed when all agree
        if (check && outFolder is null && ok) Directory.Delete(folder, recursive: true);
        return ok ? ResearchCli.Ok : ResearchCli.Failed;
    }

    static string Notebooks(int count) => count == 1 ? "1 notebook" : $"{count} notebooks";

    static List<NotebookReport> WithProgressBar(IAnsiConsole terminal, RunnerOptions options, List<string> paths, StaticFigures? figures)
    {
        var reports = new List<NotebookReport>();
        terminal.Progress().AutoClear(true).Start(ctx =>
        {
            var task = ctx.AddTask("notebooks", maxValue: paths.Count);
            var runner = new NotebookRunner(options, step => task.Description = Markup.Escape(step), figures);
            foreach (var path in paths)
            {
                reports.Add(runner.RunAsync(path).GetAwaiter().GetResult());
                task.Increment(1);
            }
        });
        return reports;
    }

    /// <summary>For logs: one plain line per step (a notebook's kernel start, each cell), with the time since the start.</summary>
    static List<NotebookReport> WithLogLines(RunnerOptions options, List<string> paths, StaticFigures? figures)
    {
        var clock = Stopwatch.StartNew();
        var reports = new List<NotebookReport>();
        foreach (var (path, i) in paths.Select((p, i) => (p, i + 1)))
        {
            var runner = new NotebookRunner(options, step => Console.WriteLine($"[{clock.Elapsed:mm\\:ss}] notebook {i}/{paths.Count} {step}"), figures);
            var report = runner.RunAsync(path).GetAwaiter().GetResult();
            Console.WriteLine($"[{clock.Elapsed:mm\\:ss}] notebook {i}/{paths.Count} {report.Name}: {(report.Ok ? "ok" : report.Error)} ({report.Elapsed.TotalSeconds:F1} s)");
            reports.Add(report);
        }
        return reports;
    }
}
