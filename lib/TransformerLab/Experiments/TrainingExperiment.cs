using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Model;
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
            OnResume = step => context.Log.WriteLine($"resumed from last.ckpt at step {step}"),
            InspectModel = (r, model) => AtEvaluation(r, model, settings, data, context),
        }).RunToCompletion(context.Cancel); // a run stopped mid-way (Ctrl+C, SIGTERM, a crash) continues from its last checkpoint
        if (summary.Status == RunStatus.Interrupted) throw new OperationCanceledException("interrupted");
        var best = summary.Best;
        var readings = new TrainingReadings(summary.Steps, summary.TrainingSeconds, summary.TokensPerSecond, summary.Parameters,
            best?.Step ?? double.NaN, best?.Loss ?? double.NaN, best?.TokenAccuracy ?? double.NaN, best?.SequenceError ?? double.NaN, best?.SymbolError ?? double.NaN);
        foreach (var (name, value) in Csv.Named(readings).Where(kv => !double.IsNaN(kv.Value)))
            metrics[name] = value; // a run that diverged before its first evaluation has no dev readings: they are left out, not stored as NaN
        if (best is not null && summary.Status != RunStatus.Diverged)
            using (MixedPrecision.Use(settings.Precision)) After(settings, data, context, metrics); // measured in the precision it trained in
        return new RunResult(metrics, ReadCurve(context.Folder), summary.Status == RunStatus.Diverged, summary.Reason);
    }

    /// <summary>Measurements before training (the model is not built yet); add metrics or write tables into the run folder.</summary>
    protected virtual void Before(TrainingSettings settings, TaskData data, RunContext context, Dictionary<string, double> metrics) { }

    /// <summary>Measurements of the model at each dev evaluation, during training (write them keyed by step: after a resume a step can come again).</summary>
    protected virtual void AtEvaluation(DevReport report, TorchSharp.torch.nn.Module model, TrainingSettings settings, TaskData data, RunContext context) { }

    /// <summary>Measurements of the best checkpoint (<c>best.ckpt</c> in the run folder) after a run that did not diverge.</summary>
    protected virtual void After(TrainingSettings settings, TaskData data, RunContext context, Dictionary<string, double> metrics) { }

    /// <summary>The run's best checkpoint (lowest dev sequence error: the model is chosen on dev), restored for decoding.</summary>
    protected static SequenceToSequence BestModel(TrainingSettings settings, RunContext context) =>
        Checkpoint.Load(Path.Combine(context.Folder, "best.ckpt")).RestoreSequenceToSequence(TorchRuntime.Device(settings.Device));

    /// <summary>Decodes every item of test with <paramref name="strategy"/> and scores it; the seconds are the decoding's wall time.</summary>
    protected static (Metrics.SequenceMetrics Metrics, IReadOnlyList<Prediction> Predictions, double Seconds) DecodeTest(
        SequenceToSequence model, TaskData data, DecodeStrategy strategy, TrainingSettings settings)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (metrics, predictions) = Evaluator.Decode(model, EvaluationItem.Group(data.Test), data.SourceVocabulary, data.TargetVocabulary,
            strategy, TorchRuntime.Device(settings.Device));
        return (metrics, predictions, clock.Elapsed.TotalSeconds);
    }

    /// <summary>steps.csv rows (<see cref="LoggedStep"/>), with each dev.csv row's readings (<see cref="LoggedEvaluation"/>) added at its step; a step with only one of them keeps only its columns.</summary>
    public static List<IReadOnlyDictionary<string, double>> ReadCurve(string folder)
    {
        var rows = new SortedDictionary<long, Dictionary<string, double>>();
        void Add(long step, IEnumerable<KeyValuePair<string, double>> values)
        {
            if (!rows.TryGetValue(step, out var merged)) rows[step] = merged = [];
            foreach (var (key, value) in values) merged[key] = value;
        }
        foreach (var step in MetricsLog.Steps(folder)) Add(step.Step, Csv.Named(step));
        foreach (var evaluation in MetricsLog.Evaluations(folder)) Add(evaluation.Step, Csv.Named(evaluation));
        return rows.Values.Select(r => (IReadOnlyDictionary<string, double>)r).ToList();
    }
}

/// <summary>
/// What every <c>train</c> run (and every experiment derived from it) records as its summary.json metrics — the metric
/// names are these fields' snake_case. The dev readings are those of the best evaluation (lowest dev sequence error);
/// NaN where a run diverged before its first evaluation.
/// </summary>
public sealed record TrainingReadings(double Steps, double TrainSeconds, double TokensPerSecond, double Parameters,
    double BestStep, double DevLoss, double DevTokenAccuracy, double DevSequenceError, double DevSymbolError);

/// <summary>
/// One row of a training run's curve.csv: a logged step (steps.csv) with the dev evaluation made at that step (dev.csv),
/// NaN where none was.
/// </summary>
public sealed record TrainingCurvePoint(long Step, int Epoch, double Loss, double Lr, double GradNorm, double TokensPerSecond, double ElapsedSeconds,
    double DevLoss, double DevTokenAccuracy, double DevSequenceError, double DevSymbolError, double DevExactMatch);

/// <summary>What notebooks and reports read from a <c>train</c> run in the store, typed.</summary>
public static class TrainingRuns
{
    /// <summary>The run's settings as the record it was trained with.</summary>
    public static TrainingSettings TrainingSettings(this RunRecord run) => run.ConfigAs<TrainingSettings>();

    /// <summary>The run's summary metrics (<see cref="Experiments.TrainingReadings"/>).</summary>
    public static TrainingReadings TrainingReadings(this RunRecord run) => Csv.FromNamed<TrainingReadings>(run.Metrics, missing: double.NaN);

    /// <summary>The run's training curve, one point per logged step.</summary>
    public static IReadOnlyList<TrainingCurvePoint> TrainingCurve(this RunRecord run) => Csv.ReadRows<TrainingCurvePoint>(Path.Combine(run.Folder, "curve.csv"));

    /// <summary>The run's best checkpoint (lowest dev sequence error).</summary>
    public static Checkpoint BestCheckpoint(this RunRecord run) => Checkpoint.Load(Path.Combine(run.Folder, "best.ckpt"));
}
