using TransformerLab.Data;
using TransformerLab.Runtime;
using TransformerLab.Training;

namespace TransformerLab.Experiments;

/// <summary>
/// <c>train</c>: one training run (<see cref="Trainer"/>) per configuration and seed; its metrics are the best dev
/// evaluation, its curve steps.csv joined with dev.csv. The configuration is <see cref="TrainingSettings"/>.
/// Experiments that train and then measure something derive from it and add to <see cref="Before"/> and <see cref="After"/>.
/// </summary>
public class TrainingExperiment : Experiment<TrainingSettings>
{
    public override string Name => "train";
    public override string Question => "How well does this configuration learn its task (best dev sequence and symbol error)?";
    public override TrainingSettings DefaultConfig => new();
    public override void Validate(object config) => ((TrainingSettings)config).Validate();

    public sealed override RunResult Run(TrainingSettings config, int seed, RunContext context)
    {
        var settings = config with { Seed = seed, Threads = config.Threads > 0 ? config.Threads : context.Threads };
        var data = SequenceDistillation.LoadTrainingData(settings, Workspace.Root());
        var metrics = new Dictionary<string, double>();
        Before(settings, data, context, metrics);
        var summary = new Trainer(settings, data, context.Folder, new TrainerHooks
        {
            OnEvaluation = r => context.Log.WriteLine($"dev @ {r.Step}: loss {r.Loss:F4}, sequence error {r.SequenceError:P2}, symbol error {r.SymbolError:P2}"),
        }).RunToCompletion(context.Cancel); // a run stopped mid-way (Ctrl+C, SIGTERM, a crash) continues from its last checkpoint
        if (summary.Status == RunStatus.Interrupted) throw new OperationCanceledException("interrupted");
        metrics["steps"] = summary.Steps;
        metrics["train_seconds"] = summary.TrainingSeconds;
        metrics["tokens_per_second"] = summary.TokensPerSecond;
        metrics["parameters"] = summary.Parameters;
        if (summary.Best is { } best)
        {
            metrics["best_step"] = best.Step;
            metrics["dev_loss"] = best.Loss;
            metrics["dev_token_accuracy"] = best.TokenAccuracy;
            metrics["dev_sequence_error"] = best.SequenceError;
            metrics["dev_symbol_error"] = best.SymbolError;
            if (summary.Status != RunStatus.Diverged) After(settings, data, context, metrics);
        }
        return new RunResult(metrics, ReadCurve(context.Folder), summary.Status == RunStatus.Diverged, summary.Reason);
    }

    /// <summary>Measurements before training (the model is not built yet); add metrics or write tables into the run folder.</summary>
    protected virtual void Before(TrainingSettings settings, TaskData data, RunContext context, Dictionary<string, double> metrics) { }

    /// <summary>Measurements of the best checkpoint (<c>best.ckpt</c> in the run folder) after a run that did not diverge.</summary>
    protected virtual void After(TrainingSettings settings, TaskData data, RunContext context, Dictionary<string, double> metrics) { }

    /// <summary>steps.csv rows, with each dev.csv row's values added at its step.</summary>
    static List<IReadOnlyDictionary<string, double>> ReadCurve(string folder)
    {
        var rows = new SortedDictionary<double, Dictionary<string, double>>();
        foreach (var file in new[] { "steps.csv", "dev.csv" })
            foreach (var row in Csv.Read(Path.Combine(folder, file)))
            {
                if (!rows.TryGetValue(row["step"], out var merged)) rows[row["step"]] = merged = [];
                foreach (var (key, value) in row) merged[key] = value;
            }
        return rows.Values.Select(r => (IReadOnlyDictionary<string, double>)r).ToList();
    }
}

/// <summary>What notebooks read from a <c>train</c> run in the store.</summary>
public static class TrainingRuns
{
    /// <summary>The run's best checkpoint (lowest dev sequence error).</summary>
    public static Checkpoint BestCheckpoint(this RunRecord run) => Checkpoint.Load(Path.Combine(run.Folder, "best.ckpt"));
}
