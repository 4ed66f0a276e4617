using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Runtime;
using TransformerLab.Training;

namespace TransformerLab.Experiments;

/// <summary>
/// <c>sequence-training</c> (notebook 11): does optimising the metric directly beat maximum likelihood? Trains the MLE
/// model (the run folder itself, <c>objective</c> forced to mle), then fine-tunes its best dev checkpoint three ways for
/// <c>finetune_steps</c> each at the constant <c>finetune_lr</c>: continued MLE (the fair control — the same extra steps
/// and learning rate), minimum risk training and REINFORCE (with the run's <c>sequence_cost</c>, <c>candidates</c>,
/// <c>mrt_alpha</c>, <c>mle_weight</c>, <c>mle_anneal</c>). Each fine-tuning is chosen on dev like any run and then
/// measured once on test, greedily, with its exposure-bias gap (notebook 07's measure, on test). Writes
/// <c>objectives.csv</c> (<see cref="ObjectiveRow"/>, the MLE model first), <c>by_length.csv</c> and each model's <c>test-greedy.tsv</c>;
/// the fine-tunings' curves are in <c>finetune-mle/</c>, <c>finetune-mrt/</c>, <c>finetune-reinforce/</c>, each
/// resumable.
/// </summary>
public sealed class SequenceTrainingExperiment : TrainingExperiment
{
    public override string Name => "sequence-training";
    public override string Question => "Does fine-tuning on the metric (minimum risk training, REINFORCE) beat continuing maximum likelihood for the same steps?";
    public override IReadOnlyList<string> Tables => ["objectives.csv", "by_length.csv"];
    public override TrainingSettings DefaultConfig => TrainingSettings.SmallG2p;

    /// <summary>The fine-tunings, in the order of objectives.csv; continued MLE, the control, first (declared before <see cref="Models"/>, which reads it).</summary>
    public static readonly IReadOnlyList<TrainingObjective> Finetunings = [TrainingObjective.Mle, TrainingObjective.Mrt, TrainingObjective.Reinforce];

    /// <summary>The models a run compares, in the order of objectives.csv: the MLE model, then its three fine-tunings.</summary>
    public static readonly IReadOnlyList<string> Models = ["mle model", .. Finetunings.Select(ModelName)];

    /// <summary>How tables and plots name a model of objectives.csv: the MLE model, continued MLE (the control), MRT and REINFORCE fine-tuning.</summary>
    public static string DisplayName(string model) => model switch
    {
        "mle model" => "MLE model",
        "+ mle" => "continued MLE",
        "+ mrt" => "MRT fine-tuning",
        "+ reinforce" => "REINFORCE fine-tuning",
        _ => model,
    };

    /// <summary>A fine-tuning's name in objectives.csv and by_length.csv (stored runs keep it): "+ mrt" is the MLE model fine-tuned with MRT; <see cref="DisplayName"/> is how a page shows it.</summary>
    public static string ModelName(TrainingObjective objective) => "+ " + objective.ToString().ToLowerInvariant();

    /// <summary>One row of objectives.csv: a model's best dev readings, its test errors (greedy) and exposure-bias gap, its extra training.</summary>
    public sealed record ObjectiveRow(string Model, double BestStep, double DevSequenceError, double DevSymbolError,
        double TestSequenceError, double TestSymbolError, double TeacherForcedAccuracy, double FreeRunningAccuracy, double TrainSeconds);

    public static IReadOnlyList<ObjectiveRow> Objectives(RunRecord run) => Csv.ReadRows<ObjectiveRow>(Path.Combine(run.Folder, "objectives.csv"));

    /// <summary>One row of by_length.csv: a model's greedy test sequence error on the words whose (first) reference has one length.</summary>
    public sealed record LengthRow(string Model, int ReferenceLength, int Items, double SequenceError);

    public static IReadOnlyList<LengthRow> ByLength(RunRecord run) => Csv.ReadRows<LengthRow>(Path.Combine(run.Folder, "by_length.csv"));

    /// <summary>The dev evaluations of one fine-tuning of <paramref name="run"/> (its <c>dev.csv</c>).</summary>
    public static IReadOnlyList<LoggedEvaluation> FinetuneDev(RunRecord run, TrainingObjective objective) => MetricsLog.Evaluations(Path.Combine(run.Folder, Folder(objective)));

