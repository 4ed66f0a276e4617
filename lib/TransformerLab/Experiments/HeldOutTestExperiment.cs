using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Runtime;
using TransformerLab.Training;

namespace TransformerLab.Experiments;

/// <summary>
/// <c>test</c>: a training run whose model is chosen on dev (<c>best.ckpt</c>, the lowest dev sequence error) and then
/// measured once on test, greedily and with beam search (<see cref="Beam"/>, no length penalty) — the protocol of a
/// headline result. Writes both decodings' predictions (<c>test-greedy.tsv</c>, <c>test-beam5.tsv</c>, see
/// <see cref="PredictionsFile"/>) beside the run's usual files.
/// </summary>
public sealed class HeldOutTestExperiment : TrainingExperiment
{
    public override string Name => "test";
    public override string Question => "How well does this configuration do on test, chosen on dev, decoded greedily and with beam search?";
    public override IReadOnlyList<string> Tables => ["test-greedy.tsv"];

    public const int Beam = 5;

    /// <summary>What a run measures on test after training (metric names are these fields' snake_case).</summary>
    public sealed record Readings(double TestGreedySequenceError, double TestGreedySymbolError, double TestGreedySeconds,
        double TestBeamSequenceError, double TestBeamSymbolError, double TestBeamSeconds, double TestItems);

    public static Readings ReadingsOf(RunRecord run) => Csv.FromNamed<Readings>(run.Metrics);

    protected override void After(TrainingSettings settings, TaskData data, RunContext context, Dictionary<string, double> metrics)
    {
        using var model = BestModel(settings, context);
        var (greedy, greedyPredictions, greedySeconds) = DecodeTest(model, data, DecodeStrategy.Greedy, settings);
        PredictionsFile.Write(Path.Combine(context.Folder, "test-greedy.tsv"), greedyPredictions);
        var (beam, beamPredictions, beamSeconds) = DecodeTest(model, data, DecodeStrategy.Beam(Beam), settings);
        PredictionsFile.Write(Path.Combine(context.Folder, $"test-beam{Beam}.tsv"), beamPredictions);
        var readings = new Readings(greedy.SequenceErrorRate, greedy.SymbolErrorRate, greedySeconds,
            beam.SequenceErrorRate, beam.SymbolErrorRate, beamSeconds, greedy.Items);
        foreach (var (name, value) in Csv.Named(readings)) metrics[name] = value;
        context.Log.WriteLine($"test, {greedy.Items} items: greedy sequence error {greedy.SequenceErrorRate:P2}, symbol error {greedy.SymbolErrorRate:P2}; " +
            $"beam {Beam}: {beam.SequenceErrorRate:P2}, {beam.SymbolErrorRate:P2}");
    }
}
