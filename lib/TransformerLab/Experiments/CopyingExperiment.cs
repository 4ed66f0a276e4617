using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Training;
using static TorchSharp.torch;

namespace TransformerLab.Experiments;

/// <summary>
/// <c>copying</c> (notebook 12): does a copy mechanism (See et al. 2017's pointer-generator, <c>copy=true</c>) let the
/// Transformer reproduce names it never or rarely saw? Trains on the names task (<see cref="NamesTask"/>), decodes test
/// greedily, and measures each name of test by how often training showed it: <c>by_frequency.csv</c>
/// (<see cref="FrequencyRow"/>), the readings of <see cref="Readings"/>, and for a copying model p_gen at every output
/// position of the first test items (<c>p_gen.csv</c>, <see cref="GateRow"/>). Compare <c>--grid copy=false,true</c>.
/// </summary>
public sealed class CopyingExperiment : TrainingExperiment
{
    public override string Name => "copying";
    public override string Question => "Does a copy mechanism let the model reproduce names it never or rarely saw in training?";
    public override IReadOnlyList<string> Tables => ["test-greedy.tsv", "by_frequency.csv"];
    public override TrainingSettings DefaultConfig => TrainingSettings.For(TaskKind.Names)
        .WithTransformer(m => m with { DModel = 64, DFF = 256 })
        .WithOptimiser(o => o with { Warmup = 100, Lr = 2e-3 })
        .WithLoop(l => l with { MaxSteps = 1000, EvalEvery = 250, EvalItems = 500 });

    /// <summary>Greedy test readings: sequence error over all items, over items whose names training showed, over items with an unseen name; the share of unseen and of seen names that appear in the output.</summary>
    public sealed record Readings(double TestSequenceError, double TestSequenceErrorSeenNames, double TestSequenceErrorUnseenName, double UnseenNameRecall, double SeenNameRecall);

    /// <summary>One row of by_frequency.csv: the test names training showed <c>TrainingCount</c> times (a bucket), and the share of them the output holds.</summary>
    public sealed record FrequencyRow(string TrainingCount, int Names, double Recall);

    /// <summary>One row of p_gen.csv: output position <c>Position</c> of test item <c>Item</c> (teacher-forced on the reference), its reference token, whether it is a name, and p_gen.</summary>
    public sealed record GateRow(int Item, int Position, string Token, bool IsName, double PGen);

    /// <summary>The buckets of how often training showed a name, in order.</summary>
    public static readonly IReadOnlyList<string> Buckets = ["unseen", "1", "2", "3–5", "6+"];

    public static Readings ReadingsOf(RunRecord run) => Csv.FromNamed<Readings>(run.Metrics);
    public static IReadOnlyList<FrequencyRow> ByFrequency(RunRecord run) => Csv.ReadRows<FrequencyRow>(Path.Combine(run.Folder, "by_frequency.csv"));
    public static IReadOnlyList<GateRow> GenerationProbabilities(RunRecord run) =>
        File.Exists(Path.Combine(run.Folder, "p_gen.csv")) ? Csv.ReadRows<GateRow>(Path.Combine(run.Folder, "p_gen.csv")) : [];

    const int GateItems = 8;

    public override void Validate(object config)
    {
        var settings = ((TrainingSettings)config).Validate();
        if (settings.Task.Kind != TaskKind.Names) throw new SettingsException("copying measures names by how often training showed them: it needs task=names.");
    }

    protected override void After(TrainingSettings settings, TaskData data, RunContext context, Dictionary<string, double> metrics)
    {
        var device = TorchRuntime.Device(settings.Device);
        using var model = BestModel(settings, context);
        var (test, predictions, _) = DecodeTest(model, data, DecodeStrategy.Greedy, settings);
        PredictionsFile.Write(Path.Combine(context.Folder, "test-greedy.tsv"), predictions);

        var seen = data.Train.SelectMany(e => e.Source.Where(NamesTask.IsName)).CountBy(n => n).ToDictionary();
        int Count(string name) => seen.GetValueOrDefault(name);
        var names = predictions.SelectMany(p => p.References[0].Where(NamesTask.IsName).Distinct().Select(n => (Name: n, Count: Count(n), Recalled: p.Output.Contains(n)))).ToList();
        Csv.WriteRows(Path.Combine(context.Folder, "by_frequency.csv"), Buckets.Select(b =>
        {
            var inBucket = names.Where(n => Bucket(n.Count) == b).ToList();
            return new FrequencyRow(b, inBucket.Count, inBucket.Count == 0 ? double.NaN : inBucket.Count(n => n.Recalled) / (double)inBucket.Count);
        }));

        bool Unseen(Prediction p) => p.References[0].Any(n => NamesTask.IsName(n) && Count(n) == 0);
        double Error(IEnumerable<Prediction> ps) => ps.ToList() is { Count: > 0 } list ? list.Count(p => !p.Correct) / (double)list.Count : double.NaN;
        double Recall(bool unseen) => names.Where(n => (n.Count == 0) == unseen).ToList() is { Count: > 0 } list ? list.Count(n => n.Recalled) / (double)list.Count : double.NaN;
        var readings = new Readings(test.SequenceErrorRate, Error(predictions.Where(p => !Unseen(p))), Error(predictions.Where(Unseen)), Recall(unseen: true), Recall(unseen: false));
        foreach (var (name, value) in Csv.Named(readings)) metrics[name] = value;
        context.Log.WriteLine($"test sequence error {readings.TestSequenceError:P2}; unseen names recalled {readings.UnseenNameRecall:P2}, seen {readings.SeenNameRecall:P2}");

        if (model is EncoderDecoder { CopiesSource: true } copying) Csv.WriteRows(Path.Combine(context.Folder, "p_gen.csv"), Gates(copying, data, device));
    }

    static string Bucket(int count) => count switch { 0 => "unseen", 1 => "1", 2 => "2", <= 5 => "3–5", _ => "6+" };

    /// <summary>p_gen at each reference position of the first test items, the reference fed (teacher forcing).</summary>
    static IEnumerable<GateRow> Gates(EncoderDecoder model, TaskData data, Device device)
    {
        var examples = data.Test.Take(GateItems).ToList();
        var copy = model.CopyVocabulary;
        using var batch = Batching.Make(examples, [.. Enumerable.Range(0, examples.Count)], data.SourceVocabulary, data.TargetVocabulary, device, copy);
        using var pGen = model.GenerationProbability(batch.Source, batch.TargetInput);
        var values = pGen.cpu().data<float>().ToArray();
        var width = (int)pGen.shape[1];
        for (int i = 0; i < examples.Count; i++)
            for (int t = 0; t < examples[i].Target.Count; t++)
                yield return new GateRow(i, t, examples[i].Target[t], NamesTask.IsName(examples[i].Target[t]), values[i * width + t]);
    }
}
