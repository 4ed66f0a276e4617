using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Runtime;
using TransformerLab.Training;

namespace TransformerLab.Experiments;

/// <summary>
/// <c>precision</c>: the small G2P model of notebooks 06–08 trained for the same steps in float32 and in mixed bfloat16
/// (<c>--grid precision=fp32,bf16</c>), then its best checkpoint decoded greedily on test in the precision it trained
/// in: does bfloat16 cost quality? Runs of one seed share initialisation and batch order, so the two precisions compare
/// seed by seed. Its time per run is not the benchmark (<c>research bench</c> times the step, interleaved on an idle machine).
/// </summary>
public sealed class PrecisionExperiment : TrainingExperiment
{
    public override string Name => "precision";
    public override string Question => "Does training in mixed bfloat16 cost quality against float32 for the same steps?";
    public override TrainingSettings DefaultConfig => TrainingSettings.SmallG2p;

    /// <summary>What a run measures after training (metric names are these fields' snake_case): greedy test WER and PER, and the decoding time.</summary>
    public sealed record Readings(double TestSequenceError, double TestSymbolError, double TestDecodeSeconds);

    public static Readings ReadingsOf(RunRecord run) => Csv.FromNamed<Readings>(run.Metrics);

    protected override void After(TrainingSettings settings, TaskData data, RunContext context, Dictionary<string, double> metrics)
    {
        using var model = BestModel(settings, context);
        var (test, _, seconds) = DecodeTest(model, data, DecodeStrategy.Greedy, settings);
        foreach (var (name, value) in Csv.Named(new Readings(test.SequenceErrorRate, test.SymbolErrorRate, seconds))) metrics[name] = value;
        context.Log.WriteLine($"test ({settings.Precision}): sequence error {test.SequenceErrorRate:P2}, symbol error {test.SymbolErrorRate:P2}");
    }
}
