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
    public override TrainingSettings DefaultConfig => TrainingSettings.For(TaskKind.Reverse) with
    {
        MinLength = 8, MaxLength = 24, MaxSteps = 1500, EvalEvery = 500, EvalItems = 500,
    };

    protected sealed override void After(TrainingSettings settings, TaskData data, RunContext context, Dictionary<string, double> metrics)
    {
        var device = Runtime.TorchRuntime.Device(settings.Device);
        using var model = Checkpoint.Load(Path.Combine(context.Folder, "best.ckpt")).RestoreModel(device);

        var exposure = ExposureBias.Measure(model, data.Dev, data.SourceVocabulary, data.TargetVocabulary, device);
        metrics["tf_loss"] = exposure.TeacherForcedLoss;
        metrics["free_loss"] = exposure.FreeRunningLoss;
        metrics["tf_token_accuracy"] = exposure.TeacherForcedAccuracy;
        metrics["free_token_accuracy"] = exposure.FreeRunningAccuracy;
        metrics["accuracy_gap"] = exposure.AccuracyGap;
        Csv.Write(Path.Combine(context.Folder, "by_position.csv"), exposure.ByPosition.Select(p => (IReadOnlyDictionary<string, double>)new Dictionary<string, double>
        {
            ["position"] = p.Position, ["count"] = p.Count, ["tf_error"] = p.TeacherForcedError, ["free_error"] = p.FreeRunningError,
            ["error_after_error"] = p.ErrorAfterEarlierError, ["error_without_error"] = p.ErrorWithoutEarlierError,
        }).ToList());

        var (test, predictions) = Evaluator.Decode(model, EvaluationItem.Group(data.Test), data.SourceVocabulary, data.TargetVocabulary, DecodeStrategy.Greedy, device);
        metrics["test_sequence_error"] = test.SequenceErrorRate;
        metrics["test_symbol_error"] = test.SymbolErrorRate;
        Csv.Write(Path.Combine(context.Folder, "by_length.csv"), predictions.GroupBy(p => p.Source.Count).OrderBy(g => g.Key)
            .Select(g => (IReadOnlyDictionary<string, double>)new Dictionary<string, double>
            {
                ["source_length"] = g.Key, ["items"] = g.Count(), ["sequence_error"] = g.Count(p => !p.Correct) / (double)g.Count(),
            }).ToList());
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
    public override TrainingSettings DefaultConfig => base.DefaultConfig with
    {
        DecoderInput = DecoderInputKind.ScheduledSampling, SamplingDecay = TeacherForcingDecay.InverseSigmoid, SamplingK = 150,
    };
}
