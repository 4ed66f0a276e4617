using System.CommandLine;
using Spectre.Console;
using System.Globalization;
using TransformerLab.Data;
using TransformerLab.Runtime;
using TransformerLab.Training;

namespace TransformerLab.Cli.Commands;

/// <summary><c>research train</c>: one training run into a run folder, resumable.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var task = new Option<TaskKind?>("--task") { Description = "g2p (CMUdict grapheme-to-phoneme, the default), copy, reverse or sort; same as --set task=…" };
        var config = new Option<string?>("--config") { Description = "A JSON object of settings ({\"d_model\": 256, ...}), applied before --set." };
        var set = new Option<string[]>("--set") { Description = "key=value, repeatable; `research train --list` shows every key.", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string?>("--out") { Description = "Run folder (default runs/<task>/<time>-seed<seed>)." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last.ckpt." };
        var device = new Option<string?>("--device") { Description = "cpu (default), cuda or cuda:N; same as --set device=…" };
        var list = new Option<bool>("--list") { Description = "List every setting with its type and the task's default, and exit." };
        var force = new Option<bool>("--force") { Description = "Write into an --out folder that holds other files (files of the run's names are replaced)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Check the settings end to end — load the data, build the model, train one step, evaluate on a few dev items — in a scratch folder that is then deleted, and exit." };
        var command = new Command("train", "Train an encoder–decoder Transformer on a task; writes checkpoints, steps.csv, dev.csv, TensorBoard events and summary.json.")
            { task, config, set, output, resume, device, list, force, dryRun };
        command.SetAction(parse => Run(parse.GetValue(task), parse.GetValue(config), parse.GetValue(set) ?? [], parse.GetValue(output),
            parse.GetValue(resume), parse.GetValue(device), parse.GetValue(list), parse.GetValue(force), parse.GetValue(dryRun)));
        return command;
    }

    /// <summary>The task's defaults (the task from --task, else from the settings, else g2p), then the config file, then each --set.</summary>
    public static TrainingSettings Resolve(TaskKind? task, string? configFile, IEnumerable<string> sets, string? device)
    {
        var assignments = new List<KeyValuePair<string, string>>();
        if (configFile is not null) assignments.AddRange(Settings.FromJsonFile(configFile));
        assignments.AddRange(sets.Select(Settings.Assignment));
        if (device is not null) assignments.Add(new("device", device));
        var named = Settings.With(new TrainingSettings(), assignments.Where(a => a.Key == "task")).Task.Kind;
        var settings = Settings.With(TrainingSettings.For(task ?? named), assignments);
        if (task is { } given && settings.Task.Kind != given)
            throw new SettingsException($"The settings say task={settings.Task.Kind.ToString().ToLowerInvariant()} but --task is {given.ToString().ToLowerInvariant()}; use one.");
        return settings.Validate();
    }

    static int Run(TaskKind? task, string? configFile, string[] sets, string? outFolder, bool resume, string? device, bool list, bool force, bool dryRun)
    {
        var settings = Resolve(task, configFile, sets, device);
        if (list)
        {
            var table = ResearchCli.Table("key", "type", $"value ({settings.Task.Kind.ToString().ToLowerInvariant()})", "what it sets");
            var descriptions = Settings.Descriptions(settings.GetType());
            foreach (var (key, type, value) in Settings.Describe(settings))
                table.AddRow(key, Markup.Escape(type), Markup.Escape(value), Markup.Escape(descriptions.GetValueOrDefault(key, "")));
            ResearchCli.Terminal.Write(table);
            return ResearchCli.Ok;
        }
        if (resume && outFolder is null) throw new UsageException("--resume needs --out: the run folder to continue.");
        foreach (var warning in settings.Warnings()) Console.Error.WriteLine($"warning: {warning}");
        var root = NotebooksCommand.WorkspaceRoot();
        var folder = Path.GetFullPath(outFolder ?? Path.Combine(root, "runs", settings.Task.ToString().ToLowerInvariant(),
            $"{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-seed{settings.Seed}"));
        if (!resume && (File.Exists(Path.Combine(folder, "last.ckpt")) || File.Exists(Path.Combine(folder, "summary.json"))))
            throw new UsageException($"{folder} already holds a run. Pass --resume to continue it, or choose another --out (nothing was changed).");
        if (File.Exists(folder)) throw new UsageException($"--out {folder} is a file; name a folder for the run.");
        if (!resume && !dryRun && !force && Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
            throw new UsageException($"{folder} holds other files and no run; choose an empty or new --out, or pass --force to write the run into it (files named like the run's are replaced). Nothing was changed.");
        try { TorchRuntime.Device(settings.Device); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }

        Console.WriteLine($"Loading {settings.Task.ToString().ToLowerInvariant()} data…");
        var data = SequenceDistillation.LoadTrainingData(settings, root);
        Console.WriteLine($"{data.Train.Count:N0} train / {data.Dev.Count:N0} dev / {data.Test.Count:N0} test examples; vocabularies {data.SourceVocabulary.Count} → {data.TargetVocabulary.Count}.");
        if (dryRun) return DryRun(settings, data);
        Console.WriteLine($"Run folder: {folder}{(resume ? " (resuming)" : "")}");

        using var stop = new StopSignals(signal => Console.Error.WriteLine(Environment.NewLine + (signal == "terminate"
            ? "Terminated: stopping after this step and saving a checkpoint…"
            : "Stopping after this step and saving a checkpoint (Ctrl+C again to kill)…")));
        var progress = new ProgressLine();
        var trainer = new Trainer(settings, data, folder, new TrainerHooks
        {
            OnLog = progress.Step,
            OnEvaluation = r => progress.Line(
                $"dev @ {r.Step}: loss {r.Loss:F4}, token acc {r.TokenAccuracy:P2}, sequence error {r.SequenceError:P2}, symbol error {r.SymbolError:P2}{(r.Best ? "  (best)" : "")}"),
        });
        TrainingSummary summary;
        try { summary = trainer.Run(resume, stop.Token); }
        finally { progress.End(); }

        Console.WriteLine($"{summary.Status.ToString().ToLowerInvariant()} after {summary.Steps} steps, {TimeSpan.FromSeconds(summary.TrainingSeconds):hh\\:mm\\:ss} of training, {summary.TokensPerSecond:N0} target tokens/s{(summary.Reason is null ? "" : $": {summary.Reason}")}.");
        if (summary.Best is { } best)
            Console.WriteLine($"Best dev at step {best.Step}: sequence error {best.SequenceError:P2}, symbol error {best.SymbolError:P2} → {trainer.BestCheckpoint}");
        Console.WriteLine($"Evaluate: dotnet run --project lib/Research -- eval --checkpoint {Path.GetRelativePath(root, trainer.BestCheckpoint)} --split test");
        return summary.Status switch
        {
            RunStatus.Diverged => ResearchCli.Diverged,
            RunStatus.Interrupted => ResearchCli.Interrupted,
            _ => ResearchCli.Ok,
        };
    }

    /// <summary>One step and one small dev evaluation of exactly these settings, in a scratch folder: what a long run would hit first.</summary>
    static int DryRun(TrainingSettings settings, Data.TaskData data)
    {
        var scratch = Directory.CreateTempSubdirectory("research-dry-run-").FullName;
        try
        {
            var check = settings.WithLoop(l => l with { MaxSteps = 1, EvalEvery = 1, LogEvery = 1, EvalItems = Math.Min(8, data.Dev.Count), Patience = 0 });
            var summary = new Trainer(check, data, scratch).Run();
            Console.WriteLine($"Dry run: the settings are valid, the data loaded, a model of {summary.Parameters:N0} parameters trained one step " +
                              $"({summary.Status.ToString().ToLowerInvariant()}{(summary.Reason is null ? "" : ": " + summary.Reason)}) and decoded {check.Loop.EvalItems} dev items. Nothing was kept.");
            return summary.Status == RunStatus.Diverged ? ResearchCli.Diverged : ResearchCli.Ok;
        }
        finally { Directory.Delete(scratch, recursive: true); }
    }
}

/// <summary>
/// A one-line progress bar (step, loss, lr, tokens/s, ETA) redrawn in place on a terminal; when output goes to a
/// file or a pipe, one line per report instead, so logs stay readable.
/// </summary>
sealed class ProgressLine
{
    readonly bool interactive = !Console.IsOutputRedirected;
    bool open;

    public void Step(StepReport r)
    {
        const int width = 24;
        var filled = (int)Math.Round(width * (double)r.Step / r.MaxSteps);
        var text = $"step {r.Step}/{r.MaxSteps} [{new string('#', filled)}{new string('.', width - filled)}] loss {r.Loss:F4} lr {r.LearningRate:0.00e+0} " +
                   $"{r.TokensPerSecond:N0} tok/s elapsed {r.Elapsed:hh\\:mm\\:ss} ETA {r.Remaining:hh\\:mm\\:ss}";
        if (interactive) { Console.Write("\r" + text + "\u001b[K"); open = true; } // ESC[K clears the rest of the line
        else Console.WriteLine(text);
    }

    public void Line(string text)
    {
        End();
        Console.WriteLine(text);
    }

    public void End()
    {
        if (open) Console.WriteLine();
        open = false;
    }
}
