using System.CommandLine;
using System.Text;
using TransformerLab.Experiments;
using TransformerLab.Reporting;
using TransformerLab.Runtime;

namespace TransformerLab.Cli.Commands;

/// <summary><c>research report</c>: regenerate experiments.md's result tables from the results store.</summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var check = new Option<bool>("--check") { Description = "Change nothing; exit 1 naming every table that differs from what the store gives." };
        var file = new Option<string?>("--file") { Description = "The markdown file (default experiments.md in the workspace)." };
        var store = new Option<string?>("--store") { Description = "Results folder (default data/runs in the workspace)." };
        var command = new Command("report", "Regenerate the result tables of experiments.md (between <!-- report: name --> and <!-- /report -->) from the committed runs.")
            { check, file, store };
        command.SetAction(parse => Run(parse.GetValue(check), parse.GetValue(file), parse.GetValue(store)));
        return command;
    }

    static int Run(bool check, string? file, string? storePath)
    {
        var root = NotebooksCommand.WorkspaceRoot();
        var path = Path.GetFullPath(file ?? Path.Combine(root, "experiments.md"));
        if (!File.Exists(path)) throw new UsageException($"No such file: {path}.");
        var store = storePath is null ? ResultsStore.Default(root) : new ResultsStore(storePath);
        var markdown = File.ReadAllText(path);
        string updated; IReadOnlyList<string> changed;
        try { (updated, changed) = ExperimentsReport.Update(markdown, new ReportSources(store)); }
        catch (Exception e) when (e is ReportException or InvalidDataException) { throw new UsageException(e.Message); } // a missing run, an unknown table, a table in an older layout
        var marked = ExperimentsReport.Marked(markdown).Count;
        var claims = ExperimentsReport.MarkedClaims(markdown).Count;
        var tables = $"{marked} tables and {claims} claims";
        if (check)
        {
            if (changed.Count == 0) { Console.WriteLine($"{tables} in {path} match {store.Root}."); return ResearchCli.Ok; }
            Console.Error.WriteLine($"{changed.Count} of the {tables} in {path} differ from {store.Root}: {string.Join(", ", changed)}. Run `research report` to regenerate them.");
            return ResearchCli.Failed;
        }
        if (changed.Count > 0) AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(updated));
        Console.WriteLine(changed.Count == 0 ? $"{tables} in {path}: all up to date." : $"{tables} in {path}: regenerated {string.Join(", ", changed)}.");
        return ResearchCli.Ok;
    }
}
