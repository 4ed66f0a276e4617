using System.CommandLine;
using Spectre.Console;
using System.Text;
using TransformerLab.Data;
using TransformerLab.Runtime;
using TransformerLab.Training;

namespace TransformerLab.Cli.Commands;

/// <summary><c>research data</c>: import CMUdict from its npm package, and show a task's splits.</summary>
public static class DataCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "cmu-pronouncing-dictionary-3.0.0.tgz (from `npm pack cmu-pronouncing-dictionary@3.0.0`) or its index.js.", Required = true };
        var output = new Option<string?>("--out") { Description = $"Where to write the dictionary (default {CmuDict.DefaultPath} in the workspace)." };
        var import = new Command("import-cmudict", "Convert the npm package's JS object into upstream's cmudict.dict format.") { from, output };
        import.SetAction(parse => Import(parse.GetValue(from)!, parse.GetValue(output)));

        var task = new Option<TaskKind?>("--task") { Description = "g2p (the default), copy, reverse or sort; same as --set task=…" };
        var set = new Option<string[]>("--set") { Description = "key=value settings, as for train.", AllowMultipleArgumentsPerToken = true };
        var show = new Command("show", "Counts per split: items, examples, lengths, vocabulary sizes.") { task, set };
        show.SetAction(parse => Show(parse.GetValue(task), parse.GetValue(set) ?? []));

        return new Command("data", "Data for the tasks.") { import, show };
    }

    static int Import(string from, string? output)
    {
        if (!File.Exists(from)) throw new UsageException($"No such file: {from}. Get it with `npm pack cmu-pronouncing-dictionary@3.0.0`.");
        IReadOnlyList<string> lines;
        try { lines = CmuDict.FromNpmPackage(from); }
        catch (FormatException e) { throw new UsageException(e.Message); }
        var path = Path.GetFullPath(output ?? Path.Combine(NotebooksCommand.WorkspaceRoot(), CmuDict.DefaultPath));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n"))));
        Console.WriteLine($"{lines.Count:N0} entries → {path}");
        return ResearchCli.Ok;
    }

    static int Show(TaskKind? task, string[] sets)
    {
        var settings = TrainCommand.Resolve(task, null, sets, null);
        var data = settings.LoadData(NotebooksCommand.WorkspaceRoot());
        var table = ResearchCli.Table("split", "items", "examples", "source length (mean, max)", "target length (mean, max)");
        foreach (var name in new[] { "train", "dev", "test" })
        {
            var examples = data.Split(name);
            table.AddRow(name, $"{EvaluationItem.Group(examples).Count:N0}", $"{examples.Count:N0}",
                $"{examples.Average(e => e.Source.Count):F2}, {examples.Max(e => e.Source.Count)}", $"{examples.Average(e => e.Target.Count):F2}, {examples.Max(e => e.Target.Count)}");
        }
        ResearchCli.Terminal.Write(table);
        Console.WriteLine($"Vocabularies (reserved PAD/BOS/EOS/UNK included): source {data.SourceVocabulary.Count}, target {data.TargetVocabulary.Count}.");
        Console.WriteLine($"Target symbols: {string.Join(" ", data.TargetVocabulary.Symbols.Skip(Vocabulary.Reserved.Count))}");
        return ResearchCli.Ok;
    }
}