    /// <summary>The logged steps of one fine-tuning (its <c>steps.csv</c>): the loss is the objective's — the risk for MRT, the surrogate for REINFORCE.</summary>
    public static IReadOnlyList<LoggedStep> FinetuneSteps(RunRecord run, TrainingObjective objective) => MetricsLog.Steps(Path.Combine(run.Folder, Folder(objective)));

    /// <summary>The folder of a fine-tuning inside the run folder.</summary>
    public static string Folder(TrainingObjective objective) => $"finetune-{objective.ToString().ToLowerInvariant()}";

    public override void Validate(object config)
    {
        var settings = ((TrainingSettings)config).Validate();
        if (settings.Objective.Sequence.Objective != TrainingObjective.Mle || settings.Objective.Sequence.InitFrom.Length > 0)
            throw new SettingsException("sequence-training trains its MLE model first and then fine-tunes it with every objective: leave objective and init_from unset.");
    }

    protected override void After(TrainingSettings settings, TaskData data, RunContext context, Dictionary<string, double> metrics)
    {
        var trained = Csv.FromNamed<TrainingReadings>(metrics);
        var byLength = new List<LengthRow>();
        var rows = new List<ObjectiveRow> { Measure(Models[0], context.Folder, (trained.BestStep, trained.DevSequenceError, trained.DevSymbolError, trained.TrainSeconds), settings, data, context, byLength) };
        foreach (var objective in Finetunings)
        {
            var name = ModelName(objective);
            var folder = Path.Combine(context.Folder, Folder(objective));
            var s = settings.Objective.Sequence;
            var tuning = settings
                .WithLoop(l => l with { MaxSteps = s.FinetuneSteps, EvalEvery = Math.Max(1, s.FinetuneSteps / 4) })
                .WithOptimiser(o => o with { Lr = s.FinetuneLr, Warmup = 0, Schedule = LearningRateScheduleKind.Constant })
                .WithSequence(q => q with { Objective = objective, InitFrom = Path.Combine(context.Folder, "best.ckpt") });
            context.Log.WriteLine($"fine-tuning: {name}");
            var summary = new Trainer(tuning, data, folder, new TrainerHooks
            {
                OnEvaluation = r => context.Log.WriteLine($"{name} dev @ {r.Step}: sequence error {r.SequenceError:P2}, symbol error {r.SymbolError:P2}"),
            }).RunToCompletion(context.Cancel);
            if (summary.Status == RunStatus.Interrupted) throw new OperationCanceledException("interrupted");
            rows.Add(summary.Status == RunStatus.Diverged
                ? new ObjectiveRow(name + " (diverged)", double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, summary.TrainingSeconds)
                : Measure(name, folder, (summary.BestStep, summary.Best!.SequenceError, summary.Best.SymbolError, summary.TrainingSeconds), tuning, data, context, byLength));
        }
        Csv.WriteRows(Path.Combine(context.Folder, "objectives.csv"), rows);
        Csv.WriteRows(Path.Combine(context.Folder, "by_length.csv"), byLength);
    }

    /// <summary>The best dev checkpoint in <paramref name="folder"/>, decoded once on test (greedy), with its exposure-bias gap on test.</summary>
    static ObjectiveRow Measure(string name, string folder, (double Step, double SequenceError, double SymbolError, double TrainSeconds) best,
        TrainingSettings settings, TaskData data, RunContext context, List<LengthRow> byLength)
    {
        using var model = Checkpoint.Load(Path.Combine(folder, "best.ckpt")).RestoreSequenceToSequence(TorchRuntime.Device(settings.Device));
        var (test, predictions, _) = DecodeTest(model, data, DecodeStrategy.Greedy, settings);
        PredictionsFile.Write(Path.Combine(folder, "test-greedy.tsv"), predictions);
        byLength.AddRange(predictions.GroupBy(p => p.References[0].Count).OrderBy(g => g.Key)
            .Select(g => new LengthRow(name, g.Key, g.Count(), g.Count(p => !p.Correct) / (double)g.Count())));
        var exposure = ExposureBias.Measure(model, data.Test, data.SourceVocabulary, data.TargetVocabulary, TorchRuntime.Device(settings.Device));
        context.Log.WriteLine($"{name}: test sequence error {test.SequenceErrorRate:P2}, symbol error {test.SymbolErrorRate:P2}, exposure gap {exposure.AccuracyGap:P2}");
        return new ObjectiveRow(name, best.Step, best.SequenceError, best.SymbolError, test.SequenceErrorRate, test.SymbolErrorRate,
            exposure.TeacherForcedAccuracy, exposure.FreeRunningAccuracy, best.TrainSeconds);
    }
}
