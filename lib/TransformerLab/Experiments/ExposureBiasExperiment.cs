using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Training;
using TransformerLab.Runtime;

namespace TransformerLab.Experiments;

/// <summary>
/// <c>exposure-bias</c>: trains a model, then scores its best checkpoint on dev twice against the same gold tokens —
/// reading the gold prefix (teacher-forced) and reading its own greedy prefix (free-running) — overall
/// (<c>tf_*</c>, <c>free_*</c>, <c>accuracy_gap</c>) and by output position (<c>by_position.csv</c>), and decodes
/// test greedily (<c>test_sequence_error</c>, <c>test_symbol_error</c>; by source length in <c>by_length.csv</c>).
/// Default task: reverse of 8–24 symbols trained briefly, so the model still makes the errors being measured.
/// </summary>
public class ExposureBiasExperiment : TrainingExperiment
{
    public override string Name => "exposure-bias";
    public override string Question => "How much worse is a teacher-forced model when it reads its own predictions, and does one early error derail the rest?";
    public override IReadOnlyList<string> Tables => ["by_position.csv", "by_length.csv"];
    public override TrainingSettings DefaultConfig => TrainingSettings.For(TaskKind.Reverse)
        .WithTask(t => t with { MinLength = 8, MaxLength = 24 })
        .WithLoop(l => l with { MaxSteps = 1500, EvalEvery = 500, EvalItems = 500 });

    /// <summary>What a run measures after training, as its summary.json metrics (the metric names are these fields' snake_case).</summary>
    public sealed record Readings(double TfLoss, double FreeLoss, double TfTokenAccuracy, double FreeTokenAccuracy, double AccuracyGap, double TestSequenceError, double TestSymbolError);

    /// <summary>One row of by_position.csv: dev token errors at one output position, teacher-forced and free-running, the latter split by whether an earlier position was already wrong.</summary>
    public sealed record PositionRow(int Position, long Count, double TfError, double FreeError, double ErrorAfterError, double ErrorWithoutError)
    {
        /// <summary>
        /// How many of the position's free-running tokens follow a correct prefix, recovered from the rates (the free-running
        /// error is the two groups' rates weighted by their sizes): what the "prefix correct so far" rate rests on. All of them
        /// where no earlier error exists; NaN where the two rates are equal and the split cannot be told.
        /// </summary>
        public double PrefixCorrectCount =>
            double.IsNaN(ErrorAfterError) ? Count
            : ErrorAfterError == ErrorWithoutError ? double.NaN
            : Math.Round(Count * (ErrorAfterError - FreeError) / (ErrorAfterError - ErrorWithoutError));

        /// <summary>How many of the position's free-running tokens follow an earlier error (<see cref="PrefixCorrectCount"/>'s complement).</summary>
        public double AfterErrorCount => Count - PrefixCorrectCount;
    }

    /// <summary>One row of by_length.csv: greedy test sequence error for inputs of one length.</summary>
    public sealed record LengthRow(int SourceLength, int Items, double SequenceError);

    public static Readings ReadingsOf(RunRecord run) => Csv.FromNamed<Readings>(run.Metrics);
    public static IReadOnlyList<PositionRow> ByPosition(RunRecord run) => Csv.ReadRows<PositionRow>(Path.Combine(run.Folder, "by_position.csv"));
    public static IReadOnlyList<LengthRow> ByLength(RunRecord run) => Csv.ReadRows<LengthRow>(Path.Combine(run.Folder, "by_length.csv"));

    protected sealed override void After(TrainingSettings settings, TaskData data, RunContext context, Dictionary<string, double> metrics)
    {
        var device = Runtime.TorchRuntime.Device(settings.Device);
        using var model = Checkpoint.Load(Path.Combine(context.Folder, "best.ckpt")).RestoreModel(device);

        var exposure = ExposureBias.Measure(model, data.Dev, data.SourceVocabulary, data.TargetVocabulary, device);
        Csv.WriteRows(Path.Combine(context.Folder, "by_position.csv"), exposure.ByPosition.Select(p => new PositionRow(p.Position, p.Count,
            p.TeacherForcedError, p.FreeRunningError, p.ErrorAfterEarlierError, p.ErrorWithoutEarlierError)));

        var (test, predictions) = Evaluator.Decode(model, EvaluationItem.Group(data.Test), data.SourceVocabulary, data.TargetVocabulary, DecodeStrategy.Greedy, device);
        foreach (var (name, value) in Csv.Named(new Readings(exposure.TeacherForcedLoss, exposure.FreeRunningLoss, exposure.TeacherForcedAccuracy,
                     exposure.FreeRunningAccuracy, exposure.AccuracyGap, test.SequenceErrorRate, test.SymbolErrorRate)))
            metrics[name] = value;
        Csv.WriteRows(Path.Combine(context.Folder, "by_length.csv"), predictions.GroupBy(p => p.Source.Count).OrderBy(g => g.Key)
            .Select(g => new LengthRow(g.Key, g.Count(), g.Count(p => !p.Correct) / (double)g.Count())));
        context.Log.WriteLine($"teacher-forced accuracy {exposure.TeacherForcedAccuracy:P2}, free-running {exposure.FreeRunningAccuracy:P2}; test sequence error {test.SequenceErrorRate:P2}");
    }
}

/// <summary>
/// <c>scheduled-sampling</c>: the same measurements as <c>exposure-bias</c>, for a model trained with scheduled
/// sampling (Bengio et al. 2015; two-pass, Mihaylova &amp; Martins 2019). Compare with
/// <c>--grid decoder_input=teacher_forcing,scheduled_sampling</c>. The default inverse-sigmoid k = 150 puts
/// ε = ½ near step 750, the middle of the default 1,500 steps.
/// </summary>
public sealed class ScheduledSamplingExperiment : ExposureBiasExperiment
{
    public override string Name => "scheduled-sampling";
    public override string Question => "Does feeding the model its own predictions during training (scheduled sampling) lower the error it makes when decoding?";
    public override TrainingSettings DefaultConfig => base.DefaultConfig.WithDecoderInput(d => d with
    {
        Kind = DecoderInputKind.ScheduledSampling, SamplingDecay = TeacherForcingDecay.InverseSigmoid, SamplingK = 150,
    });
}
